"""Workforce figures: required agents for a day, the simulator run that checks them, a 4-week roster for 500.

Run: ``PYTHONPATH=. python bench/bench_roster.py [--agents 500] [--weeks 4] [--limit 45] [--json FILE]``.
Exits non-zero when a target is missed.

- *required agents*: Erlang C and Erlang A (patience 120 s) for 48 half hours × 3 tiers (platinum 90 %, gold
  85 %, ordinary 70 % within 20 s; shares 10/30/60 %), a centre's day peaking at 800 calls per half hour, handle
  time 240 s; best of 20 runs; target < 100 ms.
- *simulator check*: the router's simulator (``helpline`` strategy, 3 seeds × 8 h) on the Erlang A staffing of
  the peak half hour's gold traffic; target < 30 s, and its service level within 2 points of the target or above.
- *roster*: ``--agents`` agents, ``--weeks`` weeks from a Monday, 48 half hours a day, nine eight-hour patterns
  starting every hour 07:00-15:00 (an hour's break in the middle), rules 11 h rest, 5 shifts a week, 6 days in a
  row, 2 % of the agents on leave two days; the requirement of a day peaking at 160 agents (weekends 80 %). The
  under- and over-staffing are reported in agent-hours (under-staffing: required minus scheduled where positive,
  summed over every half hour). Target < 60 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from telephony.workforce.roster import Rules, ShiftPattern, solve_roster  # noqa: E402
from telephony.workforce.staffing import TierLoad, check_on_simulator, required_agents  # noqa: E402

TIERS = [TierLoad("platinum", 0.1, 0.9, 20, 120), TierLoad("gold", 0.3, 0.85, 20, 120),
         TierLoad("ordinary", 0.6, 0.7, 20, 120)]
DAY_CALLS = [0.0] * 14 + [200, 400] + [600] * 6 + [800] * 10 + [700] * 8 + [500] * 4 + [250] * 2 + [0] * 2
DAY_AGENTS = [0] * 14 + [40, 60] + [120] * 6 + [160] * 10 + [140] * 8 + [100] * 4 + [50] * 2 + [0] * 2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--limit", type=float, default=45.0, help="solver time limit, seconds")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    out: dict[str, object] = {}
    ok = True

    runs = []
    for _ in range(20):
        t0 = time.perf_counter()
        req = required_agents(DAY_CALLS, TIERS, 240)
        runs.append(time.perf_counter() - t0)
    peak = max(req, key=lambda r: r.erlang_c)
    out["required_ms_best"] = round(min(runs) * 1000, 1)
    out["required_ms_median"] = round(sorted(runs)[len(runs) // 2] * 1000, 1)
    out["peak"] = {"tier": peak.tier, "erlang_c": peak.erlang_c, "erlang_a": peak.erlang_a}
    print(f"required agents 48 x 3: best {out['required_ms_best']} ms, median {out['required_ms_median']} ms "
          f"(peak {peak.tier}: Erlang C {peak.erlang_c}, Erlang A {peak.erlang_a})")
    ok &= min(runs) < 0.1

    gold = next(r for r in req if r.tier == "gold" and r.calls == max(x.calls for x in req if x.tier == "gold"))
    t0 = time.perf_counter()
    level = check_on_simulator(gold.erlang_a, gold.calls, 240, TIERS[1])
    sim_s = time.perf_counter() - t0
    out["simulator"] = {"agents": gold.erlang_a, "calls_per_half_hour": gold.calls, "service_level": round(level, 4),
                        "seconds": round(sim_s, 2)}
    print(f"simulator check: {gold.erlang_a} agents, {gold.calls:g} gold calls per half hour: service level "
          f"{level:.1%} (target 85 %) in {sim_s:.1f} s")
    ok &= sim_s < 30 and level >= 0.85 - 0.02

    patterns = [ShiftPattern(f"s{h:02d}", h * 60, 8 * 60, 60) for h in range(7, 16)]
    days = 7 * args.weeks
    start = date(2026, 12, 7)
    required = [[int(v * (0.8 if d % 7 >= 5 else 1.0)) for v in DAY_AGENTS] for d in range(days)]
    agents = [f"agent{i:04d}" for i in range(args.agents)]
    leave = {a: {start + timedelta(days=3 + i % 20), start + timedelta(days=4 + i % 20)}
             for i, a in enumerate(agents[: max(1, args.agents // 50)])}
    t0 = time.perf_counter()
    result = solve_roster(agents, start, days, required, patterns, Rules(), leave=leave, time_limit_s=args.limit)
    roster_s = time.perf_counter() - t0
    need_h = sum(map(sum, required)) / 2
    out["roster"] = {"agents": args.agents, "days": days, "status": result.status, "seconds": round(roster_s, 2),
                     "required_agent_hours": need_h, "under_agent_hours": result.under_agent_hours,
                     "over_agent_hours": result.over_agent_hours, "notes": result.notes,
                     "shifts": sum(len(v) for v in result.shifts.values())}
    print(f"roster {args.agents} agents x {days} days: {result.status} in {roster_s:.1f} s; required "
          f"{need_h:,.0f} agent-hours, under-staffed {result.under_agent_hours:,.1f}, over-staffed "
          f"{result.over_agent_hours:,.1f}; {out['roster']['shifts']:,} shifts; {'; '.join(result.notes)}")
    ok &= roster_s < 60
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
