"""The menu designer's pure operations on menu data (add, rename, move, indent, outdent, remove, target) and
"who sees it" on the demo metadata."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from helpline.metadata.kinds import Menu
from helpline.metadata.loader import build_set, load_directory, parse_text
from helpline.metadata.metaset import MetadataSet
from helpline.metadata.yamlpos import dump
from helpline.services.designer import menu_ops as ops


def menu() -> dict[str, Any]:
    return {"kind": "menu", "name": "m", "label": {"en": "M"}, "items": [
        {"name": "a", "label": {"en": "A"}},
        {"name": "a1", "parent": "a", "screen": "s1", "label": {"en": "A1"}},
        {"name": "a2", "parent": "a", "screen": "s2", "label": {"en": "A2"}},
        {"name": "b", "label": {"en": "B"}},
        {"name": "b1", "parent": "b", "page": "home", "label": {"en": "B1"}},
        {"name": "c", "url": "https://example.org", "label": {"en": "C"}},
    ]}


def names(data: dict[str, Any]) -> list[str]:
    return [i["name"] for i in data["items"]]


def tree(data: dict[str, Any]) -> list[str]:
    return [f"{'.' * depth}{item['name']}" for depth, item in ops.tree_order(data)]


def test_add_item_under_a_group_goes_after_its_block_and_gets_a_unique_name() -> None:
    data = menu()
    name = ops.add_item(data, "A1", parent="a", target=("query", "q1"))
    assert name == "a1_2"
    assert names(data) == ["a", "a1", "a2", "a1_2", "b", "b1", "c"]
    assert ops.item_of(data, "a1_2") == {"name": "a1_2", "parent": "a", "label": {"en": "A1"}, "query": "q1"}
    assert ops.add_item(data, "New things!", language="zh_CN") == "new_things"
    assert ops.item_of(data, "new_things")["label"] == {"en": "New things!", "zh_CN": "New things!"}
    with pytest.raises(ops.MenuOpError):
        ops.add_item(data, "x", name="a")
    with pytest.raises(ops.MenuOpError):
        ops.add_item(data, "x", parent="nope")


def test_rename_keeps_children() -> None:
    data = menu()
    ops.rename_item(data, "a", "alpha")
    assert [i.get("parent") for i in data["items"][:3]] == [None, "alpha", "alpha"]
    with pytest.raises(ops.MenuOpError):
        ops.rename_item(data, "b", "alpha")
    with pytest.raises(ops.MenuOpError):
        ops.rename_item(data, "b", "Bad Name")


def test_move_up_and_down_among_siblings_carries_the_block() -> None:
    data = menu()
    assert ops.move(data, "b", -1)
    assert names(data) == ["b", "b1", "a", "a1", "a2", "c"]
    assert not ops.move(data, "b", -1)
    assert ops.move(data, "b", +1)
    assert names(data) == ["a", "a1", "a2", "b", "b1", "c"]
    assert ops.move(data, "a1", +1)
    assert tree(data)[:3] == ["a", ".a2", ".a1"]
    assert not ops.move(data, "a1", +1)


def test_indent_outdent_and_move_to() -> None:
    data = menu()
    with pytest.raises(ops.MenuOpError):
        ops.indent(data, "a")          # nothing above
    with pytest.raises(ops.MenuOpError):
        ops.indent(data, "a2")         # a1 opens a screen: not a group
    assert ops.indent(data, "b") == "a"
    assert tree(data) == ["a", ".a1", ".a2", ".b", "..b1", "c"]
    assert ops.outdent(data, "b")
    assert tree(data) == ["a", ".a1", ".a2", "b", ".b1", "c"]
    assert not ops.outdent(data, "b")
    ops.move_to(data, "c", parent="a", before="a2")
    assert tree(data) == ["a", ".a1", ".c", ".a2", "b", ".b1"]
    with pytest.raises(ops.MenuOpError):
        ops.move_to(data, "a", parent="c")
    ops.move_to(data, "c", parent=None)
    assert tree(data)[-1] == "c"
    assert "parent" not in ops.item_of(data, "c")


def test_remove_takes_the_subtree_and_targets_are_exclusive() -> None:
    data = menu()
    assert ops.remove(data, "a") == ["a", "a1", "a2"]
    assert names(data) == ["b", "b1", "c"]
    ops.set_target(data, "b1", "query", "q")
    assert ops.target_of(ops.item_of(data, "b1")) == ("query", "q")
    assert "page" not in ops.item_of(data, "b1")
    ops.set_target(data, "b1", "group")
    assert ops.target_of(ops.item_of(data, "b1")) == ("group", "")
    ops.set_value(data, "b1", "permission", "designer")
    ops.set_value(data, "b1", "icon", "star")
    assert list(ops.item_of(data, "b1")) == ["name", "parent", "permission", "icon", "label"]
    ops.set_value(data, "b1", "icon", "")
    assert "icon" not in ops.item_of(data, "b1")
    with pytest.raises(ops.MenuOpError):
        ops.set_target(data, "b1", "file", "x")


def _with_menu(demo: MetadataSet, data: dict[str, Any]) -> MetadataSet:
    parsed = []
    for kind, objects in demo.objects.items():
        for name in objects:
            src = demo.sources[(kind, name)]
            if (kind, name) != ("menu", data["name"]):
                parsed.append(parse_text(src.text, src.file, kind, name))
    parsed.append(parse_text(dump(data), "menus/main.yaml", "menu", data["name"]))
    mset, problems = build_set(parsed)
    assert not [p for p in problems if p.severity == "error"], problems
    return mset


def test_roles_seeing_follows_grants_permissions_and_targets(demo_metadata: Path) -> None:
    demo = load_directory(demo_metadata).metadata
    # QA and the technician are granted the "service" group, which grants the items below it (both read customers)
    assert ops.roles_seeing(demo, "main", "customers") == ["administrator", "agent", "qa", "supervisor", "technician"]
    assert ops.roles_seeing(demo, "main", "contact_records") == ["administrator", "agent", "qa", "supervisor"]
    assert ops.roles_seeing(demo, "main", "supervisor") == ["administrator", "supervisor"]
    assert ops.roles_seeing(demo, "main", "designer") == ["administrator"]
    assert ops.roles_seeing(demo, "main", "nope") == []
    main = demo.menus["main"]
    data = copy.deepcopy(demo.sources[("menu", "main")].positioned.data)  # type: ignore[union-attr]
    ops.set_value(data, "customers", "permission", "supervisor.recordings")  # agents and technicians lack it
    changed = _with_menu(demo, data)
    assert ops.roles_seeing(changed, "main", "customers") == ["administrator", "qa", "supervisor"]
    agent = ops.role_actor(demo, "agent")
    shown = [item.name for _, _, item in ops.visible_tree(agent, demo)]
    assert "customers" in shown and "designer" not in shown and "admin" not in shown
    assert isinstance(main, Menu)
