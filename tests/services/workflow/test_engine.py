"""The workflow engine on the server: which process governs a record, what a user may do, taking an action
(roles, guard, required fields, comment, versions), the timeline, state edit rights and listeners."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from wf_helpers import actor

from helpline.data.database import session
from helpline.data.workflow import WorkflowInstance, WorkflowStep
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import search_audit
from helpline.services.platform import Platform
from helpline.services.workflow import TransitionEvent, TransitionRefused

SYSTEM = Actor.system()


def order(p: Platform, who: Actor, **values: Any) -> int:
    base = {"type": "complaint", "title": "No signal since Monday", "status": "closed", "city": "changsha"}
    return p.records.create(who, "work_order", {**base, **values}).id


def test_a_governed_record_starts_in_the_initial_state(wf_platform: Platform) -> None:
    agent = actor(wf_platform, "agent1", "agent")
    oid = order(wf_platform, agent)
    rec = wf_platform.records.get(agent, "work_order", oid)
    assert rec.values["status"] == "new"  # whatever was given
    with session():
        inst = WorkflowInstance.get(WorkflowInstance.record_id == oid)
        steps = list(WorkflowStep.select().where(WorkflowStep.instance_id == inst.id))
    assert (inst.workflow, inst.state, inst.assignee, inst.version) == ("complaint_test", "new", "agent1", 1)
    assert [(s.action, s.to_state, s.actor) for s in steps] == [("create", "new", "agent1")]
    request = order(wf_platform, agent, type="acceptance", status="processing")  # no process for requests
    assert wf_platform.records.get(agent, "work_order", request).values["status"] == "processing"
    assert wf_platform.workflows.actions(agent, "work_order", request) == []


def test_actions_follow_the_state_and_the_roles(wf_platform: Platform) -> None:
    agent, qa = actor(wf_platform, "agent1", "agent"), actor(wf_platform, "qa1", "qa")
    oid = order(wf_platform, agent)
    assert [a.name for a in wf_platform.workflows.actions(agent, "work_order", oid)] == ["forward"]
    assert [a.name for a in wf_platform.workflows.actions(qa, "work_order", oid)] == ["forward"]
    wf_platform.workflows.take(agent, "work_order", oid, "forward", {"department": "maintenance"})
    names = {a.name: a for a in wf_platform.workflows.actions(agent, "work_order", oid)}
    assert set(names) == {"reply", "escalate"} and names["reply"].enabled
    assert names["reply"].require == ("reply",)
    assert [a.name for a in wf_platform.workflows.actions(qa, "work_order", oid)] == []  # not qa's to take


def test_taking_an_action_writes_record_instance_step_and_audit(wf_platform: Platform) -> None:
    agent = actor(wf_platform, "agent1", "agent")
    seen: list[TransitionEvent] = []
    wf_platform.workflows.listeners.append(seen.append)
    oid = order(wf_platform, agent)
    with pytest.raises(TransitionRefused) as info:
        wf_platform.workflows.take(agent, "work_order", oid, "forward")
    assert info.value.reason == "workflow.required" and info.value.params["fields"] == ["department"]
    after = wf_platform.workflows.take(agent, "work_order", oid, "forward", {"department": "maintenance"},
                                       comment="line fault in Yuelu")
    assert after["status"] == "dispatched" and after["department"] == "maintenance"
    with session():
        inst = WorkflowInstance.get(WorkflowInstance.record_id == oid)
        audit = search_audit(action="transition", entity="work_order", record_id=str(oid))
    assert (inst.state, inst.department, inst.assignee, inst.version) == ("dispatched", "maintenance", None, 2)
    assert audit[0]["detail"]["action"] == "forward" and audit[0]["actor"] == "agent1"
    forward = seen[-1]
    assert forward.step.comment == "line fault in Yuelu" and forward.step.seconds_in_state >= 0
    assert sorted(forward.recipients) == ["boss1", "tech1"]  # department members; the creator acted himself
    wf_platform.workflows.take(agent, "work_order", oid, "reply", {"reply": "Technician replaced the amplifier"})
    with pytest.raises(TransitionRefused, match="needs a comment"):
        wf_platform.workflows.take(agent, "work_order", oid, "close")
    done = wf_platform.workflows.take(agent, "work_order", oid, "close", comment="customer satisfied")
    assert done["status"] == "closed" and done["closed_at"] is not None and done["replied_at"] is not None
    timeline = wf_platform.workflows.timeline(agent, "work_order", oid)
    assert [(s["action"], s["from_state"], s["to_state"]) for s in timeline] == [
        ("create", None, "new"), ("forward", "new", "dispatched"), ("reply", "dispatched", "replied"),
        ("close", "replied", "closed")]
    with session():
        assert WorkflowInstance.get(WorkflowInstance.record_id == oid).closed_at is not None
    with pytest.raises(TransitionRefused) as info:
        wf_platform.workflows.take(agent, "work_order", oid, "reopen")
    assert info.value.reason == "workflow.wrong_state"


def test_a_false_guard_disables_with_the_reason_and_refuses(wf_platform: Platform) -> None:
    agent = actor(wf_platform, "agent1", "agent")
    oid = order(wf_platform, agent, priority="urgent")
    wf_platform.workflows.take(agent, "work_order", oid, "forward", {"department": "maintenance"})
    reply = next(a for a in wf_platform.workflows.actions(agent, "work_order", oid) if a.name == "reply")
    assert not reply.enabled and reply.reason == "Urgent orders are answered by phone"
    with pytest.raises(TransitionRefused) as info:
        wf_platform.workflows.take(agent, "work_order", oid, "reply", {"reply": "done"})
    assert info.value.reason == "workflow.guard"


def test_a_guard_failing_at_run_time_refuses_with_its_position(wf_platform: Platform) -> None:
    agent = actor(wf_platform, "agent1", "agent")
    oid = order(wf_platform, agent)
    wf_platform.workflows.take(agent, "work_order", oid, "forward", {"department": "maintenance"})
    escalate = next(a for a in wf_platform.workflows.actions(agent, "work_order", oid) if a.name == "escalate")
    assert not escalate.enabled and "line 1" in escalate.reason  # 100 / 0
    with pytest.raises(TransitionRefused) as info:
        wf_platform.workflows.take(agent, "work_order", oid, "escalate")
    assert info.value.reason == "workflow.guard_error" and info.value.params["column"] > 0


def test_refusals_by_role_are_audited_and_the_state_is_not_edited_directly(wf_platform: Platform) -> None:
    agent, qa = actor(wf_platform, "agent1", "agent"), actor(wf_platform, "qa1", "qa")
    oid = order(wf_platform, agent)
    wf_platform.workflows.take(agent, "work_order", oid, "forward", {"department": "maintenance"})
    with pytest.raises(PermissionDenied):
        wf_platform.workflows.take(qa, "work_order", oid, "reply", {"reply": "x"})
    with pytest.raises(PermissionDenied, match="changes only by its actions"):
        wf_platform.records.update(agent, "work_order", oid, {"status": "closed"})
    with pytest.raises(PermissionDenied, match="you may not change: title"):
        wf_platform.records.update(agent, "work_order", oid, {"title": "renamed"})
    assert wf_platform.records.update(agent, "work_order", oid, {"description": "more detail"}).values[
        "description"] == "more detail"
    with session():
        denied = search_audit(action="denied", entity="work_order", record_id=str(oid))
    assert {d["actor"] for d in denied} == {"qa1", "agent1"} and len(denied) == 3


def test_two_people_acting_at_once_the_second_is_refused(wf_platform: Platform) -> None:
    agent = actor(wf_platform, "agent1", "agent")
    oid = order(wf_platform, agent)
    with pytest.raises(TransitionRefused) as info:
        wf_platform.workflows.take(agent, "work_order", oid, "forward", {"department": "maintenance"},
                                   expected_version=7)
    assert info.value.reason == "workflow.stale"
    results: list[str] = []
    gate = threading.Barrier(2)

    def act(dept: str) -> None:
        gate.wait()
        try:
            wf_platform.workflows.take(agent, "work_order", oid, "forward", {"department": dept},
                                       expected_version=1)
            results.append("ok")
        except TransitionRefused as exc:
            results.append(exc.reason)
        except Exception as exc:  # a lock timeout would be a failure of its own
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=act, args=(d,)) for d in ("maintenance", "engineering")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(results) in (["ok", "workflow.stale"], ["ok", "workflow.wrong_state"]), results
    with session():
        assert WorkflowStep.select().where(WorkflowStep.action == "forward").count() == 1


def test_publishing_a_revision_that_drops_a_held_state(wf_platform: Platform) -> None:
    from wf_helpers import COMPLAINT

    from helpline.services.workflow.engine import StatesStillHeld

    agent = actor(wf_platform, "agent1", "agent")
    admin = actor(wf_platform, "admin", "administrator")
    oid = order(wf_platform, agent)
    wf_platform.workflows.take(agent, "work_order", oid, "forward", {"department": "maintenance"})
    # a revision without 'dispatched': forward and reopen lead to 'processing' instead
    dispatched = ('  - {name: dispatched, label: {en: Dispatched, zh_CN: 已派单}, edit: {qa: ["*"], '
                  'agent: [description]}}\n')
    processing = "  - {name: processing, label: {en: Processing, zh_CN: 处理中}}\n"
    text = (COMPLAINT.replace(dispatched, processing)
            .replace("to: dispatched", "to: processing").replace("from: [dispatched]", "from: [processing]"))
    assert "dispatched" not in text
    with pytest.raises(StatesStillHeld, match="1 record\\(s\\) in state 'dispatched'"):
        wf_platform.publish("workflow", "complaint_test", text, actor=admin, comment="drop dispatched")
    mapped = text + "state_map: {dispatched: processing}\n"
    wf_platform.publish("workflow", "complaint_test", mapped, actor=admin, comment="drop dispatched, move them")
    assert wf_platform.records.get(agent, "work_order", oid).values["status"] == "processing"
    assert [a.name for a in wf_platform.workflows.actions(agent, "work_order", oid)] == ["reply", "escalate"]
    steps = wf_platform.workflows.timeline(agent, "work_order", oid)
    assert (steps[-1]["action"], steps[-1]["from_state"], steps[-1]["to_state"]) == \
        ("migrate", "dispatched", "processing")
