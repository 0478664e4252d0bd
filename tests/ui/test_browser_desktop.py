"""The agent desktop in real headless Chromium: an agent signs in and goes ready, a simulated caller comes
through the IVR, the screen-pop shows the customer and the trail, the agent answers, holds, takes the
caller back, releases, and files the contact record in wrap-up."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from browser_helpers import press, quick_log_in
from desk_helpers import GOLD, Caller
from nicegui.testing import Screen
from selenium.webdriver.common.keys import Keys

from helpline.data.database import session
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser


def wait(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not reached")


@pytest.mark.usefixtures("gold_customer")
def test_an_agent_takes_a_call_and_files_its_contact_record(screen: Screen, desk: Any,
                                                            ui_platform: Platform) -> None:
    desk.router.do(lambda r: r.reconfigure(replace(r.settings, wrap_up_s=300.0), r.policy))
    quick_log_in(screen, "agent1")
    screen.open("/desktop")
    screen.should_contain("Signed out")
    press(screen, ".desk-sign-in")
    screen.should_contain("Just signed in")
    press(screen, ".desk-ready")
    wait(lambda: desk.view("1001")["status"] == "ready")

    caller = Caller(ui_platform, desk, GOLD)
    try:
        answer_hold_release_and_file(screen, desk, ui_platform)
    finally:
        caller.hang_up()


def answer_hold_release_and_file(screen: Screen, desk: Any, ui_platform: Platform) -> None:
    phone = desk.phones.phone("PJSIP/1001")
    wait(lambda: phone.state == "ringing")
    screen.should_contain("Zhang Wei")  # the screen-pop: customer, tier, trail
    screen.should_contain("Gold card")
    screen.should_contain("Fibre cut in Changsha")
    trail = screen.find_by_css(".pop-trail").text
    assert "main_menu" in trail and "to_agent" in trail
    serial = screen.find_by_css(".pop-serial").text

    press(screen, ".desk-answer")
    wait(lambda: desk.view("1001")["state"] == "talking")
    screen.should_contain("Being written during the call")
    press(screen, ".desk-hold")
    wait(lambda: desk.view("1001")["state"] == "hold")
    assert phone.held
    screen.should_contain("Unhold")
    press(screen, ".desk-hold")
    wait(lambda: desk.view("1001")["state"] == "talking")
    assert not phone.held
    press(screen, ".desk-release")
    wait(lambda: desk.view("1001")["state"] == "wrap_up")
    screen.should_contain("Wrap-up: complete and file it")

    remarks = screen.find_by_css(".desk-contact .field-remarks textarea")
    screen.selenium.execute_script("arguments[0].scrollIntoView({block: 'center'})", remarks)
    remarks.send_keys(Keys.CONTROL, "a")
    remarks.send_keys("Asked for an engineer visit")
    remarks.send_keys(Keys.TAB)  # leave the field (its autogrow settles) before going up to the button
    screen.wait(0.3)
    press(screen, ".desk-file")
    screen.should_contain("Contact record filed")
    model = ui_platform.models["contact_record"]
    with session():
        filed = model.select().where(model.agent == "agent1").order_by(model.id.desc()).dicts().first()
    assert filed is not None and filed["remarks"] == "Asked for an engineer visit" and filed["ended_at"] is not None
    assert filed["serial_no"] == serial
