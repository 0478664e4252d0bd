"""In real headless Chromium: a notice written on a worker thread (as a transition writes it) reaches the open
page's bell over the websocket without a reload, and the bell opens the notices page. The slow poll is turned
off for the test (only the push can raise the count), so the wait for the count can be generous."""

from __future__ import annotations

import threading

import pytest
from browser_helpers import click, log_in, patient_browser, text_shown, until, visible  # noqa: F401
from nicegui.testing import Screen

from helpline.data.database import session, write_transaction
from helpline.services.notices import notify
from helpline.services.platform import Platform
from helpline.ui import live_notices

pytestmark = pytest.mark.browser


def bell_text(screen: Screen) -> str:
    shown = visible(screen, ".notice-count")
    return shown[0].text.strip() if shown else ""


def write(text: str) -> None:
    with session(), write_transaction():
        notify(["agent1"], text, kind="custom")


def test_the_bell_is_pushed_live_in_chromium(patient_browser: Screen, ui_platform: Platform,  # noqa: F811
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    screen = patient_browser
    monkeypatch.setattr(live_notices, "POLL_S", 3600.0)  # no re-count but the push within the test
    write("Order WO-6 was forwarded to you")
    screen.selenium.set_window_size(1366, 768)
    log_in(screen, "agent1")
    until(lambda: bell_text(screen) == "1", "the bell's first count")  # counted when the page opened

    thread = threading.Thread(target=write, args=("Order WO-7 was forwarded to you",))
    thread.start()
    thread.join(30)
    until(lambda: bell_text(screen) == "2", "the pushed count")
    click(screen, ".notice-bell")
    text_shown(screen, "Order WO-7 was forwarded to you")
