"""Issue 17's "done when", the bulletin part, in real headless Chromium: an administrator publishes a must-read
bulletin to agents on the bulletins page; agent1 signs in on the desktop, sees it, is refused ready (the server
names the bulletin) until it presses "I have read it", then goes ready; the administrator's receipts show agent1
acknowledged and agent2 not yet read, and the knowledge statistics page shows the read and the acknowledgement."""

from __future__ import annotations

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
from nicegui.testing import Screen
from selenium.webdriver.common.by import By

from helpline.security.actor import Actor
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser
TITLE = "必读：今晚系统割接"


def test_a_must_read_bulletin_holds_ready_until_acknowledged(
        patient_browser: Screen, desk: Any, ui_platform: Platform) -> None:  # noqa: F811
    screen, p = patient_browser, ui_platform
    log_in(screen, "admin", "/page/bulletins")
    type_into(screen, ".m-bulletin-title", TITLE)
    type_into(screen, ".m-bulletin-body", "22:00 起系统割接，请提前保存工单。")
    choose(screen, ".m-bulletin-roles", "Agent", close=True)
    click(screen, ".m-bulletin-must-read")
    click(screen, ".m-bulletin-publish")
    text_shown(screen, "The bulletin is published")
    [bulletin] = p.bulletins.published(Actor.system())
    assert bulletin.must_read and bulletin.targets == [("role", "agent")]

    log_in(screen, "agent1", "/desktop")
    until(lambda: TITLE in element(screen, ".m-desk-must-read").text, "the must-read strip")
    click(screen, ".desk-sign-in")
    until(lambda: desk.view("1001")["status"] == "not_ready", "agent1 signed in")
    click(screen, ".desk-ready")
    text_shown(screen, f"acknowledge the must-read bulletin '{TITLE}' first")
    assert desk.view("1001")["status"] == "not_ready"
    click(screen, ".m-bulletin-ack")
    until(lambda: not visible(screen, ".m-bulletin-ack"), "the strip acknowledged")
    click(screen, ".desk-ready")
    until(lambda: desk.view("1001")["status"] == "ready", "agent1 ready")

    receipts = p.bulletins.receipts(Actor.system(), bulletin.id)
    assert [r[0] for r in receipts.read if r[2] is not None] == ["agent1"] and "agent2" in receipts.unread

    log_in(screen, "admin", "/page/knowledge_stats")

    def bulletin_row() -> list[str] | None:
        for tr in screen.selenium.find_elements(By.CSS_SELECTOR, ".m-kbs-bulletins tbody tr"):
            cells = [td.text.strip() for td in tr.find_elements(By.TAG_NAME, "td")]
            if cells and cells[0].startswith(TITLE):
                return cells
        return None
    row = until(bulletin_row, "the bulletin's row on the statistics page")
    assert row[2:] == ["1", "1"] and int(row[1]) >= 2, row  # reaches the agents; agent1 read and acknowledged
