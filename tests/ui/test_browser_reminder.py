"""In real headless Chromium (issue 19 done-when): a supervisor loads an arrears reminder list of 50 customers
(and a bad row, refused), starts the campaign, dials it without an agent (simulated customers) and sees the
outcomes."""

from __future__ import annotations

import pytest
from browser_helpers import patient_browser, press, quick_log_in  # noqa: F401 - patient_browser is a fixture
from nicegui.testing import Screen
from selenium.webdriver.common.keys import Keys

from helpline.security.actor import Actor
from helpline.services import reminders
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser


def test_a_supervisor_dials_an_arrears_reminder_campaign(patient_browser: Screen,  # noqa: F811
                                                         ui_platform: Platform) -> None:
    screen = patient_browser  # a page may take longer than NiceGUI's 4 s to load on a loaded machine
    quick_log_in(screen, "supervisor1")
    screen.open("/page/reminders")
    screen.should_contain("Reminder campaigns (no agent)")
    screen.find_by_css(".reminders-name input").send_keys("Arrears December")
    window = screen.find_by_css(".reminders-window input")
    window.send_keys(Keys.CONTROL, "a")
    window.send_keys("00:00-23:59")  # whatever the hour the test runs at
    lines = [f"1350000{i:04d},{60 + i}.80,2026-12-31,customer {i}" for i in range(50)] + ["0000,1,2026-12-31,bad"]
    screen.find_by_css(".reminders-list textarea").send_keys("\n".join(lines))
    press(screen, ".reminders-create")
    screen.should_contain("50 customer(s), 1 row(s) refused")
    screen.should_contain("invalid phone number '0000'")
    press(screen, ".reminders-start")
    screen.should_contain("running")
    press(screen, ".reminders-dial")
    screen.should_contain("Dialled 50, refused outside the window 0.")
    screen.should_contain("confirmed 50")  # the campaign's customers by state
    screen.should_contain("13500000049")  # an attempt in the outcomes table
    [campaign] = [c for c in reminders.list_campaigns(Actor.system()) if c["name"] == "Arrears December"]
    assert campaign["summary"]["attempts"] == {"confirmed": 50}
