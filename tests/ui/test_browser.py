"""Key flows in real headless Chromium (Debian's chromium and chromium-driver): an administrator signs in,
opens a menu item, creates a customer, finds it in the list, opens and edits it; and a query screen with a
2-D result. Every step polls for its condition with the browser helpers' generous timeout (a loaded machine)."""

from __future__ import annotations

import pytest
from browser_helpers import (  # noqa: F401 - patient_browser is a fixture
    center,
    click,
    element,
    log_in,
    patient_browser,
    text_shown,
    type_into,
    until,
    visible,
)
from nicegui.testing import Screen

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser


def click_first(screen: Screen, css: str, text: str) -> None:
    """Click the first visible element matching ``css`` whose text has ``text``, once there is one."""
    def attempt() -> bool:
        found = [e for e in visible(screen, css) if text in e.text]
        if found:
            center(screen, found[0])
            found[0].click()
        return bool(found)
    until(attempt, f"click {css} with {text!r}")


def test_create_find_and_edit_a_customer(patient_browser: Screen, ui_platform: Platform) -> None:  # noqa: F811
    screen = patient_browser
    log_in(screen, "admin")
    click(screen, ".menu-main-customers")
    click(screen, ".new-record")  # on the list, once shown
    text_shown(screen, "New Customer")
    type_into(screen, ".field-customer_no", "WEB0001")
    type_into(screen, ".field-name", "诸葛亮")
    type_into(screen, ".field-phone", "13712345678")
    click(screen, ".save-button")
    text_shown(screen, "Saved")
    model = ui_platform.models["customer"]
    with session():
        created = model.get(model.customer_no == "WEB0001")
    assert created.name == "诸葛亮" and created.phone == "13712345678"

    click_first(screen, ".q-tab", "Customers")  # back to the list tab, still open
    type_into(screen, ".quick-search", "WEB0001", leave="")  # the list searches 0.4 s after the last key
    click_first(screen, "tbody tr", "WEB0001")
    text_shown(screen, "Customer: 诸葛亮")
    type_into(screen, ".field-address", "隆中")
    click(screen, ".save-button")

    def address() -> str:
        with session():
            return str(model.get_by_id(created.id).address)
    until(lambda: address() == "隆中", "the address saved")


def test_query_screen_with_a_two_dimensional_result(patient_browser: Screen,  # noqa: F811
                                                    ui_platform: Platform) -> None:
    screen = patient_browser
    system = Actor.system()
    customer = ui_platform.records.create(system, "customer", {"customer_no": "B1", "name": "赵云"}).id
    # service requests and suggestions follow no process: the statuses given are kept
    for i, (kind, status) in enumerate([("acceptance", "new"), ("acceptance", "closed"), ("suggestion", "new")]):
        ui_platform.records.create(system, "work_order", {"order_no": f"B-{i}", "customer": customer, "type": kind,
                                                          "status": status, "title": "t"})
    log_in(screen, "supervisor1")
    click(screen, ".menu-main-work_orders_by_type_status")
    click(screen, ".run-query")
    text_shown(screen, "Service request")
    text = element(screen, ".pivot-table").text
    assert "Suggestion" in text and "Closed" in text and "Total" in text
    cells = [c.text for c in visible(screen, ".pivot-table tbody tr:last-child td")]
    assert cells[0] == "Total" and cells[-1] == "3"
    element(screen, ".query-chart")
