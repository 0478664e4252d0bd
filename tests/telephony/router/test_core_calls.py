"""The router core, call events: queue, offer, ring, answer, no answer, abandon, end; reservation races;
empty queues; max wait; snapshot; statistics and tier alerts (reconfiguration: test_core_reconfigure.py)."""

from __future__ import annotations

from typing import Any

import pytest
from router_helpers import Harness, brief, helpline, profile, queue, request, settings

from telephony.router import (
    AgentAlert,
    AgentChanged,
    AgentStatus,
    AppQueuePolicy,
    CallDecision,
    CallLeft,
    ManualClock,
    Offer,
    Router,
    RouterEvent,
    RouterSettings,
)
from telephony.router.core import OFFER_GRACE_S, RouterError


# ------------------------------------------------------------------------------------- queue and offer
def test_queue_offer_ring_answer_end_exact_events() -> None:
    h = Harness()
    h.at(1)
    h.agent("1001")
    h.take()
    h.at(41)
    assert h.call(1) == "queued"
    assert brief(h.events) == [
        ("decision", 1, "queued"),
        ("state", "1001", "idle", "reserved"),
        ("offer", 1, "1001"),
        ("decision", 1, "offered"),
    ]
    offer = h.of(Offer)[0]
    assert offer.endpoint == "PJSIP/1001" and offer.queue == "billing" and offer.tier == "ordinary"
    assert offer.wait_s == 0 and offer.auto_answer is False
    assert offer.reason == "agent 1001: skill billing level 1, ready 40 s; first come first served, level 9"
    assert h.state("1001") == ("ready", "reserved")
    h.take()
    h.at(43)
    h.router.ringing(1)
    h.router.ringing(1)  # twice: one transition
    h.at(45)
    assert h.router.answered(1)
    assert brief(h.take()) == [
        ("state", "1001", "reserved", "ringing"),
        ("state", "1001", "ringing", "talking"),
        ("left", 1, "answered"),
        ("decision", 1, "answered"),
    ]
    assert 1 not in h.router.waiting and 1 in h.router.active
    assert not h.router.timers.pending(("offer", 1)) and not h.router.timers.pending(("call", 1))
    assert h.router.agents["1001"].calls_answered == 1
    h.at(100)
    assert h.router.call_ended(1)
    h.at(200)
    assert brief(h.take()) == [
        ("decision", 1, "ended"),
        ("state", "1001", "talking", "wrap_up"),
        ("state", "1001", "wrap_up", "idle"),
    ]
    assert h.router.agents["1001"].talk_s == 55
    assert not h.router.call_ended(1)  # once
    assert h.router.active == {} and h.router.waiting == {}


def test_queue_call_refusals() -> None:
    h = Harness()
    h.agent("1001")
    assert h.call(1, "nope") == "unknown_queue"
    assert h.call(1) == "queued"
    assert h.call(1) == "duplicate"  # offered, not answered
    h.router.answered(1)
    assert h.call(1) == "duplicate"  # talking
    assert h.router.waiting_in("billing") == 0


def test_every_decision_says_why() -> None:
    h = Harness(settings(queue("billing")), helpline())
    h.agent("1002", {"billing": 1})
    h.router.set_not_ready("1002", "busy")
    # put gold 12 pts behind its 90 % target: 22 of 25 answered in time
    for i in range(25):
        h.router.stats.record(0.0, tier="gold", queue="billing", outcome="answered", wait_s=5 if i < 22 else 60,
                              within_s=20)
    h.at(1)
    h.router.set_ready("1002")
    h.take()
    h.at(42)
    h.call(7, tier="gold")
    offer = h.of(Offer)[0]
    assert offer.reason == ("agent 1002: skill billing level 1, ready 41 s; tier gold, 2 pts behind target, "
                            "levels open 2x sooner, up to level 1")


def test_lowest_level_first_then_longest_ready() -> None:
    h = Harness(settings(queue()), AppQueuePolicy(level_step_s=0))  # every level open at once
    h.agent("l2_old", {"billing": 2})
    h.at(5)
    h.agent("l1_new", {"billing": 1})
    h.at(6)
    h.agent("l1_newer", {"billing": 1})
    h.at(10)
    h.call(1)
    h.call(2)
    h.call(3)
    assert h.offers() == [(1, "l1_new"), (2, "l1_newer"), (3, "l2_old")]


