"""``run.py simulate SCENARIO.yaml``: compare routing strategies on the real router with simulated calls.

Each strategy (Helpline's tier strategy, app_queue-like, mod_callcenter-like) is run on the same callers
(common random numbers) for every load and seed of the scenario; the table gives per tier the service
level, ASA, abandon rate and the answered calls' wait p50/p95/p99, the worst tier's shortfall against its
target and the agents' occupancy. ``--json`` prints one JSON list instead. A scenario that cannot be used
exits 2, naming the file, line and field. See ``telephony/simulate/``.

An outbound scenario (a file with one ``outbound:`` mapping) compares pacing methods instead (progressive,
predictive, the adaptive dial levels) on the same lists: contacts per agent-hour, occupancy and the abandon
rate per hour (``--method``, ``--agents``, ``--seeds`` and ``--duration`` override the file's); it exits 1
if a run broke an invariant (a number lost or dialled twice at once).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from helpline.metadata.kinds.ivr import parse_duration
from telephony.simulate.dialer import simulate_outbound
from telephony.simulate.engine import simulate
from telephony.simulate.report import (
    as_json,
    format_outbound_table,
    format_table,
    summarize,
    summarize_outbound,
)
from telephony.simulate.scenario import (
    PACING_METHODS,
    STRATEGIES,
    LoadSpec,
    ScenarioError,
    is_outbound,
    load_outbound_scenario,
    load_scenario,
)


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "simulate", help="compare routing strategies on simulated calls",
        description="Run the router on simulated calls for every strategy, load and seed of a scenario and "
                    "print service level, ASA, abandon rate, wait p50/p95/p99, worst shortfall and occupancy per "
                    "strategy and tier. "
                    "Exit 2 if the scenario cannot be used.")
    p.add_argument("scenario", metavar="SCENARIO.yaml", help="scenario file (see telephony/simulate/scenario.py)")
    p.add_argument("--json", action="store_true", help="print one JSON list (a row per strategy and load)")
    p.add_argument("--seeds", metavar="1,2,3", help="seeds to run instead of the scenario's")
    p.add_argument("--strategy", metavar="NAMES", default=",".join(STRATEGIES),
                   help="comma-separated strategies (default %(default)s)")
    p.add_argument("--load", metavar="LOADS",
                   help="comma-separated loads instead of the scenario's: 85%% (occupancy) or 300 (calls per hour)")
    p.add_argument("--duration", metavar="TIME", help="simulated time per run instead of the scenario's (8h, 90m)")
    p.add_argument("--warmup", metavar="TIME", help="warm-up instead of the scenario's")
    p.add_argument("--write-calls", metavar="DATE",
                   help="write the first run's calls (first strategy, load and seed) as call records of DATE "
                        "(YYYY-MM-DD; YYYY-MM-DDTHH:MM starts the run at that time, else at midnight; the centre's "
                        "date and clock, HELPLINE_TIME_ZONE) into the "
                        "database (--db) and rebuild that day's statistics")
    p.add_argument("--db", help="database URL for --write-calls (env HELPLINE_DB)")
    p.add_argument("--method", metavar="NAMES",
                   help=f"outbound scenarios: comma-separated pacing methods ({', '.join(PACING_METHODS)})")
    p.add_argument("--agents", metavar="N,N", help="outbound scenarios: agent counts instead of the file's")
    p.set_defaults(func=run)


def _loads(text: str) -> list[LoadSpec]:
    loads = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        if item.endswith("%"):
            loads.append(LoadSpec(occupancy=float(item[:-1]) / 100))
        else:
            loads.append(LoadSpec(calls_per_hour=float(item)))
    return loads


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The overrides from the options; ValueError with a message for a bad one."""
    strategies = [s.strip() for s in args.strategy.split(",") if s.strip()]
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown or not strategies:
        raise ValueError(f"--strategy: unknown {', '.join(unknown) or 'empty list'} "
                         f"(strategies are: {', '.join(STRATEGIES)})")
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()] if args.seeds else None
    except ValueError:
        raise ValueError(f"--seeds: {args.seeds!r} is not a comma-separated list of integers") from None
    try:
        loads = _loads(args.load) if args.load else None
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ValueError(f"--load: {args.load!r}: write loads like 85%,90% or 300,400 ({exc})") from None
    times = {}
    for name in ("duration", "warmup"):
        value = getattr(args, name)
        times[name] = float(parse_duration(value)) if value is not None else None
    return {"strategies": strategies, "seeds": seeds, "loads": loads, "duration_s": times["duration"],
            "warmup_s": times["warmup"]}


