"""Generated lists: server-side paging and sorting, quick search, filters, row scope, masks, export."""

from __future__ import annotations

import asyncio
import io

from nicegui import ui
from nicegui.testing import User
from openpyxl import load_workbook
from ui_helpers import loaded_table, log_in, see

from helpline.data.database import session
from helpline.data.query import ListQuery
from helpline.security.actor import Actor
from helpline.security.audit import search_audit
from helpline.services.platform import Platform


async def open_customers(user: User, who: str = "admin") -> ui.table:
    await log_in(user, who)
    user.find("Customers").click()
    return await loaded_table(user, "customer_no")


async def test_server_side_paging_and_sorting(user: User, ui_platform: Platform) -> None:
    t = await open_customers(user)
    assert t.pagination["rowsNumber"] == 30
    assert len(t.rows) == min(30, t.pagination["rowsPerPage"])
    await request_page(t, {"pagination": {"page": 2, "rowsPerPage": 10, "sortBy": "customer_no", "descending": True}})
    assert [r["customer_no"] for r in t.rows] == [f"HN{i:08d}" for i in range(20, 10, -1)]
    assert t.pagination["page"] == 2 and t.pagination["rowsNumber"] == 30


async def request_page(t: ui.table, args: dict) -> None:
    """What the browser sends when one pages or sorts; wait until the server answered."""
    first_before = t.rows[0]["id"] if t.rows else None
    for listener in t._event_listeners.values():
        if listener.type == "request":
            from nicegui.events import GenericEventArguments, handle_event

            handle_event(listener.handler, GenericEventArguments(sender=t, client=t.client, args=args))
    for _ in range(100):
        await asyncio.sleep(0.05)
        if t.pagination.get("page") == args["pagination"]["page"] and (not t.rows or t.rows[0]["id"] != first_before):
            return


async def test_quick_search_and_filters(user: User, ui_platform: Platform) -> None:
    t = await open_customers(user)
    first = t.rows[0]
    user.find(marker="quick-search").type(first["customer_no"])
    await see(user, "1 records")
    assert [r["customer_no"] for r in t.rows] == [first["customer_no"]]


async def test_row_scope_in_the_list(user: User, ui_platform: Platform) -> None:
    t = await open_customers(user, "agent1")
    regions = {"长沙市", "株洲市", "湘潭市"}
    assert t.rows and all(r["city"] in regions for r in t.rows)
    admin_total = ui_platform.records.list_page(Actor.system(), ListQuery(entity="customer")).total
    assert t.pagination["rowsNumber"] < admin_total


async def test_masks_for_qa(user: User) -> None:
    t = await open_customers(user, "qa1")
    phones = [r["phone"] for r in t.rows if r["phone"]]
    assert phones and all("****" in p for p in phones)


async def test_row_click_opens_the_form(user: User) -> None:
    t = await open_customers(user)
    row = t.rows[0]
    for listener in t._event_listeners.values():
        if listener.type == "rowClick":
            from nicegui.events import GenericEventArguments, handle_event

            handle_event(listener.handler, GenericEventArguments(sender=t, client=t.client, args=[{}, row, 0]))
    await user.should_see(marker="field-customer_no", retries=50)
    assert user.find(marker="field-customer_no").elements.pop().value == row["customer_no"]
    with session():
        reads = search_audit(actor="admin", action="read", entity="customer")
    assert reads and reads[0]["record_id"] == str(row["id"])


async def test_export_to_excel_is_formula_safe(user: User, ui_platform: Platform) -> None:
    ui_platform.records.create(Actor.system(), "customer", {"customer_no": "X1", "name": "=HYPERLINK(\"x\")",
                                                            "city": "changsha"})
    await open_customers(user)
    user.find(marker="export").click()
    response = await user.download.next()
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert len(values) == 32  # header + 31 customers
    cells = [c for row in ws.iter_rows() for c in row if c.value == '=HYPERLINK("x")']
    assert cells and cells[0].data_type == "s"
    with session():
        assert search_audit(actor="admin", action="export")
