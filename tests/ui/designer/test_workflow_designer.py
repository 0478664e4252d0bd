"""The workflow designer at ``/designer/workflow/<name>``: the fault process's states and transitions shown
as forms and a graph; a "waiting for parts" state (clock paused) and the actions into it and back added in
the form, published, and taken on the next order without a restart; a guard with a mistake and a state
no action reaches shown beside their values and coloured in the graph; a draft that drops a state records
are in shows the numbers, publishing it is refused with a dialog that writes the state_map, and the
records move when it is published again."""

from __future__ import annotations

from typing import Any

from designer_helpers import admin, found, one, retype, set_value, settled, until
from nicegui.testing import User
from ui_helpers import log_in

import helpline.ui.views.designer.workflow_designer  # noqa: F401 - registers the designer
from helpline.data.database import session
from helpline.data.workflow import WorkflowInstance, WorkflowStep
from helpline.security.actor import Actor
from helpline.services.designer.drafts import DraftService
from helpline.services.platform import Platform

SYSTEM = Actor.system()


def draft_of(p: Platform, name: str = "fault") -> dict[str, Any]:
    opened = DraftService(p).open(admin(p), "workflow", name)
    return opened.data if opened.is_draft and opened.data is not None else {}


def transition(p: Platform, name: str) -> dict[str, Any]:
    return next((t for t in draft_of(p).get("transitions", []) if t["name"] == name), {})


def fault_order(p: Platform) -> int:
    customer = p.records.create(SYSTEM, "customer", {"customer_no": "WF1", "name": "刘备", "city": "changsha"}).id
    return int(p.records.create(SYSTEM, "work_order", {"customer": customer, "type": "fault", "city": "changsha",
                                                       "title": "no signal"}).id)


def state_of(p: Platform, order: int) -> str:
    with session():
        return str(WorkflowInstance.get(WorkflowInstance.record_id == order).state)


async def open_fault(user: User) -> None:
    await log_in(user, "admin", path="/designer/workflow/fault")
    await user.should_see(marker="wf-state-on_site", retries=150)
    await user.should_see(marker="designer-ok", retries=150)


def graph(user: User) -> str:
    return str(one(user, "wf-graph").content)


def graph_line(user: User, state: str) -> str:
    return next(line for line in graph(user).splitlines() if f"<i>{state}</i>" in line)


async def test_waiting_for_parts_added_published_and_used(user: User, ui_platform: Platform) -> None:
    p = ui_platform
    await open_fault(user)
    assert "Technician on site" in graph(user) and '-->|"On site' in graph(user)
    retype(user, "wf-new-state-name", "waiting_parts")
    set_value(user, "wf-new-state-kind", "waiting")
    user.find(marker="wf-add-state").click()
    await until(lambda: any(s.get("name") == "waiting_parts" for s in draft_of(p).get("states", [])), "state")
    await user.should_see(marker="wf-state-waiting_parts", retries=150)
    # new: no action reaches it (HL-E402): beside it, and orange in the graph
    await user.should_see(marker="designer-error-HL-E402", retries=150)
    assert graph_line(user, "waiting_parts").endswith(":::unreachable")
    assert '{{"' in graph_line(user, "waiting_parts")  # a waiting state is a hexagon
    retype(user, "wf-state-waiting_parts-label-en", "Waiting for parts")
    retype(user, "wf-state-waiting_parts-label-zh_CN", "等待备件")
    for name, source, target in (("wait_parts", "on_site", "waiting_parts"),
                                 ("parts_arrived", "waiting_parts", "on_site")):
        retype(user, "wf-new-transition-name", name)
        set_value(user, "wf-new-transition-from", source)
        set_value(user, "wf-new-transition-to", target)
        user.find(marker="wf-add-transition").click()
        await until(lambda n=name: any(t.get("name") == n for t in draft_of(p).get("transitions", [])), name)
        await user.should_see(marker=f"wf-transition-{name}-roles", retries=150)
        set_value(user, f"wf-transition-{name}-roles", ["technician", "supervisor"])
        await until(lambda n=name: transition(p, n)["roles"] == ["technician", "supervisor"], f"{name} roles")
    await until(lambda: found(user, "designer-ok"), "no problems left")
    line = graph_line(user, "waiting_parts")
    assert line.endswith(":::waiting") and "Waiting for parts" in line and "clock paused" in line
    state = next(s for s in draft_of(p)["states"] if s["name"] == "waiting_parts")
    assert state == {"name": "waiting_parts", "label": {"en": "Waiting for parts", "zh_CN": "等待备件"},
                     "kind": "waiting"}

    order = fault_order(p)  # an order started before the publish follows the live revision's states
    p.workflows.take(SYSTEM, "work_order", order, "dispatch")
    p.workflows.take(SYSTEM, "work_order", order, "arrive")
    retype(user, "designer-comment", "waiting for parts pauses the clock")
    user.find(marker="designer-publish").click()
    await until(lambda: p.metadata.objects["workflow"]["fault"].state("waiting_parts") is not None, "published")
    await settled(user, p, "workflow", "fault")
    tech = Actor("tech1", roles=("technician",), regions=("changsha",)).bind(p.metadata)
    assert [a.name for a in p.workflows.actions(tech, "work_order", order)] == ["reply", "wait_parts"]
    p.workflows.take(tech, "work_order", order, "wait_parts", comment="splitter on order")
    assert state_of(p, order) == "waiting_parts"
    assert p.records.get(SYSTEM, "work_order", order).values["status"] == "waiting_parts"
    p.workflows.take(tech, "work_order", order, "parts_arrived")
    assert state_of(p, order) == "on_site"


