"""Work orders from the agent desktop: a new order from the call is pre-filled (contact serial no., customer,
caller number, city, the type and title from the category chosen on the contact record, the IVR trail in the
description), and the pop shows the customer's open orders with their process's state and the time left."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from desk_helpers import GOLD, Caller, element, field, form_values, offered, ready_desktop, shown, talking, text, until
from nicegui import ui
from nicegui.testing import User
from test_ui_workflow import with_flow

from helpline.data.base import utcnow
from helpline.data.database import session
from helpline.data.workflow import WorkflowInstance
from helpline.security.actor import Actor
from helpline.services.platform import Platform
from telephony.desk.orders import order_from_call


async def test_a_work_order_from_the_call_is_prefilled(user: User, desk: Any, ui_platform: Platform,
                                                       callers: list[Caller], gold_customer: int) -> None:
    await ready_desktop(user, desk)
    await talking(user, desk, ui_platform, callers)
    serial = text(user, "pop-serial")
    await until(lambda: shown(user, "desk-file"))
    field(user, "complaint_types").value = ["fault_no_signal"]  # chosen on the contact form, not saved yet
    user.find(marker="shortcut-work_order").click()
    await until(lambda: shown(user, "field-order_no"))
    order = form_values(user, "order_no")
    assert order["contact"] == serial and order["customer"] == gold_customer and order["agent"] == "agent1"
    assert order["caller_number"] == GOLD and order["city"] == "changsha"
    assert order["type"] == "fault" and order["title"] == "No signal"
    assert f"Caller number: {GOLD}" in order["description"]
    assert "main_menu (menu) 0 → to_agent" in order["description"]  # the IVR trail


async def test_the_pop_shows_open_orders_with_state_and_time_left(
        user: User, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int,
        demo_metadata: Path) -> None:
    p = ui_platform
    with_flow(p, demo_metadata)  # complaints follow the test's process
    agent1 = Actor("agent1", roles=("agent",), regions=("changsha",), language="en").bind(p.metadata)
    oid = p.records.create(agent1, "work_order", {"type": "complaint", "title": "Rude installer",
                                                  "customer": gold_customer, "city": "changsha"}).id
    p.workflows.take(agent1, "work_order", oid, "forward", {"department": "maint_changsha"})
    with session():
        WorkflowInstance.update(resolution_due=utcnow() + timedelta(hours=2, minutes=5)).where(
            WorkflowInstance.record_id == oid).execute()
    await ready_desktop(user, desk)
    await offered(user, desk, p, callers)
    rows = await until(lambda: element(user, "pop-orders").rows)
    row = next(r for r in rows if r["title"] == "Rude installer")
    assert row["open"] is True and row["status"] == "At the department"  # the process's words
    assert row["left"].startswith("2 h") and row["left"].endswith("left") and not row.get("overdue")
    assert rows[0]["open"]  # open orders first
    # the pop's tables are one light element each (issue 22: a ui.table cost ≈ 44 KB per desktop), the row's
    # texts escaped in it, and a click on a row (the browser sends its index) opens the order in a tab
    table = element(user, "pop-orders")
    assert isinstance(table, ui.html) and not list(table.descendants())[1:]
    assert "Rude installer" in table.content and "At the department" in table.content
    user.find(marker="pop-orders").trigger("click", rows.index(row))
    await until(lambda: shown(user, "field-order_no"))
    assert form_values(user, "order_no")["title"] == "Rude installer"


def test_order_from_call_maps_categories_and_leaves_out_what_the_entity_lacks(ui_platform: Platform) -> None:
    pop = {"customer_id": 7, "caller_number": "13800138000", "customer": {"city": "yiyang"},
           "trail": [{"node": "main_menu", "type": "menu", "digits": "2", "rule": "", "next": "to_agent"}]}
    values = order_from_call(ui_platform, pop, {"serial_no": "2026120700000001",
                                                "acceptance_types": ["apply_broadband"], "unknown_field": 1},
                             agent="agent2", language="zh_CN")
    assert values["type"] == "acceptance" and values["contact"] == "2026120700000001"
    assert values["city"] == "yiyang" and values["customer"] == 7
    assert values["description"] == "主叫号码: 13800138000\nIVR轨迹:\nmain_menu (menu) 2 → to_agent"
    assert "unknown_field" not in values
    complaint = order_from_call(ui_platform, pop, {"complaint_types": ["complaint_billing"]}, agent="agent2",
                                language="en")
    assert (complaint["type"], complaint["title"]) == ("complaint", "Billing dispute")
    assert "contact" not in complaint  # no contact record yet: no link to one
    bare = order_from_call(ui_platform, {}, None, agent="agent2")
    assert bare == {"agent": "agent2"}


def test_qa_reads_the_orders_caller_number_masked(ui_platform: Platform) -> None:
    system = Actor.system()
    oid = ui_platform.records.create(system, "work_order", {"type": "suggestion", "title": "More channels",
                                                            "caller_number": "13800138000"}).id
    qa = Actor("qa1", roles=("qa",), language="en").bind(ui_platform.metadata)
    record = ui_platform.records.get(qa, "work_order", oid)
    assert record.values["caller_number"] != "13800138000" and "caller_number" in record.masked
