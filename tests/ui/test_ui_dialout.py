"""Dialling out in the UI: click-to-dial from a customer's phone field, and the desktop's dial pad (dial,
then the keys send digits during the call); both reach the desk service, which records the call."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest
from desk_helpers import GOLD, agent, element, text, until
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.security.actor import Actor
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.control.simulated import SimulatedCallControl
from telephony.desk.dialout import outbound


async def test_click_to_dial_from_the_customer_form(user: User, desk: Any, ui_platform: Platform,
                                                    gold_customer: int) -> None:
    desk.sign_in(Actor("agent1", roles=("agent",)).bind(ui_platform.metadata))
    await log_in(user, "agent1", path=f"/record/customer_form/{gold_customer}")
    await user.should_see(marker="click-to-dial-phone", retries=100)
    phone = desk.phones.phone("PJSIP/1001")
    user.find(marker="click-to-dial-phone").click()
    await until(lambda: phone.state == "ringing")
    await see(user, f"Dialling {GOLD}: your phone rings first")
    assert agent(desk)["state"] == "ringing"
    call = outbound(desk).current("1001")
    assert call is not None
    phone.answer()  # the agent picks up: the number rings, then answers (the default outside world)
    await until(lambda: call.answered_at is not None)
    phone.hang_up()
    await until(call.done.is_set)
    record = CallService().get(call.call_id)
    assert record is not None
    assert (record["direction"], record["dnid"], record["customer_id"], record["result"]) == (
        "outbound", GOLD, gold_customer, "answered")


async def test_the_dial_pad_dials_and_its_keys_send_digits_during_the_call(user: User, desk: Any,
                                                                           ui_platform: Platform,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    assert not element(user, "desk-dialpad").enabled  # signed out: nothing to dial
    user.find(marker="desk-sign-in").click()
    await until(lambda: agent(desk)["status"] == "not_ready")
    await until(lambda: element(user, "desk-dialpad").enabled)
    user.find(marker="desk-dialpad").click()
    await user.should_see(marker="dialpad-number")
    user.find(marker="dialpad-number").type("13800000123")
    phone = desk.phones.phone("PJSIP/1001")
    phone.auto_answer = True
    user.find(marker="dialpad-call").click()
    await until(lambda: agent(desk)["state"] == "talking")
    call = outbound(desk).current("1001")
    assert call is not None and call.number == "13800000123"
    await until(lambda: text(user, "pop-caller") == "13800000123")  # the strip shows the number dialled
    assert element(user, "pop-caller")._props["data-caption"] == "Number dialled"
    work = element(user, "desk-work-tabs")
    await until(lambda: any(tab.props.get("name") == f"record:contact_record_form:{call.contact_record}"
                            for tab in work.default_slot.children))  # the call's contact record, to note it
    await until(lambda: call.answered_at is not None)
    user.find(marker="desk-dialpad").click()
    await user.should_see(marker="dialpad-key-8")
    assert isinstance(desk.control, SimulatedCallControl)
    send, overtaken = desk.control.send_dtmf, threading.Event()

    def slow_first_key(call_id: int, endpoint: str, digits: str) -> None:
        """The first key's send is slow (a busy switch): a second key sent meanwhile would overtake it."""
        if digits == "8":
            overtaken.wait(0.2)
        send(call_id, endpoint, digits)
        if digits != "8":
            overtaken.set()
    monkeypatch.setattr(desk.control, "send_dtmf", slow_first_key)
    user.find(marker="dialpad-key-8").click()
    user.find(marker="dialpad-key-hash").click()
    leg = desk.control.outside.leg(call.call_id)
    await until(lambda: leg is not None and leg.digits == "8#")
    await user.open("/desktop")  # a reloaded desktop resumes the outbound call like an inbound one
    await user.should_see(marker="desk-file", retries=150)
    await until(lambda: element(user, "desk-release").enabled)
    user.find(marker="desk-release").click()
    await until(call.done.is_set)
    assert CallService().get(call.call_id)["result"] == "answered"  # type: ignore[index]


async def test_the_browser_going_away_during_an_outbound_call_ends_it_and_records_it(
        user: User, desk: Any, ui_platform: Platform) -> None:
    desk.router.do(lambda r: r.reconfigure(replace(r.settings, browser_grace_s=0.3), r.policy))
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    user.find(marker="desk-sign-in").click()
    await until(lambda: element(user, "desk-dialpad").enabled)
    user.find(marker="desk-dialpad").click()
    await user.should_see(marker="dialpad-number")
    user.find(marker="dialpad-number").type("13800000124")
    desk.phones.phone("PJSIP/1001").auto_answer = True
    user.find(marker="dialpad-call").click()
    await until(lambda: outbound(desk).current("1001") is not None)
    call = outbound(desk).current("1001")
    assert call is not None
    await until(lambda: call.answered_at is not None)
    assert user.client is not None
    for socket in list(user.client._socket_to_document_id):  # the browser goes away
        user.client.handle_disconnect(socket)
    await until(call.done.is_set)
    record = CallService().get(call.call_id)
    assert record is not None and (record["result"], record["direction"]) == ("answered", "outbound")
    assert record["ended_at"] is not None and "desktop is gone" in record["variables"]["detail"]
    assert desk.phones.phone("PJSIP/1001").state == "idle" and agent(desk)["state"] == "wrap_up"


async def test_an_outbound_calls_customer_block_is_titled_customer_not_caller(user: User, desk: Any,
                                                                              ui_platform: Platform,
                                                                              gold_customer: int) -> None:
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    user.find(marker="desk-sign-in").click()
    await until(lambda: agent(desk)["status"] == "not_ready")
    desk.phones.phone("PJSIP/1001").auto_answer = True
    outbound(desk).dial(Actor("agent1", roles=("agent",)).bind(ui_platform.metadata), GOLD,
                        customer_id=gold_customer)
    await until(lambda: agent(desk)["state"] == "talking")
    await user.should_see(marker="pop-caller", retries=150)
    await until(lambda: text(user, "pop-caller") == GOLD)
    block = element(user, "pop-customer").content
    assert "Customer: Zhang Wei" in block and "Caller" not in block  # the agent called them
    call = outbound(desk).current("1001")
    assert call is not None
    desk.phones.phone("PJSIP/1001").hang_up()
    await until(call.done.is_set)
