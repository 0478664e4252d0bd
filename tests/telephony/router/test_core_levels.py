"""The router core with each policy: skill levels opening at their times (and sooner while a tier is
behind), starvation first, priority rules from caller data, the three policies' orders."""

from __future__ import annotations

from typing import Any

import pytest
from router_helpers import Harness, helpline, queue, settings

from telephony.router import AppQueuePolicy, CallDecision, ModCallcenterPolicy, Policy
from telephony.router.timers import TimerKey

GOLD_0731 = {"customer": {"tier": "gold"}, "caller": {"region": "0731"}}


def test_level_two_opens_at_the_declared_time() -> None:
    h = Harness(settings(queue()), helpline())  # gold: level 2 after 10 s
    h.agent("l2", {"billing": 2})
    h.at(100)
    h.call(1, tier="gold")
    h.at(109.99)
    assert h.offers() == []
    h.at(110.01)
    assert h.offers() == [(1, "l2")]
    level = [e for e in h.of(CallDecision) if e.kind == "level"]
    assert len(level) == 1 and level[0].at == pytest.approx(110.001)
    assert level[0].reason == "level 2 opens after 10 s (tier gold, no service level yet, up to level 2)"
    assert h.decisions(1) == ["queued", "level", "offered"]


def test_a_level_one_agent_is_offered_at_once_and_level_three_later() -> None:
    h = Harness(settings(queue()), helpline())  # gold: level 3 after 40 s
    h.agent("l3", {"billing": 3})
    h.call(1, tier="gold")
    h.at(39.99)
    assert h.offers() == []
    h.at(40.01)
    assert h.offers() == [(1, "l3")]
    h.agent("l1", {"billing": 1})
    h.call(2, tier="gold")
    assert h.offers()[-1] == (2, "l1")


def behind(h: Harness, tier: str = "gold") -> None:
    """Make ``tier`` behind its target: one call answered after 60 s."""
    h.router.stats.record(h.clock.now(), tier=tier, queue="billing", outcome="answered", wait_s=60.0,
                          within_s=20.0)


def test_levels_open_sooner_while_the_tier_is_behind() -> None:
    h = Harness(settings(queue()), helpline(catch_up=2.0))
    h.agent("l2", {"billing": 2})
    behind(h)
    h.call(1, tier="gold")
    h.at(4.99)
    assert h.offers() == []
    h.at(5.01)  # 10 s / 2
    assert h.offers() == [(1, "l2")]
    assert "levels open 2x sooner" in h.of(CallDecision)[-1].reason


def test_falling_behind_reopens_the_levels_of_waiting_calls() -> None:
    h = Harness(settings(queue(), offer_timeout_s=60.0), helpline(catch_up=2.0))
    h.agent("l1", {"billing": 1})
    h.agent("l2", {"billing": 2}, ready=False)
    h.call(1, tier="gold")  # offered to l1
    h.at(30)
    h.call(2, tier="gold")  # waits: level 2 opens at 40, or at 35 while behind
    h.at(37)
    h.router.set_ready("l2")
    assert h.offers() == [(1, "l1")]
    h.router.answered(1)  # after 37 s: gold falls behind
    assert h.tier_alerts() == [("gold", True)]
    assert h.offers() == [(1, "l1")]
    h.at(37)  # the tier's calls are evaluated again at the next advance, at this same time
    assert h.offers() == [(1, "l1"), (2, "l2")]
    assert h.decisions(2) == ["queued", "level", "offered"]


def test_starving_call_goes_before_higher_priority() -> None:
    h = Harness(settings(queue(max_wait_s=1000.0)), helpline())  # ordinary starves after 60 s
    h.agent("1001", ready=False)
    h.call(1, tier="ordinary")
    h.at(50)
    h.call(2, tier="gold")
    h.at(59)
    h.router.set_ready("1001")
    assert h.offers() == [(2, "1001")]  # gold first before starvation
    h.router.no_answer(2)
    h.router.set_ready("1001")
    # the returned gold call is at the head again
    assert h.offers()[-1] == (2, "1001")
    h.router.answered(2)
    h.call(3, tier="gold")
    h.router.call_ended(2)
    h.at(60.01)  # ordinary starves
    h.router.end_wrap_up("1001")
    assert h.offers()[-1] == (1, "1001")
    assert h.router.waiting[1].starving


