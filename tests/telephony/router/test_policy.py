"""Routing policies on their own: sort keys, level schedules, next change times, reasons."""

from __future__ import annotations

from typing import Any

import pytest
from router_helpers import STRATEGY, helpline, request

from helpline.rules import compile_tier_strategy
from telephony.router.model import WaitingCall
from telephony.router.policy import AppQueuePolicy, HelplinePolicy, ModCallcenterPolicy, Policy


class View:
    def __init__(self, levels: dict[str, float] | None = None, waiting: int = 0) -> None:
        self.levels = levels or {}
        self.waiting = waiting

    def service_level(self, tier: str) -> float | None:
        return self.levels.get(tier)

    def waiting_in(self, queue: str) -> int:
        return self.waiting


def wc(call_id: int = 1, tier: str = "ordinary", at: float = 0.0, *, requeued: int = 0, priority: int = 0,
       context: dict[str, Any] | None = None) -> WaitingCall:
    c = WaitingCall(request(call_id, tier=tier, priority=priority, context=context or {}), "billing", "billing",
                    at, at)
    c.requeued = requeued
    return c


GOLD_0731 = {"customer": {"tier": "gold"}, "caller": {"region": "0731"}}


def order(policy: Policy, calls: list[WaitingCall], now: float, view: View | None = None) -> list[int]:
    keys = {c.call_id: policy.evaluate(c, now, view or View()).sort_key for c in calls}
    return sorted(keys, key=keys.__getitem__)


# ------------------------------------------------------------------------------------------ app_queue
def test_app_queue_is_first_come_first_served_whatever_the_tier() -> None:
    p = AppQueuePolicy()
    calls = [wc(1, "ordinary", 5.0), wc(2, "gold", 9.0), wc(3, "ordinary", 1.0)]
    assert order(p, calls, 20.0) == [3, 1, 2]
    assert p.evaluate(calls[1], 20.0, View()).priority == 0.0


def test_app_queue_levels_open_every_step_exactly_on_time() -> None:
    p = AppQueuePolicy(level_step_s=30.0)
    c = wc(at=100.0)
    assert p.evaluate(c, 100.0, View())[1:4:2] == (1, 130.0)  # (max_level, next_at)
    assert p.evaluate(c, 129.999, View()).max_level == 1
    assert p.evaluate(c, 130.0, View())[1:4:2] == (2, 160.0)
    assert p.evaluate(c, 175.0, View())[1:4:2] == (3, 190.0)
    assert p.evaluate(c, 100.0, View()).reason == "first come first served, level 1"


@pytest.mark.parametrize("enqueued", [65481.79002469392, 0.1, 1e6 + 0.3])
def test_a_level_opens_at_its_time_despite_float_rounding(enqueued: float) -> None:
    p = AppQueuePolicy(level_step_s=30.0)
    c = wc(at=enqueued)
    for level in range(1, 6):
        due = enqueued + level * 30.0
        ev = p.evaluate(c, due, View())
        assert ev.max_level == level + 1, (enqueued, level)
        assert ev.next_at is not None and ev.next_at > due


def test_app_queue_levels_stop_at_max_and_zero_step_opens_all() -> None:
    p = AppQueuePolicy(level_step_s=10.0, max_levels=3)
    ev = p.evaluate(wc(), 1000.0, View())
    assert (ev.max_level, ev.next_at) == (3, None)
    ev = AppQueuePolicy(level_step_s=0).evaluate(wc(), 0.0, View())
    assert (ev.max_level, ev.next_at) == (9, None)


def test_stepped_policies_know_their_targets() -> None:
    p = AppQueuePolicy(targets={"gold": (0.9, 15.0)})
    assert p.target("gold") == (0.9, 15.0)
    assert p.target("other") == (0.8, 20.0)
    assert p.tiers() == ["gold"]


# -------------------------------------------------------------------------------------- mod_callcenter
def test_mod_callcenter_score_is_wait_plus_base() -> None:
    p = ModCallcenterPolicy(base_scores={"gold": 30.0})
    ordinary, gold = wc(1, "ordinary", 0.0), wc(2, "gold", 20.0)
    # at 40: ordinary scores 40, gold 20 + 30 = 50
    assert order(p, [ordinary, gold], 40.0) == [2, 1]
    assert p.evaluate(gold, 40.0, View()).reason == "score 50, level 1"
    late_gold = wc(3, "gold", 35.0)  # scores 5 + 30 = 35 < 40
    assert order(p, [ordinary, late_gold], 40.0) == [1, 3]
    # the order does not change with time (both scores grow alike)
    assert order(p, [ordinary, late_gold], 400.0) == [1, 3]


