"""Outbound pacing: progressive, predictive and VICIdial-like adaptive dial levels on the same lists.

Runs ``bench/pacing.yaml`` (an 8-hour shift; a live answer one attempt in four, answering machines, busy,
no answer; talk 90 s lognormal, wrap-up 10 s; a live answer with no agent free within 2 s is dropped)
through the dialler simulation (:mod:`telephony.simulate.dialer`) for every method at 20, 50 and 100 agents
and every seed, prints the table (contacts per agent-hour, occupancy, abandon rate over the shift and hour
by hour) and then checks, counting a failure for each one that does not hold:

* every run keeps its invariants (every number reaches one final outcome, none dialled twice at once, no
  line or agent left busy) — a run with lost numbers or a broken invariant is a failure;
* predictive keeps the abandon rate (drops / live answers) ≤ the cap (3 %) in EVERY hour of EVERY seed;
* predictive gives at least ``--min-gain`` (30 %) more contacts per agent-hour than progressive.

Exits 1 if anything failed. ::

    PYTHONPATH=. python bench/bench_pacing.py [--scenario FILE] [--agents 20,50,100] [--seeds 1,2,3]
                                              [--min-gain 0.30] [--json OUT.json]
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

from telephony.simulate.dialer import OutboundResult, simulate_outbound  # noqa: E402
from telephony.simulate.report import OutboundRow, format_outbound_table, summarize_outbound  # noqa: E402
from telephony.simulate.scenario import load_outbound_scenario  # noqa: E402


def failures(results: list[OutboundResult], rows: list[OutboundRow], cap: float, min_gain: float) -> list[str]:
    """One sentence per claim that does not hold."""
    found = [f"{r.method}, {r.agents} agents, seed {r.seed}: {v}" for r in results for v in r.violations]
    for r in results:
        if r.method != "predictive":
            continue
        for hour in r.hours:
            if hour.abandon_rate > cap + 1e-12:
                found.append(f"predictive, {r.agents} agents, seed {r.seed}, hour {hour.hour + 1}: abandon rate "
                             f"{hour.abandon_rate:.2%} > {cap:.0%} ({hour.drops} drops / {hour.live_answers} answers)")
    for row in rows:
        if row.method == "predictive" and (row.gain is None or row.gain < min_gain):
            got = "no progressive run to compare" if row.gain is None else f"{row.gain:+.1%}"
            found.append(f"predictive, {row.agents} agents: contacts per agent-hour over progressive {got} "
                         f"< {min_gain:+.0%}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(ROOT / "bench" / "pacing.yaml"))
    parser.add_argument("--agents", help="agent counts instead of the scenario's (20,50,100)")
    parser.add_argument("--seeds", help="seeds instead of the scenario's")
    parser.add_argument("--min-gain", type=float, default=0.30,
                        help="predictive's least gain in contacts per agent-hour over progressive (0.30)")
    parser.add_argument("--json", metavar="OUT.json", help="also write the rows and the failures as JSON")
    args = parser.parse_args(argv)
    scenario = load_outbound_scenario(args.scenario)
    agents = [int(a) for a in args.agents.split(",")] if args.agents else None
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    spec = scenario.with_overrides(agents=agents, seeds=seeds).outbound
    started = time.perf_counter()
    results = simulate_outbound(spec)
    wall = time.perf_counter() - started
    rows = summarize_outbound(results)
    print(format_outbound_table(spec, rows, args.scenario))
    runs, numbers = len(results), sum(r.numbers for r in results)
    print(f"\n{runs} runs, {sum(r.dials for r in results):,} dials over {numbers:,} listed numbers, {wall:.1f} s")
    found = failures(results, rows, spec.drop_cap, args.min_gain)
    print("\n" + ("\n".join(f"FAIL {line}" for line in found) if found else "all claims hold")
          + f"  ({len(found)} failure(s))")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": [r.as_json() for r in rows], "failures": found,
                                               "wall_s": round(wall, 1)}, indent=2), encoding="utf-8")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
