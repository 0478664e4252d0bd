"""Helpers of the real-Chromium tests (tests/ui/test_browser_*.py): signing in, finding, clicking, typing and
choosing with retries on a loaded machine, waiting for text.

NiceGUI's ``.mark(...)`` markers are not rendered in the page; the autouse fixture :func:`markers_as_classes`
(imported into a test module, it applies to that module) adds each marker as the CSS class ``m-<marker>`` too, so
Selenium finds widgets by the same names their ``user``-fixture tests use. :func:`patient_browser` gives pages
time to load on a loaded machine."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from nicegui.element import Element
from nicegui.testing import Screen
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from ui_helpers import PASSWORD

from helpline.security.actor import Actor
from helpline.services.designer.drafts import DraftService
from helpline.services.platform import Platform

TIMEOUT = 30.0
"""Seconds any one step may take (a loaded 2-core machine: publishing migrates and reloads everything)."""
FLAKY = (StaleElementReferenceException, ElementClickInterceptedException, ElementNotInteractableException,
         NoSuchElementException)
"""What a step retries: the designers rebuild their forms after edits, so an element found a moment ago
may be gone or covered while the new one is drawn."""


@pytest.fixture(autouse=True)
def markers_as_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``element.mark("x y")`` also adds the classes ``m-x m-y`` (characters a class name cannot
    hold become ``_``)."""
    original = Element.mark

    def mark(self: Element, *markers: str) -> Element:
        original(self, *markers)
        self.classes(" ".join("m-" + re.sub(r"[^A-Za-z0-9_-]", "_", m) for m in self._markers))
        return self

    monkeypatch.setattr(Element, "mark", mark)


@pytest.fixture
def patient_browser(screen: Screen) -> Iterator[Screen]:
    """The browser with room for a loaded machine: a page may take longer than NiceGUI's 4 s to load."""
    screen.selenium.set_window_size(1600, 1200)
    screen.selenium.set_page_load_timeout(TIMEOUT)
    try:
        yield screen
    finally:
        screen.selenium.set_page_load_timeout(4)


def until(check: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    """Poll ``check`` until it answers something true (retrying the flaky Selenium errors)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
            if found:
                return found
        except FLAKY:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:.0f} s: {what}")
        time.sleep(0.2)  # the server runs in this process: polling less leaves it the CPU


def visible(screen: Screen, css: str) -> list[WebElement]:
    with screen.implicitly_wait(0):
        return [e for e in screen.selenium.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]


def text_of(screen: Screen, css: str) -> str:
    """The text of the (last) visible element matching ``css``, "" while there is none (for a check polled by
    :func:`until`: it does not wait itself)."""
    shown = visible(screen, css)
    return shown[-1].text if shown else ""


def element(screen: Screen, css: str) -> WebElement:
    """The (last) visible element matching ``css``, once there is one."""
    return until(lambda: visible(screen, css), f"{css} shown")[-1]


def center(screen: Screen, e: WebElement) -> None:
    screen.selenium.execute_script("arguments[0].scrollIntoView({block: 'center'})", e)


def click(screen: Screen, css: str) -> None:
    """Scroll the element clear of the fixed header, then click it."""
    def attempt() -> bool:
        e = element(screen, css)
        center(screen, e)
        e.click()
        return True
    until(attempt, f"click {css}")


def type_into(screen: Screen, css: str, text: str, leave: str = Keys.TAB) -> None:
    """Replace the text of the input (or textarea) inside ``css`` and leave it (the designers save on
    blur)."""
    def attempt() -> bool:
        box = element(screen, f"{css} input, {css} textarea")
        center(screen, box)
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE)
        box.send_keys(text)
        if leave:
            box.send_keys(leave)
        return True
    until(attempt, f"type into {css}")


def choose(screen: Screen, css: str, option: str, *, typed: str = "", close: bool = False) -> None:
    """Open the Quasar select ``css`` (typing ``typed`` into its filter, if any) and click the option whose
    text contains ``option``; ``close`` presses Escape afterwards (a multiple select stays open). A select
    whose options are still being loaded is closed and opened again."""
    def attempt() -> bool:
        field = element(screen, css)
        center(screen, field)
        field.click()
        if typed:
            box = field.find_element(By.CSS_SELECTOR, "input")
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(typed)
        try:
            item = until(lambda: [i for i in visible(screen, ".q-menu .q-item") if option in i.text],
                         f"option {option!r} of {css}", timeout=3)[0]
        except AssertionError:
            screen.selenium.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
            return False
        center(screen, item)
        item.click()
        if close:
            screen.selenium.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        return True
    until(attempt, f"choose {option!r} in {css}")


def gone(e: WebElement) -> bool:
    """Whether the page no longer has ``e`` (the designer rebuilt its form)."""
    try:
        e.is_enabled()
        return False
    except StaleElementReferenceException:
        return True


def text_shown(screen: Screen, text: str, timeout: float = TIMEOUT) -> None:
    until(lambda: text in screen.selenium.find_element(By.TAG_NAME, "body").text, f"{text!r} shown", timeout)


def publish(screen: Screen, comment: str) -> None:
    """Write the revision comment and publish all the administrator's drafts."""
    type_into(screen, ".m-designer-comment", comment, leave="")
    click(screen, ".m-designer-publish")
    text_shown(screen, "Published as revision")
    until(lambda: not visible(screen, ".m-designer-draft"), "the designer shows the live revision")


def log_in(screen: Screen, username: str, path: str = "/") -> None:
    """Sign ``username`` in (the demo password) with retried steps and wait for the page at ``path``."""
    screen.open(f"/login?redirect_to={path}", timeout=TIMEOUT)
    type_into(screen, ".username", username, leave="")
    type_into(screen, ".password", PASSWORD, leave="")
    click(screen, ".login-submit")
    element(screen, ".logout")


def open_object(screen: Screen, kind: str, name: str) -> None:
    """On the designer page: choose the kind on the left, then the object."""
    choose(screen, ".m-designer-kind", kind)
    click(screen, f".designer-object-{name}")
    until(lambda: element(screen, ".m-designer-title").text.endswith(f" · {name}"), f"{name} opened")


def draft(p: Platform, kind: str, name: str) -> dict[str, Any]:
    """The administrator's draft (else the live object) — to wait until an edit is saved."""
    admin = Actor("admin", roles=("administrator",)).bind(p.metadata)
    return DraftService(p).open(admin, kind, name).data or {}
