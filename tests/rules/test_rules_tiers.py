"""Tier strategies: schedule of levels, priority adjustments, starvation, fallbacks."""

from __future__ import annotations

import pytest

from helpline.rules import TIER, RuleError, compile_tier_strategy

STRATEGY = """tier platinum: target 90% within 20s, priority 30, open level 2 after 5s, \\
    open level 3 after 15s, starve after 120s
tier ordinary: target 70% within 20s, priority 10, open level 2 after 30s
when tier.service_level < tier.target then priority +10, open_level 2
when queue.waiting > 20 and customer.tier == platinum then add_priority 5
when customer.lifecycle == new then set_priority 50
"""


@pytest.fixture(scope="module")
def strategy():  # type: ignore[no-untyped-def]
    return compile_tier_strategy(STRATEGY)


def test_levels_open_with_wait(strategy) -> None:  # type: ignore[no-untyped-def]
    assert strategy.decide("platinum", {"call": {"wait": 0}}).max_level == 1
    assert strategy.decide("platinum", {"call": {"wait": 5}}).max_level == 2
    assert strategy.decide("platinum", {"call": {"wait": 16}}).max_level == 3
    assert strategy.decide("ordinary", {"call": {"wait": 16}}).max_level == 1
    assert strategy.decide("ordinary", {}).max_level == 1


def test_priority_adjustments(strategy) -> None:  # type: ignore[no-untyped-def]
    d = strategy.decide(
        "platinum",
        {
            "call": {"wait": 1},
            "tier": {"service_level": 0.8},
            "queue": {"waiting": 25},
            "customer": {"tier": "platinum"},
        },
    )
    assert (d.priority, d.max_level, d.target, d.within_s, d.starving) == (45, 2, 0.9, 20, False)
    assert [(a.line, a.action, a.value) for a in d.adjustments] == [
        (4, "priority", 10),
        (4, "open_level", 2),
        (5, "add_priority", 5),
    ]


def test_set_priority_then_add(strategy) -> None:  # type: ignore[no-untyped-def]
    d = strategy.decide("ordinary", {"customer": {"lifecycle": "new"}, "tier": {"service_level": 0.5}})
    assert d.priority == 60


def test_starving(strategy) -> None:  # type: ignore[no-untyped-def]
    assert strategy.decide("platinum", {"call": {"wait": 120}}).starving
    assert not strategy.decide("ordinary", {"call": {"wait": 10_000}}).starving


def test_reserve_is_the_largest_and_ends_when_starving() -> None:
    s = compile_tier_strategy(
        "tier vip: target 90% within 20s, priority 30\n"
        "tier low: target 70% within 20s, priority 10, starve after 60s\n"
        'when tier.name == "low" then reserve 1\n'
        'when tier.name == "low" and call.wait < 10s then reserve 2\n'
        "when queue.waiting > 100 then reserve(queue.waiting / 0.5)\n"
    )
    assert s.decide("vip", {"call": {"wait": 0}}).reserve == 0
    assert s.decide("low", {"call": {"wait": 5}}).reserve == 2
    assert s.decide("low", {"call": {"wait": 30}}).reserve == 1
    assert s.decide("low", {"call": {"wait": 60}}).reserve == 0  # a starving call takes any idle agent
    assert s.decide("vip", {"queue": {"waiting": 500}}).reserve == 99  # a computed value is clamped
    assert s.decide("low", {"call": {"wait": 30}}).as_dict()["reserve"] == 1


def test_unknown_tier_and_default() -> None:
    s = compile_tier_strategy("tier vip: target 90% within 20s, priority 30")
    with pytest.raises(KeyError):
        s.decide("nobody", {})
    s = compile_tier_strategy("tier default: target 80% within 30s, priority 1")
    assert s.decide("nobody", {}).tier == "default"


def test_tiers_attribute_and_errors() -> None:
    s = compile_tier_strategy(STRATEGY, TIER)
    assert list(s.tiers) == ["platinum", "ordinary"]
    assert s.tiers["platinum"].open_levels == ((2, 5), (3, 15))
    with pytest.raises(RuleError) as exc:
        compile_tier_strategy("when queue.waiting > 3 then add_priority 5")
    assert [p.id for p in exc.value.problems] == ["HL-R307"]
    with pytest.raises(RuleError):
        compile_tier_strategy("tier a: target 90% within 20s")
