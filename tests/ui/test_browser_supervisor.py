"""The supervisor console in real headless Chromium at a laptop's 1366×768: an agent's status chip shows its
whole text in English ("Not ready · Offered call not answered"), not cut off. The page is waited for with the
browser helpers' generous timeout (a loaded 2-core machine); the chips are measured once both are drawn."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import log_in, patient_browser, text_shown, until, visible  # noqa: F401 - a fixture
from nicegui.testing import Screen
from selenium.webdriver.remote.webelement import WebElement

pytestmark = pytest.mark.browser


def test_status_chips_are_not_cut_off_in_english(patient_browser: Screen, desk: Any) -> None:  # noqa: F811
    screen = patient_browser
    desk.router.do(lambda r: r.sign_in("1001", ready=False, reason="no_answer"))
    desk.router.do(lambda r: r.sign_in("1002", ready=False, reason="meal"))
    screen.selenium.set_window_size(1366, 768)
    log_in(screen, "supervisor1", "/supervisor")
    text_shown(screen, "Not ready · Offered call not answered")

    def both_drawn() -> list[WebElement]:
        shown = visible(screen, ".hl-sv-status")
        return shown if sum(bool(c.text) for c in shown) >= 2 else []
    chips = until(both_drawn, "both agents' status chips")
    for chip in chips:
        clipped = screen.selenium.execute_script(
            "const e = arguments[0]; return e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1",
            chip)
        assert chip.text and not clipped, chip.text
    # the chip stays inside its row: the state chip that follows does not overlap it
    right, state = screen.selenium.execute_script(
        "const e = arguments[0]; return [e.getBoundingClientRect().right,"
        " e.parentElement.children[3].getBoundingClientRect().left]", chips[0])
    assert right <= state
