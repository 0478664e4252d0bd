"""The IVR designer's pure operations (references, reachability, add/remove/rename/retype a node) agree
with the metadata checker, and a flow published during a call does not change that call."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

import pytest

from helpline.metadata.kinds.ivr import NODE_MODELS
from helpline.security.actor import Actor
from helpline.services.designer import ivr_ops as ops
from helpline.services.designer.drafts import DraftService
from helpline.services.designer.locate import ProblemIndex
from helpline.services.platform import Platform
from helpline.ui.views.designer.ivr_graph import DANGLING, UNREACHABLE, flags, mermaid
from telephony.ivr.engine import CallOutcome, IvrEngine
from telephony.switch.simulated import SimulatedSwitch


def admin(p: Platform) -> Actor:
    return Actor("admin", roles=("administrator",)).bind(p.metadata)


def main_flow(p: Platform) -> tuple[dict[str, Any], int | None]:
    opened = DraftService(p).open(admin(p), "ivr", "main")
    assert opened.data is not None
    return copy.deepcopy(opened.data), opened.base_revision


def checked(p: Platform, data: dict[str, Any], base: int | None) -> ProblemIndex:
    """Save ``data`` as admin's draft of the main flow; the checker's problems of the flow by path."""
    service, actor = DraftService(p), admin(p)
    service.save(actor, "ivr", "main", data, base)
    return service.problems_of(actor, "ivr", "main")[0]


def test_references_of_the_demo_flow(platform: Platform) -> None:
    data, _ = main_flow(platform)
    refs = {(r.path, r.target) for r in ops.references(data)}
    assert (("start",), "answer") in refs and (("skip_to",), "to_vip") in refs
    assert (("nodes", "main_menu", "choices", "5"), "to_business") in refs
    assert (("nodes", "to_consult", "timeout"), "busy_callback") in refs  # a transfer's timeout is a node
    assert not any(r[0] == ("nodes", "main_menu", "timeout") for r in refs)  # a menu's is a duration
    assert (("nodes", "to_agent", "rules"), "to_general_priority") in refs  # goto in branch rules
    assert ops.dangling(data) == [] and ops.unreachable(data) == []


def test_dangling_and_unreachable_agree_with_the_checker(platform: Platform) -> None:
    data, base = main_flow(platform)
    data["nodes"]["main_menu"]["choices"]["1"] = "nowhere"
    data["nodes"]["orphan"] = {"type": "hangup"}
    index = checked(platform, data, base)
    assert [p.id for p in index.at("nodes", "main_menu", "choices", "1")] == ["HL-E301"]
    assert [r.path for r in ops.dangling(data)] == [("nodes", "main_menu", "choices", "1")]
    unreachable_by_checker = {p.message.split("'")[1] for _, p in index.items if p.id == "HL-E307"}
    assert unreachable_by_checker == set(ops.unreachable(data)) == {
        "orphan", "consult_menu", "consult_tv", "consult_vas", "to_consult"}
    assert [p.id for p in index.exactly("nodes", "orphan")] == ["HL-E307"]
    node_flags = flags(data)
    assert node_flags["orphan"] == {UNREACHABLE} and node_flags["main_menu"] == {DANGLING}
    text = mermaid(data, node_flags)
    assert any(line.strip().endswith(":::unreachable") and "orphan<br/>" in line for line in text.splitlines())
    assert '["? nowhere"]:::missing' in text and "linkStyle" in text


def test_rename_follows_every_reference(platform: Platform) -> None:
    data, base = main_flow(platform)
    changed = ops.rename_node(data, "main_menu", "top_menu")
    # screen's on_error and its 2 gotos; 4 menus' "*" choices
    assert changed == 7
    assert list(data["nodes"]).index("top_menu") == 4  # kept in place
    assert "goto top_menu" in data["nodes"]["screen"]["rules"] and "main_menu" not in data["nodes"]["screen"]["rules"]
    assert ops.rename_node(data, "answer", "pick_up") == 1 and data["start"] == "pick_up"
    assert ops.rename_node(data, "to_general", "to_all") >= 2 and data["on_error"] == "to_all"
    with pytest.raises(ValueError):
        ops.rename_node(data, "to_all", "to_vip")
    assert checked(platform, data, base).errors == []


def test_remove_leaves_the_references_flagged(platform: Platform) -> None:
    data, base = main_flow(platform)
    left = ops.remove_node(data, "suggestion")
    assert [r.path for r in left] == [("nodes", "complaint_menu", "choices", "3")]
    index = checked(platform, data, base)
    assert [p.id for p in index.at("nodes", "complaint_menu", "choices", "3")] == ["HL-E301"]


@pytest.mark.parametrize("node_type", sorted(NODE_MODELS))
def test_a_new_node_of_every_type_is_only_unreachable(platform: Platform, node_type: str) -> None:
    data, base = main_flow(platform)
    assert ops.check_name(data, "main_menu") == "exists" and ops.check_name(data, "Bad-name") == "bad"
    node = ops.node_template(node_type, node="goodbye", prompt="welcome", queue="general", flow="broadband")
    ops.add_node(data, "fresh", node)
    ids = sorted(p.id for _, p in checked(platform, data, base).items)
    assert ids == (["HL-E305", "HL-E307"] if node_type == "hook" else ["HL-E307"]), ids


def test_change_type_keeps_what_fits(platform: Platform) -> None:
    data, _ = main_flow(platform)
    menu = data["nodes"]["consult_menu"]
    template = ops.node_template("collect", node="goodbye", prompt="welcome", queue=None, flow="main")
    collect = ops.change_type(menu, "collect", template)
    assert collect["type"] == "collect" and collect["prompt"] == "consult_menu"  # kept
    assert collect["after_retries"] == "to_consult" and collect["into"] == "digits" and "choices" not in collect
    transfer = ops.change_type({"type": "menu", "timeout": "5s", "prompt": "x"}, "transfer",
                               ops.node_template("transfer", node="n", prompt=None, queue="general", flow="main"))
    assert transfer == {"type": "transfer", "queue": "general", "prompt": "x"}  # a duration is no node name


def run_in_thread(engine: IvrEngine, switch: SimulatedSwitch) -> tuple[threading.Thread, list[CallOutcome]]:
    out: list[CallOutcome] = []
    thread = threading.Thread(target=lambda: out.append(engine.run_call(
        switch, caller_number="13999999999", flow_name="main")), daemon=True)
    thread.start()
    return thread, out


def wait_for(switch: SimulatedSwitch, text: str) -> None:
    deadline = time.monotonic() + 10
    while not any(text in line for line in switch.transcript()):
        assert time.monotonic() < deadline, switch.transcript()
        time.sleep(0.02)


def test_a_call_in_progress_finishes_on_the_flow_it_started_with(platform: Platform) -> None:
    """Publishing through the designer's drafts while a caller is in the main menu: that caller's key
    still goes where the old flow said; the next caller gets the new flow."""
    engine = IvrEngine(platform)
    service, actor = DraftService(platform), admin(platform)
    data, base = main_flow(platform)
    choices = data["nodes"]["main_menu"]["choices"]
    choices["1"], choices["5"] = "to_business", "consult_menu"
    data["prompts"]["main_menu"]["text"]["en"] = "NEW MENU: business 1, consultation 5."
    running = SimulatedSwitch(interactive=True, language="en")
    thread, outcomes = run_in_thread(engine, running)
    wait_for(running, "For consultation press 1")
    service.save(actor, "ivr", "main", data, base)
    assert service.publish(actor, "1 and 5 swapped")
    assert platform.metadata.objects["ivr"]["main"].nodes["main_menu"].choices["1"] == "to_business"
    running.press("1")
    wait_for(running, "Digital TV press 1")  # the old flow's consultation menu
    running.hang_up()
    thread.join(10)
    assert outcomes and outcomes[0].result == "hangup" and outcomes[0].hangup_node == "consult_menu"
    fresh = SimulatedSwitch(",1", language="en")  # the greeting plays to its end, then 1
    outcome = engine.run_call(fresh, caller_number="13999999999", flow_name="main")
    assert any("NEW MENU" in line for line in fresh.transcript())
    assert (outcome.result, outcome.queue) == ("transfer", "business")
