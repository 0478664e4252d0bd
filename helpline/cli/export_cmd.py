"""``run.py export DIR``: write the live metadata back to files (for git)."""

from __future__ import annotations

import argparse
from typing import Any

from helpline.cli import add_settings_options

from .common import settings_from, start_platform


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "export", help="write the live metadata to files",
        description="Write every live metadata object to DIR/<folder>/<name>.yaml. Objects synced from files "
                    "are written exactly as they were read; objects edited in the designers as canonical YAML.")
    p.add_argument("directory", metavar="DIR", help="target directory (created if missing)")
    add_settings_options(p, metadata=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    platform = start_platform(settings_from(args), sync=False)
    if platform is None:
        return 1
    written = platform.store.export(args.directory)
    print(f"exported {len(written)} objects to {args.directory}")
    return 0
