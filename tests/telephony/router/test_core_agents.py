"""The router core, agent events: status apart from state, sign in/out, wrap-up, not-ready limits,
hold, a desktop that disappears, profile reloads."""

from __future__ import annotations

import pytest
from router_helpers import Harness, brief, profile, queue, settings

from telephony.router import AgentAlert, AgentChanged, AgentStatus
from telephony.router.core import RouterError


def test_a_new_agent_is_logged_out_and_gets_nothing() -> None:
    h = Harness(settings(queue(join_empty=True)))
    agent = h.router.add_agent(profile("1001"))
    assert (agent.status, agent.state) == ("logged_out", "idle")
    assert not agent.available and not agent.signed_in
    h.call(1)
    assert h.offers() == []
    assert h.events and all(not isinstance(e, AgentChanged) for e in h.events)


def test_sign_in_ready_and_not_ready() -> None:
    h = Harness()
    h.router.add_agent(profile("1001"))
    h.router.add_agent(profile("1002"))
    h.at(3)
    h.router.sign_in("1001", by="sup")
    h.router.sign_in("1002", ready=False)
    h.router.sign_in("1001")  # already in: nothing
    assert brief(h.events) == [("status", "1001", "logged_out", "ready"), ("status", "1002", "logged_out", "not_ready")]
    first, second = h.of(AgentChanged)
    assert (first.by, first.reason, first.duration_s, first.at) == ("sup", None, 3, 3)
    assert second.reason == "sign_in"
    assert h.router.agent_index.signed_in("billing") == 2
    assert h.router.agent_index.is_available("1001") and not h.router.agent_index.is_available("1002")


@pytest.mark.parametrize("change", ["ready", "not_ready", "study"])
def test_status_changes_need_a_signed_in_agent(change: str) -> None:
    h = Harness()
    h.router.add_agent(profile("1001"))
    with pytest.raises(RouterError, match="not signed in"):
        if change == "ready":
            h.router.set_ready("1001")
        elif change == "not_ready":
            h.router.set_not_ready("1001", "x")
        else:
            h.router.set_study("1001")
    assert h.events == []


def test_status_is_kept_apart_from_state() -> None:
    h = Harness()
    h.agent("1001")
    h.call(1)
    h.router.answered(1)
    h.take()
    h.router.set_not_ready("1001", "meal")  # during the call: the state stays talking
    assert h.state("1001") == ("not_ready", "talking")
    h.call(2)  # the agent is on a call and not ready: no offer
    h.router.call_ended(1)
    h.router.end_wrap_up("1001")
    assert h.state("1001") == ("not_ready", "idle")
    assert h.offers() == []
    h.router.set_ready("1001")
    assert h.offers() == [(2, "1001")]
    status = [e for e in h.of(AgentChanged) if e.what == "status"]
    assert [(e.old, e.new, e.reason, e.call_id) for e in status] == [
        ("ready", "not_ready", "meal", 1), ("not_ready", "ready", None, None)]


def test_every_transition_of_a_call_is_recorded_with_time_and_call() -> None:
    h = Harness(settings(queue(), wrap_up_s=10.0))
    h.agent("1001")
    h.call(5)
    h.at(2)
    h.router.ringing(5)
    h.at(6)
    h.router.answered(5)
    h.at(20)
    h.router.hold("1001")
    h.at(50)
    h.router.unhold("1001")
    h.at(60)
    h.router.call_ended(5)
    h.at(100)
    got = [(e.at, e.old, e.new, e.call_id, e.duration_s, e.by) for e in h.of(AgentChanged) if e.what == "state"]
    assert got == [
        (0, "idle", "reserved", 5, 0, None),
        (2, "reserved", "ringing", 5, 2, None),
        (6, "ringing", "talking", 5, 4, None),
        (20, "talking", "hold", 5, 14, None),
        (50, "hold", "talking", 5, 30, None),
        (60, "talking", "wrap_up", 5, 10, None),
        (70, "wrap_up", "idle", None, 10, "router"),
    ]
    assert h.router.agents["1001"].talk_s == 54  # answer to end, hold included


