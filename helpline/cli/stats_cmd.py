"""``run.py stats rebuild --from DATE --to DATE``: recount the interval facts of a range from the raw records."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from typing import Any

from helpline.cli import add_settings_options

from .common import settings_from, start_platform


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "stats", help="rebuild the statistics' interval facts",
        description="The interval facts (hl_stat_*) are kept as calls close and agents change status; "
                    "'rebuild' deletes those of a range of days and recounts them from hl_call and "
                    "hl_agent_event (after a restore, a changed tier threshold or a failed update).")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    rebuild = actions.add_parser("rebuild", help="recount the facts of days FROM..TO (inclusive)")
    rebuild.add_argument("--from", dest="start", required=True, type=_day, metavar="DATE", help="first day, YYYY-MM-DD")
    rebuild.add_argument("--to", dest="end", type=_day, metavar="DATE", help="last day (default: the first)")
    add_settings_options(rebuild)
    p.set_defaults(func=run)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (write YYYY-MM-DD)") from None


def run(args: argparse.Namespace) -> int:
    from helpline.services import stats

    if getattr(args, "action", None) != "rebuild":
        print("run.py stats: say what to do: rebuild --from DATE --to DATE", file=sys.stderr)
        return 2
    end = args.end or args.start
    try:
        stats.check_range(args.start, end)
    except ValueError as exc:
        print(f"run.py stats rebuild: {exc}", file=sys.stderr)
        return 2
    platform = start_platform(settings_from(args))
    if platform is None:
        return 1
    stats.configure_from_metadata(platform.metadata)
    began = time.perf_counter()
    counted = stats.rebuild(args.start, end)
    print(f"rebuilt {args.start}..{end}: {counted['calls']} call record(s), {counted['agent_events']} agent "
          f"spell(s) in {time.perf_counter() - began:.2f} s")
    return 0
