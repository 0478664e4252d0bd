"""A governed record on its form (state, actions, a disabled action's reason, the dialog for required fields,
comment and confirmation, the timeline, the deadlines, a stale version), the inboxes with live counts in the
menu, and the departments page — with the simulated user, in English and Chinese."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.base import utcnow
from helpline.data.database import session
from helpline.data.system import User as UserRow
from helpline.data.workflow import DepartmentMember, WorkflowInstance
from helpline.security.actor import Actor
from helpline.services.platform import Platform

FLOW = """\
kind: workflow
name: ui_flow
label: {en: UI test flow, zh_CN: 界面测试流程}
entity: work_order
state_field: status
applies: 'record.type == complaint'
initial: new
states:
  - {name: new, label: {en: New, zh_CN: 新建}}
  - {name: dispatched, label: {en: At the department, zh_CN: 部门处理中}}
  - {name: replied, label: {en: Replied, zh_CN: 已回复}}
  - {name: closed, label: {en: Closed, zh_CN: 已闭环}, kind: closed}
transitions:
  - name: forward
    label: {en: Forward, zh_CN: 转派}
    from: [new]
    to: dispatched
    roles: [agent, technician]
    require: [department]
    assign: {to: department, field: department}
  - name: reply
    label: {en: Reply, zh_CN: 回复}
    from: [dispatched]
    to: replied
    roles: [agent, technician]
    require: [reply]
    comment: required
  - name: urgent_only
    label: {en: Escalate, zh_CN: 升级}
    from: [dispatched]
    to: dispatched
    roles: [agent, technician]
    guard: 'record.priority == urgent'
    guard_message: {en: Only urgent orders are escalated, zh_CN: 仅紧急工单可升级}
  - name: close
    label: {en: Close, zh_CN: 闭环}
    from: [replied]
    to: closed
    roles: [agent]
    confirm: {en: Close this order for good?, zh_CN: 确定闭环？}