def test_hold_and_unhold_only_from_the_right_state() -> None:
    h = Harness()
    h.agent("1001")
    h.router.hold("1001")  # idle
    h.router.unhold("1001")
    h.call(1)
    h.router.hold("1001")  # reserved
    assert h.router.agents["1001"].state == "reserved"
    h.router.answered(1)
    h.router.unhold("1001")  # talking: nothing to unhold
    h.router.hold("1001")
    h.router.hold("1001")
    assert h.changes("1001")[-1] == ("state", "talking", "hold")
    assert h.changes("1001").count(("state", "talking", "hold")) == 1


# ------------------------------------------------------------------------------------------ sign out
@pytest.mark.parametrize("step", ["reserved", "ringing", "talking", "hold"])
def test_sign_out_is_refused_on_a_call(step: str) -> None:
    h = Harness()
    h.agent("1001")
    h.call(1)
    if step != "reserved":
        h.router.ringing(1)
    if step in ("talking", "hold"):
        h.router.answered(1)
    if step == "hold":
        h.router.hold("1001")
    assert h.router.agents["1001"].state == step
    h.take()
    with pytest.raises(RouterError, match="on a call"):
        h.router.sign_out("1001")
    assert h.events == [] and h.router.agents["1001"].signed_in


def test_sign_out_in_wrap_up_ends_it() -> None:
    h = Harness(settings(queue(), wrap_up_s=30.0))
    h.agent("1001")
    h.agent("1002", ready=False)  # keeps the queue staffed
    h.call(1)
    h.router.answered(1)
    h.router.call_ended(1)
    h.take()
    h.at(5)
    h.router.sign_out("1001", by="sup")
    assert brief(h.events) == [("status", "1001", "ready", "logged_out"), ("state", "1001", "wrap_up", "idle")]
    assert all(e.by == "sup" for e in h.of(AgentChanged))
    h.take()
    h.at(100)  # the wrap-up timer was cancelled
    assert h.events == []
    assert h.router.agent_index.signed_in("billing") == 1
    h.router.sign_out("1001")  # already out: nothing
    assert h.events == []


def test_sign_out_cancels_the_not_ready_limit() -> None:
    h = Harness(settings(queue(join_empty=True), not_ready_limits={"meal": 60.0}))
    h.agent("1001", ready=False)
    h.router.set_not_ready("1001", "meal")
    h.router.sign_out("1001")
    h.take()
    h.at(500)
    assert h.events == []


# ------------------------------------------------------------------------------------------- wrap-up
def test_wrap_up_timer_then_the_next_call() -> None:
    h = Harness(settings(queue(), wrap_up_s=10.0))
    h.agent("1001")
    h.call(1)
    h.router.answered(1)
    h.call(2)
    h.at(30)
    h.router.call_ended(1)
    h.take()
    h.at(39.99)
    assert h.events == []
    h.at(40)
    assert brief(h.events) == [
        ("state", "1001", "wrap_up", "idle"),
        ("state", "1001", "idle", "reserved"),
        ("offer", 2, "1001"),
        ("decision", 2, "offered"),
    ]


def test_wrap_up_ended_by_the_agent() -> None:
    h = Harness(settings(queue(), wrap_up_s=10.0))
    h.agent("1001")
    h.call(1)
    h.router.answered(1)
    h.router.call_ended(1)
    h.at(4)
    h.take()
    h.router.end_wrap_up("1001", by="1001")
    assert brief(h.events) == [("state", "1001", "wrap_up", "idle")]
    assert h.of(AgentChanged)[0].by == "1001"
    h.router.end_wrap_up("1001")  # not in wrap-up: nothing
    h.at(50)  # the timer was cancelled
    assert len(h.events) == 1


