"""Common random numbers: the calls are drawn up front, the same for every strategy, stream by stream."""

from __future__ import annotations

import itertools

import pytest

from telephony.simulate.engine import simulate
from telephony.simulate.scenario import LoadSpec, parse_scenario
from telephony.simulate.traffic import generate_calls


def test_the_same_seed_draws_the_same_calls_and_another_seed_other_calls(small: str) -> None:
    scenario = parse_scenario(small)
    first = generate_calls(scenario, 300, seed=1)
    assert first == generate_calls(scenario, 300, seed=1)
    assert first != generate_calls(scenario, 300, seed=2)
    assert [c.call_id for c in first] == list(range(1, len(first) + 1))
    assert all(a.arrival_s <= b.arrival_s for a, b in itertools.pairwise(first))


def test_arrivals_follow_the_rate_and_the_shares(small: str) -> None:
    scenario = parse_scenario(small).with_overrides(duration_s=200 * 3600)
    calls = generate_calls(scenario, 100, seed=7)
    assert len(calls) == pytest.approx(20_000, rel=0.03)
    platinum = sum(c.tier == "platinum" for c in calls) / len(calls)
    tech = [c.handle_s for c in calls if c.skill == "tech"]
    assert platinum == pytest.approx(0.2, abs=0.01)
    assert sum(tech) / len(tech) == pytest.approx(150, rel=0.05)
    assert all(c.patience_s is not None for c in calls)


def test_a_higher_load_keeps_the_talk_times_of_the_first_callers(small: str) -> None:
    """Each purpose has its own stream: more arrivals do not shift the handle times or the patience."""
    scenario = parse_scenario(small)
    low, high = generate_calls(scenario, 200, seed=3), generate_calls(scenario, 400, seed=3)
    for tier in scenario.tiers:
        for skill in scenario.skills:
            a = [(c.handle_s, c.patience_s) for c in low if (c.tier, c.skill) == (tier, skill)]
            b = [(c.handle_s, c.patience_s) for c in high if (c.tier, c.skill) == (tier, skill)]
            assert a and b[:len(a)] == a


def test_every_strategy_gets_exactly_the_same_callers(small: str) -> None:
    scenario = parse_scenario(small).with_overrides(duration_s=3600, warmup_s=600, seeds=[5],
                                                    loads=[LoadSpec(occupancy=0.9)])
    results = simulate(scenario)
    assert [r.strategy for r in results] == ["helpline", "app_queue", "mod_callcenter"]
    lists = [[r.call for r in result.records] for result in results]
    assert lists[0] == lists[1] == lists[2] and len(lists[0]) > 100
    for result in results:  # every call has one outcome; the counted ones arrived after the warm-up
        assert {r.how for r in result.records} <= {"answered", "abandoned", "timeout"}
        counted = sum(t.offered for t in result.tiers.values())
        assert counted == sum(r.call.arrival_s >= 600 for r in result.records)
        assert 0.5 < result.occupancy < 1.0
    # the strategies route differently on the same callers
    assert len({tuple(r.wait_s for r in result.records) for result in results}) == 3