def test_a_freed_agent_takes_the_first_waiting_call() -> None:
    h = Harness()
    h.agent("1001")
    h.call(1)
    h.at(2)
    h.call(2)
    h.at(3)
    h.call(3)
    h.router.answered(1)
    h.router.call_ended(1)
    h.router.end_wrap_up("1001")
    assert h.offers() == [(1, "1001"), (2, "1001")]
    assert h.router.waiting_in("billing") == 2  # 2 offered, 3 waiting


# --------------------------------------------------------------------------------------- no answer
def test_offer_timeout_by_the_routers_own_timer() -> None:
    h = Harness(settings(queue(), offer_timeout_s=15.0))
    h.agent("1001")
    h.agent("1002")
    h.at(10)
    h.call(1)
    assert h.offers() == [(1, "1001")]
    h.take()
    h.at(10 + 15 + OFFER_GRACE_S - 0.01)
    assert h.events == []  # the switch had its chance
    h.at(10 + 15 + OFFER_GRACE_S)
    assert brief(h.events) == [
        ("status", "1001", "ready", "not_ready"),
        ("state", "1001", "reserved", "idle"),
        ("alert", "1001", "no_answer"),
        ("decision", 1, "no_answer"),
        ("state", "1002", "idle", "reserved"),
        ("offer", 1, "1002"),
        ("decision", 1, "offered"),
    ]
    status = h.of(AgentChanged)[0]
    assert (status.reason, status.by, status.call_id) == ("no_answer", "router", 1)
    assert h.of(AgentAlert)[0].message == "agent 1001 did not answer in 15 s (call 1)"
    assert h.state("1001") == ("not_ready", "idle")
    assert h.router.agents["1001"].reason == "no_answer"
    assert h.router.waiting[1].requeued == 1
    assert h.router.waiting[1].offered_at == 25 + OFFER_GRACE_S


def test_no_answer_reported_by_the_switch() -> None:
    h = Harness(settings(queue(), no_answer_reason="missed"))
    h.agent("1001")
    h.call(1)
    h.router.ringing(1)
    h.take()
    h.at(12)
    assert h.router.no_answer(1, "was busy")
    assert brief(h.events) == [
        ("status", "1001", "ready", "not_ready"),
        ("state", "1001", "ringing", "idle"),
        ("alert", "1001", "no_answer"),
        ("decision", 1, "no_answer"),
    ]
    assert h.router.agents["1001"].reason == "missed"
    assert h.of(AgentAlert)[0].message == "agent 1001 was busy (call 1)"
    assert not h.router.no_answer(1)  # no longer offered
    h.take()
    h.at(100)  # the offer timer was cancelled; the call still waits (max wait 300)
    assert h.offers() == [] and h.alerts() == [] and h.left() == []
    h.router.set_ready("1001")
    assert h.offers() == [(1, "1001")]  # back at the head


def test_a_returned_call_is_back_at_the_head() -> None:
    h = Harness(settings(queue()), helpline())
    h.agent("1001")
    h.call(1)  # offered to 1001
    h.at(5)
    h.call(2)  # waits
    h.at(8)
    h.router.no_answer(1)
    h.take()
    h.agent("1002")
    assert h.offers() == [(1, "1002")]


# -------------------------------------------------------------------------------- reservation races
def test_two_calls_one_agent() -> None:
    h = Harness()
    h.agent("1001")
    h.call(1)
    h.call(2)
    assert h.offers() == [(1, "1001")]
    assert h.router.agents["1001"].call_id == 1
    assert h.decisions(2) == ["queued"]
    agent = h.router.agents["1001"]
    second = h.router.waiting[2]
    h.take()
    assert not h.router._reserve(agent, second)
    h.router._offer(second, agent)  # compare-and-set refuses: nothing happens
    assert h.events == [] and second.agent_id is None and agent.call_id == 1


def test_an_agent_made_available_while_reserved_gets_no_second_call() -> None:
    h = Harness()
    h.agent("1001")
    h.call(1)
    h.call(2)
    h.take()
    h.router.set_not_ready("1001", "break")
    h.router.set_ready("1001")
    h.router.end_wrap_up("1001")
    h.router.add_agent(h.router.agents["1001"].profile)  # a profile reload
    h.router.ringing(1)
    h.router.set_study("1001")
    h.router.set_ready("1001")
    assert h.offers() == []
    assert h.router.agents["1001"].call_id == 1
    assert h.router.agents["1001"].state == "ringing"
    assert not h.router.agent_index.is_available("1001")


