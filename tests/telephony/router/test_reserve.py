"""Agent reservation (issue 22 item 3): a rule's ``reserve N`` keeps a call off an agent of its skill unless
more than N of them are idle, so the last idle agents stay free for the next caller of a higher tier; a
starving call, or one past the rule's own bound, takes any idle agent. Router on the manual clock."""

from __future__ import annotations

import json
from pathlib import Path

from router_helpers import Harness, helpline, settings

from bench import routing_speed as rs
from telephony.router import Offer

RESERVED = """\
tier platinum: target 90% within 20s, priority 30, starve after 600s
tier ordinary: target 70% within 20s, priority 10, starve after 60s
when tier.name == "ordinary" and call.wait < 10s then reserve 1
"""


def harness(text: str = RESERVED, agents: int = 2) -> Harness:
    h = Harness(settings(wrap_up_s=0), helpline(text))
    for i in range(1, agents + 1):
        h.agent(f"a{i}", {"billing": 1})
    return h


def test_the_last_idle_agent_is_kept_for_a_higher_tier() -> None:
    h = harness()
    assert h.router.agent_index.idle("billing", 1) == 2
    h.call(1)  # two idle: the ordinary call takes one
    h.at(1)
    h.call(2)  # one idle: kept
    assert h.offers() == [(1, "a1")] and h.router.agent_index.idle("billing", 1) == 1
    assert "leaves 1 idle agent(s) to higher tiers" in h.router.waiting[2].reason
    h.at(2)
    h.call(3, tier="platinum")  # the platinum caller finds it free at once
    assert h.offers() == [(1, "a1"), (3, "a2")] and 2 in h.router.waiting


def test_the_reserve_ends_at_the_rules_bound() -> None:
    h = harness(agents=1)
    h.call(1)
    h.at(10)
    assert h.offers() == [] and h.state("a1") == ("ready", "idle")
    h.at(10.01)  # call.wait < 10s no longer holds: the call takes the idle agent
    assert h.offers() == [(1, "a1")]


def test_a_starving_call_takes_the_reserved_agent() -> None:
    h = harness(RESERVED.replace(" and call.wait < 10s", ""), agents=1)
    h.call(1)
    h.at(59.9)
    assert h.offers() == []
    h.at(60.01)  # starving from 60 s: the reserve no longer holds it back
    (offer,) = h.of(Offer)
    assert (offer.call_id, offer.agent_id) == (1, "a1") and "starving" in offer.reason


def test_a_freed_agent_takes_a_reserved_call_only_while_another_stays_idle() -> None:
    h = harness(RESERVED.replace(" and call.wait < 10s", ""), agents=3)
    h.call(1)
    h.call(2)  # a1, a2 busy; a3 is the last idle one
    h.router.answered(1)
    h.router.answered(2)
    h.call(3)
    h.call(4)
    assert [c for c, _ in h.offers()] == [1, 2]
    h.at(5)
    h.router.call_ended(1)  # a1 free: two idle (a1, a3), so a1 takes call 3 and a3 stays idle
    assert h.offers()[-1] == (3, "a1") and h.router.agent_index.idle("billing", 1) == 1
    h.router.answered(3)
    h.router.call_ended(3)  # again: call 4, a3 still idle
    assert h.offers()[-1] == (4, "a1") and h.state("a3") == ("ready", "idle")


def test_a_freed_agent_skips_a_reserved_call_for_one_that_may_take_it() -> None:
    text = """\
tier vip: target 90% within 20s, priority 30, starve after 600s
tier ordinary: target 70% within 20s, priority 10, starve after 600s
when tier.name == "ordinary" then reserve 1
when tier.name == "vip" and call.wait > 20s then priority -25
"""
    h = harness(text, agents=1)
    h.call(1, tier="vip")
    h.router.answered(1)
    h.call(2, tier="vip")  # waits past 20 s: priority 5, below a fresh ordinary call's 10
    h.at(30)
    h.call(3)
    assert h.router.waiting[3].sort_key < h.router.waiting[2].sort_key
    h.router.call_ended(1)  # the one idle agent: the ordinary call may not take it, the late vip call may
    assert h.offers() == [(1, "a1"), (2, "a1")] and 3 in h.router.waiting


def test_every_offer_with_a_reserve_is_the_best_the_agent_may_take(tmp_path: Path) -> None:
    """bench/routing_speed.py's audit on a small load with ordinary calls reserving 1 agent: each offer checked
    against every waiting call (a reserve counted over the skill's every level let a call take an agent while
    an earlier one of its skill and level waited: 2 wrong decisions here)."""
    out = tmp_path / "speed.json"
    args = ["--agents", "40", "--skills", "4", "--waiting", "120", "--steps", "150", "--warmup-steps", "30",
            "--move-every", "2", "--audit-every", "1", "--no-gc-freeze", "--reserve", "1", "--json", str(out)]
    assert rs.main(args) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["audited"] > 100 and figures["failures"] == []
