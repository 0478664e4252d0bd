"""A call-back left by the IVR, worked in real headless Chromium (issue 19's "done when"): a gold caller of
Changsha presses 0 while nobody is signed in, meets the empty queue and leaves a call-back request (the demo
main flow on the simulated switch, with the live router); agent1 signs in and goes ready, the router offers the
task on the desktop's call-back panel, agent1 takes it and presses Call — the desk's dial-out rings agent1's
phone, then the customer's number, which the simulated outside world answers; the contact record of the
outbound call opens, agent1 creates a work order from the call (the pop's shortcut), the customer hangs up,
agent1 records "Reached" with a note and files the contact record. The task is closed with the attempt on the
outbound call; the order is linked to the customer and to the contact record. Screenshots of the call-back panel
at 1366x768 in English and Chinese are written to ``screenshots/`` (git-ignored) for a look."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (  # noqa: F401 - markers_as_classes and patient_browser are fixtures
    choose,
    click,
    element,
    log_in,
    markers_as_classes,
    patient_browser,
    text_shown,
    type_into,
    until,
    visible,
)
from desk_helpers import GOLD
from nicegui.testing import Screen

from helpline.data.database import session
from helpline.data.system import User as UserRow
from helpline.services import callbacks as service
from helpline.services.platform import Platform
from telephony.callbacks import CallbackQueue
from telephony.control.outbound import SimulatedOutside
from telephony.desk.dialout import outbound
from telephony.ivr import IvrEngine
from telephony.switch.simulated import SimulatedSwitch

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def order_of(p: Platform) -> dict[str, Any] | None:
    model = p.models["work_order"]
    with session():
        return model.select().where(model.agent == "agent1").dicts().first()


def test_agent1_works_a_callback_left_by_the_ivr(patient_browser: Screen, desk: Any,  # noqa: F811 - fixture
                                                 ui_platform: Platform, gold_customer: int) -> None:
    screen, p = patient_browser, ui_platform
    outside = desk.control.outside = SimulatedOutside()  # this test's outside world: the customer answers
    outside.behave(GOLD, ring_s=0.05)
    outcome = IvrEngine(p, router=desk.router).run_call(SimulatedSwitch("0", language="en"), caller_number=GOLD,
                                                        dnid="96266", flow_name="main")
    assert outcome.result == "callback", outcome
    tasks = service.open_tasks()
    assert [(t["number"], t["source"], t["tier"]) for t in tasks] == [(GOLD, "ivr", "gold")]
    task_id = int(tasks[0]["id"])
    assert desk.router.do(lambda r: r.holds(-task_id))

    log_in(screen, "agent1", "/desktop")
    click(screen, ".desk-sign-in")
    click(screen, ".desk-ready")
    until(lambda: visible(screen, ".m-desk-callback-take"), "the call-back offered")
    assert element(screen, ".m-desk-callback-number").text == GOLD
    text_shown(screen, f"A call-back to {GOLD} is offered to you.")  # told, the panel may be below the fold
    text_shown(screen, "Customer: Zhang Wei · Gold card · due ")  # local time
    shoot(screen, "en")
    click(screen, ".m-desk-callback-take")
    until(lambda: desk.view("1001")["state"] == "wrap_up", "taken: agent1 waits in wrap-up")
    element(screen, ".m-desk-callback-call")
    shoot(screen, "en_taken")
    desk.phones.phone("PJSIP/1001").auto_answer = True
    click(screen, ".m-desk-callback-call")
    until(lambda: desk.view("1001")["state"] == "talking", "the customer answered")
    call = outbound(desk).current("1001")
    assert call is not None and call.number == GOLD and call.purpose == "callback"

    # the outbound call's contact record is on the desktop: a work order from the call
    until(lambda: visible(screen, ".desk-contact .field-complaint_types"), "the contact record of the call")
    choose(screen, ".desk-contact .field-complaint_types", "No signal", close=True)
    click(screen, ".m-shortcut-work_order")
    until(lambda: visible(screen, ".field-order_no"), "the new order's form")
    click(screen, ".m-save")
    order = until(lambda: order_of(p), "the order saved")
    assert (order["customer"], order["title"], order["type"]) == (gold_customer, "No signal", "fault")

    outside.hang_up(call.call_id)  # the customer hangs up
    until(call.done.is_set, "the call over")
    click(screen, ".m-desk-work-tabs .q-tab:first-child")  # back to the call tab
    type_into(screen, ".m-desk-callback-note", "Told him an engineer will call.")
    click(screen, ".m-desk-callback-reached")
    text_shown(screen, "Call-back recorded: reached.")
    click(screen, ".desk-file")
    text_shown(screen, "Contact record filed")

    done = service.task(task_id)
    assert done is not None and (done["status"], done["outcome"], done["note"]) == (
        "closed", "reached", "Told him an engineer will call.")
    assert [(a["outcome"], a["call_id"]) for a in service.attempts(task_id)] == [("reached", call.call_id)]
    contact = p.models["contact_record"]
    with session():
        record = contact.select().where(contact.id == call.contact_record).dicts().get()
    assert (record["direction"], record["customer"], record["caller_number"]) == ("outbound", gold_customer, GOLD)
    assert record["ended_at"] is not None and record["complaint_types"]
    assert order["contact"] == record["serial_no"]  # the order names the outbound call's contact record

    with session():  # the panel in Chinese: a second call-back offered to agent1, ready again
        UserRow.update(language="zh_CN").where(UserRow.username == "agent1").execute()
    log_in(screen, "agent1", "/desktop")
    until(lambda: desk.view("1001")["state"] == "idle", "agent1 free again")
    CallbackQueue(p, desk.router).from_call(call_id=0, number=GOLD, queue="general", tier="gold", recording=None,
                                            customer_id=gold_customer, customer_name="Zhang Wei", region=None,
                                            city="changsha")
    until(lambda: visible(screen, ".m-desk-callback-take"), "the second call-back offered")
    text_shown(screen, "客户：Zhang Wei · 金卡客户 · 应于")
    assert element(screen, ".m-desk-callback-take").text.endswith("接受")
    shoot(screen, "zh_CN")


def shoot(screen: Screen, language: str) -> None:
    """The desktop with the call-back panel in view at 1366x768."""
    SHOTS.mkdir(exist_ok=True)
    screen.selenium.execute_script("document.querySelectorAll('.q-notification').forEach(e => e.remove())")
    screen.selenium.set_window_size(1366, 768)
    panel = element(screen, ".m-desk-callback")
    screen.selenium.execute_script("arguments[0].scrollIntoView({block: 'center'})", panel)
    screen.selenium.save_screenshot(str(SHOTS / f"callback_panel_{language}.png"))
    screen.selenium.set_window_size(1600, 1200)
