"""Forms with numbering series and tabs: a new work order and a new customer are saved from the UI and
numbered by the server; a tab holding an error shows a badge and Save opens the first error's tab."""

from __future__ import annotations

import asyncio
from datetime import datetime

from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services.platform import Platform


def field(user: User, name: str) -> ui.element:
    return user.find(marker=f"field-{name}").elements.pop()


def badge(user: User, tab: str) -> ui.badge:
    """The error badge of ``tab`` (hidden ones too: ``user.find`` skips those)."""
    assert user.client is not None
    (found,) = [e for e in user.client.layout.descendants() if f"tab-errors-{tab}" in e._markers]
    assert isinstance(found, ui.badge)
    return found


async def value_of(user: User, name: str) -> object:
    for _ in range(100):  # the form is rebuilt after the save
        value = field(user, name).value
        if value:
            return value
        await asyncio.sleep(0.05)
    return None


async def test_a_new_work_order_is_saved_and_numbered(user: User, ui_platform: Platform) -> None:
    await log_in(user, "admin", path="/record/work_order_form/new")
    await user.should_see(marker="field-title", retries=100)
    assert field(user, "order_no").props.get("readonly") is not None or field(user, "order_no").props.get(
        "readonly") == ""
    assert field(user, "order_no").props["hint"] == "Assigned when saved"
    field(user, "type").value = "fault"
    field(user, "title").value = "No signal since this morning"
    user.find(marker="save").click()
    await see(user, "Saved")
    expected = "WO" + datetime.now().strftime("%Y%m%d") + "00001"
    assert await value_of(user, "order_no") == expected
    model = ui_platform.models["work_order"]
    with session():
        assert model.get(model.order_no == expected).title == "No signal since this morning"


async def test_a_new_customer_gets_the_next_customer_no(user: User, ui_platform: Platform) -> None:
    await log_in(user, "admin", path="/record/customer_form/new")
    await user.should_see(marker="field-name", retries=100)
    field(user, "name").value = "诸葛亮"
    user.find(marker="save").click()
    await see(user, "Saved")
    assert await value_of(user, "customer_no") == "HN00000031"  # after the 30 demo customers HN00000001..30


async def test_the_tab_holding_an_error_shows_a_badge_and_save_opens_it(user: User, ui_platform: Platform) -> None:
    await log_in(user, "admin", path="/record/customer_form/new")
    await user.should_see(marker="field-name", retries=100)
    panels = user.find(marker="form-tab-panels").elements.pop()  # not the shell's own tab panels
    assert not badge(user, "Service").visible and not badge(user, "Customer").visible
    field(user, "name").value = "张飞"
    field(user, "smart_card_no").value = "8" * 40  # at most 32: on the Service tab
    panels.set_value("More")  # the user is on another tab
    user.find(marker="save").click()
    await see(user, "Some fields need attention.")
    assert badge(user, "Service").visible and badge(user, "Service").text == "1"
    assert not badge(user, "Customer").visible and not badge(user, "More").visible
    assert panels.value == "Service"
    # an error found by the server (a smart card number another customer has) is marked the same way
    taken = ui_platform.records.create(Actor.system(), "customer", {"name": "刘备", "smart_card_no": "8230001"})
    field(user, "smart_card_no").value = taken.values["smart_card_no"]
    panels.set_value("Customer")
    user.find(marker="save").click()
    for _ in range(100):
        if panels.value == "Service":
            break
        await asyncio.sleep(0.05)
    assert panels.value == "Service" and badge(user, "Service").visible
    assert "already used" in (field(user, "smart_card_no").error or "")
    field(user, "smart_card_no").value = "8230002"
    user.find(marker="save").click()
    await see(user, "Saved")
