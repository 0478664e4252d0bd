"""The supervisor console in real headless Chromium at a laptop's 1366×768: an agent's status chip shows its
whole text in English ("Not ready · Offered call not answered"), not cut off."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import quick_log_in
from nicegui.testing import Screen

pytestmark = pytest.mark.browser


def test_status_chips_are_not_cut_off_in_english(screen: Screen, desk: Any) -> None:
    desk.router.do(lambda r: r.sign_in("1001", ready=False, reason="no_answer"))
    desk.router.do(lambda r: r.sign_in("1002", ready=False, reason="meal"))
    quick_log_in(screen, "supervisor1")
    screen.selenium.set_window_size(1366, 768)
    screen.open("/supervisor")
    screen.should_contain("Not ready · Offered call not answered")
    chips = screen.find_all_by_class("hl-sv-status")
    assert len(chips) >= 2
    for chip in chips:
        clipped = screen.selenium.execute_script(
            "const e = arguments[0]; return e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1",
            chip)
        assert chip.text and not clipped, chip.text
    # the chip stays inside its row: the state chip that follows does not overlap it
    status = screen.find_by_css(".hl-sv-status")
    right = screen.selenium.execute_script("return arguments[0].getBoundingClientRect().right", status)
    state = screen.selenium.execute_script(
        "return arguments[0].parentElement.children[3].getBoundingClientRect().left", status)
    assert right <= state
