"""No starving tier: the lowest tier's wait tail and abandons under the tier strategy, against the baselines.

For the shipped scenario (``bench/routing_quality.yaml``) and ``--generated N`` variants of it, at each
load, runs Helpline's tier strategy and the two baselines with every level open at once (``--level-step
0``, their best setting) on the same callers, and checks, on the means over the seeds:

* every tier of Helpline meets its target (service level, abandons counted as misses);
* the lowest tier's (lowest base priority) p99 wait of answered calls ≤ ``--p99-ratio`` (1.25) × the best
  baseline's — the baseline with the smaller worst shortfall at that load (mod_callcenter-like here);
* its abandon rate ≤ ``--abandon-ratio`` (1.1) × the best baseline's.

A generated scenario k draws (``random.Random(k)``) the agent groups' sizes (× 0.8–2), the platinum and gold
shares (5–15 %, 15–25 %), the callers' patience (× 0.7–1.3) and the handle times (× 0.8–1.2); tiers,
targets, skills, levels and the strategy stay the shipped ones. Prints a line per scenario and load, then
the failures; exits 1 if any. ::

    PYTHONPATH=. python bench/routing_tail.py [--seeds 4,5,6] [--generated 3] [--first 1] [--no-shipped]
        [--strategy FILE] [--duration 8h] [--json OUT]

``--strategy FILE`` runs another tier strategy (rule text) in place of the scenario's, for the frontier of
settings in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from helpline.metadata.kinds.ivr import parse_duration  # noqa: E402
from telephony.simulate.engine import simulate  # noqa: E402
from telephony.simulate.report import Row, summarize  # noqa: E402
from telephony.simulate.scenario import Scenario, SteppedSpec, load_scenario  # noqa: E402


def generated(base: Scenario, k: int) -> Scenario:
    """Variant ``k`` of the scenario (see the module docstring)."""
    rng = random.Random(k)
    agents = [g.model_copy(update={"count": max(1, round(g.count * rng.uniform(0.8, 2.0)))}) for g in base.agents]
    shares = {"platinum": rng.uniform(0.05, 0.15), "gold": rng.uniform(0.15, 0.25)}
    patience = rng.uniform(0.7, 1.3)
    tiers = {}
    for name, tier in base.tiers.items():
        update: dict[str, Any] = {"share": shares.get(name, tier.share)}
        if tier.patience_s is not None:
            update["patience_s"] = tier.patience_s * patience
        tiers[name] = tier.model_copy(update=update)
    lowest = lowest_tier(base)
    tiers[lowest] = tiers[lowest].model_copy(update={"share": 1.0 - sum(shares.values())})
    skills = {name: s.model_copy(update={"handle": s.handle.model_copy(
        update={"mean_s": s.handle.mean_s * rng.uniform(0.8, 1.2)})}) for name, s in base.skills.items()}
    return base.model_copy(update={"agents": agents, "tiers": tiers, "skills": skills})


def lowest_tier(scenario: Scenario) -> str:
    declared = scenario.tier_strategy().tiers
    return min(scenario.tiers, key=lambda t: declared[t].priority if t in declared else float("-inf"))


def describe(scenario: Scenario) -> str:
    shares = scenario.tier_shares()
    return (f"{scenario.agent_count} agents, shares " + " / ".join(f"{shares[t]:.0%}" for t in scenario.tiers)
            + f", handle {scenario.mean_handle_s:.0f} s")


def check(name: str, scenario: Scenario, rows: list[Row], p99_ratio: float, abandon_ratio: float,
          failures: list[str]) -> list[dict[str, Any]]:
    lowest = lowest_tier(scenario)
    found = []
    for load in dict.fromkeys(r.load for r in rows):
        at = {r.strategy: r for r in rows if r.load == load}
        mine = at["helpline"]
        best = min((r for s, r in at.items() if s != "helpline"), key=lambda r: r.worst_shortfall)
        t, b = mine.tiers[lowest], best.tiers[lowest]
        p99 = t.wait_p99_s / b.wait_p99_s if b.wait_p99_s else float("inf")
        aband = t.abandon_rate / b.abandon_rate if b.abandon_rate else (0.0 if t.abandon_rate == 0 else float("inf"))
        misses = [f"{x.tier} {x.service_level:.1%} < {x.target:.0%}" for x in mine.tiers.values()
                  if x.service_level < x.target]
        line = (f"{name} {load:6.1f} calls/h: {lowest} p99 {t.wait_p99_s:5.0f} s vs {best.strategy} "
                f"{b.wait_p99_s:5.0f} s ({p99:.2f}x), abandons {t.abandon_rate:.1%} vs {b.abandon_rate:.1%} "
                f"({aband:.2f}x); helpline SL " + " / ".join(f"{x.service_level:.1%}" for x in mine.tiers.values())
                + f" (worst {mine.worst_shortfall * 100:+.1f} pts; {best.strategy} {best.worst_shortfall * 100:+.1f})")
        print(line, flush=True)
        if misses:
            failures.append(f"{name} {load:.1f} calls/h: target missed: {', '.join(misses)}")
        if p99 > p99_ratio:
            failures.append(f"{name} {load:.1f} calls/h: {lowest} p99 {p99:.2f}x > {p99_ratio}x")
        if aband > abandon_ratio:
            failures.append(f"{name} {load:.1f} calls/h: {lowest} abandons {aband:.2f}x > {abandon_ratio}x")
        found.append({"scenario": name, "load": round(load, 1), "lowest": lowest, "p99_s": round(t.wait_p99_s, 1),
                      "best": best.strategy, "best_p99_s": round(b.wait_p99_s, 1), "p99_ratio": round(p99, 3),
                      "abandon": round(t.abandon_rate, 4), "best_abandon": round(b.abandon_rate, 4),
                      "abandon_ratio": round(aband, 3),
                      "service_levels": {x.tier: round(x.service_level, 4) for x in mine.tiers.values()},
                      "misses": misses})
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", default=str(ROOT / "bench" / "routing_quality.yaml"))
    p.add_argument("--seeds", help="comma-separated seeds instead of the scenario's")
    p.add_argument("--generated", type=int, default=3, metavar="N", help="generated variants (default %(default)s)")
    p.add_argument("--first", type=int, default=1, metavar="K", help="the first variant's number (default 1)")
    p.add_argument("--duration", help="simulated time per run instead of the scenario's (8h, 90m)")
    p.add_argument("--strategy", metavar="FILE", help="a tier strategy (rule text) instead of the scenario's")
    p.add_argument("--no-shipped", action="store_true", help="only the generated scenarios")
    p.add_argument("--p99-ratio", type=float, default=1.25)
    p.add_argument("--abandon-ratio", type=float, default=1.1)
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    base = load_scenario(args.scenario)
    step = SteppedSpec(level_step_s=0)
    base = base.model_copy(update={"app_queue": step, "mod_callcenter": step})
    if args.seeds:
        base = base.with_overrides(seeds=[int(s) for s in args.seeds.split(",")])
    if args.duration:
        base = base.with_overrides(duration_s=float(parse_duration(args.duration)))
    if args.strategy:
        base = base.model_copy(update={"strategy": Path(args.strategy).read_text(encoding="utf-8")})
        base.tier_strategy()  # a broken strategy fails here, before any run
    scenarios = [] if args.no_shipped else [("shipped", base)]
    scenarios += [(f"generated-{k}", generated(base, k)) for k in range(args.first, args.first + args.generated)]
    started = time.perf_counter()
    failures: list[str] = []
    found: list[dict[str, Any]] = []
    print(f"seeds {', '.join(map(str, base.seeds))}; baselines with every level open at once; p99 ≤ "
          f"{args.p99_ratio}x and abandons ≤ {args.abandon_ratio}x the best baseline's, every target met")
    for name, scenario in scenarios:
        print(f"{name}: {describe(scenario)}")
        found += check(name, scenario, summarize(scenario, simulate(scenario)), args.p99_ratio,
                       args.abandon_ratio, failures)
    print(f"{len(scenarios)} scenarios in {time.perf_counter() - started:.0f} s")
    for failure in failures:
        print(f"FAILED: {failure}")
    print(f"failures: {len(failures)}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": found, "failures": failures}, indent=2), encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
