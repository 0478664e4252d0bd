"""A list that cannot load says why instead of keeping the previous rows (issue 13 item 16); masked columns
offer neither sorting nor a filter (item 9)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from desk_helpers import STRANGER, Caller, element, offered, ready_desktop, shown, text, until
from nicegui.testing import User
from ui_helpers import loaded_table, log_in, see

from helpline.data.query import MAX_SEARCH_LENGTH
from helpline.security.actor import Actor
from helpline.services.platform import Platform


async def test_an_over_long_search_shows_the_limit_and_no_stale_rows(user: User, ui_platform: Platform) -> None:
    await log_in(user, "admin")
    user.find("Customers").click()
    table = await loaded_table(user, "customer_no")
    box = user.find(marker="quick-search").elements.pop()
    assert str(box.props.get("maxlength")) == str(MAX_SEARCH_LENGTH), "the browser stops typing at the limit"
    user.find(marker="quick-search").type("1" * 100_000)  # a client that ignores maxlength
    await see(user, f"at most {MAX_SEARCH_LENGTH} characters")
    error = user.find(marker="list-error").elements.pop()
    assert error.visible and "could not be loaded" in error.text
    assert table.rows == [] and table.pagination["rowsNumber"] == 0, "the previous result is not kept"
    user.find(marker="quick-search").clear()
    for _ in range(100):
        if table.rows:
            break
        await asyncio.sleep(0.05)
    assert table.rows and not error.visible


async def test_masked_columns_cannot_be_sorted_or_filtered(user: User, ui_platform: Platform) -> None:
    ui_platform.records.create(Actor.system(), "contact_record", {"serial_no": "SN-1", "caller_number": "18012344449"})
    await log_in(user, "qa1")
    user.find("Contact records").click()
    table = await loaded_table(user, "caller_number")
    columns = {c["name"]: c for c in table.columns}
    assert columns["caller_number"]["sortable"] is False and columns["serial_no"].get("sortable") is not False
    assert table.rows[0]["caller_number"] == "180****4449"
    user.find(marker="quick-search").type("18012344449")
    await see(user, "0 records")
    assert table.rows == []


async def test_columns_stay_sortable_where_nothing_is_masked(user: User, ui_platform: Platform) -> None:
    ui_platform.records.create(Actor.system(), "contact_record", {"serial_no": "SN-1", "caller_number": "18012344449"})
    await log_in(user, "admin")
    user.find("Contact records").click()
    table = await loaded_table(user, "caller_number")
    assert next(c for c in table.columns if c["name"] == "caller_number")["sortable"] is not False
    user.find(marker="quick-search").type("2344449")
    await see(user, "1 records")
    assert [r["caller_number"] for r in table.rows] == ["18012344449"], "any part of a number is found"


async def test_the_desktop_customer_search_says_when_the_text_is_too_long(user: User, desk: Any,
                                                                         ui_platform: Platform,
                                                                         callers: list[Caller]) -> None:
    await ready_desktop(user, desk)
    await offered(user, desk, ui_platform, callers, STRANGER)
    await user.should_see(marker="pop-unknown", retries=100)
    assert str(element(user, "pop-search").props.get("maxlength")) == str(MAX_SEARCH_LENGTH)
    element(user, "pop-search").value = "1" * 100_000
    user.find(marker="pop-search-go").click()
    await until(lambda: shown(user, "pop-search-error"))
    assert f"at most {MAX_SEARCH_LENGTH} characters" in text(user, "pop-search-error")


async def test_a_query_input_on_a_masked_field_is_disabled_for_qa(user: User, ui_platform: Platform,
                                                                  demo_metadata: Path) -> None:
    (demo_metadata / "queries" / "customers_by_phone.yaml").write_text(
        "kind: query\nname: customers_by_phone\nentity: customer\ntitle: {en: By phone, zh_CN: 按电话}\n"
        "inputs:\n  - {name: phone, field: phone, op: starts_with, label: {en: Phone, zh_CN: 电话}}\n"
        "  - {name: tier, field: value_tier, op: in, widget: category, label: {en: Tier, zh_CN: 层次}}\n"
        "columns: [customer_no, phone]\n", encoding="utf-8")
    menu = demo_metadata / "menus" / "main.yaml"
    menu.write_text(menu.read_text(encoding="utf-8") + "  - {name: by_phone, parent: queries, query: "
                    "customers_by_phone, label: {en: By phone, zh_CN: 按电话}}\n", encoding="utf-8")
    ui_platform.store.sync_files(demo_metadata)
    await log_in(user, "qa1", path="/query/customers_by_phone")
    await user.should_see(marker="run-query", retries=50)
    phone = user.find(marker="input-phone").elements.pop()
    assert not phone.enabled and "masked" in str(phone.props.get("hint"))
    assert user.find(marker="input-tier").elements.pop().enabled


async def test_agent_cannot_open_the_contact_record_of_an_out_of_region_caller(user: User,
                                                                                ui_platform: Platform) -> None:
    """The issue's case: agent1 opened contact record 241 of a Yiyang customer and saw the caller's number."""
    from helpline.data.database import session
    from helpline.security.audit import search_audit

    system = Actor.system()
    yiyang = ui_platform.records.create(system, "customer", {"customer_no": "YY1", "name": "益阳客户",
                                                             "city": "yiyang", "phone": "13712344449"}).id
    record = ui_platform.records.create(system, "contact_record", {"serial_no": "SN-YY", "customer": yiyang,
                                                                   "caller_number": "13712344449"}).id
    await log_in(user, "agent1", path=f"/record/contact_record_form/{record}")
    await see(user, "Not found")
    await user.should_not_see("13712344449")
    with session():
        denied = search_audit(actor="agent1", action="denied", entity="contact_record")
    assert [e["record_id"] for e in denied] == [str(record)]