def test_answer_and_no_answer_of_unknown_calls_are_ignored() -> None:
    h = Harness()
    h.agent("1001", ready=False)
    h.call(1)
    assert not h.router.answered(1)  # waiting, not offered
    assert not h.router.answered(99)
    assert not h.router.no_answer(99)
    assert not h.router.abandon(99)
    h.router.ringing(99)
    assert h.router.waiting[1].agent_id is None


# ------------------------------------------------------------------------------------------ abandon
def test_abandon_while_waiting() -> None:
    h = Harness()
    h.agent("1001", ready=False)
    h.call(1)
    h.at(30)
    h.take()
    assert h.router.abandon(1)
    assert brief(h.events) == [("left", 1, "abandoned"), ("decision", 1, "abandoned")]
    left = h.of(CallLeft)[0]
    assert (left.wait_s, left.reason) == (30, "caller hung up")
    assert h.router.waiting == {} and h.router.waiting_in("billing") == 0
    assert len(h.router.call_index) == 0
    h.take()
    h.router.set_ready("1001")
    h.at(1000)  # nothing is offered, no max-wait timer fires
    assert h.offers() == [] and h.left() == []
    f = h.router.stats.figures("tier", "ordinary", 3600.0, 1000)
    assert (f.abandoned, f.answered) == (1, 0)


def test_abandon_while_ringing_frees_the_agent_for_the_next_call() -> None:
    h = Harness()
    h.agent("1001")
    h.call(1)
    h.call(2)
    h.router.ringing(1)
    h.at(9)
    h.take()
    assert h.router.abandon(1)
    assert brief(h.events) == [
        ("left", 1, "abandoned"),
        ("decision", 1, "abandoned"),
        ("state", "1001", "ringing", "idle"),
        ("state", "1001", "idle", "reserved"),
        ("offer", 2, "1001"),
        ("decision", 2, "offered"),
    ]
    assert h.of(CallLeft)[0].reason == "caller hung up while agent 1001 was ringing"
    assert h.router.agents["1001"].status == AgentStatus.READY  # not the agent's fault
    h.take()
    h.at(28)  # the first offer's timer (at 20) was cancelled; the second one's is at 29
    assert h.alerts() == [] and h.offers() == []
    h.at(29)
    assert h.alerts() == [("1001", "no_answer")]


def test_abandon_after_answer_ends_the_call() -> None:
    h = Harness()
    h.agent("1001")
    h.call(1)
    h.router.answered(1)
    h.at(30)
    h.take()
    assert h.router.abandon(1)
    assert brief(h.events) == [("decision", 1, "ended"), ("state", "1001", "talking", "wrap_up")]
    f = h.router.stats.figures("tier", "ordinary", 900.0, 30)
    assert (f.answered, f.abandoned) == (1, 0)


# ---------------------------------------------------------------------------------- empty queues
def test_a_caller_does_not_join_a_queue_nobody_signed_in_to() -> None:
    h = Harness()
    assert h.call(1) == "empty"
    assert brief(h.events) == [("decision", 1, "empty")]
    assert h.of(CallDecision)[0].reason == "no agent of skill billing is signed in"
    assert h.router.waiting == {} and h.router.waiting_in("billing") == 0
    h.agent("1001", {"repair": 1})  # another skill does not count
    assert h.call(2) == "empty"
    h.agent("1002", ready=False)  # signed in, not ready: joins
    assert h.call(3) == "queued"


def test_join_empty_queue_waits_for_an_agent() -> None:
    h = Harness(settings(queue(join_empty=True)))
    assert h.call(1) == "queued"
    h.at(20)
    h.agent("1001")
    assert h.offers() == [(1, "1001")]


