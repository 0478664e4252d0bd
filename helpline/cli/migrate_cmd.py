"""``run.py migrate``: show or apply schema changes, including destructive ones when asked explicitly."""

from __future__ import annotations

import argparse
from typing import Any

from helpline.cli import add_settings_options
from helpline.data.database import session
from helpline.data.migrate import apply_migration, plan_migration

from .common import settings_from, start_platform


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "migrate", help="show or apply entity schema changes",
        description="Compare the entity metadata with the database. Additive changes are applied on every "
                    "start; this command lists them and, with --allow-destructive, also drops columns and "
                    "changes column types (back up first).")
    add_settings_options(p)
    p.add_argument("--allow-destructive", action="store_true", help="apply drops and type changes")
    p.add_argument("--dry-run", action="store_true", help="only print the plan")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    platform = start_platform(settings_from(args), migrate=False)
    if platform is None:
        return 1
    with session():
        plan = plan_migration(platform.models)
    for step in plan.steps:
        print(("DESTRUCTIVE " if step.destructive else "") + step.describe())
    if not plan.steps:
        print("the schema matches the metadata")
        return 0
    if args.dry_run:
        return 0
    if plan.destructive and not args.allow_destructive:
        print("refused: destructive steps need --allow-destructive (back up the database first)")
        return 1
    with session():
        apply_migration(platform.models, allow_destructive=args.allow_destructive)
    print(f"applied {len(plan.steps)} step(s)")
    return 0
