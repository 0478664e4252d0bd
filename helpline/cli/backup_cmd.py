"""``run.py backup``: an online backup of the database with its manifest, then the retention (docs/operations.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from helpline.cli import add_settings_options
from helpline.config import Settings
from helpline.services.backup import backup
from helpline.services.backup_manifest import BackupError

from .common import settings_from


def add_parser(sub: Any) -> None:
    defaults = Settings.from_env()
    p: argparse.ArgumentParser = sub.add_parser(
        "backup", help="back the database up (online) with a checksummed manifest",
        description="Copy the database while it runs (SQLite's backup API; PostgreSQL's pg_dump, custom format) "
                    "into a new folder with a manifest: schema, row count and content hash per table, the copy's "
                    "sha256, the recordings and sounds folders listed (or copied with --with-files). Then keep "
                    "the newest backup of each of the last HELPLINE_BACKUP_KEEP_DAILY days and "
                    "HELPLINE_BACKUP_KEEP_WEEKLY weeks and delete the others.")
    add_settings_options(p, metadata=False)
    p.add_argument("--to", default=defaults.backup_dir, metavar="DIR",
                   help="backup directory (env HELPLINE_BACKUP_DIR; default %(default)s)")
    p.add_argument("--with-files", action="store_true", default=defaults.backup_with_files,
                   help="copy the recordings and sounds folders too (env HELPLINE_BACKUP_WITH_FILES)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        done = backup(settings.db, Path(args.to), with_files=args.with_files,
                      keep_daily=settings.backup_keep_daily, keep_weekly=settings.backup_keep_weekly,
                      reserve_bytes=settings.backup_reserve_mb * 1024 * 1024)
    except BackupError as exc:
        print(f"backup refused: {exc}", file=sys.stderr)
        return 1
    m = done.manifest
    rows = sum(t["rows"] for t in m["tables"].values())
    print(f"backup {done.path}: {len(m['tables'])} tables, {rows} rows, {m['bytes']} bytes, "
          f"sha256 {m['sha256'][:16]}…, {done.seconds:.1f} s")
    for path in done.deleted:
        print(f"retention: deleted {path}")
    return 0
