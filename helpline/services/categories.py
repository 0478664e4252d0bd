"""Edit category trees at run time: add, rename, move, retire and restore codes.

Each edit publishes a new revision of the tree (checked like any metadata, audited, picked up by every
screen at once). Retired codes stay valid on the records that have them.
"""

from __future__ import annotations

from typing import Any

from helpline.metadata.kinds import Category
from helpline.security.actor import Actor

from .platform import Platform

PERMISSION = "categories.edit"


class CategoryEditError(ValueError):
    pass


def _tree(platform: Platform, name: str) -> tuple[Category, int | None, list[dict[str, Any]], dict[str, Any]]:
    tree = platform.metadata.categories.get(name)
    if tree is None:
        raise CategoryEditError(f"no category tree '{name}'")
    current = platform.store.current("category", name)
    data = tree.model_dump(mode="json", exclude_defaults=True)
    data["kind"] = "category"
    nodes: list[dict[str, Any]] = data.setdefault("nodes", [])
    return tree, (current.id if current else None), nodes, data


def _publish(platform: Platform, actor: Actor, name: str, data: dict[str, Any], base: int | None,
             comment: str) -> int:
    return platform.publish("category", name, data, actor=actor, comment=comment, base_revision=base,
                            permission=PERMISSION)


def _node(nodes: list[dict[str, Any]], code: str) -> dict[str, Any]:
    for n in nodes:
        if n["code"] == code:
            return n
    raise CategoryEditError(f"no code '{code}'")


def add_code(platform: Platform, actor: Actor, tree: str, code: str, label: dict[str, str],
             parent: str | None = None) -> int:
    actor.require_permission(PERMISSION)
    _, base, nodes, data = _tree(platform, tree)
    if any(n["code"] == code for n in nodes):
        raise CategoryEditError(f"the code '{code}' exists already")
    node: dict[str, Any] = {"code": code, "label": label}
    if parent:
        node["parent"] = parent
        last = max((i for i, n in enumerate(nodes) if n.get("parent") == parent or n["code"] == parent), default=-1)
        nodes.insert(last + 1, node)
    else:
        nodes.append(node)
    return _publish(platform, actor, tree, data, base, f"add {code}")


def rename_code(platform: Platform, actor: Actor, tree: str, code: str, label: dict[str, str]) -> int:
    actor.require_permission(PERMISSION)
    _, base, nodes, data = _tree(platform, tree)
    _node(nodes, code)["label"] = label
    return _publish(platform, actor, tree, data, base, f"rename {code}")


def move_code(platform: Platform, actor: Actor, tree: str, code: str, parent: str | None) -> int:
    """Put ``code`` under ``parent`` (None: at the top). A move under its own descendant is refused."""
    actor.require_permission(PERMISSION)
    category, base, nodes, data = _tree(platform, tree)
    if parent is not None and code in {n.code for n in category.path(parent)}:
        raise CategoryEditError(f"'{code}' cannot move under its own descendant '{parent}'")
    node = _node(nodes, code)
    if parent is None:
        node.pop("parent", None)
    else:
        node["parent"] = parent
    return _publish(platform, actor, tree, data, base, f"move {code} under {parent or 'top'}")


def set_retired(platform: Platform, actor: Actor, tree: str, code: str, retired: bool) -> int:
    actor.require_permission(PERMISSION)
    _, base, nodes, data = _tree(platform, tree)
    node = _node(nodes, code)
    if retired:
        node["retired"] = True
    else:
        node.pop("retired", None)
    return _publish(platform, actor, tree, data, base, f"{'retire' if retired else 'restore'} {code}")
