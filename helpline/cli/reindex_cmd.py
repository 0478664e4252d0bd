"""``run.py reindex [--entity E]``: rebuild the text-search index of entities with ``text_search`` fields."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from helpline.cli import add_settings_options
from helpline.data.database import session
from helpline.data.text_index import indexed_fields, rebuild

from .common import settings_from, start_platform


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "reindex", help="rebuild the text-search index",
        description="Rebuild the text-search index (docs/search.md) of every entity with text_search fields, or "
                    "of one, in batches with progress. Needed after rows were written past the record service "
                    "(a bulk load) or when an index too big to rebuild at start became stale; searches use the "
                    "LIKE path until it is complete.")
    add_settings_options(p)
    p.add_argument("--entity", action="append", metavar="E", help="only this entity (repeatable)")
    p.add_argument("--batch", type=int, default=5000, help="records per batch (default %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    platform = start_platform(settings_from(args))
    if platform is None:
        return 1
    entities = platform.metadata.entities
    names = args.entity or [n for n, e in entities.items() if indexed_fields(e)]
    for name in names:
        if name not in entities or not indexed_fields(entities[name]):
            print(f"reindex: '{name}' is not an entity with text_search fields", file=sys.stderr)
            return 2
    started = time.perf_counter()
    for name in names:
        last = [0.0]

        def progress(done: int, total: int, seconds: float, name: str = name, last: list[float] = last) -> None:
            if seconds - last[0] >= 2 or done >= total:
                last[0] = seconds
                print(f"{name}: {done:,}/{total:,} ({done / max(seconds, 1e-9):,.0f}/s, {seconds:.0f} s)", flush=True)

        with session():
            count = rebuild(platform.models, name, batch=max(1, args.batch), progress=progress)
        print(f"{name}: {count:,} records indexed", flush=True)
    print(f"reindexed {len(names)} entit{'y' if len(names) == 1 else 'ies'} in {time.perf_counter() - started:.1f} s")
    return 0
