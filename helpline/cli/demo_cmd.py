"""``run.py demo``: fill the database with the demo contact centre's fake customers and history."""

from __future__ import annotations

import argparse
from typing import Any

from helpline.cli import add_settings_options
from helpline.demo.generator import DemoGenerator, seed_demo, service_passwords_line

from .common import settings_from, start_platform


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "demo", help="generate demo data (regions, customers, contacts, work orders)",
        description="Fill an empty database with the demo centre's data; with --add, add customers to a "
                    "database that has some.")
    add_settings_options(p)
    p.add_argument("--customers", type=int, default=1000, help="number of customers (default %(default)s)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default %(default)s)")
    p.add_argument("--add", action="store_true", help="add customers even if some exist")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    platform = start_platform(settings_from(args))
    if platform is None:
        return 1
    if args.add:
        from helpline.data.database import session

        model = platform.models["customer"]
        with session():
            start = model.select().count()
        gen = DemoGenerator(platform, args.seed)
        gen.seed_regions()
        print(f"added {gen.customers(args.customers, start=start)} customers")
        return 0
    counts = seed_demo(platform, args.customers, args.seed)
    if "customers" not in counts:
        print("the database already has customers; use --add to add more")
    else:
        print(", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()))
        print(service_passwords_line(args.seed))
    return 0
