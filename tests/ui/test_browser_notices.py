"""In real headless Chromium: a notice written on a worker thread (as a transition writes it) reaches the open
page's bell over the websocket without a reload, and the bell opens the notices page."""

from __future__ import annotations

import threading
import time

import pytest
from browser_helpers import quick_log_in
from nicegui.testing import Screen
from selenium.webdriver.common.by import By

from helpline.data.database import session, write_transaction
from helpline.services.notices import notify
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser


def bell_text(screen: Screen) -> str:
    found = screen.selenium.find_elements(By.CSS_SELECTOR, ".notice-count")
    return found[0].text.strip() if found and found[0].is_displayed() else ""


def test_the_bell_is_pushed_live_in_chromium(screen: Screen, ui_platform: Platform) -> None:
    quick_log_in(screen, "agent1", (1366, 768))
    assert bell_text(screen) == ""

    def work() -> None:
        with session(), write_transaction():
            notify(["agent1"], "Order WO-7 was forwarded to you", kind="custom")
    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    deadline = time.monotonic() + 10  # the poll is every 30 s: only the push can make it in time
    while bell_text(screen) != "1" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert bell_text(screen) == "1"
    screen.find_by_css(".notice-bell").click()
    screen.should_contain("Order WO-7 was forwarded to you")
