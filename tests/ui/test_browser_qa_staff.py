"""Issue 21's "done when" in real headless Chromium: qa1 opens a sampled call on the evaluation page (the player
loads the recording), scores it with a service error and submits; the evaluation is agent1's and the appeal goes
to supervisor1, who rejects it, both on the evaluation's form (its process panel); an administrator makes next
week's roster for the demo centre from the forecast and publishes it; agent1 sees its shifts on the desktop.
Screenshots of the evaluation page and the roster at 1366x768 in English and Chinese are written to
``screenshots/`` (git-ignored) for a look."""

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
)
from nicegui.testing import Screen
from selenium.webdriver.common.by import By
from test_ui_qa import sampled_call

from helpline.data.base import centre_today
from helpline.data.database import session
from helpline.data.system import User as UserRow
from helpline.security.actor import Actor
from helpline.services.platform import Platform
from telephony.workforce import plan

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def shot(screen: Screen, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    screen.selenium.set_window_size(1366, 768)
    screen.selenium.execute_script("window.scrollTo(0, 0)")
    screen.selenium.save_screenshot(str(SHOTS / f"{name}.png"))


def status(p: Platform, evaluation: int) -> str:
    """The evaluation's process state, as stored."""
    agent1 = Actor("agent1", roles=("agent",)).bind(p.metadata)
    return str(p.records.get(agent1, "qa_evaluation", evaluation).values["status"])


def open_call(screen: Screen, call_id: int) -> None:
    choose(screen, ".m-qa-queue", f"#{call_id}")
    element(screen, ".m-qa-audio audio, audio.m-qa-audio, .m-qa-audio")
    text_shown(screen, "main:start")


def test_qa_evaluates_agent_appeals_admin_rosters(
        patient_browser: Screen, ui_platform: Platform, tmp_path: Path,  # noqa: F811 - the imported fixture
        monkeypatch: pytest.MonkeyPatch, desk: Any) -> None:
    screen = patient_browser
    monkeypatch.setenv("HELPLINE_RECORDINGS", str(tmp_path / "rec"))
    call_id = sampled_call(ui_platform, tmp_path / "rec")
    log_in(screen, "qa1", "/page/qa_evaluate")
    open_call(screen, call_id)
    shot(screen, "qa_evaluation_en")
    choose(screen, ".m-qa-score-handling_courtesy", "2")
    type_into(screen, ".m-qa-comment-handling_courtesy", "talked over the caller", leave="")
    choose(screen, ".m-qa-errors", "Impolite wording", close=True)
    click(screen, ".m-qa-submit")
    text_shown(screen, "saved")
    model: Any = ui_platform.models["qa_evaluation"]
    with session():
        row = model.select().where(model.call_id == call_id).dicts().get()
    assert row["errors"] == ["impolite"] and row["evaluator"] == "qa1" and row["agent"] == "agent1"
    # agent1 appeals on the evaluation's form; supervisor1 rejects the appeal on the same form
    log_in(screen, "agent1", f"/record/qa_evaluation_form/{row['id']}")
    click(screen, ".m-action-appeal")
    type_into(screen, ".m-action-field-appeal_reason", "the caller shouted first", leave="")
    click(screen, ".m-action-submit")
    until(lambda: status(ui_platform, row["id"]) == "appealed", "the appeal taken")
    log_in(screen, "supervisor1", f"/record/qa_evaluation_form/{row['id']}")
    click(screen, ".m-action-uphold")
    type_into(screen, ".m-action-field-decision", "courtesy stands", leave="")
    click(screen, ".m-action-submit")
    until(lambda: status(ui_platform, row["id"]) == "upheld", "the appeal rejected")
    until(lambda: "Appeal rejected" in element(screen, ".m-process-state").text, "the form shows the decision")

    with session():
        UserRow.update(language="zh_CN").where(UserRow.username.in_(["qa1", "admin"])).execute()
    log_in(screen, "qa1", "/page/qa_evaluate")
    with session():
        from helpline.data.qa import QaSample

        QaSample.update(status="queued").where(QaSample.call_id == call_id).execute()
    screen.selenium.refresh()
    open_call(screen, call_id)
    assert "通话质检" in screen.selenium.find_element(By.TAG_NAME, "body").text
    shot(screen, "qa_evaluation_zh_CN")

    log_in(screen, "admin", "/page/roster")
    click(screen, ".m-roster-make")
    element(screen, ".m-roster-table")
    shot(screen, "roster_zh_CN")
    click(screen, ".m-roster-publish")
    text_shown(screen, "已发布")
    with session():
        UserRow.update(language="en").where(UserRow.username == "admin").execute()
    log_in(screen, "admin", "/page/roster")
    click(screen, ".m-roster-make")
    element(screen, ".m-roster-table")
    shot(screen, "roster_en")
    click(screen, ".m-roster-publish")
    text_shown(screen, "Published")
    shifts = plan.my_shifts("agent1", centre_today())
    assert shifts
    log_in(screen, "agent1", "/desktop")
    until(lambda: len(screen.selenium.find_elements(By.CSS_SELECTOR, ".m-desk-shift")) == len(shifts),
          "agent1's shifts on the desktop")
