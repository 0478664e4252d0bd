"""``tier.higher_lead``: a lower tier's rules read how far the higher tiers are ahead of their targets, and
a higher tier's service level moving evaluates the lower tier's waiting calls again (issue 22 item 3)."""

from __future__ import annotations

import pytest
from router_helpers import Harness, helpline, settings

from helpline.rules import RuleError, compile_tier_strategy
from telephony.router import Router

GATED = """\
tier gold: target 80% within 20s, priority 30, open level 2 after 0s, starve after 600s
tier ordinary: target 70% within 20s, priority 10, starve after 600s
when tier.name == "ordinary" and tier.higher_lead >= 5% then open_level 2
"""


def harness(text: str = GATED, slice_calls: int = 8) -> Harness:
    h = Harness(settings(wrap_up_s=0), helpline(text))
    h.router = Router(h.router.settings, h.router.policy, clock=h.clock, sinks=[h.events.append],
                      sweep_slice=slice_calls)
    h.agent("l1", {"billing": 1})
    h.agent("l2a", {"billing": 2})
    h.agent("l2b", {"billing": 2})
    return h


@pytest.mark.parametrize("slice_calls", [8, 0])
def test_an_ordinary_call_reaches_second_skill_agents_once_the_higher_tier_is_ahead(slice_calls: int) -> None:
    h = harness(slice_calls=slice_calls)
    h.call(1)  # ordinary: l1 answers
    h.router.answered(1)
    h.at(1)
    h.call(2)  # ordinary: gold has no service level yet (lead 0): level 1 only, l2a and l2b stay idle
    assert h.router.waiting[2].max_level == 1 and h.offers() == [(1, "l1")]
    h.at(2)
    h.call(3, tier="gold")  # gold takes a level-2 agent at once and answers within 20 s: 100 %, 20 pts ahead
    h.router.answered(3)
    assert h.offers()[-1][0] == 3
    h.at(2.01)  # the move of gold sweeps ordinary too: call 2 opens level 2 and goes to the other agent
    assert [c for c, _ in h.offers()] == [1, 3, 2]
    assert "level" in h.decisions(2)


def test_without_the_move_of_the_higher_tier_the_lower_call_keeps_waiting() -> None:
    text = GATED.replace("tier.higher_lead >= 5%", "tier.higher_lead >= 25%")  # 20 pts ahead is not enough
    h = harness(text)
    h.call(1)
    h.router.answered(1)
    h.call(2)
    h.call(3, tier="gold")
    h.router.answered(3)
    h.at(100)
    assert [c for c, _ in h.offers()] == [1, 3] and h.router.waiting[2].max_level == 1


def test_dependents_are_the_lower_tiers_and_only_when_a_rule_reads_the_lead() -> None:
    three = "tier platinum: target 90% within 20s, priority 40\n" + GATED
    assert helpline(three).dependents("platinum") == ("gold", "ordinary")
    assert helpline(three).dependents("gold") == ("ordinary",)
    assert helpline(three).dependents("ordinary") == ()
    assert helpline(GATED.splitlines()[0] + "\n").dependents("gold") == ()


def test_a_lead_is_a_number_in_the_rules() -> None:
    with pytest.raises(RuleError, match="HL-R2"):
        compile_tier_strategy(GATED.replace("tier.higher_lead >= 5%", 'tier.higher_lead == "x"'))
