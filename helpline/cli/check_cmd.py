"""``run.py check``: load and check the metadata; print every problem or a one-line summary."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any

from helpline.config import Settings
from helpline.diagnostics import Problem
from helpline.metadata.loader import load_directory
from helpline.metadata.problems import problem


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "check", help="check the metadata files and report every problem",
        description="Load every metadata file, check it and its references, print every problem with its id, "
                    "file:line:col and a hint. Exit 1 if there is any error, 0 otherwise.")
    p.add_argument("--metadata", default=Settings.from_env().metadata, metavar="DIR",
                   help="metadata directory (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print the problems as a JSON list")
    p.add_argument("--no-extensions", action="store_true",
                   help="do not load the extensions in extensions/ nor run their check functions")
    p.set_defaults(func=run)


def extension_problems(metadata: Any) -> list[Problem]:
    """HL-E901 for each extension that cannot be loaded, HL-W901 for each finding of their check functions."""
    from helpline.extension_registry import registry

    reg = registry()
    found = [problem("HL-E901", message, file="extensions/") for message in reg.problems]
    if metadata is not None:
        for extension, message, hint in reg.run_checks(metadata):
            found.append(replace(problem("HL-W901", f"extension '{extension}': {message}", hint=hint or None,
                                         file=f"extensions/{extension}/"), severity="warning"))
    return found


def run(args: argparse.Namespace) -> int:
    settings = Settings(metadata=args.metadata)
    directory = settings.metadata_dir()
    result = load_directory(directory)
    if not args.no_extensions:
        result.problems.extend(extension_problems(result.metadata))
    if args.json:
        print(json.dumps([p.as_dict() for p in result.problems], ensure_ascii=False, indent=1))
        return 0 if result.ok else 1
    for found in result.problems:
        print(found.format())
    if result.ok:
        print(f"ok: {result.summary()}")
        return 0
    print(f"{len(result.problems)} problem(s) in {directory}")
    return 1