async def test_guard_mistake_and_unknown_state_beside_their_values(user: User, ui_platform: Platform) -> None:
    p = ui_platform
    await open_fault(user)
    one(user, "wf-transition-arrive").open()
    await user.should_see(marker="wf-transition-arrive-guard", retries=50)
    retype(user, "wf-transition-arrive-guard", "record.cty == 1")
    await until(lambda: transition(p, "arrive").get("guard"), "guard")
    await user.should_see(marker="designer-error-HL-R201", retries=150)
    guard_errors = [e for e in found(user, "designer-error-HL-R201")]
    assert any("cty" in e.text for e in guard_errors)
    set_value(user, "wf-transition-arrive-to", "on_the_way")  # a state not added yet
    await user.should_see(marker="designer-error-HL-E401", retries=150)
    await until(lambda: '? on_the_way' in graph(user) and "linkStyle" in graph(user),
                "the unknown state drawn in the graph")  # the graph is redrawn after the check's errors show


async def test_dropping_a_held_state_shows_the_numbers_and_maps_them(user: User, ui_platform: Platform) -> None:
    p = ui_platform
    service, boss = DraftService(p), admin(p)
    data = service.open(boss, "workflow", "fault").data
    assert data is not None
    data["states"].append({"name": "waiting_parts", "label": {"en": "Waiting for parts"}, "kind": "waiting"})
    data["transitions"] += [{"name": "wait_parts", "label": {"en": "Wait"}, "from": ["on_site"],
                             "to": "waiting_parts", "roles": ["technician"]},
                            {"name": "parts_arrived", "label": {"en": "Back"}, "from": ["waiting_parts"],
                             "to": "on_site", "roles": ["technician"]}]
    service.save(boss, "workflow", "fault", data, p.store.current("workflow", "fault").id)
    service.publish(boss, "parts")
    orders = [fault_order(p) if i == 0 else int(p.records.create(SYSTEM, "work_order", {
        "type": "fault", "city": "changsha", "title": f"t{i}"}).id) for i in range(2)]
    for order in orders:
        for action in ("dispatch", "arrive", "wait_parts"):
            p.workflows.take(SYSTEM, "work_order", order, action)

    await open_fault(user)
    one(user, "wf-state-waiting_parts").open()
    user.find(marker="wf-state-waiting_parts-remove").click()
    await until(lambda: draft_of(p) and not any(s["name"] == "waiting_parts" for s in draft_of(p)["states"]),
                "removed")
    for name in ("wait_parts", "parts_arrived"):
        one(user, f"wf-transition-{name}").open()
        await user.should_see(marker=f"wf-transition-{name}-remove", retries=50)
        user.find(marker=f"wf-transition-{name}-remove").click()
        await until(lambda n=name: not transition(p, n), name)
    await user.should_see(marker="wf-held-waiting_parts", retries=150)
    assert "2 record(s) in 'waiting_parts'" in one(user, "wf-held-waiting_parts").text
    await until(lambda: found(user, "designer-ok"), "no problems")

    retype(user, "designer-comment", "no more waiting for parts")
    user.find(marker="designer-publish").click()
    await user.should_see(marker="designer-held", retries=150)
    assert "Process 'fault': 2 record(s) in 'waiting_parts'" in one(user, "designer-held-fault-waiting_parts").text
    assert p.metadata.objects["workflow"]["fault"].state("waiting_parts") is not None  # nothing published
    set_value(user, "designer-held-fault-waiting_parts-to", "on_site")
    user.find(marker="designer-held-map").click()
    await until(lambda: draft_of(p).get("state_map") == {"waiting_parts": "on_site"}, "state_map in the draft")
    retype(user, "designer-comment", "no more waiting for parts")
    user.find(marker="designer-publish").click()
    await until(lambda: p.metadata.objects["workflow"]["fault"].state("waiting_parts") is None, "published")
    await settled(user, p, "workflow", "fault")
    assert [state_of(p, o) for o in orders] == ["on_site", "on_site"]
    with session():
        steps = list(WorkflowStep.select().where(WorkflowStep.action == "migrate"))
    assert [(s.from_state, s.to_state) for s in steps] == [("waiting_parts", "on_site")] * 2
