"""``run.py restore``: replace the database's content with a backup, checked before and after (docs/operations.md).

Stop the server first: a restore replaces every table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from helpline.cli import add_settings_options
from helpline.services.backup import plan_restore, restore, restore_files
from helpline.services.backup_manifest import BackupError

from .common import settings_from, start_platform


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "restore", help="restore a backup (checksum and schema checked; stop the server first)",
        description="Check the backup's sha256, refuse a target database of another schema (unless --migrate), "
                    "replace the database's content with the backup and compare every table's row count and "
                    "content hash with the manifest. Stop the server first.")
    p.add_argument("file", metavar="FILE", help="a backup folder, its manifest.json or its database file")
    add_settings_options(p)
    p.add_argument("--yes", action="store_true", help="do it (without: only check and say what would happen)")
    p.add_argument("--migrate", action="store_true",
                   help="restore into a database of another schema, then migrate it to this version")
    p.add_argument("--with-files", action="store_true", help="also copy back the folders a --with-files backup holds")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        plan = plan_restore(Path(args.file), settings.db)
    except BackupError as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1
    m = plan.manifest
    print(f"backup of {m['created_at']}: {m['database']}, {len(m['tables'])} tables, "
          f"{sum(t['rows'] for t in m['tables'].values())} rows; checksum ok")
    if not plan.same_schema and not args.migrate:
        print("restore refused: the target database has another schema than the backup; --migrate replaces it "
              "and migrates the restored data to this version", file=sys.stderr)
        return 1
    if not args.yes:
        print("nothing changed: add --yes to replace the content of the target database")
        return 0
    try:
        restore(plan, settings.db, migrate=args.migrate)
    except BackupError as exc:
        print(f"restore failed: {exc}", file=sys.stderr)
        return 1
    print("restored: every table's row count and content hash match the manifest")
    if args.with_files:
        for line in restore_files(plan):
            print(f"files: {line}")
    if args.migrate:
        platform = start_platform(settings, migrate=True)
        if platform is None:
            return 1
        print("migrated to this version's schema")
    return 0
