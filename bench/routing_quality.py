"""Routing quality: Helpline's tier strategy against app_queue-like and mod_callcenter-like routing.

Runs ``bench/routing_quality.yaml`` (25 agents on two skills with mixed levels; platinum 90 %, gold 80 %,
ordinary 70 % within 20 s; loads at 85, 90 and 95 % offered occupancy; callers who hang up) through the
real router for every strategy on the same callers, prints the table and then whether the claims hold:

* Helpline meets every tier's target at the lowest load;
* Helpline has the smallest worst-tier shortfall at every load, by a clear margin (``--margin`` points).

It asserts nothing. ``--level-step 0`` gives the baselines every skill level at once (their best setting
on this scenario) instead of the scenario's 30 s steps. For reference it prints Erlang C's service level
of one pool of all the agents (no skills, no abandons) at each load. ::

    PYTHONPATH=. python bench/routing_quality.py [--scenario FILE] [--seeds 1,2,3] [--level-step S] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from telephony.simulate.engine import simulate  # noqa: E402
from telephony.simulate.erlang import ErlangC  # noqa: E402
from telephony.simulate.report import Row, as_json, format_table, summarize  # noqa: E402
from telephony.simulate.scenario import Scenario, SteppedSpec, load_scenario  # noqa: E402


def verdicts(rows: list[Row], margin_pts: float) -> list[tuple[bool, str]]:
    """(holds, sentence) for each claim of the module docstring."""
    loads = sorted({r.load for r in rows})
    found: list[tuple[bool, str]] = []
    first = next((r for r in rows if r.load == loads[0] and r.strategy == "helpline"), None)
    if first is not None:
        misses = [f"{t.tier} {t.service_level:.1%} < {t.target:.0%}" for t in first.tiers.values()
                  if t.service_level < t.target]
        found.append((not misses, f"Helpline meets every tier target at {loads[0]:.0f} calls/h: "
                                  + ("yes" if not misses else "no (" + ", ".join(misses) + ")")
                                  + f"; worst shortfall {first.worst_shortfall * 100:+.1f} pts"))
    for load in loads:
        at = {r.strategy: r for r in rows if r.load == load}
        mine = at.get("helpline")
        others = [r for name, r in at.items() if name != "helpline"]
        if mine is None or not others:
            continue
        best = min(others, key=lambda r: r.worst_shortfall)
        lead = (best.worst_shortfall - mine.worst_shortfall) * 100
        holds = lead >= margin_pts
        found.append((holds, f"{load:.0f} calls/h: worst shortfall helpline {mine.worst_shortfall * 100:+.1f} pts, "
                             f"best other {best.strategy} {best.worst_shortfall * 100:+.1f} pts: lead {lead:.1f} pts "
                             f"({'clear' if holds else 'NOT clear'}, margin {margin_pts:g})"))
    return found


def erlang_lines(scenario: Scenario) -> list[str]:
    lines = []
    handle = scenario.mean_handle_s + scenario.wrap_up_s
    for load in scenario.loads:
        rate = scenario.calls_per_hour(load) / 3600
        e = ErlangC(scenario.agent_count, rate, handle)
        lines.append(f"  {rate * 3600:.1f} calls/h: one pool of {scenario.agent_count} agents, no abandons: "
                     f"P(W ≤ 20 s) {e.service_level(20):.1%}, ASA {e.asa_s:.1f} s")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", default=str(ROOT / "bench" / "routing_quality.yaml"))
    p.add_argument("--seeds", help="comma-separated seeds instead of the scenario's")
    p.add_argument("--level-step", type=float, metavar="S",
                   help="the baselines' level_step_s instead of the scenario's (0: every level at once)")
    p.add_argument("--margin", type=float, default=2.0, help="clear margin in points (default %(default)s)")
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = p.parse_args(argv)
    scenario = load_scenario(args.scenario)
    if args.seeds:
        scenario = scenario.with_overrides(seeds=[int(s) for s in args.seeds.split(",")])
    if args.level_step is not None:
        step = SteppedSpec(level_step_s=args.level_step)
        scenario = scenario.model_copy(update={"app_queue": step, "mod_callcenter": step})
    started = time.perf_counter()
    results = simulate(scenario)
    elapsed = time.perf_counter() - started
    rows = summarize(scenario, results)
    print(format_table(scenario, rows, args.scenario))
    calls = sum(len(r.records) for r in results)
    print(f"\n{len(results)} runs, {calls} simulated calls, {sum(r.router_calls for r in results)} router calls "
          f"in {elapsed:.1f} s")
    print("\nErlang C reference (talk + wrap-up as handle time):")
    print("\n".join(erlang_lines(scenario)))
    print("\nClaims:")
    for holds, sentence in verdicts(rows, args.margin):
        print(f"  [{'x' if holds else ' '}] {sentence}")
    if args.json:
        Path(args.json).write_text(json.dumps(as_json(rows), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
