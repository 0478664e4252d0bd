"""The router core, outbound and internal calls: the agent on one is never offered an inbound call (compare-and-
set at the start, the queued caller waits and is offered when the agent is free again), wrap-up only after a
talk, the internal-call refusal rule while callers wait in either agent's queues, and a desktop gone during an
outbound call (the alert names the call)."""

from __future__ import annotations

import pytest
from router_helpers import Harness, profile, queue, settings

from telephony.router import AgentState
from telephony.router.core import RouterError


def test_an_agent_dialling_out_gets_no_offer_until_its_wrap_up_ends() -> None:
    h = Harness(settings(queue(), wrap_up_s=10.0))
    h.agent("1001")
    h.router.outbound_start("1001", 500)
    assert h.state("1001") == ("ready", "reserved")
    with pytest.raises(RouterError, match="agent 1001 is on a call"):
        h.router.outbound_start("1001", 501)  # one call at a time
    h.router.outbound_state(500, "1001", AgentState.TALKING)
    assert h.call(1) == "queued" and h.offers() == []  # the caller waits
    h.at(30)
    assert h.router.outbound_ended(500, answered=True) and not h.router.outbound_ended(500)
    assert h.state("1001") == ("ready", "wrap_up") and h.offers() == []
    h.at(40)  # wrap-up over: the waiting caller is offered
    assert h.offers() == [(1, "1001")]
    assert h.router.agents["1001"].talk_s == pytest.approx(30.0)


def test_an_unanswered_number_leaves_the_agent_idle_and_a_logged_out_agent_cannot_dial() -> None:
    h = Harness(settings(queue(), wrap_up_s=10.0))
    h.agent("1001", ready=False)
    h.router.add_agent(profile("1002"))  # logged out
    with pytest.raises(RouterError, match="agent 1002 is not signed in"):
        h.router.outbound_start("1002", 600)
    h.router.outbound_start("1001", 601)
    h.router.outbound_state(601, "1001", AgentState.RINGING)
    assert not h.router.outbound_state(601, "1002", AgentState.TALKING)  # not its call
    h.router.outbound_ended(601, answered=False)
    assert h.state("1001") == ("not_ready", "idle")
    h.router.outbound_start("1001", 602)
    with pytest.raises(RouterError, match="agent 1001 is on a call"):
        h.router.sign_out("1001")  # not during an outbound call either


def test_internal_calls_are_refused_while_callers_wait_in_either_agents_queues() -> None:
    h = Harness(settings(queue("billing"), queue("fault")))
    h.agent("1001", {"billing": 1}, ready=False)
    h.agent("1002", {"fault": 1}, ready=False)
    h.call(1, "fault")
    with pytest.raises(RouterError, match="1 in agent 1002's queues"):
        h.router.outbound_start("1001", 700, other="1002")
    with pytest.raises(RouterError, match="1 in your queues"):
        h.router.outbound_start("1002", 701, other="1001")
    assert h.router.callers_waiting_for("1001") == 0 and h.router.callers_waiting_for("1002") == 1
    h.router.abandon(1)
    h.router.outbound_start("1001", 702, other="1002")
    assert h.state("1001")[1] == h.state("1002")[1] == "reserved"
    h.router.outbound_ended(702, answered=True)
    assert h.state("1001")[1] == h.state("1002")[1] == "wrap_up"


def test_a_desktop_gone_during_an_outbound_call_raises_an_alert_naming_it() -> None:
    h = Harness(settings(queue(), browser_grace_s=30.0))
    h.agent("1001")
    h.router.outbound_start("1001", 800)
    h.router.agent_disconnected("1001")
    h.at(31)
    assert h.alerts() == [("1001", "disconnected")]
    assert h.router.agents["1001"].reason == "disconnected"
    alert = h.take()
    assert any(getattr(e, "call_id", None) == 800 and getattr(e, "kind", "") == "disconnected" for e in alert)
