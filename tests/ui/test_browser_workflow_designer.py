"""The workflow designer in real headless Chromium (issue 16's "done when"): an administrator opens the fault
process, adds the state "waiting for parts" (kind waiting: the service-level clock pauses), an action from
"on site" to it and one back, for technicians, and publishes; the next fault order can take them at once,
without a restart: the technician takes them on the order's form (the SLA clock pauses while it waits).
Screenshots of the designer at 1366x768 in English and Chinese are written to
``screenshots/`` (git-ignored) for a look."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import (  # noqa: F401 - markers_as_classes and patient_browser are fixtures
    choose,
    click,
    draft,
    element,
    log_in,
    markers_as_classes,
    patient_browser,
    publish,
    type_into,
    until,
    visible,
)
from nicegui.testing import Screen
from selenium.webdriver.common.by import By

from helpline.data.database import session
from helpline.data.system import User as UserRow
from helpline.data.workflow import WorkflowInstance
from helpline.security.actor import Actor
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def states(p: Platform) -> list[str]:
    return [s.get("name") for s in draft(p, "workflow", "fault").get("states", [])]


def transition(p: Platform, name: str) -> dict:  # type: ignore[type-arg]
    return next((t for t in draft(p, "workflow", "fault").get("transitions", []) if t.get("name") == name), {})


def add_transition(screen: Screen, p: Platform, name: str, source: str, target: str) -> None:
    type_into(screen, ".m-wf-new-transition-name", name)
    choose(screen, ".m-wf-new-transition-from", source)
    choose(screen, ".m-wf-new-transition-to", target)
    click(screen, ".m-wf-add-transition")
    until(lambda: transition(p, name), f"{name} in the draft")
    choose(screen, f".m-wf-transition-{name}-roles", "(technician)", close=True)
    until(lambda: "technician" in transition(p, name).get("roles", []), f"{name} for technicians")


def shoot(screen: Screen, language: str) -> None:
    screen.selenium.set_window_size(1366, 768)
    SHOTS.mkdir(exist_ok=True)
    element(screen, ".m-wf-graph svg").screenshot(str(SHOTS / f"workflow_graph_{language}.png"))
    screen.selenium.execute_script("window.scrollTo(0, 0)")
    screen.selenium.save_screenshot(str(SHOTS / f"workflow_designer_{language}.png"))


def test_administrator_adds_waiting_for_parts_and_the_next_order_uses_it(
        patient_browser: Screen, ui_platform: Platform) -> None:  # noqa: F811 - the imported fixture
    screen, p = patient_browser, ui_platform
    log_in(screen, "admin", "/designer/workflow/fault")
    element(screen, ".m-wf-state-on_site")
    type_into(screen, ".m-wf-new-state-name", "waiting_parts")
    choose(screen, ".m-wf-new-state-kind", "waiting")
    click(screen, ".m-wf-add-state")
    until(lambda: "waiting_parts" in states(p), "the state in the draft")
    type_into(screen, ".m-wf-state-waiting_parts-label-en", "Waiting for parts")
    type_into(screen, ".m-wf-state-waiting_parts-label-zh_CN", "等待备件")
    until(lambda: next(s for s in draft(p, "workflow", "fault")["states"] if s["name"] == "waiting_parts")
          ["label"] == {"en": "Waiting for parts", "zh_CN": "等待备件"}, "labels saved")
    add_transition(screen, p, "wait_parts", "on_site", "waiting_parts")
    add_transition(screen, p, "parts_arrived", "waiting_parts", "on_site")
    element(screen, ".m-designer-ok")
    graph = element(screen, ".m-wf-graph svg")
    until(lambda: "Waiting for parts" in graph.text and "clock paused" in graph.text, "the state drawn")
    shoot(screen, "en")

    publish(screen, "waiting for parts pauses the clock")
    flow = p.metadata.objects["workflow"]["fault"]
    waiting = flow.state("waiting_parts")
    assert waiting is not None and waiting.kind == "waiting" and not waiting.clock_runs

    system = Actor.system()
    tech = Actor("tech1", roles=("technician",), regions=("changsha",)).bind(p.metadata)
    order = int(p.records.create(system, "work_order", {"type": "fault", "city": "changsha",
                                                        "title": "no signal"}).id)
    p.workflows.take(system, "work_order", order, "dispatch")
    p.workflows.take(tech, "work_order", order, "arrive")
    # the technician takes the new actions on the order's form, in the browser
    log_in(screen, "tech1", f"/record/work_order_form/{order}")
    click(screen, ".m-action-wait_parts")
    until(lambda: "Waiting for parts" in element(screen, ".m-process-state").text, "the order waits for parts")
    with session():
        inst = WorkflowInstance.get(WorkflowInstance.record_id == order)
    assert inst.state == "waiting_parts" and inst.sla_state and not inst.sla_state["running"]  # clock paused
    click(screen, ".m-action-parts_arrived")
    until(lambda: "Technician on site" in element(screen, ".m-process-state").text, "back on site")

    with session():
        UserRow.update(language="zh_CN").where(UserRow.username == "admin").execute()
    log_in(screen, "admin", "/designer/workflow/fault")
    element(screen, ".m-wf-state-waiting_parts")
    click(screen, ".m-wf-state-waiting_parts")
    until(lambda: visible(screen, ".m-wf-state-waiting_parts-kind"), "the state opened")
    body = screen.selenium.find_element(By.TAG_NAME, "body").text
    assert "等待备件" in body and "流程图" in body
    shoot(screen, "zh_CN")