def _write_calls(args: argparse.Namespace, result: Any, within: dict[str, float]) -> int | None:
    """The run's calls into the database of ``--db`` (its statistics rebuilt for the day, with the scenario's
    tier thresholds); None after an error."""
    from datetime import date, time

    from helpline.config import Settings
    from helpline.data.database import open_database
    from helpline.data.system import create_system_tables
    from telephony.simulate.record import write_calls

    day_text, _, at_text = args.write_calls.partition("T")
    try:
        day = date.fromisoformat(day_text)
        at = time.fromisoformat(at_text) if at_text else time(0)
    except ValueError:
        print(f"error: --write-calls: {args.write_calls!r} is not a date (YYYY-MM-DD) or a date and start time "
              f"(YYYY-MM-DDTHH:MM)", file=sys.stderr)
        return None
    from helpline.services import stats

    open_database(args.db or Settings.from_env().db)
    create_system_tables()
    stats.configure(within)
    return write_calls(result, day, at=at)


def _print_problems(path: str, exc: ScenarioError) -> None:
    print(f"{path}: the scenario cannot be used ({len(exc.problems)} problem(s)):", file=sys.stderr)
    for problem in exc.problems:
        print(problem.format(), file=sys.stderr)


def _ints(option: str, text: str | None) -> list[int] | None:
    try:
        return [int(s) for s in text.split(",") if s.strip()] if text else None
    except ValueError:
        raise ValueError(f"{option}: {text!r} is not a comma-separated list of integers") from None


def run_outbound(args: argparse.Namespace) -> int:
    """An outbound scenario: every method × agent count × seed, the table or --json; 1 on a broken invariant."""
    try:
        methods = [m.strip() for m in args.method.split(",") if m.strip()] if args.method else None
        unknown = [m for m in methods or [] if m not in PACING_METHODS]
        if unknown or methods == []:
            raise ValueError(f"--method: unknown {', '.join(unknown) or 'empty list'} "
                             f"(methods are: {', '.join(PACING_METHODS)})")
        seeds, agents = _ints("--seeds", args.seeds), _ints("--agents", args.agents)
        if agents and min(agents) < 1:
            raise ValueError("--agents: agent counts must be ≥ 1")
        duration = float(parse_duration(args.duration)) if args.duration else None
        scenario = load_outbound_scenario(args.scenario)
        spec = scenario.with_overrides(seeds=seeds, agents=agents, methods=methods, duration_s=duration).outbound
    except ScenarioError as exc:
        _print_problems(args.scenario, exc)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = simulate_outbound(spec)
    rows = summarize_outbound(results)
    if args.json:
        print(json.dumps([row.as_json() for row in rows], indent=2))
    else:
        print(format_outbound_table(spec, rows, args.scenario))
    for result in results:
        for violation in result.violations:
            print(f"invariant broken ({result.method}, {result.agents} agents, seed {result.seed}): {violation}",
                  file=sys.stderr)
    return 1 if any(r.violations for r in results) else 0


def run(args: argparse.Namespace) -> int:
    try:
        with open(args.scenario, encoding="utf-8") as handle:
            outbound = is_outbound(handle.read())
    except (OSError, ValueError):
        outbound = False  # load_scenario reports the unreadable file
    if outbound:
        return run_outbound(args)
    try:
        options = _options(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        _print_problems(args.scenario, exc)
        return 2
    strategies = options.pop("strategies")
    scenario = scenario.with_overrides(**options)
    if scenario.warmup_s >= scenario.duration_s:
        print("error: the warm-up must be shorter than the duration", file=sys.stderr)
        return 2
    results = simulate(scenario, strategies)
    rows = summarize(scenario, results)
    if args.write_calls:
        written = _write_calls(args, results[0], {name: t.within_s for name, t in scenario.tiers.items()})
        if written is None:
            return 2
        print(f"{written} simulated call(s) written as records of {args.write_calls}", file=sys.stderr)
    if args.json:
        print(json.dumps(as_json(rows), indent=2))
    else:
        print(format_table(scenario, rows, args.scenario))
    return 0