def test_waiting_callers_leave_when_the_last_agent_signs_out() -> None:
    h = Harness(settings(queue("billing"), queue("keep", "billing", leave_when_empty=False), queue("repair")))
    h.agent("1001", {"billing": 1, "repair": 1}, ready=False)
    h.agent("1002", {"billing": 1}, ready=False)
    h.call(1, "billing")
    h.call(2, "keep")
    h.call(3, "repair")
    h.at(10)
    h.router.sign_out("1002")
    assert h.left() == []  # 1001 is still signed in
    h.take()
    h.router.sign_out("1001")
    assert brief(h.events) == [
        ("status", "1001", "not_ready", "logged_out"),
        ("left", 1, "empty"),
        ("decision", 1, "empty"),
        ("left", 3, "empty"),
        ("decision", 3, "empty"),
    ]
    assert h.of(CallLeft)[0].reason == "the last agent of skill billing signed out"
    assert set(h.router.waiting) == {2}  # leave_when_empty off


def test_a_call_being_offered_stays_when_another_agent_signs_out() -> None:
    h = Harness()
    h.agent("1001")
    h.agent("1002", ready=False)
    h.call(1)  # offered to 1001
    h.router.sign_out("1002")
    assert h.left() == []
    assert h.router.answered(1)


# --------------------------------------------------------------------------------------- max wait
def test_max_wait_then_timeout() -> None:
    h = Harness(settings(queue(max_wait_s=60.0)))
    h.agent("1001", ready=False)
    h.at(5)
    h.call(1)
    h.take()
    h.at(64.99)
    assert h.left() == []
    h.at(65)
    assert brief(h.events) == [("tier", "ordinary", True), ("left", 1, "timeout"), ("decision", 1, "timeout")]
    left = h.of(CallLeft)[0]
    assert (left.wait_s, left.reason) == (60, "waited the maximum 60 s in billing")
    assert h.router.waiting == {} and len(h.router.call_index) == 0
    assert h.router.stats.figures("queue", "billing", 900.0, 65).timeout == 1


def test_max_wait_then_overflow_to_another_queue() -> None:
    h = Harness(settings(queue("billing", max_wait_s=60.0, overflow="general"),
                         queue("general", max_wait_s=30.0)))
    h.agent("1001", {"billing": 1}, ready=False)
    h.agent("2001", {"general": 1}, ready=False)
    h.at(5)
    h.call(1)
    h.take()
    h.at(65)
    assert brief(h.events) == [("decision", 1, "overflow")]
    assert h.of(CallDecision)[0].reason == "waited 60 s in billing; overflow to general"
    call = h.router.waiting[1]
    assert (call.queue, call.skill, call.queue_since, call.enqueued_at) == ("general", "general", 65, 5)
    assert (h.router.waiting_in("billing"), h.router.waiting_in("general")) == (0, 1)
    h.router.set_ready("1001")  # billing's agent no longer gets it
    assert h.offers() == []
    h.at(80)
    h.router.set_ready("2001")
    assert h.offers() == [(1, "2001")]
    assert h.of(Offer)[0].wait_s == 75  # the wait counts from joining the router


def test_overflow_max_wait_counts_from_the_overflow_then_times_out() -> None:
    h = Harness(settings(queue("billing", max_wait_s=60.0, overflow="general"),
                         queue("general", max_wait_s=30.0)))
    h.agent("1001", {"billing": 1, "general": 1}, ready=False)
    h.call(1)
    h.at(89.99)
    assert h.left() == []
    h.at(90)
    assert h.left() == [(1, "timeout")]
    assert h.of(CallLeft)[0].queue == "general"


def test_overflow_to_an_empty_queue_is_a_timeout() -> None:
    h = Harness(settings(queue("billing", max_wait_s=60.0, overflow="general"), queue("general")))
    h.agent("1001", {"billing": 1}, ready=False)
    h.call(1)
    h.at(60)
    assert h.left() == [(1, "timeout")]
    assert h.decisions(1) == ["queued", "timeout"]


def test_overflow_offered_at_once_when_an_agent_is_free() -> None:
    h = Harness(settings(queue("billing", max_wait_s=60.0, overflow="general"), queue("general")))
    h.agent("1001", {"billing": 1}, ready=False)
    h.agent("2001", {"general": 1})
    h.call(1)
    h.at(60)
    assert h.decisions(1) == ["queued", "overflow", "offered"]
    assert h.offers() == [(1, "2001")]


def test_an_offered_call_does_not_time_out_while_ringing() -> None:
    h = Harness(settings(queue(max_wait_s=60.0), offer_timeout_s=100.0))
    h.agent("1001", ready=False)
    h.call(1)
    h.at(50)
    h.router.set_ready("1001")
    h.at(70)
    assert h.left() == []
    h.router.no_answer(1)  # back in the queue past its max wait: leaves at the next advance
    assert h.left() == []
    h.at(70)
    assert h.left() == [(1, "timeout")]


