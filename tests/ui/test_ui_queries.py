"""Query screens: inputs, AND/OR logic with optional inputs dropping out, required inputs, a 2-D table
with a chart, Excel export, and the audit of customer queries."""

from __future__ import annotations

import asyncio
import io

from nicegui import ui
from nicegui.testing import User
from openpyxl import load_workbook
from ui_helpers import log_in, tables_with

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.security.audit import search_audit
from helpline.services.platform import Platform

SYSTEM = Actor.system()


def seed(p: Platform) -> None:
    rows = [("Q1", "gold", "changsha", None, "in_use"), ("Q2", "gold", "yueyang", "changsha_01", "in_use"),
            ("Q3", "gold", "yueyang", None, "dormant"), ("Q4", "platinum", "changsha", None, "in_use"),
            ("Q5", "silver", "changsha", None, "in_use")]
    for no, tier, city, county, life in rows:
        p.records.create(SYSTEM, "customer", {"customer_no": no, "name": no, "value_tier": tier, "city": city,
                                              "county": county, "lifecycle": life})


async def open_query(user: User, name: str, who: str = "admin") -> None:
    await log_in(user, who, path=f"/query/{name}")
    await user.should_see(marker="run-query", retries=50)


def inputs(user: User) -> dict[str, ui.element]:
    return {m: user.find(marker=f"input-{m}").elements.pop() for m in ("tier", "city", "county", "lifecycle")}


async def results(user: User) -> list[str]:
    for _ in range(100):
        tables = tables_with(user, "customer_no")
        if tables:
            return sorted(r["customer_no"] for r in tables[-1].rows if r["customer_no"].startswith("Q"))
        await asyncio.sleep(0.05)
    raise AssertionError("no result table")


async def test_and_or_logic_with_optional_inputs_dropping_out(user: User, ui_platform: Platform) -> None:
    seed(ui_platform)
    await open_query(user, "customers_by_tier")
    w = inputs(user)
    w["tier"].value = ["gold"]
    w["city"].value = "changsha"
    w["county"].value = "changsha_01"
    w["lifecycle"].value = ["in_use"]
    user.find(marker="run-query").click()
    assert await results(user) == ["Q1", "Q2"]  # gold and (changsha or changsha_01) and in use
    w["city"].value = None
    w["county"].value = None
    w["lifecycle"].value = []
    user.find(marker="run-query").click()
    await asyncio.sleep(0.3)
    assert await results(user) == ["Q1", "Q2", "Q3"]  # the region and lifecycle inputs dropped out
    with session():
        entries = search_audit(actor="admin", action="query", entity="customer")
    assert entries and entries[0]["detail"]["where"] == ["value_tier", "in", ["gold"]]


async def test_required_input(user: User) -> None:
    await open_query(user, "customers_by_tier")
    user.find(marker="run-query").click()
    for _ in range(50):
        if inputs(user)["tier"].error:
            break
        await asyncio.sleep(0.05)
    assert inputs(user)["tier"].error == "Fill in Tier"


async def test_two_dimensional_result_with_chart_and_export(user: User, ui_platform: Platform) -> None:
    customer = ui_platform.records.create(SYSTEM, "customer", {"customer_no": "P1", "name": "张飞"}).id
    # service requests and suggestions follow no process, so the statuses given are kept
    for i, (kind, status) in enumerate([("acceptance", "new"), ("acceptance", "new"), ("acceptance", "closed"),
                                        ("suggestion", "new")]):
        ui_platform.records.create(SYSTEM, "work_order", {"order_no": f"P-{i}", "customer": customer, "type": kind,
                                                          "status": status, "title": "t"})
    await open_query(user, "work_orders_by_type_status")
    user.find(marker="run-query").click()
    for _ in range(100):
        pivots = tables_with(user, "_row")
        if pivots:
            break
        await asyncio.sleep(0.05)
    pivot = pivots[-1]
    labels = {c["name"]: c["label"] for c in pivot.columns}
    by_row = {r["_row"]: {labels[k]: v for k, v in r.items() if k != "_row"} for r in pivot.rows}
    assert by_row["Service request"]["New"] == 2 and by_row["Service request"]["Closed"] == 1
    assert by_row["Suggestion"]["New"] == 1 and by_row["Total"]["Total"] == 4
    assert user.find(ui.echart).elements
    user.find(marker="query-export").click()
    response = await user.download.next()
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0][0] in (None, "") and "Total" in rows[0]
    assert any(r[0] == "Service request" for r in rows)