# ------------------------------------------------------------------------------------------- helpline
def test_helpline_orders_by_priority_then_wait() -> None:
    p = helpline()
    calls = [wc(1, "ordinary", 0.0), wc(2, "gold", 10.0), wc(3, "gold", 5.0)]
    assert order(p, calls, 20.0) == [3, 2, 1]
    ev = p.evaluate(calls[1], 20.0, View())
    assert ev.priority == 30


def test_priority_rule_from_caller_data() -> None:
    p = helpline()
    plain = wc(1, "gold", 0.0, context={"customer": {"tier": "gold"}, "caller": {"region": "0730"}})
    local = wc(2, "gold", 10.0, context=GOLD_0731)
    assert p.evaluate(plain, 12.0, View()).priority == 30
    assert p.evaluate(local, 12.0, View()).priority == 35
    assert order(p, [plain, local], 12.0) == [2, 1]
    # the rule tests the customer's tier, not the call's tier
    odd = wc(3, "ordinary", 0.0, context=GOLD_0731)
    assert p.evaluate(odd, 12.0, View()).priority == 15


def test_the_ivr_priority_adds_to_the_tier_priority() -> None:
    p = helpline()
    boosted = wc(1, "ordinary", 10.0, priority=25)  # 10 + 25 = 35 > gold's 30
    assert p.evaluate(boosted, 11.0, View()).priority == 35
    assert order(p, [wc(2, "gold", 0.0), boosted], 11.0) == [1, 2]


def test_starving_calls_go_first() -> None:
    p = helpline()  # ordinary starves after 60 s
    ordinary, gold = wc(1, "ordinary", 0.0), wc(2, "gold", 50.0)
    assert order(p, [ordinary, gold], 59.9) == [2, 1]
    ev = p.evaluate(ordinary, 60.0, View())
    assert ev.starving
    assert "starving" in ev.reason
    assert order(p, [ordinary, gold], 60.0) == [1, 2]


def test_a_returned_offer_goes_ahead_of_its_peers() -> None:
    p = helpline()
    older, returned = wc(1, "ordinary", 0.0), wc(2, "ordinary", 5.0, requeued=1)
    assert order(p, [older, returned], 10.0) == [2, 1]
    # but not ahead of a higher priority
    assert order(p, [wc(3, "gold", 9.0), returned], 10.0) == [3, 2]


def test_equal_priority_tier_further_behind_target_goes_first() -> None:
    text = ("tier a: target 90% within 20s, priority 10\n"
            "tier b: target 80% within 20s, priority 10\n")
    p = helpline(text)
    a, b = wc(1, "a", 0.0), wc(2, "b", 5.0)
    assert order(p, [a, b], 10.0, View({"a": 0.95, "b": 0.95})) == [1, 2]  # both ahead: wait decides
    # a is 5 pts behind, b 10 pts behind: b first though it came later
    assert order(p, [a, b], 10.0, View({"a": 0.85, "b": 0.70})) == [2, 1]
    assert p.evaluate(b, 10.0, View({"b": 0.70})).gap == pytest.approx(0.10)


def test_levels_open_at_the_declared_times() -> None:
    p = helpline()  # gold: level 2 after 10 s, level 3 after 40 s
    c = wc(1, "gold", 100.0)
    ev = p.evaluate(c, 100.0, View({"gold": 0.95}))
    assert ev.max_level == 1 and ev.next_at == pytest.approx(110.001)
    assert p.evaluate(c, 109.99, View({"gold": 0.95})).max_level == 1
    ev = p.evaluate(c, 110.001, View({"gold": 0.95}))
    assert ev.max_level == 2 and ev.next_at == pytest.approx(140.001)
    ev = p.evaluate(c, 140.001, View({"gold": 0.95}))
    assert ev.max_level == 3 and ev.next_at == pytest.approx(220.001)  # starve after 120 s
    ev = p.evaluate(c, 220.001, View({"gold": 0.95}))
    assert (ev.max_level, ev.starving, ev.next_at) == (3, True, None)


