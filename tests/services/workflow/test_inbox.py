"""Inboxes on both databases: my work (me or role@region), my department's work, overdue, waiting on me —
row scope applied, open records only, counts capped; and the form's process view (state, actions, timeline
with labels, deadlines with the time left)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from wf_helpers import actor

from helpline.data.base import utcnow
from helpline.data.database import session
from helpline.data.workflow import DepartmentMember, WorkflowInstance
from helpline.services.platform import Platform
from helpline.services.workflow import inboxes
from helpline.services.workflow.process_view import process_view


def order(p: Platform, who: Any, **values: Any) -> int:
    base = {"type": "complaint", "title": "No signal", "city": "changsha"}
    return p.records.create(who, "work_order", {**base, **values}).id


def test_the_four_boxes(wf_platform: Platform) -> None:
    p = wf_platform
    agent, qa = actor(p, "agent1", "agent"), actor(p, "qa1", "qa")
    tech = actor(p, "tech1", "technician")  # a member of 'maintenance' (conftest), serves Changsha
    mine = order(p, agent)  # assigned to its creator
    sent = order(p, agent, title="Forwarded")
    p.workflows.take(agent, "work_order", sent, "forward", {"department": "maintenance"})
    replied = order(p, agent, title="Replied")
    p.workflows.take(agent, "work_order", replied, "forward", {"department": "maintenance"})
    p.workflows.take(agent, "work_order", replied, "reply", {"reply": "done"})
    closed = order(p, agent, title="Closed")
    p.workflows.take(agent, "work_order", closed, "forward", {"department": "maintenance"})
    p.workflows.take(agent, "work_order", closed, "reply", {"reply": "done"})
    p.workflows.take(agent, "work_order", closed, "close", comment="ok")
    yiyang = order(p, agent, title="Out of scope", city="yiyang")
    p.workflows.take(agent, "work_order", yiyang, "forward", {"department": "maintenance"})
    box = inboxes(p)

    def ids(who: Any, name: str) -> list[int]:
        return [r["id"] for r in box.page(who, name).rows]

    assert ids(agent, "mine") == [mine]
    assert ids(tech, "department") == [replied, sent]  # newest first; closed left out; yiyang out of scope
    assert box.page(tech, "department").rows[0]["wf_state"] == "replied"
    assert ids(qa, "department") == []  # in no department
    with session():
        DepartmentMember.create(department="maintenance", username="qa1")
        WorkflowInstance.update(assignee="role:qa@changsha").where(WorkflowInstance.record_id == mine).execute()
        past = utcnow() - timedelta(minutes=5)
        WorkflowInstance.update(resolution_due=past).where(WorkflowInstance.record_id.in_([sent, closed])).execute()
    assert ids(qa, "mine") == [mine]  # assigned to qa in Changsha
    assert ids(agent, "mine") == []
    assert ids(agent, "overdue") == [sent]  # the closed one is not overdue any more
    # waiting on me: states of kind open only, assigned to me or my departments
    assert ids(tech, "waiting") == [replied, sent]
    counts = box.counts(tech)
    assert counts == {"mine": (0, False), "department": (2, False), "overdue": (1, False), "waiting": (2, False)}
    assert box.count(actor(p, "boss", "administrator", ()), "department") == (0, False)


def test_counts_are_capped_and_pages_counted(wf_platform: Platform, monkeypatch: Any) -> None:
    import helpline.services.workflow.inbox as inbox_mod
    p = wf_platform
    agent = actor(p, "agent1", "agent")
    for i in range(5):
        order(p, agent, title=f"order {i}")
    monkeypatch.setattr(inbox_mod, "COUNT_CAP", 3)
    box = inboxes(p)
    assert box.count(agent, "mine") == (3, True)
    assert box.counts(agent)["mine"] == (5, False)  # the menu's cap is its own
    assert box.counts(agent, cap=4)["mine"] == (4, True)
    page = box.page(agent, "mine", page_size=2)
    assert (len(page.rows), page.total, page.capped) == (2, 3, True)
    last = box.page(agent, "mine", page=3, page_size=2)
    assert (len(last.rows), last.total) == (1, 5)


def test_process_view_shows_labels_actions_and_deadlines(wf_platform: Platform) -> None:
    p = wf_platform
    agent = actor(p, "agent1", "agent")
    oid = order(p, agent, priority="urgent")
    p.workflows.take(agent, "work_order", oid, "forward", {"department": "maintenance"}, comment="line fault")
    now = utcnow()
    with session():
        WorkflowInstance.update(response_due=now - timedelta(minutes=3), resolution_due=now + timedelta(hours=1)
                                ).where(WorkflowInstance.record_id == oid).execute()
    view = process_view(p.workflows, agent, "work_order", oid, now=now)
    assert view is not None
    assert (view.state, view.state_label.en, view.version, view.department) == (
        "dispatched", "Dispatched", 2, "maintenance")
    reply = next(a for a in view.actions if a.name == "reply")
    assert not reply.enabled and reply.reason == "Urgent orders are answered by phone"
    assert [(s["action"], s["to_label"].en) for s in view.steps] == [("create", "New"), ("forward", "Dispatched")]
    assert view.steps[1]["from_label"].zh_CN == "新建" and view.steps[1]["comment"] == "line fault"
    response, resolution = view.deadlines
    assert response.overdue and round(response.seconds_left) == -180
    assert not resolution.overdue and round(resolution.seconds_left) == 3600
    other = order(p, agent, type="suggestion")  # no process applies
    assert process_view(p.workflows, agent, "work_order", other) is None


def test_scope_filtered_boxes_page_and_count_across_chunks(wf_platform: Platform) -> None:
    """More rows than one chunk of the scan, every other one out of the technician's scope: pages and counts
    hold only his, in order, with no gap or repeat between pages."""
    p = wf_platform
    agent = actor(p, "agent1", "agent", ("changsha", "yiyang"))
    tech = actor(p, "tech1", "technician")  # Changsha only
    mine: list[int] = []
    for i in range(260):
        city = "changsha" if i % 2 == 0 else "yiyang"
        oid = order(p, agent, title=f"order {i}", city=city)
        p.workflows.take(agent, "work_order", oid, "forward", {"department": "maintenance"})
        if city == "changsha":
            mine.append(oid)
    box = inboxes(p)
    newest_first = sorted(mine, reverse=True)
    seen = []
    for n in (1, 2, 3, 4, 5, 6):
        page = box.page(tech, "department", page=n, page_size=25)
        seen += [r["id"] for r in page.rows]
        assert page.total == 130 and not page.capped
    assert seen == newest_first
    assert box.count(tech, "department") == (130, False)
    assert box.count(tech, "department", cap=100) == (100, True)
    with session():
        WorkflowInstance.update(resolution_due=utcnow() - timedelta(hours=1)).execute()
    assert [r["id"] for r in box.page(tech, "overdue", page_size=200).rows] == sorted(mine)
