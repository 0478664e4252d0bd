"""Dialling out from the desk on the simulated switch: click-to-dial and its outcomes (answer, busy,
congestion, no answer), the permissions, the router keeping inbound offers away, second dialling, consulting
an outside number, internal calls and their refusal rule, and a desktop that disappears mid-call."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from helpline.data.database import session
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import search_audit
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.desk.dialout import DialOut, outbound
from telephony.desk.service import DeskError, DeskService
from telephony.router import AgentState, AgentStatus
from telephony.router.model import CallRequest
from tests.telephony.outbound.dialler_helpers import control, make_desk, until


@pytest.fixture
def desk(ivr_platform: Platform) -> Iterator[DeskService]:
    service = make_desk(ivr_platform, wrap_up_s=30.0)
    yield service
    outbound(service).close()
    service.router.stop()


def actor(platform: Platform, name: str, role: str = "agent", withheld: tuple[str, ...] = (),
          granted: tuple[str, ...] = ("agent.internal_call",)) -> Actor:
    bound = Actor(name, roles=(role,)).bind(platform.metadata)
    bound._role_objs = [r.model_copy(update={"permissions": [*(p for p in r.permissions if p not in withheld),
                                                             *(g for g in granted if g not in withheld)]})
                        for r in bound._role_objs]
    return bound


def signed_in(desk: DeskService, who: Actor, *, auto_answer: bool = True) -> str:
    ref = desk.sign_in(who)
    control(desk).phones.phone(ref.endpoint).auto_answer = auto_answer
    return ref.number


def state(desk: DeskService, number: str) -> str:
    return str(desk.view(number)["state"])


def test_click_to_dial_rings_back_talks_and_is_recorded(ivr_platform: Platform, desk: DeskService) -> None:
    who = actor(ivr_platform, "agent1")
    number = signed_in(desk, who)
    desk.ready(who)
    control(desk).outside.behave("13800000101", ring_s=0.02)
    dial = outbound(desk)
    call_id = dial.dial(who, "138-0000-0101", customer_id=None)
    call = dial.get(call_id)
    assert call is not None and call.ringback.wait(2)
    until(lambda: call.answered_at is not None)
    assert state(desk, number) == "talking"
    time.sleep(0.15)  # the desktop's current talk time counts from the far end's answer (it stayed 0 before)
    assert 0.1 <= desk.view(number)["current_talk_s"] < 5
    # a caller arriving now is not offered to the agent on the outbound call
    desk.router.enqueue(CallRequest(call_id=990001, queue="general", caller_number="13900000001"))
    waiting = desk.router.do(lambda r: r.waiting[990001])
    assert waiting.agent_id is None
    desk.router.do(lambda r: r.abandon(990001))
    assert control(desk).outside.hang_up(call_id)  # the customer hangs up
    assert call.done.wait(2)
    record = CallService().get(call_id)
    assert record is not None
    assert (record["direction"], record["dnid"], record["result"], record["agent"]) == (
        "outbound", "13800000101", "answered", number)
    assert record["answered_at"] is not None and record["ended_at"] is not None and record["talk_s"] >= 0
    assert state(desk, number) == "wrap_up"
    contact = ivr_platform.records.get(who, "contact_record", call.contact_record or 0)
    assert contact.values["direction"] == "outbound" and contact.values["caller_number"] == "13800000101"
    assert contact.values["ended_at"] is not None
    assert search_audit(action="desk.dial", record_id=str(call_id))


@pytest.mark.parametrize("result", ["busy", "congestion", "noanswer"])
def test_a_number_that_does_not_answer_is_recorded_with_its_outcome(ivr_platform: Platform, desk: DeskService,
                                                                    result: str) -> None:
    who = actor(ivr_platform, "agent1")
    number = signed_in(desk, who)
    control(desk).outside.behave("13800000102", result=result, ring_s=0.01)  # type: ignore[arg-type]
    call_id = outbound(desk).dial(who, "13800000102")
    call = outbound(desk).get(call_id)
    assert call is not None and call.done.wait(2)
    assert call.outcome == result and call.answered_at is None
    record = CallService().get(call_id)
    assert record is not None and record["result"] == result and record["answered_at"] is None
    assert state(desk, number) == "idle"  # nothing was said: no wrap-up
    assert desk.view(number)["status"] == "not_ready"


def test_dialling_needs_the_permission_and_a_free_agent(ivr_platform: Platform, desk: DeskService) -> None:
    before = CallService().count()
    without = actor(ivr_platform, "agent1", withheld=("agent.outbound", "agent.internal_call"))
    signed_in(desk, without)
    with pytest.raises(PermissionDenied):
        outbound(desk).dial(without, "13800000103")
    with pytest.raises(PermissionDenied):
        outbound(desk).call_agent(without, "1002")
    who = actor(ivr_platform, "agent1")
    with pytest.raises(DeskError, match="not a phone number"):
        outbound(desk).dial(who, "12ab")
    assert CallService().count() == before  # refused before anything was written
    call_id = outbound(desk).dial(who, "13800000104")
    with pytest.raises(DeskError, match="dialling out is possible while"):
        outbound(desk).dial(who, "13800000105")
    assert outbound(desk).hang_up(call_id, "test")
    assert outbound(desk).get(call_id).done.wait(2)  # type: ignore[union-attr]


def test_second_dialling_and_consulting_an_outside_number(ivr_platform: Platform, desk: DeskService) -> None:
    who = actor(ivr_platform, "agent1")
    number = signed_in(desk, who)
    call_id = outbound(desk).dial(who, "13800000106")
    call = outbound(desk).get(call_id)
    assert call is not None
    until(lambda: call.answered_at is not None)
    outbound(desk).send_dtmf(who, "8001#")
    leg = control(desk).outside.leg(call_id)
    assert leg is not None and leg.digits == "8001#"
    with pytest.raises(DeskError, match="not digits"):
        outbound(desk).send_dtmf(who, "80x")
    outbound(desk).consult_out(who, "13900000107")
    assert state(desk, number) == "hold" and desk.view(number)["consulting"] == "external:13900000107"
    with pytest.raises(DeskError, match="second dialling is not possible during a consultation"):
        outbound(desk).send_dtmf(who, "1")
    desk.conference(who)
    phone = control(desk).phones.phone(call.endpoint)
    assert phone.conference == {"external:13900000107"} and state(desk, number) == "talking"
    desk.release(who)
    assert call.done.wait(2) and call.outcome == "answered"
    assert search_audit(action="desk.consult_out", record_id=str(call_id))


def test_internal_calls_are_refused_while_callers_wait(ivr_platform: Platform, desk: DeskService) -> None:
    one, two = actor(ivr_platform, "agent1"), actor(ivr_platform, "agent2")
    first = signed_in(desk, one)
    second = signed_in(desk, two, auto_answer=False)
    assert desk.router.enqueue(CallRequest(call_id=990002, queue="general")).result == "queued"
    with pytest.raises(DeskError, match="internal calls are refused while callers wait: 1 in your queues"):
        outbound(desk).call_agent(one, second)
    assert state(desk, first) == "idle" and state(desk, second) == "idle"
    desk.router.do(lambda r: r.abandon(990002))
    outbound(desk).timeout_s = 5.0  # agent 1002 takes its time to answer
    call_id = outbound(desk).call_agent(one, second)
    call = outbound(desk).get(call_id)
    assert call is not None
    until(lambda: control(desk).phones.phone("PJSIP/1002").state == "ringing")  # 1001 hears it ring
    assert state(desk, second) == "ringing"
    assert state(desk, first) == "talking" and desk.router.enqueue(
        CallRequest(call_id=990003, queue="general")).result == "queued"
    assert desk.router.do(lambda r: r.waiting[990003].agent_id) is None  # neither agent is offered it
    desk.router.do(lambda r: r.abandon(990003))
    assert desk.answer(two) == call_id  # the called agent answers from the desktop
    until(lambda: call.answered_at is not None)
    assert state(desk, first) == "talking" and state(desk, second) == "talking"
    desk.release(two)
    assert call.done.wait(2) and call.outcome == "answered"
    record = CallService().get(call_id)
    assert record is not None and (record["direction"], record["dnid"]) == ("internal", second)
    assert state(desk, first) == "wrap_up" and state(desk, second) == "wrap_up"


def test_the_desktop_disappearing_ends_the_outbound_call_and_records_it(ivr_platform: Platform,
                                                                          desk: DeskService) -> None:
    who = actor(ivr_platform, "agent1")
    number = signed_in(desk, who)
    desk.ready(who)
    call_id = outbound(desk).dial(who, "13800000108")
    call = outbound(desk).get(call_id)
    assert call is not None
    until(lambda: call.answered_at is not None)
    desk.router.do(lambda r: r.agent_disconnected(number))  # the browser closed (grace 0.05 s)
    assert call.done.wait(2)
    record = CallService().get(call_id)
    assert record is not None and record["result"] == "answered" and record["ended_at"] is not None
    assert "desktop is gone" in record["variables"]["detail"]
    view = desk.view(number)
    assert view["state"] == "wrap_up" and (view["status"], view["reason"]) == (AgentStatus.NOT_READY, "disconnected")
    assert isinstance(outbound(desk), DialOut) and view["state"] == AgentState.WRAP_UP


def test_consulting_an_outside_number_then_transferring_to_it(ivr_platform: Platform, desk: DeskService) -> None:
    who = actor(ivr_platform, "agent1")
    number = signed_in(desk, who)
    call_id = outbound(desk).dial(who, "13800000109")
    call = outbound(desk).get(call_id)
    assert call is not None
    until(lambda: call.answered_at is not None)
    outbound(desk).consult_out(who, "13900000110")
    desk.complete_transfer(who)  # the customer goes on with the outside number; the agent leaves
    assert call.done.wait(2) and call.outcome == "answered" and "transferred to external:13900000110" in call.detail
    assert state(desk, number) == "wrap_up" and desk.view(number)["consulting"] is None
    assert search_audit(action="desk.complete_transfer", record_id=str(call_id))


def test_outbound_calls_are_not_counted_as_inbound_traffic(ivr_platform: Platform, desk: DeskService) -> None:
    from datetime import date

    from helpline.data.stats import StatCall
    from helpline.services.stats import rebuild

    def facts() -> list[dict[str, Any]]:
        with session():
            rows: list[Any] = list(StatCall.select().dicts())
        return sorted(({k: v for k, v in row.items() if k != "id"} for row in rows), key=repr)

    today = date.today()
    rebuild(today, today)
    before = facts()
    who = actor(ivr_platform, "agent1")
    signed_in(desk, who)
    call_id = outbound(desk).dial(who, "13800000111")
    call = outbound(desk).get(call_id)
    assert call is not None
    until(lambda: call.answered_at is not None)
    desk.release(who)
    assert call.done.wait(2) and CallService().get(call_id)["ended_at"] is not None  # type: ignore[index]
    assert facts() == before
    rebuild(today, today)
    assert facts() == before


def test_hanging_up_while_the_agents_own_phone_still_rings(ivr_platform: Platform, desk: DeskService) -> None:
    who = actor(ivr_platform, "agent1")
    number = signed_in(desk, who, auto_answer=False)
    outbound(desk).timeout_s = 5.0
    call_id = outbound(desk).dial(who, "13800000112")
    phone = control(desk).phones.phone("PJSIP/1001")
    until(lambda: phone.state == "ringing")
    assert state(desk, number) == "ringing"
    assert outbound(desk).hang_up(call_id, "the agent changed their mind")
    call = outbound(desk).get(call_id)
    assert call is not None and call.done.wait(1) and call.outcome == "cancelled"
    assert state(desk, number) == "idle" and phone.state == "idle"
