"""Pure operations of the menu designer on a menu's data (the dict of the YAML file), and who sees an item.

A menu's ``items`` are a flat list in display order with ``parent`` references; the shell shows the
children of an item in list order. The operations keep an item and everything below it together as one
block of the list (tidy YAML, clean diffs), keep ``parent`` references right when an item's name changes,
and refuse what would make the tree wrong (:class:`MenuOpError`). Nothing here touches the database: the
designer saves the changed data as a draft and the checker reports what is still wrong.

:func:`item_visible` is the rule the shell's drawer applies (a role grants the item, its permission is held
and its target may be opened); :func:`roles_seeing` asks it for a user holding only one role, on any
:class:`~helpline.metadata.metaset.MetadataSet` (the designer passes the draft preview).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from helpline.metadata.kinds import Menu, MenuItem
from helpline.metadata.metaset import MetadataSet
from helpline.security.actor import Actor
from helpline.services.access import can_open

TARGETS: tuple[str, ...] = ("screen", "query", "page", "url")
"""The keys of an item that say what it opens (at most one); an item with none is a group."""
TargetKind = Literal["group", "screen", "query", "page", "url"]
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class MenuOpError(ValueError):
    """The operation would make the tree wrong (the message says why, in English; ``code`` names the
    reason for translated messages)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# ----------------------------------------------------------------------------------------------- reading
def items_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The menu's item list (created when missing)."""
    items = data.get("items")
    if not isinstance(items, list):
        items = data["items"] = []
    return items


def index_of(data: dict[str, Any], name: str) -> int:
    for i, item in enumerate(items_of(data)):
        if isinstance(item, dict) and item.get("name") == name:
            return i
    raise MenuOpError("unknown_item", f"no item '{name}' in the menu")


def item_of(data: dict[str, Any], name: str) -> dict[str, Any]:
    return items_of(data)[index_of(data, name)]


def children_of(data: dict[str, Any], parent: str | None) -> list[dict[str, Any]]:
    return [i for i in items_of(data) if isinstance(i, dict) and i.get("parent") == parent]


def descendants(data: dict[str, Any], name: str) -> list[str]:
    """Names of every item below ``name`` (any depth; loops in broken data are cut)."""
    found: list[str] = []
    pending = [name]
    while pending:
        current = pending.pop(0)
        for child in children_of(data, current):
            child_name = str(child.get("name"))
            if child_name not in found and child_name != name:
                found.append(child_name)
                pending.append(child_name)
    return found


def target_of(item: dict[str, Any]) -> tuple[TargetKind, str]:
    """What the item opens: ("screen", "customer_list"), ... or ("group", ""); a target key with an empty
    value (chosen in the designer, not filled in yet) still counts, so the designer keeps showing it."""
    for key in TARGETS:
        if item.get(key) is not None:
            return key, str(item[key])  # type: ignore[return-value]
    return "group", ""


def depth_of(data: dict[str, Any], name: str) -> int:
    depth, seen = 0, {name}
    parent = item_of(data, name).get("parent")
    while parent is not None and parent not in seen:
        seen.add(parent)
        depth += 1
        try:
            parent = item_of(data, parent).get("parent")
        except MenuOpError:
            break
    return depth


