"""In real headless Chromium (issue 19 done-when): a supervisor starts the satisfaction-survey campaign on
yesterday's callers, agent1 joins it on the desktop, the progressive dialler calls the first number, the agent
reads the script and answers the three questions beside the customer (the branch question appears after a 'No'),
files them, and the campaigns page shows the contact in its monitor and its charts."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from browser_helpers import press, quick_log_in
from nicegui.testing import Screen
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from helpline.data.campaigns import CampaignNumber
from helpline.data.database import session
from helpline.services.campaigns import CampaignService
from helpline.services.campaigns.policy import relative_date
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser


def wait(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def choose(screen: Screen, question: str, option: str) -> None:
    """Click the radio option ``option`` of the questionnaire's ``question`` (each answer redraws the questions
    that follow: an element found just before may be gone, so try again)."""

    def click() -> bool:
        try:
            group = screen.find_by_css(f".desk-campaign-q-{question}")
            screen.selenium.execute_script("arguments[0].scrollIntoView({block: 'center'})", group)
            next(e for e in group.find_elements(By.CSS_SELECTOR, ".q-radio") if e.text.strip() == option).click()
        except (StaleElementReferenceException, StopIteration):
            return False
        return True

    wait(click)


def log_out(screen: Screen) -> None:
    press(screen, ".logout")
    wait(lambda: screen.selenium.find_elements(By.CSS_SELECTOR, ".login-submit"))


def test_a_survey_campaign_from_start_to_charts(screen: Screen, desk: Any, ui_platform: Platform) -> None:
    service = CampaignService(ui_platform)
    yesterday = str(relative_date("yesterday", service._local_today(service.campaign("satisfaction_survey"))))
    model = ui_platform.models["contact_record"]
    with session():
        for i, number in enumerate(("13800000801", "13800000802")):
            model.insert(serial_no=f"B{i}", caller_number=number, direction="inbound",
                         started_at=datetime.fromisoformat(f"{yesterday} 15:0{i}")).execute()
    quick_log_in(screen, "supervisor1")
    screen.open("/page/campaigns")
    press(screen, ".campaigns-start")
    screen.should_contain("Started: 2 rows, 2 numbers loaded, 0 invalid, 0 duplicates")
    log_out(screen)

    quick_log_in(screen, "agent1")
    screen.open("/desktop")
    press(screen, ".desk-sign-in")
    screen.should_contain("Just signed in")
    desk.phones.phone("PJSIP/1001").auto_answer = True
    press(screen, ".desk-campaign-join")
    press(screen, ".desk-ready")  # progressive: ready and idle, the dialler calls the first number
    screen.should_contain("You called us yesterday")
    wait(lambda: desk.view("1001")["state"] == "talking")
    choose(screen, "solved", "No")
    screen.should_contain("What went wrong?")
    choose(screen, "reason", "Still faulty")
    choose(screen, "score", "4")
    press(screen, ".desk-campaign-file")
    screen.should_contain("Filed.")
    press(screen, ".desk-campaign-leave")  # no further number for this test
    desk.phones.phone("PJSIP/1001").hang_up()
    with session():
        answered = wait(lambda: CampaignNumber.get_or_none(CampaignNumber.status == "done"))
    assert answered.answers == {"solved": False, "reason": "still_faulty", "score": 4}
    log_out(screen)

    quick_log_in(screen, "supervisor1")
    screen.open("/page/campaigns")
    screen.should_contain("contact rate 100 %")
    screen.should_contain("agents: agent1")
    assert screen.find_by_css(".campaigns-chart-solved")