# --------------------------------------------------------------------------- statistics and alerts
def test_the_service_level_the_strategy_reads_leaves_abandons_out() -> None:
    h = Harness()
    h.agent("1001", ready=False)
    h.call(1)
    h.router.abandon(1)
    assert h.router.service_level("ordinary") is None
    h.call(2)
    h.router.set_ready("1001")
    h.router.answered(2)
    assert h.router.service_level("ordinary") == 1.0


def test_tier_alerts_when_falling_behind_and_catching_up() -> None:
    h = Harness(settings(queue()), helpline())  # ordinary: 70 % within 20 s
    h.agent("1001")
    h.call(1)
    h.router.answered(1)  # in time: 100 %, ahead, no alert
    assert h.tier_alerts() == []
    h.router.call_ended(1)
    h.router.end_wrap_up("1001")
    h.router.set_not_ready("1001", "x")
    h.call(2)
    h.at(30)
    h.router.set_ready("1001")
    h.router.answered(2)  # 50 %: behind
    assert h.tier_alerts() == [("ordinary", True)]
    for i in range(3, 6):
        h.router.call_ended(i - 1)
        h.router.end_wrap_up("1001")
        h.call(i)
        h.router.answered(i)
    # 4 of 5 in time: 80 %, caught up
    assert h.tier_alerts() == [("ordinary", True), ("ordinary", False)]


def test_a_failing_sink_does_not_stop_the_others() -> None:
    seen: list[RouterEvent] = []

    def broken(event: RouterEvent) -> None:
        raise RuntimeError("boom")

    r = Router(settings(queue()), AppQueuePolicy(), clock=ManualClock(), sinks=[broken, seen.append])
    r.add_agent(profile("1001"))
    r.sign_in("1001")
    assert r.queue_call(request(1)) == "queued"
    assert [type(e).__name__ for e in seen] == ["AgentChanged", "CallDecision", "AgentChanged", "Offer",
                                                "CallDecision"]


# ----------------------------------------------------------------------------------------- snapshot
def test_snapshot_contents() -> None:
    h = Harness(settings(queue("billing"), queue("repair")), helpline())
    h.agent("1001", {"billing": 1}, name="Wang")
    h.agent("1002", {"billing": 2}, ready=False)
    h.call(1, tier="gold")  # offered to 1001
    h.at(10)
    h.call(2)
    h.at(19)
    h.router.answered(1)
    h.at(25)
    snap: Any = h.router.snapshot()
    agents = {a["id"]: a for a in snap["agents"]}
    assert agents["1001"] == {
        "id": "1001", "name": "Wang", "status": "ready", "state": "talking", "reason": None, "in_status_s": 25.0,
        "in_state_s": 6.0, "call_id": 1, "skills": {"billing": 1}, "calls_answered": 1, "talk_s": 0.0}
    assert (agents["1002"]["status"], agents["1002"]["reason"]) == ("not_ready", "busy")
    assert snap["queues"] == {
        "billing": {"skill": "billing", "waiting": 1, "longest_wait_s": 15.0, "ready_agents": 0, "signed_in": 2},
        "repair": {"skill": "repair", "waiting": 0, "longest_wait_s": 0.0, "ready_agents": 0, "signed_in": 0},
    }
    tiers = snap["tiers"]
    assert sorted(tiers) == ["gold", "ordinary"]
    gold = tiers["gold"]
    assert (gold["target"], gold["within_s"]) == (0.9, 20.0)
    assert gold["15m"]["answered"] == 1 and gold["15m"]["service_level"] == 1.0
    assert gold["60m"]["asa_s"] == 19.0
    assert tiers["ordinary"]["15m"]["offered"] == 0


def test_unknown_agent_is_an_error() -> None:
    h = Harness()
    with pytest.raises(RouterError, match="unknown agent 42"):
        h.router.sign_in("42")


def test_settings_default_queue_lookup() -> None:
    s = RouterSettings(queues={"a": queue("a", "x"), "b": queue("b", "x"), "c": queue("c", "y")})
    assert [q.name for q in s.skill_queues("x")] == ["a", "b"]