def test_manual_wrap_up_lasts_until_the_agent_ends_it_for_agents_allowed_it() -> None:
    h = Harness(settings(queue("billing", manual_wrap_up=True), queue("sales"), wrap_up_s=10.0))
    h.agent("1001", {"billing": 1, "sales": 1})
    h.agent("1002", {"billing": 1})
    h.router.allow_manual_wrap_up("1001", True)  # 1002 holds no manual wrap-up: timed as before
    h.call(1)
    h.call(2)
    for call_id in (1, 2):
        h.router.answered(call_id)
        h.router.call_ended(call_id)
    assert "wrap_up" in h.decisions(1) and "wrap_up" not in h.decisions(2)
    h.call(3)
    h.at(3600)  # an hour later: 1001 still wraps up, 1002's timer ended it and took call 3
    assert h.state("1001") == ("ready", "wrap_up") and h.offers()[-1] == (3, "1002")
    h.router.end_wrap_up("1001", by="1001")
    assert h.state("1001") == ("ready", "idle")
    # a queue without manual wrap-up: the same agent's wrap-up is timed
    h.router.answered(3)
    h.call(4, "sales")
    h.router.answered(4)
    h.router.call_ended(4)
    h.at(3610)
    assert h.state("1001") == ("ready", "idle")


def test_wrap_up_time_from_the_profile_and_none() -> None:
    h = Harness(settings(queue(), wrap_up_s=10.0))
    h.agent("slow", wrap_up_s=60.0)
    h.agent("none", wrap_up_s=0.0)
    h.call(1)
    h.call(2)
    for call_id in (1, 2):
        h.router.answered(call_id)
        h.router.call_ended(call_id)
    assert h.state("none") == ("ready", "idle")  # straight back
    assert h.state("slow") == ("ready", "wrap_up")
    h.at(59)
    assert h.state("slow") == ("ready", "wrap_up")
    h.at(60)
    assert h.state("slow") == ("ready", "idle")


# ------------------------------------------------------------------------------------ not-ready limits
def test_not_ready_limit_alerts_once() -> None:
    h = Harness(settings(queue(), not_ready_limits={"meal": 1800.0}))
    h.agent("1001")
    h.at(100)
    h.router.set_not_ready("1001", "meal")
    h.router.set_not_ready("1001", "meal")  # same reason: the limit keeps counting
    h.take()
    h.at(1899)
    assert h.events == []
    h.at(1900)
    assert brief(h.events) == [("alert", "1001", "not_ready_over_limit")]
    assert h.of(AgentAlert)[0].message == "agent 1001 not ready (meal) for more than 1800 s"
    h.at(100000)
    assert len(h.events) == 1
    assert h.router.agents["1001"].alerted


def test_reasons_without_a_limit_never_alert_and_a_new_reason_restarts() -> None:
    h = Harness(settings(queue(), not_ready_limits={"meal": 60.0, "rest": 30.0}))
    h.agent("1001")
    h.router.set_not_ready("1001", "training")
    h.at(1000)
    assert h.alerts() == []
    h.router.set_not_ready("1001", "meal")
    h.at(1050)
    h.router.set_not_ready("1001", "rest")  # a new period: 30 s from now
    h.at(1079)
    assert h.alerts() == []
    h.at(1080)
    assert h.alerts() == [("1001", "not_ready_over_limit")]
    h.router.set_ready("1001")
    h.router.set_not_ready("1001", "rest")  # again: a new period, a new alert
    assert not h.router.agents["1001"].alerted
    h.at(1110)
    assert h.alerts() == [("1001", "not_ready_over_limit")] * 2


def test_going_ready_cancels_the_limit() -> None:
    h = Harness(settings(queue(), not_ready_limits={"meal": 60.0}))
    h.agent("1001")
    h.router.set_not_ready("1001", "meal")
    h.at(30)
    h.router.set_ready("1001")
    h.at(1000)
    assert h.alerts() == []


def test_no_answer_reason_with_a_limit() -> None:
    h = Harness(settings(queue(), not_ready_limits={"no_answer": 120.0}))
    h.agent("1001")
    h.call(1)
    h.at(5)
    h.router.no_answer(1)
    h.at(125)
    assert h.alerts() == [("1001", "no_answer"), ("1001", "not_ready_over_limit")]


def test_study_is_not_offered_calls() -> None:
    h = Harness()
    h.agent("1001")
    h.router.set_study("1001")
    assert h.call(1) == "queued"
    assert h.offers() == []
    assert h.state("1001") == ("study", "idle")
    h.router.set_ready("1001")
    assert h.offers() == [(1, "1001")]


