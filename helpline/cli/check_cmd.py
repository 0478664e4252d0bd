"""``run.py check``: load and check the metadata; print every problem or a one-line summary."""

from __future__ import annotations

import argparse
import json
from typing import Any

from helpline.config import Settings
from helpline.metadata.loader import load_directory


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "check", help="check the metadata files and report every problem",
        description="Load every metadata file, check it and its references, print every problem with its id, "
                    "file:line:col and a hint. Exit 1 if there is any error, 0 otherwise.")
    p.add_argument("--metadata", default=Settings.from_env().metadata, metavar="DIR",
                   help="metadata directory (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print the problems as a JSON list")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings(metadata=args.metadata)
    directory = settings.metadata_dir()
    result = load_directory(directory)
    if args.json:
        print(json.dumps([p.as_dict() for p in result.problems], ensure_ascii=False, indent=1))
        return 0 if result.ok else 1
    for problem in result.problems:
        print(problem.format())
    if result.ok:
        print(f"ok: {result.summary()}")
        return 0
    print(f"{len(result.problems)} problem(s) in {directory}")
    return 1