def test_priority_rule_from_caller_data_through_the_router() -> None:
    h = Harness(settings(queue()), helpline())
    h.agent("1001", ready=False)
    h.call(1, tier="gold", context={"customer": {"tier": "gold"}, "caller": {"region": "0730"}})
    h.at(1)
    h.call(2, tier="gold", context=GOLD_0731)
    assert (h.router.waiting[1].priority, h.router.waiting[2].priority) == (30, 35)
    h.router.set_ready("1001")
    assert h.offers() == [(2, "1001")]


def test_the_ivr_priority_counts() -> None:
    h = Harness(settings(queue()), helpline())
    h.agent("1001", ready=False)
    h.call(1, tier="gold")
    h.call(2, tier="ordinary", priority=21)
    h.router.set_ready("1001")
    assert h.offers() == [(2, "1001")]


def three_calls(policy: Policy) -> list[int]:
    """ordinary at 0, gold at 10, ordinary at 20; the agent becomes ready at 30 and answers each offer."""
    h = Harness(settings(queue()), policy)
    h.agent("1001", ready=False)
    for t, call_id, tier in ((0, 1, "ordinary"), (10, 2, "gold"), (20, 3, "ordinary")):
        h.at(t)
        h.call(call_id, tier=tier)
    h.at(30)
    h.router.set_ready("1001")
    for _ in range(3):
        call_id = h.offers()[-1][0]
        h.router.answered(call_id)
        h.router.call_ended(call_id)
        h.router.end_wrap_up("1001")
    return [c for c, _ in h.offers()]


@pytest.mark.parametrize(("policy", "expected"), [
    (AppQueuePolicy(), [1, 2, 3]),
    (ModCallcenterPolicy(base_scores={"gold": 30.0}), [2, 1, 3]),  # at 30: 30, 20 + 30, 10
    (ModCallcenterPolicy(base_scores={"gold": 5.0}), [1, 2, 3]),  # 30, 25, 10
    (ModCallcenterPolicy(base_scores={"gold": 15.0}), [2, 1, 3]),
    (helpline(), [2, 1, 3]),
])
def test_the_three_policies_order_waiting_calls(policy: Policy, expected: list[int]) -> None:
    assert three_calls(policy) == expected


def test_app_queue_levels_open_with_waiting_time_through_the_router() -> None:
    h = Harness(settings(queue()), AppQueuePolicy(level_step_s=30.0))
    h.agent("l3", {"billing": 3})
    h.call(1)
    h.at(59.99)
    assert h.offers() == []
    h.at(60)
    assert h.offers() == [(1, "l3")]
    assert [e.reason for e in h.of(CallDecision) if e.kind == "level"] == [
        "level 2 opens after 30 s (first come first served, level 2)",
        "level 3 opens after 60 s (first come first served, level 3)",
    ]


def test_timers_at_awkward_float_times_do_not_spin() -> None:
    start = 65481.79002469392
    h = Harness(settings(queue(max_wait_s=1000.0)), AppQueuePolicy(level_step_s=30.0), start=start - 120.0)
    h.agent("l5", {"billing": 5}, ready=False)
    h.at(start)
    h.call(1)
    fired: list[TimerKey] = []
    pop = h.router.timers.pop_due

    def counted(now: float) -> Any:
        key = pop(now)
        if key is not None:
            fired.append(key)
            assert len(fired) < 100, "advance() keeps firing the same timer"
        return key

    h.router.timers.pop_due = counted  # type: ignore[method-assign]
    for _ in range(4):
        h.clock.set(h.next_timer())
        assert h.router.advance() == 1
    assert h.router.waiting[1].max_level == 5
    assert fired == [("call", 1)] * 4


def test_a_policy_change_time_in_the_past_does_not_spin() -> None:
    class Stuck(AppQueuePolicy):
        def evaluate(self, call: Any, now: float, view: Any) -> Any:
            return super().evaluate(call, now, view)._replace(next_at=now - 5.0)

    h = Harness(settings(queue()), Stuck())
    h.agent("1001", ready=False)
    h.call(1)
    assert h.next_timer() > 0.0  # not due now: advance() at this time runs nothing
    assert h.router.advance() == 0
