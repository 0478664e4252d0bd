"""Key flows in real headless Chromium (Debian's chromium and chromium-driver): an administrator signs in,
opens a menu item, creates a customer, finds it in the list, opens and edits it; and a query screen with a
2-D result."""

from __future__ import annotations

import pytest
from browser_helpers import press, quick_log_in
from nicegui.testing import Screen
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser


def fill(screen: Screen, field: str, value: str) -> None:
    element = screen.find_by_css(f".field-{field} input")
    screen.selenium.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(value)


def test_create_find_and_edit_a_customer(screen: Screen, ui_platform: Platform) -> None:
    quick_log_in(screen, "admin")
    screen.find_by_css(".menu-main-customers").click()
    screen.should_contain("Export to Excel")
    press(screen, ".new-record")
    screen.should_contain("New Customer")
    fill(screen, "customer_no", "WEB0001")
    fill(screen, "name", "诸葛亮")
    fill(screen, "phone", "13712345678")
    press(screen, ".save-button")
    screen.should_contain("Saved")
    model = ui_platform.models["customer"]
    with session():
        created = model.get(model.customer_no == "WEB0001")
    assert created.name == "诸葛亮" and created.phone == "13712345678"

    screen.click("Customers")  # back to the list tab, still open
    search = screen.find_by_css(".quick-search input")
    search.send_keys("WEB0001")
    screen.wait(1.0)
    screen.should_contain("诸葛亮")
    row = next(r for r in screen.selenium.find_elements(By.CSS_SELECTOR, "tbody tr") if "WEB0001" in r.text)
    row.click()
    screen.should_contain("Customer: 诸葛亮")
    fill(screen, "address", "隆中")
    press(screen, ".save-button")
    screen.should_contain("Saved")
    with session():
        assert model.get_by_id(created.id).address == "隆中"


def test_query_screen_with_a_two_dimensional_result(screen: Screen, ui_platform: Platform) -> None:
    system = Actor.system()
    customer = ui_platform.records.create(system, "customer", {"customer_no": "B1", "name": "赵云"}).id
    # service requests and suggestions follow no process: the statuses given are kept
    for i, (kind, status) in enumerate([("acceptance", "new"), ("acceptance", "closed"), ("suggestion", "new")]):
        ui_platform.records.create(system, "work_order", {"order_no": f"B-{i}", "customer": customer, "type": kind,
                                                          "status": status, "title": "t"})
    quick_log_in(screen, "supervisor1")
    screen.find_by_css(".menu-main-work_orders_by_type_status").click()
    press(screen, ".run-query")
    screen.should_contain("Service request")
    table = screen.find_by_css(".pivot-table")
    text = table.text
    assert "Suggestion" in text and "Closed" in text and "Total" in text
    cells = [c.text for c in table.find_elements(By.CSS_SELECTOR, "tbody tr:last-child td")]
    assert cells[0] == "Total" and cells[-1] == "3"
    assert screen.find_by_css(".query-chart")
