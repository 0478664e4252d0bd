"""The workflow designer's operations on a process as plain data: renaming a state follows every reference,
removing one names the actions left pointing at it, and the shape problems the graph colours (unreachable,
no way out, unknown) are found on a half-finished process the checker cannot load."""

from __future__ import annotations

from typing import Any

from helpline.services.designer import workflow_ops as ops


def flow() -> dict[str, Any]:
    return {"kind": "workflow", "name": "f", "initial": "new",
            "states": [{"name": "new", "label": {"en": "New"}}, {"name": "on_site", "label": {"en": "On site"}},
                       {"name": "closed", "label": {"en": "Closed"}, "kind": "closed"}],
            "transitions": [{"name": "arrive", "from": ["new"], "to": "on_site", "roles": ["technician"]},
                            {"name": "close", "from": ["new", "on_site"], "to": "closed", "roles": ["qa"]}],
            "state_map": {"dispatched": "new"}}


def test_rename_follows_every_reference() -> None:
    data = flow()
    assert ops.rename_state(data, "new", "opened") == 4  # initial, two from-states, a state_map target
    assert data["initial"] == "opened" and ops.state_names(data) == ["opened", "on_site", "closed"]
    assert data["transitions"][1]["from"] == ["opened", "on_site"] and data["state_map"] == {"dispatched": "opened"}
    assert ops.unknown_states(data) == [] and ops.unreachable(data) == []


def test_remove_names_the_actions_left_and_the_shape_problems() -> None:
    data = flow()
    assert ops.remove_state(data, "on_site") == ["arrive", "close"]
    assert ops.unknown_states(data) == ["on_site"]
    ops.add_state(data, "waiting_parts", "waiting")
    assert ops.unreachable(data) == ["waiting_parts"] and ops.dead_ends(data) == ["waiting_parts"]
    ops.add_transition(data, "wait", "new", "waiting_parts", ["technician"])
    assert ops.unreachable(data) == [] and ops.dead_ends(data) == ["waiting_parts"]
    ops.add_transition(data, "back", "waiting_parts", "new", ["technician"])
    assert ops.dead_ends(data) == []
    ops.rename_transition(data, "back", "parts_arrived")
    ops.remove_transition(data, "wait")
    assert [t["name"] for t in ops.transitions_of(data)] == ["arrive", "close", "parts_arrived"]
    assert ops.check_name(ops.state_names(data), "new") == "exists" and ops.check_name([], "Bad-Name") == "bad"


def test_map_states_adds_entries_and_skips_empty_targets() -> None:
    data = flow()
    ops.map_states(data, {"waiting_parts": "on_site", "gone": ""})
    assert data["state_map"] == {"dispatched": "new", "waiting_parts": "on_site"}
    bare: dict[str, Any] = {"states": []}
    ops.map_states(bare, {"x": ""})
    assert "state_map" not in bare
