"""The simulator's per-tier wait percentiles (p50/p95/p99 of answered calls) and abandon rate: computed from
the calls' records, shown in ``run.py simulate``'s table."""

from __future__ import annotations

import statistics

import pytest

from telephony.simulate.engine import TierTally, percentile, run_once
from telephony.simulate.report import format_table, summarize
from telephony.simulate.scenario import parse_scenario
from telephony.simulate.traffic import generate_calls


def test_percentiles_are_linear_between_ranks() -> None:
    assert percentile([], 99) == 0.0
    assert percentile([7.0], 50) == 7.0
    assert percentile([0.0, 10.0], 95) == pytest.approx(9.5)
    values = [float(v * v % 37) for v in range(101)]
    ordered = sorted(values)
    for p in (50, 95, 99):
        assert percentile(ordered, p) == pytest.approx(statistics.quantiles(values, n=100, method="inclusive")[p - 1])
    tally = TierTally(waits_s=[3.0, 1.0, 2.0])
    assert tally.wait_percentile(50) == 2.0


def test_each_tier_has_its_wait_percentiles_and_abandons(small: str) -> None:
    scenario = parse_scenario(small).with_overrides(duration_s=3600.0, warmup_s=300.0, seeds=[5])
    rate = scenario.calls_per_hour(scenario.loads[0]) * 1.15  # past capacity: waits and abandons
    result = run_once(scenario, "helpline", generate_calls(scenario, rate, 5), calls_per_hour=rate, seed=5)
    for name, tally in result.tiers.items():
        counted = [r for r in result.records if r.call.tier == name and r.call.arrival_s >= scenario.warmup_s]
        waits = [r.wait_s for r in counted if r.how == "answered"]
        assert len(waits) == tally.answered > 20
        assert tally.abandoned == sum(r.how == "abandoned" for r in counted)
        for p in (50, 95, 99):
            assert tally.wait_percentile(p) == pytest.approx(
                statistics.quantiles(waits, n=100, method="inclusive")[p - 1])
    ordinary = result.tiers["ordinary"]
    assert ordinary.wait_percentile(99) > ordinary.wait_percentile(50) and ordinary.abandoned > 0
    [row] = summarize(scenario, [result])
    t = row.tiers["ordinary"]
    assert (t.wait_p50_s, t.wait_p95_s, t.wait_p99_s) == (
        ordinary.wait_percentile(50), ordinary.wait_percentile(95), ordinary.wait_percentile(99))
    assert t.p99_per_seed == (ordinary.wait_percentile(99),)
    table = format_table(scenario, [row])
    assert "wait p50/95/99" in table
    line = next(x for x in table.splitlines() if "helpline" in x and "ordinary" in x)
    assert f"{t.wait_p50_s:.0f}/{t.wait_p95_s:.0f}/{t.wait_p99_s:.0f}" in line
    assert f"{t.abandon_rate * 100:5.1f}%" in line
