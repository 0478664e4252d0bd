"""In real headless Chromium (issue 19 done-when): a supervisor starts the satisfaction-survey campaign on
yesterday's callers, agent1 joins it on the desktop, the progressive dialler calls the first number, the agent
reads the script and answers the three questions beside the customer (the branch question appears after a 'No'),
files them, and the campaigns page shows the contact in its monitor and its charts. Every step polls for its
condition with the browser helpers' generous timeout (a loaded 2-core machine)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser_helpers import center, click, element, log_in, patient_browser, text_shown, until  # noqa: F401
from nicegui.testing import Screen
from selenium.webdriver.common.by import By

from helpline.data.campaigns import CampaignNumber
from helpline.data.database import session
from helpline.metadata.kinds.campaign import DAYS, Campaign, Window
from helpline.services.campaigns import CampaignService
from helpline.services.campaigns.policy import relative_date
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser


def answer(screen: Screen, question: str, option: str) -> None:
    """Choose the radio option ``option`` of the questionnaire's ``question``, looking again until it shows as
    chosen: an answer may redraw the questions (the branching), and a click on the element drawn before is
    lost, so each look clicks the option again while it is not chosen (a chosen option's click changes
    nothing)."""
    def chosen() -> bool:
        group = element(screen, f".desk-campaign-q-{question}")
        radio = next(e for e in group.find_elements(By.CSS_SELECTOR, ".q-radio") if e.text.strip() == option)
        if radio.get_attribute("aria-checked") == "true":
            return True
        center(screen, radio)
        radio.click()
        return False
    until(chosen, f"{option!r} chosen for {question}")


def open_all_day(p: Platform, name: str) -> None:
    """The campaign's call window made all day, every day: the shipped 09:00-20:00 Beijing time closed at 12:00
    UTC, and this test then failed waiting for a number that may not be dialled (the windows have their own tests
    under tests/services/campaigns/). In the window's one closed minute, 23:59 local, wait for the next day."""
    campaign = p.metadata.objects["campaign"][name]
    assert isinstance(campaign, Campaign)
    while datetime.now(ZoneInfo(campaign.timezone)).strftime("%H:%M") == "23:59":
        time.sleep(1)
    every_day = Window.model_validate({"days": list(DAYS), "from": "00:00", "to": "23:59"})
    p.metadata.objects["campaign"][name] = campaign.model_copy(update={"windows": [every_day]})


def test_a_survey_campaign_from_start_to_charts(patient_browser: Screen, desk: Any,  # noqa: F811
                                                ui_platform: Platform) -> None:
    screen = patient_browser
    service = CampaignService(ui_platform)
    open_all_day(ui_platform, "satisfaction_survey")
    yesterday = str(relative_date("yesterday", service._local_today(service.campaign("satisfaction_survey"))))
    model = ui_platform.models["contact_record"]
    with session():
        for i, number in enumerate(("13800000801", "13800000802")):
            model.insert(serial_no=f"B{i}", caller_number=number, direction="inbound",
                         started_at=datetime.fromisoformat(f"{yesterday} 15:0{i}")).execute()
    log_in(screen, "supervisor1", "/page/campaigns")
    click(screen, ".campaigns-start")
    text_shown(screen, "Started: 2 rows, 2 numbers loaded, 0 invalid, 0 duplicates")

    log_in(screen, "agent1", "/desktop")
    click(screen, ".desk-sign-in")
    text_shown(screen, "Just signed in")
    desk.phones.phone("PJSIP/1001").auto_answer = True
    click(screen, ".desk-campaign-join")
    element(screen, ".desk-campaign-leave")  # joined
    click(screen, ".desk-ready")  # progressive: ready and idle, the dialler calls the first number
    text_shown(screen, "You called us yesterday")
    until(lambda: desk.view("1001")["state"] == "talking", "agent1 talking")
    answer(screen, "solved", "No")
    text_shown(screen, "What went wrong?")
    answer(screen, "reason", "Still faulty")
    answer(screen, "score", "4")
    click(screen, ".desk-campaign-file")
    text_shown(screen, "Filed.")
    click(screen, ".desk-campaign-leave")  # no further number for this test
    desk.phones.phone("PJSIP/1001").hang_up()

    def done() -> CampaignNumber | None:
        with session():
            return CampaignNumber.get_or_none(CampaignNumber.status == "done")
    assert until(done, "the number done").answers == {"solved": False, "reason": "still_faulty", "score": 4}

    log_in(screen, "supervisor1", "/page/campaigns")
    text_shown(screen, "contact rate 100 %")
    text_shown(screen, "agents: agent1")
    element(screen, ".campaigns-chart-solved")
