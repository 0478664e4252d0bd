"""The shipped demo processes (metadata/workflows/) on the demo metadata, walked through by the roles the
docs name: the complaint closed loop of seed 004 with its rejection and its reopening, the fault dispatch
assigned by the customer's city to that city's maintenance team, and the consultation follow-up."""

from __future__ import annotations

import pytest

from helpline.data.database import session
from helpline.data.workflow import WorkflowInstance, WorkflowStep
from helpline.security.actor import Actor, PermissionDenied
from helpline.services.platform import Platform
from helpline.services.workflow.engine import TransitionRefused


def who(p: Platform, name: str, role: str) -> Actor:
    return Actor(name, roles=(role,), regions=("changsha", "yiyang"), language="en").bind(p.metadata)


def order(p: Platform, agent: Actor, kind: str, city: str = "changsha") -> int:
    return int(p.records.create(agent, "work_order", {"type": kind, "city": city, "title": f"{kind} call",
                                                      "status": "closed"}).id)


def instance(order_id: int) -> WorkflowInstance:
    with session():
        return WorkflowInstance.get(WorkflowInstance.record_id == order_id)


def names(p: Platform, actor: Actor, order_id: int) -> list[str]:
    return [a.name for a in p.workflows.actions(actor, "work_order", order_id) if a.enabled]


def test_the_demo_processes_govern_by_type(platform: Platform) -> None:
    agent = who(platform, "agent1", "agent")
    governed = {kind: instance(order(platform, agent, kind)).workflow
                for kind in ("complaint", "fault", "consultation")}
    assert governed == {"complaint": "complaint", "fault": "fault", "consultation": "consultation"}
    assert platform.records.get(agent, "work_order", order(platform, agent, "fault")).values["status"] == "new"
    request = order(platform, agent, "acceptance")  # service requests follow no process
    assert platform.records.get(agent, "work_order", request).values["status"] == "closed"


def test_complaint_loop_with_rejection_and_reopening(platform: Platform) -> None:
    p = platform
    agent, qa, tech = who(p, "agent1", "agent"), who(p, "qa1", "qa"), who(p, "tech1", "technician")
    oid = order(p, agent, "complaint")
    assert names(p, agent, oid) == ["withdraw"]  # the QA desk forwards, not the agent
    with pytest.raises(PermissionDenied):
        p.workflows.take(agent, "work_order", oid, "forward", {"department": "customer_service"})
    with pytest.raises(TransitionRefused) as refused:
        p.workflows.take(qa, "work_order", oid, "forward")
    assert refused.value.reason == "workflow.required"
    p.workflows.take(qa, "work_order", oid, "forward", {"department": "customer_service"})
    assert (instance(oid).state, instance(oid).department) == ("dispatched", "customer_service")
    p.workflows.take(tech, "work_order", oid, "reply", {"reply": "billing corrected"})
    assert instance(oid).assignee == "role:qa"
    with pytest.raises(TransitionRefused):
        p.workflows.take(qa, "work_order", oid, "reject")  # a rejection needs its reason
    p.workflows.take(qa, "work_order", oid, "reject", comment="the reply does not answer the complaint")
    assert instance(oid).state == "rejected"
    p.workflows.take(tech, "work_order", oid, "reply", {"reply": "refund of 30 yuan made"})
    p.workflows.take(qa, "work_order", oid, "approve")
    assert (instance(oid).state, instance(oid).assignee) == ("to_customer", "agent1")
    p.workflows.take(agent, "work_order", oid, "reopen", {"satisfaction": "dissatisfied"},
                     comment="wants the whole month refunded")
    assert (instance(oid).state, instance(oid).department) == ("reopened", "customer_service")
    p.workflows.take(tech, "work_order", oid, "reply", {"reply": "month refunded"})
    p.workflows.take(qa, "work_order", oid, "approve")
    close = next(a for a in p.workflows.actions(agent, "work_order", oid) if a.name == "close")
    assert not close.enabled and "not satisfied" in close.reason  # satisfaction still 'dissatisfied'
    p.workflows.take(agent, "work_order", oid, "close", {"satisfaction": "satisfied"})
    rec = p.records.get(agent, "work_order", oid).values
    assert rec["status"] == "closed" and rec["closed_at"] is not None and rec["replied_at"] is not None
    with session():
        steps = [s.action for s in WorkflowStep.select().where(WorkflowStep.instance_id == instance(oid).id)
                 .order_by(WorkflowStep.id)]
    assert steps == ["create", "forward", "reply", "reject", "reply", "approve", "reopen", "reply", "approve",
                     "close"]


@pytest.mark.parametrize(("city", "team"), [("changsha", "maint_changsha"), ("yiyang", "maint_yiyang"),
                                            ("loudi", "maintenance")])
def test_fault_dispatch_goes_to_the_city_team(platform: Platform, city: str, team: str) -> None:
    p = platform
    agent, qa = who(p, "agent1", "agent"), who(p, "qa1", "qa")
    tech = Actor("tech1", roles=("technician",), regions=(city,), language="en").bind(p.metadata)
    oid = order(p, agent, "fault", city)
    p.workflows.take(agent, "work_order", oid, "dispatch")
    assert (instance(oid).state, instance(oid).department) == ("dispatched", team)
    assert p.records.get(agent, "work_order", oid).values["department"] == "maintenance"
    arrive = next(a for a in p.workflows.actions(tech, "work_order", oid) if a.name == "arrive")
    assert arrive.confirm is not None  # the technician confirms he is on site
    p.workflows.take(tech, "work_order", oid, "arrive")
    assert (instance(oid).state, instance(oid).assignee) == ("on_site", "tech1")
    p.workflows.take(tech, "work_order", oid, "reply", {"reply": "connector replaced"})
    p.workflows.take(qa, "work_order", oid, "check")
    p.workflows.take(agent, "work_order", oid, "close", {"satisfaction": "very_satisfied"})
    assert instance(oid).closed_at is not None


def test_consultation_follow_up(platform: Platform) -> None:
    p = platform
    agent, tech = who(p, "agent1", "agent"), who(p, "tech1", "technician")
    oid = order(p, agent, "consultation")
    p.workflows.take(agent, "work_order", oid, "forward", {"department": "broadband_ops"})
    p.workflows.take(tech, "work_order", oid, "reply", {"reply": "fibre comes to the estate in May"})
    assert (instance(oid).state, instance(oid).assignee) == ("replied", "agent1")
    with pytest.raises(TransitionRefused):
        p.workflows.take(agent, "work_order", oid, "close")
    p.workflows.take(agent, "work_order", oid, "close", comment="customer told, satisfied")
    assert p.records.get(agent, "work_order", oid).values["status"] == "closed"