def tree_order(data: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(depth, item) in the order the shell shows them (depth first, siblings in list order); items whose
    parent is missing come last, at depth 0, so a broken draft still shows every item."""
    shown: list[tuple[int, dict[str, Any]]] = []
    seen: set[int] = set()

    def walk(parent: str | None, depth: int) -> None:
        for child in children_of(data, parent):
            if id(child) in seen:
                continue
            seen.add(id(child))
            shown.append((depth, child))
            walk(str(child.get("name")), depth + 1)

    walk(None, 0)
    for item in items_of(data):
        if isinstance(item, dict) and id(item) not in seen:
            seen.add(id(item))
            shown.append((0, item))
            walk(str(item.get("name")), 1)
    return shown


# ----------------------------------------------------------------------------------------------- changing
def unique_name(data: dict[str, Any], base: str = "item") -> str:
    """``base``, else ``base_2``, ``base_3``, ... whichever no item has."""
    taken = {i.get("name") for i in items_of(data) if isinstance(i, dict)}
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def _block(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The item and everything below it, in list order."""
    names = {name, *descendants(data, name)}
    return [i for i in items_of(data) if isinstance(i, dict) and i.get("name") in names]


def _take(data: dict[str, Any], block: list[dict[str, Any]]) -> None:
    ids = {id(b) for b in block}
    data["items"] = [i for i in items_of(data) if id(i) not in ids]


def _insert(data: dict[str, Any], at: int, block: list[dict[str, Any]]) -> None:
    items = items_of(data)
    items[at:at] = block


def _after_block(data: dict[str, Any], name: str) -> int:
    """The list index just after the item ``name`` and everything below it."""
    block = _block(data, name)
    items = items_of(data)
    return max(i for i, item in enumerate(items) if any(item is b for b in block)) + 1


def add_item(data: dict[str, Any], label: str, *, parent: str | None = None, name: str | None = None,
             language: str = "en", target: tuple[str, str] | None = None) -> str:
    """Add an item as the last child of ``parent`` (top level: None); returns its name."""
    if parent is not None:
        index_of(data, parent)
    if name is None:
        base = re.sub(r"[^a-z0-9_]+", "_", label.lower()).strip("_") or "item"
        if not base[0].isalpha():
            base = f"item_{base}"
        name = unique_name(data, base[:60])
    elif not NAME_RE.match(name):
        raise MenuOpError("bad_name", f"'{name}' is not a name (lower-case letters, digits, _)")
    elif any(isinstance(i, dict) and i.get("name") == name for i in items_of(data)):
        raise MenuOpError("duplicate", f"an item '{name}' already exists")
    item: dict[str, Any] = {"name": name}
    if parent is not None:
        item["parent"] = parent
    item["label"] = {"en": label} if language == "en" else {"en": label, language: label}
    if target is not None and target[0] != "group":
        item[target[0]] = target[1]
    at = _after_block(data, parent) if parent is not None else len(items_of(data))
    _insert(data, at, [item])
    return name


def rename_item(data: dict[str, Any], old: str, new: str) -> None:
    """Change an item's name (its identifier) and the ``parent`` of its children. Roles that grant
    ``<menu>.<old>`` must be changed too (the checker reports them: HL-E207)."""
    if old == new:
        return
    if not NAME_RE.match(new):
        raise MenuOpError("bad_name", f"'{new}' is not a name (lower-case letters, digits, _)")
    if any(isinstance(i, dict) and i.get("name") == new for i in items_of(data)):
        raise MenuOpError("duplicate", f"an item '{new}' already exists")
    item = item_of(data, old)
    for child in children_of(data, old):
        child["parent"] = new
    item["name"] = new


def set_label(data: dict[str, Any], name: str, language: str, text: str) -> None:
    """Set (or, with empty text, remove) the item's label in one language."""
    item = item_of(data, name)
    current = item.get("label")
    labels = {"en": current} if isinstance(current, str) else dict(current or {})
    if text.strip():
        labels[language] = text.strip()
    else:
        labels.pop(language, None)
    item["label"] = labels


def set_target(data: dict[str, Any], name: str, kind: str, value: str = "") -> None:
    """Make the item open ``kind`` ``value`` (one of :data:`TARGETS`), or make it a group (``"group"``)."""
    if kind != "group" and kind not in TARGETS:
        raise MenuOpError("bad_target", f"an item opens a screen, query, page or url, not '{kind}'")
    item = item_of(data, name)
    for key in TARGETS:
        item.pop(key, None)
    if kind != "group":
        item[kind] = value
    _reorder_keys(item)


def set_value(data: dict[str, Any], name: str, key: str, value: str | None) -> None:
    """Set ``icon`` or ``permission`` (None or empty: remove it)."""
    if key not in ("icon", "permission"):
        raise MenuOpError("bad_key", f"'{key}' is not set this way")
    item = item_of(data, name)
    if value:
        item[key] = value
    else:
        item.pop(key, None)
    _reorder_keys(item)


_KEY_ORDER = ("name", "parent", *TARGETS, "permission", "icon", "label")


def _reorder_keys(item: dict[str, Any]) -> None:
    """Keys in the order the shipped files use (name, parent, target, permission, icon, label, rest)."""
    ordered = {k: item[k] for k in _KEY_ORDER if k in item}
    ordered.update({k: v for k, v in item.items() if k not in ordered})
    item.clear()
    item.update(ordered)


def move(data: dict[str, Any], name: str, delta: int) -> bool:
    """Move the item (with everything below it) up (-1) or down (+1) among its siblings; False at an end."""
    item = item_of(data, name)
    siblings = children_of(data, item.get("parent"))
    pos = next(i for i, s in enumerate(siblings) if s is item)
    other_pos = pos + delta
    if not 0 <= other_pos < len(siblings):
        return False
    other = str(siblings[other_pos].get("name"))
    block = _block(data, name)
    _take(data, block)
    if delta < 0:
        _insert(data, index_of(data, other), block)
    else:
        _insert(data, _after_block(data, other), block)
    return True


def _set_parent(item: dict[str, Any], parent: str | None) -> None:
    """Put the item under ``parent`` (None: top level), keeping its keys in the file's usual order."""
    if parent is None:
        item.pop("parent", None)
    else:
        item["parent"] = parent
    _reorder_keys(item)


def move_to(data: dict[str, Any], name: str, *, parent: str | None, before: str | None = None) -> None:
    """Move the item (with everything below it) under ``parent`` (None: top level), just before the
    sibling ``before`` (None: as the last child). The drag-and-drop of the tree."""
    if parent == name or (parent is not None and parent in descendants(data, name)):
        raise MenuOpError("cycle", f"'{name}' cannot go below itself")
    if parent is not None:
        index_of(data, parent)
    item = item_of(data, name)
    block = _block(data, name)
    _take(data, block)
    _set_parent(item, parent)
    if before is not None and before != name:
        at = index_of(data, before)
    elif parent is not None:
        at = _after_block(data, parent)
    else:
        at = len(items_of(data))
    _insert(data, at, block)


def indent(data: dict[str, Any], name: str) -> str:
    """Make the item the last child of the sibling above it, which must be a group; returns that group."""
    item = item_of(data, name)
    siblings = children_of(data, item.get("parent"))
    pos = next(i for i, s in enumerate(siblings) if s is item)
    if pos == 0:
        raise MenuOpError("no_group_above", f"no item above '{name}' to go into")
    above = siblings[pos - 1]
    if target_of(above)[0] != "group":
        raise MenuOpError("not_a_group", f"'{above.get('name')}' opens something; only a group holds items")
    move_to(data, name, parent=str(above["name"]))
    return str(above["name"])


def outdent(data: dict[str, Any], name: str) -> bool:
    """Move the item up one level, just after its former parent; False at the top level."""
    item = item_of(data, name)
    parent = item.get("parent")
    if parent is None:
        return False
    try:
        grand = item_of(data, parent).get("parent")
    except MenuOpError:
        grand = None
    block = _block(data, name)
    _take(data, block)
    _set_parent(item, grand)
    try:
        at = _after_block(data, parent)
    except MenuOpError:
        at = len(items_of(data))
    _insert(data, at, block)
    return True


def remove(data: dict[str, Any], name: str) -> list[str]:
    """Remove the item and everything below it; returns the removed names."""
    block = _block(data, name)
    if not block:
        raise MenuOpError("unknown_item", f"no item '{name}' in the menu")
    _take(data, block)
    return [str(b.get("name")) for b in block]


# ----------------------------------------------------------------------------------------------- who sees
def item_visible(actor: Actor, metadata: MetadataSet, menu: Menu, item: MenuItem) -> bool:
    """The shell's rule: an item is shown when a role grants it (or a group above it), its permission is
    held and its target may be opened; a group when one of its children is shown."""
    return _visible(actor, metadata, menu, item, set())


def _visible(actor: Actor, metadata: MetadataSet, menu: Menu, item: MenuItem, seen: set[str]) -> bool:
    if item.name in seen:
        return False
    if item.permission and not actor.has(item.permission):
        return False
    kind, name = item.target
    if kind == "group":  # shown for the items inside it that a role grants (one item may be granted alone)
        return any(_visible(actor, metadata, menu, child, seen | {item.name}) for child in menu.children(item.name))
    if not actor.sees_menu(menu.name, item.name):
        return False
    if kind in ("screen", "query", "page"):
        return can_open(actor, metadata, kind, name)  # type: ignore[arg-type]
    return True


def role_actor(metadata: MetadataSet, role: str) -> Actor:
    """A stand-in for a user who holds only ``role`` (no regions), bound to ``metadata``. It signs nobody
    in and is used only to answer "what would such a user see"."""
    return Actor(username=f"role:{role}", roles=(role,), language="en").bind(metadata)


def roles_seeing(metadata: MetadataSet, menu: str, item: str) -> list[str]:
    """The roles whose holders (with that role alone) see the item ``menu.item`` in the drawer."""
    menu_obj = metadata.menus.get(menu)
    item_obj = menu_obj.item(item) if menu_obj is not None else None
    if menu_obj is None or item_obj is None:
        return []
    return sorted(r for r in metadata.roles if item_visible(role_actor(metadata, r), metadata, menu_obj, item_obj))


def visible_tree(actor: Actor, metadata: MetadataSet) -> list[tuple[int, Menu, MenuItem]]:
    """(depth, menu, item) of every item the shell's drawer shows ``actor``, in drawer order."""
    shown: list[tuple[int, Menu, MenuItem]] = []

    def walk(menu: Menu, parent: str | None, depth: int, seen: set[str]) -> None:
        for item in menu.children(parent):
            if item.name in seen or not item_visible(actor, metadata, menu, item):
                continue
            shown.append((depth, menu, item))
            if item.target[0] == "group":
                walk(menu, item.name, depth + 1, seen | {item.name})

    for menu in sorted(metadata.menus.values(), key=lambda m: m.order):
        walk(menu, None, 0, set())
    return shown