"""


def with_flow(p: Platform, folder: Path) -> None:
    """Publish the test's process from the test's private metadata copy."""
    (folder / "workflows").mkdir(exist_ok=True)
    (folder / "workflows" / "ui_flow.yaml").write_text(FLOW, encoding="utf-8")
    report = p.store.sync_files(folder)
    assert not report.problems, [x.format() for x in report.problems]


def agent(p: Platform) -> Actor:
    return Actor("agent1", roles=("agent",), regions=("changsha",), language="en").bind(p.metadata)


def new_order(p: Platform, **values: Any) -> int:
    base = {"type": "complaint", "title": "No signal in Yuelu", "city": "changsha", "priority": "normal"}
    return p.records.create(agent(p), "work_order", {**base, **values}).id


def marked(user: User, marker: str) -> Any:
    return next(iter(user.find(marker=marker).elements))


def hidden_or_not(user: User, marker: str) -> Any:
    """The element with ``marker``, shown or not (``find`` sees only shown ones)."""
    return next(e for e in user.client.elements.values() if marker in e._markers)


async def test_form_shows_state_actions_timeline_and_takes_an_action(
        user: User, ui_platform: Platform, demo_metadata: Path) -> None:
    p = ui_platform
    with_flow(p, demo_metadata)
    oid = new_order(p)
    p.workflows.take(agent(p), "work_order", oid, "forward", {"department": "maintenance"}, comment="line fault")
    now = utcnow()
    with session():
        WorkflowInstance.update(response_due=now - timedelta(minutes=4), resolution_due=now + timedelta(minutes=50)
                                ).where(WorkflowInstance.record_id == oid).execute()
    await log_in(user, "agent1", path=f"/record/work_order_form/{oid}")
    await user.should_see(marker="process-bar", retries=100)
    assert marked(user, "process-state").text == "At the department"
    assert marked(user, "step-forward").props["title"] == "Forward: New → At the department"  # the timeline
    await user.should_see("line fault")
    escalate = marked(user, "action-urgent_only")
    assert not escalate.enabled
    await user.should_see("Only urgent orders are escalated")  # the reason, shown as a caption
    status = marked(user, "field-status").props
    assert status.get("disable") or status.get("readonly"), "the state field moves by actions only"
    assert not marked(user, "field-title").props.get("disable")  # other fields stay editable
    await user.should_see(marker="deadline-response-overdue")
    assert "overdue by 4 min" in marked(user, "deadline-response-overdue").text
    assert "left" in marked(user, "deadline-resolution").text
    # a required field and a required comment are asked for in a dialog
    user.find(marker="action-reply").click()
    await user.should_see(marker="dialog-reply", retries=50)
    user.find(marker="action-submit").click()  # neither given: the dialog stays
    await asyncio.sleep(0.2)
    assert p.records.get(agent(p), "work_order", oid).values["status"] == "dispatched"
    user.find(marker="action-field-reply").type("Replaced the amplifier")
    user.find(marker="action-comment").type("customer informed")
    user.find(marker="action-submit").click()
    await see(user, "Done: Reply.")
    for _ in range(100):
        if p.records.get(agent(p), "work_order", oid).values["status"] == "replied":
            break
        await asyncio.sleep(0.05)
    assert p.records.get(agent(p), "work_order", oid).values["reply"] == "Replaced the amplifier"
    await user.should_see(marker="step-reply", retries=100)
    assert marked(user, "step-reply").props["title"] == "Reply: At the department → Replied"
    await user.should_see("customer informed")
    # the confirmation question comes before closing
    user.find(marker="action-close").click()
    await user.should_see("Close this order for good?", retries=50)


async def test_refusals_are_worded_and_a_stale_form_asks_to_reload(
        user: User, ui_platform: Platform, demo_metadata: Path) -> None:
    p = ui_platform
    with_flow(p, demo_metadata)
    oid = new_order(p)
    await log_in(user, "agent1", path=f"/record/work_order_form/{oid}")
    await user.should_see(marker="action-forward", retries=100)
    p.workflows.take(agent(p), "work_order", oid, "forward", {"department": "maintenance"})  # someone else
    user.find(marker="action-forward").click()
    await user.should_see(marker="dialog-forward", retries=50)
    department = marked(user, "action-field-department")
    department.value = "maintenance"
    user.find(marker="action-submit").click()
    await user.should_see(marker="stale-prompt", retries=100)
    user.find(marker="stale-reload").click()
    for _ in range(100):
        try:
            if marked(user, "process-state").text == "At the department":
                break
        except (AssertionError, StopIteration):
            pass
        await asyncio.sleep(0.05)
    assert marked(user, "process-state").text == "At the department"


async def test_chinese_form_words_the_process(
        user: User, ui_platform: Platform, demo_metadata: Path) -> None:
    p = ui_platform
    with_flow(p, demo_metadata)
    with session():
        UserRow.update(language="zh_CN").where(UserRow.username == "agent1").execute()
    oid = new_order(p)
    p.workflows.take(agent(p), "work_order", oid, "forward", {"department": "maintenance"})
    await log_in(user, "agent1", path=f"/record/work_order_form/{oid}")
    await user.should_see(marker="process-bar", retries=100)
    assert marked(user, "process-state").text == "部门处理中"
    assert marked(user, "step-forward").props["title"] == "转派：新建 → 部门处理中"
    await user.should_see("仅紧急工单可升级")


async def test_inbox_pages_and_live_counts(
        user: User, ui_platform: Platform, demo_metadata: Path) -> None:
    p = ui_platform
    with_flow(p, demo_metadata)
    with session():
        DepartmentMember.create(department="maint_changsha", username="tech1", head=True)
    first = new_order(p, title="First fault")
    second = new_order(p, title="Second fault")
    p.workflows.take(agent(p), "work_order", first, "forward", {"department": "maint_changsha"})
    await log_in(user, "tech1")
    await user.should_see("My department", retries=100)
    badge = hidden_or_not(user, "count-inbox_department")  # hidden while the count is 0
    for _ in range(100):
        if badge.text == "1" and badge.visible:
            break
        await asyncio.sleep(0.05)
    assert badge.text == "1" and badge.visible
    user.find("My department").click()
    await user.should_see(marker="inbox-department", retries=100)
    table = marked(user, "inbox-department")
    for _ in range(100):
        if table.rows:
            break
        await asyncio.sleep(0.05)
    assert [r["title"] for r in table.rows] == ["First fault"]  # the second is still with its creator
    assert table.rows[0]["state"] == "At the department" and table.rows[0]["department"] == "Changsha maintenance team"
    # a transition elsewhere pushes the new count to tech1's menu
    p.workflows.take(agent(p), "work_order", second, "forward", {"department": "maint_changsha"})
    for _ in range(100):
        if badge.text == "2":
            break
        await asyncio.sleep(0.05)
    assert badge.text == "2"
    user.find(marker="inbox-refresh").click()
    for _ in range(100):
        if len(table.rows) == 2:
            break
        await asyncio.sleep(0.05)
    assert [r["title"] for r in table.rows] == ["Second fault", "First fault"]


async def test_departments_page_manages_members_head_and_regions(
        user: User, ui_platform: Platform, demo_metadata: Path) -> None:
    p = ui_platform
    await log_in(user, "admin")
    user.find("Departments").click()
    await user.should_see(marker="department-maint_changsha", retries=100)
    user.find(marker="department-maint_changsha").click()
    await user.should_see("Changsha maintenance team")
    marked(user, "member-user").value = "tech1"
    user.find(marker="member-add").click()
    await user.should_see(marker="member-tech1", retries=100)
    user.find(marker="make-head-tech1").click()
    await user.should_see(marker="head-tech1", retries=100)
    assert p.workflows.directory.heads("maint_changsha") == ["tech1"]
    marked(user, "department-regions").value = ["changsha"]
    user.find(marker="regions-save").click()
    await see(user, "Saved.")
    from helpline.services.workflow import DepartmentService
    for _ in range(50):
        if DepartmentService(p).regions_of("maint_changsha") == ["changsha"]:
            break
        await asyncio.sleep(0.05)
    assert DepartmentService(p).regions_of("maint_changsha") == ["changsha"]


async def test_departments_page_is_refused_without_the_permission(user: User) -> None:
    await log_in(user, "agent1")
    await user.should_not_see("Departments")


async def test_the_dialog_offers_the_records_linked_value(user: User, ui_platform: Platform) -> None:
    """A required link field already set (the fault's city) is shown chosen in the action's dialog — before,
    the picker had no options, dropped the value and the QA desk saw "City is required"."""
    p = ui_platform
    oid = p.records.create(Actor.system(), "work_order", {"type": "fault", "title": "No signal",
                                                          "city": "changsha"}).id
    await log_in(user, "qa1", path=f"/record/work_order_form/{oid}")
    await user.should_see(marker="action-dispatch", retries=100)
    user.find(marker="action-dispatch").click()
    await user.should_see(marker="dialog-dispatch", retries=50)
    city = marked(user, "action-field-city")
    assert "changsha" in city.options and city.value == "changsha"
    user.find(marker="action-submit").click()
    def state() -> str:
        with session():
            return str(WorkflowInstance.get(WorkflowInstance.record_id == oid).state)
    for _ in range(100):
        if state() == "dispatched":
            break
        await asyncio.sleep(0.05)
    assert state() == "dispatched"