def test_levels_open_sooner_while_the_tier_is_behind() -> None:
    p = helpline(catch_up=2.0)
    c = wc(1, "gold", 0.0)
    ahead, behind = View({"gold": 0.95}), View({"gold": 0.78})
    assert p.evaluate(c, 5.0, ahead).max_level == 1
    ev = p.evaluate(c, 5.0, behind)
    assert ev.max_level == 2
    assert ev.next_at == pytest.approx(20.001)  # level 3: 40 s / 2
    assert ev.reason == "tier gold, 12 pts behind target, levels open 2x sooner, up to level 2"
    assert p.evaluate(c, 4.99, behind).max_level == 1
    # no service level yet is not "behind"
    assert p.evaluate(c, 5.0, View()).max_level == 1
    assert p.evaluate(c, 5.0, View()).reason == "tier gold, no service level yet, up to level 1"
    assert p.evaluate(c, 5.0, ahead).reason == "tier gold, 5 pts ahead of target, up to level 1"


def test_catch_up_below_one_means_no_catch_up() -> None:
    p = helpline(catch_up=0.5)
    assert p.catch_up == 1.0
    assert p.evaluate(wc(1, "gold", 0.0), 9.0, View({"gold": 0.1})).max_level == 1


def test_rules_read_service_level_and_queue_length_and_wait() -> None:
    text = ("tier ordinary: target 70% within 20s, priority 10\n"
            "when tier.service_level < tier.target then open_level 2\n"
            "when queue.waiting > 20 then priority +3\n"
            "when call.wait > 50s then priority +1\n")
    p = helpline(text)
    c = wc(1, "ordinary", 0.0)
    ev = p.evaluate(c, 10.0, View({"ordinary": 0.5}, waiting=21))
    assert (ev.max_level, ev.priority) == (2, 13)
    ev = p.evaluate(c, 10.0, View(waiting=20))  # no service level yet: the target is assumed
    assert (ev.max_level, ev.priority) == (1, 10)
    # call.wait > 50s flips just after 50 s: the next change is then
    assert ev.next_at == pytest.approx(50.001)
    assert p.evaluate(c, 50.001, View()).priority == 11
    assert p.evaluate(c, 50.001, View()).next_at is None


def test_undeclared_tier_uses_default_or_the_lowest_priority_tier() -> None:
    p = helpline()
    assert p.declaration("silver").name == "ordinary"  # lowest priority
    assert p.evaluate(wc(1, "silver"), 0.0, View()).priority == 10
    assert p.target("silver") == (0.7, 20.0)
    with_default = HelplinePolicy(compile_tier_strategy(
        STRATEGY + "tier default: target 50% within 60s, priority 1\n"))
    assert with_default.declaration("silver").name == "default"
    assert with_default.evaluate(wc(1, "silver"), 0.0, View()).priority == 1
    assert sorted(with_default.tiers()) == ["default", "gold", "ordinary"]
    assert p.target("gold") == (0.9, 20.0)


def test_higher_lead_is_the_smallest_lead_of_the_higher_tiers() -> None:
    text = ("tier platinum: target 90% within 20s, priority 30\n"
            "tier gold: target 80% within 20s, priority 20\n"
            "tier ordinary: target 70% within 20s, priority 10, open level 2 after 30s\n"
            "when tier.higher_lead >= 5% then open_level 2\n")
    p = helpline(text)
    c = wc(1, "ordinary", 0.0)
    assert p.evaluate(c, 1.0, View({"platinum": 0.96, "gold": 0.86})).max_level == 2
    assert p.higher_lead(p.declaration("ordinary"), View({"platinum": 0.96, "gold": 0.83})) == pytest.approx(0.03)
    assert p.evaluate(c, 1.0, View({"platinum": 0.96, "gold": 0.83})).max_level == 1
    assert p.evaluate(c, 1.0, View({"platinum": 0.90, "gold": 0.99})).max_level == 1  # platinum on its target
    assert p.evaluate(c, 1.0, View({"gold": 0.99})).max_level == 1  # platinum without a level yet: lead 0
    assert p.evaluate(c, 30.0, View()).max_level == 2  # the declared schedule still opens it
    # the top tier has no higher tier: lead 1 (100 pts), so the rule opens its level 2
    assert p.evaluate(wc(2, "platinum", 0.0), 1.0, View()).max_level == 2
    assert p.dependents("platinum") == ("gold", "ordinary")
