"""The agent desktop in real headless Chromium: an agent signs in and goes ready, a simulated caller comes
through the IVR, the screen-pop shows the customer and the trail (at 1366x768 every pop table has the room its
columns need: the trail below the customer block rather than scrolling beside it), the agent answers, holds, takes the
caller back, releases, and files the contact record in wrap-up. Every step polls for its condition with the
browser helpers' generous timeout (a loaded 2-core machine)."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import click, log_in, patient_browser, text_of, text_shown, type_into, until  # noqa: F401
from desk_helpers import GOLD, Caller, settings
from nicegui.testing import Screen

from helpline.data.database import session
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser
TABLES = ("pop-trail", "pop-history", "pop-orders")
TABLE_WIDTHS = f"""return [...document.querySelectorAll('.{', .'.join(TABLES)}')].map(e => {{
  const box = e.querySelector('div[style*=overflow]');
  return [{list(TABLES)}.find(c => e.classList.contains(c)), box.scrollWidth, box.clientWidth]; }});"""
"""Each pop table's name, the width its columns need and the width its card gives them (a table scrolls
inside its card when it is given less)."""


@pytest.mark.usefixtures("gold_customer")
def test_an_agent_takes_a_call_and_files_its_contact_record(patient_browser: Screen, desk: Any,  # noqa: F811
                                                            ui_platform: Platform) -> None:
    screen = patient_browser
    settings(desk, wrap_up_s=300.0)
    log_in(screen, "agent1", "/desktop")
    text_shown(screen, "Signed out")
    click(screen, ".desk-sign-in")
    text_shown(screen, "Just signed in")
    click(screen, ".desk-ready")
    until(lambda: desk.view("1001")["status"] == "ready", "agent1 ready")

    caller = Caller(ui_platform, desk, GOLD)
    try:
        answer_hold_release_and_file(screen, desk, ui_platform)
    finally:
        caller.hang_up()


def state_is(desk: Any, state: str) -> None:
    until(lambda: desk.view("1001")["state"] == state, f"agent1 {state}")


def answer_hold_release_and_file(screen: Screen, desk: Any, ui_platform: Platform) -> None:
    phone = desk.phones.phone("PJSIP/1001")
    until(lambda: phone.state == "ringing", "agent1's phone rings")
    text_shown(screen, "Zhang Wei")  # the screen-pop: customer, tier, outage, trail
    text_shown(screen, "Gold card")
    text_shown(screen, "Fibre cut in Changsha")
    until(lambda: all(s in text_of(screen, ".pop-trail") for s in ("main_menu", "to_agent")), "the IVR trail")
    serial = until(lambda: text_of(screen, ".pop-serial").strip(), "the pop's serial number")
    screen.selenium.set_window_size(1366, 768)  # a laptop, the knowledge panel beside the call: the tables fit
    widths = screen.selenium.execute_script(TABLE_WIDTHS)
    assert sorted(w[0] for w in widths) == sorted(TABLES), widths
    assert all(needed <= shown for _, needed, shown in widths), widths  # [table, its width, its card's room]
    screen.selenium.set_window_size(1600, 1200)

    click(screen, ".desk-answer")
    state_is(desk, "talking")
    text_shown(screen, "Being written during the call")
    click(screen, ".desk-hold")
    state_is(desk, "hold")
    assert phone.held
    text_shown(screen, "Unhold")
    click(screen, ".desk-hold")
    state_is(desk, "talking")
    assert not phone.held
    click(screen, ".desk-release")
    state_is(desk, "wrap_up")
    text_shown(screen, "Wrap-up: complete and file it")

    type_into(screen, ".desk-contact .field-remarks", "Asked for an engineer visit")  # saved on leaving it
    click(screen, ".desk-file")
    text_shown(screen, "Contact record filed")
    model = ui_platform.models["contact_record"]
    with session():
        filed = model.select().where(model.agent == "agent1").order_by(model.id.desc()).dicts().first()
    assert filed is not None and filed["remarks"] == "Asked for an engineer visit" and filed["ended_at"] is not None
    assert filed["serial_no"] == serial