# ------------------------------------------------------------------------------ desktop disconnected
def test_grace_period_then_not_ready() -> None:
    h = Harness(settings(queue(), browser_grace_s=30.0))
    h.agent("1001")
    h.at(10)
    h.router.agent_disconnected("1001")
    h.router.agent_disconnected("1001")  # reported twice: the first time counts
    h.take()
    h.at(39.99)
    assert h.events == []
    h.at(40)
    assert brief(h.events) == [("status", "1001", "ready", "not_ready"), ("alert", "1001", "disconnected")]
    change = h.of(AgentChanged)[0]
    assert (change.reason, change.by) == ("disconnected", "router")
    h.call(1)
    assert h.offers() == []  # no ghost agent


def test_reconnect_within_the_grace_period() -> None:
    h = Harness(settings(queue(), browser_grace_s=30.0))
    h.agent("1001")
    h.router.agent_disconnected("1001")
    h.at(29)
    h.router.agent_connected("1001")
    h.at(100)
    assert h.state("1001") == ("ready", "idle") and h.alerts() == []
    h.router.agent_disconnected("1001")  # a new loss: a new grace period
    h.at(129)
    assert h.alerts() == []
    h.at(130)
    assert h.alerts() == [("1001", "disconnected")]


def test_disconnected_while_not_ready_then_made_ready() -> None:
    h = Harness(settings(queue(), browser_grace_s=30.0))
    h.agent("1001", ready=False)
    h.router.agent_disconnected("1001")
    h.at(100)
    assert h.alerts() == [] and h.state("1001") == ("not_ready", "idle")
    h.router.set_ready("1001", by="sup")  # the desktop is still gone: a new grace period
    h.at(129)
    assert h.state("1001") == ("ready", "idle")
    h.at(130)
    assert h.state("1001") == ("not_ready", "idle")
    assert h.alerts() == [("1001", "disconnected")]


def test_disconnected_during_a_call() -> None:
    h = Harness(settings(queue(), browser_grace_s=30.0))
    h.agent("1001")
    h.call(1)
    h.router.answered(1)
    h.router.agent_disconnected("1001")
    h.at(30)
    assert h.state("1001") == ("not_ready", "talking")  # the call goes on
    h.router.call_ended(1)
    h.router.end_wrap_up("1001")
    h.call(2)
    assert h.offers() == [(1, "1001")]


def test_a_desktop_lost_after_signing_out_and_in_again_gets_a_grace_period() -> None:
    h = Harness(settings(queue(join_empty=True), browser_grace_s=30.0))
    h.agent("1001")
    h.router.agent_disconnected("1001")
    h.at(10)
    h.router.sign_out("1001")  # from the phone, say
    h.at(50)
    assert h.alerts() == []
    h.router.sign_in("1001")
    h.at(60)
    h.router.agent_disconnected("1001")
    h.at(89)
    assert h.alerts() == []
    h.at(90)
    assert h.alerts() == [("1001", "disconnected")]
    assert h.state("1001") == ("not_ready", "idle")


def test_a_logged_out_agent_losing_its_desktop_is_ignored() -> None:
    h = Harness()
    h.router.add_agent(profile("1001"))
    h.router.agent_disconnected("1001")
    assert h.router.agents["1001"].disconnected_at is None
    assert len(h.router.timers) == 0


# ----------------------------------------------------------------------------------- profile reload
def test_a_profile_reload_changes_skills() -> None:
    h = Harness(settings(queue("billing"), queue("repair", join_empty=True)))
    h.agent("1001", {"billing": 1})
    assert h.call(1, "repair") == "queued"
    h.router.add_agent(profile("1001", {"billing": 1, "repair": 1}))
    assert h.offers() == [(1, "1001")]
    assert h.router.agent_index.signed_in("repair") == 1


def test_a_profile_reload_of_a_signed_out_agent() -> None:
    h = Harness(settings(queue(join_empty=True)))
    h.router.add_agent(profile("1001", {"repair": 1}))
    h.router.add_agent(profile("1001", {"billing": 1}))
    assert h.router.agent_index.signed_in("billing") == 0
    h.call(1)
    assert h.offers() == []
    h.router.sign_in("1001")
    assert h.offers() == [(1, "1001")]
    assert h.router.agents["1001"].status == AgentStatus.READY
