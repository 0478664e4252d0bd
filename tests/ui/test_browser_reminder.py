"""In real headless Chromium (issue 19 done-when): a supervisor loads an arrears reminder list of 50 customers
(and a bad row, refused), starts the campaign, dials it without an agent (simulated customers) and sees the
outcomes."""

from __future__ import annotations

import pytest
from browser_helpers import click, log_in, patient_browser, text_shown, type_into  # noqa: F401 - a fixture
from nicegui.testing import Screen

from helpline.security.actor import Actor
from helpline.services import reminders
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser


def test_a_supervisor_dials_an_arrears_reminder_campaign(patient_browser: Screen,  # noqa: F811
                                                         ui_platform: Platform) -> None:
    screen = patient_browser  # a page may take longer than NiceGUI's 4 s to load on a loaded machine
    log_in(screen, "supervisor1", "/page/reminders")
    text_shown(screen, "Reminder campaigns (no agent)")
    type_into(screen, ".reminders-name", "Arrears December")
    type_into(screen, ".reminders-window", "00:00-23:59")  # whatever the hour the test runs at
    lines = [f"1350000{i:04d},{60 + i}.80,2026-12-31,customer {i}" for i in range(50)] + ["0000,1,2026-12-31,bad"]
    type_into(screen, ".reminders-list", "\n".join(lines))
    click(screen, ".reminders-create")  # the server's answers below take seconds on a loaded machine (text_shown: 30 s)
    text_shown(screen, "50 customer(s), 1 row(s) refused")
    text_shown(screen, "invalid phone number '0000'")
    click(screen, ".reminders-start")
    text_shown(screen, "running")
    click(screen, ".reminders-dial")
    text_shown(screen, "Dialled 50, refused outside the window 0.")
    text_shown(screen, "confirmed 50")  # the campaign's customers by state
    text_shown(screen, "13500000049")  # an attempt in the outcomes table
    [campaign] = [c for c in reminders.list_campaigns(Actor.system()) if c["name"] == "Arrears December"]
    assert campaign["summary"]["attempts"] == {"confirmed": 50}
