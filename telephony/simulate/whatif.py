"""The "what if" of the routing editor (``helpline/ui/views/routing_editor.py``): the routing simulator run
on a scenario with the DRAFT tier strategy and with the LIVE one, on the same callers (one seed, one load, a
short run), for a side-by-side view of the service level per tier.

The scenario is a simulator scenario file of ``bench/`` (``routing_quality.yaml`` by default); only
its ``strategy`` is replaced. Both runs share the generated calls (common random numbers), so the difference
is the strategy's alone. Plain blocking code: the editor runs it on a worker thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from helpline.config import shipped
from helpline.rules import compile_tier_strategy
from telephony.simulate.engine import run_once
from telephony.simulate.report import Row, summarize
from telephony.simulate.scenario import LoadSpec, Scenario, load_scenario
from telephony.simulate.traffic import generate_calls

SCENARIOS = shipped("scenarios")
"""The folder of the scenarios the editor offers (the browser names one of them, never a path)."""
DEFAULT_SCENARIO = SCENARIOS / "routing_quality.yaml"
DEFAULT_DURATION_S = 2 * 3600.0


@dataclass(frozen=True)
class TierComparison:
    tier: str
    draft_target: float
    live_target: float
    draft: float
    """Service level (abandons count as misses) with the draft strategy."""
    live: float
    draft_asa_s: float
    live_asa_s: float
    offered: int


@dataclass(frozen=True)
class WhatIf:
    scenario: str
    load: LoadSpec
    """The simulated load (the editor words it in the user's language)."""
    calls_per_hour: float
    duration_s: float
    seed: int
    tiers: list[TierComparison]
    draft_worst: float
    """Worst shortfall against the scenario's targets (negative: every tier beats its target)."""
    live_worst: float
    wall_s: float


def scenarios() -> dict[str, str]:
    """The scenario files the editor offers: file name → path (the default first)."""
    found = sorted(SCENARIOS.glob("*.yaml"), key=lambda p: (p != DEFAULT_SCENARIO, p.name))
    return {p.name: str(p) for p in found}


def scenario_loads(path: str | Path = DEFAULT_SCENARIO) -> list[LoadSpec]:
    """The scenario's loads (the editor offers one of them)."""
    return list(load_scenario(path).loads)


def what_if(draft: str, live: str, *, scenario_path: str | Path = DEFAULT_SCENARIO, load: int = 0,
            duration_s: float = DEFAULT_DURATION_S, seed: int = 1) -> WhatIf:
    """Simulate ``draft`` and ``live`` (tier strategy texts) on the scenario's ``load``-th load.

    Raises ``RuleError`` when the draft does not compile and ``ScenarioError`` for a broken scenario."""
    started = time.perf_counter()
    for text in (draft, live):
        compile_tier_strategy(text)
    scenario = load_scenario(scenario_path)
    spec: LoadSpec = scenario.loads[min(max(load, 0), len(scenario.loads) - 1)]
    scenario = scenario.with_overrides(seeds=[seed], loads=[spec], duration_s=duration_s,
                                       warmup_s=min(scenario.warmup_s, duration_s / 4))
    rate = scenario.calls_per_hour(spec)
    calls = generate_calls(scenario, rate, seed)
    rows: dict[str, Row] = {}
    targets: dict[str, dict[str, float]] = {}
    for which, text in (("draft", draft), ("live", live)):
        variant: Scenario = scenario.model_copy(update={"strategy": text})
        result = run_once(variant, "helpline", calls, calls_per_hour=rate, seed=seed)
        rows[which] = summarize(variant, [result])[0]
        declared = compile_tier_strategy(text).tiers
        targets[which] = {name: declared[name].target if name in declared else spec_tier.target
                          for name, spec_tier in scenario.tiers.items()}
    tiers = [TierComparison(name, targets["draft"][name], targets["live"][name],
                            rows["draft"].tiers[name].service_level, rows["live"].tiers[name].service_level,
                            rows["draft"].tiers[name].asa_s, rows["live"].tiers[name].asa_s,
                            rows["draft"].tiers[name].offered)
             for name in scenario.tiers]
    return WhatIf(str(scenario_path), spec, rate, duration_s, seed, tiers, rows["draft"].worst_shortfall,
                  rows["live"].worst_shortfall, time.perf_counter() - started)
