"""Pure operations of the screen designer on a screen's data (the dict of its YAML file), and the sample
data its live preview shows.

A form's ``layout`` is a list of sections, each with ``fields`` given as names or as placements
(``{field: age, readonly: true}``); :func:`set_entry_option` turns one into the other so the YAML stays in
its short form when nothing is overridden. A list's ``columns`` work the same way. :func:`sample_record`
and :func:`sample_rows` make values of every field type (never read from or written to the database).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from helpline.data.query import Page
from helpline.metadata.kinds import Entity, EntityField
from helpline.metadata.metaset import MetadataSet

# ----------------------------------------------------------------------------------- entries


def entry_field(entry: Any) -> str:
    """The field name of a section entry or list column (a name or a mapping with ``field``)."""
    if isinstance(entry, dict):
        return str(entry.get("field") or "")
    return str(entry)


def entry_options(entry: Any) -> dict[str, Any]:
    """A section entry or column as a mapping (``{field: name, ...}``)."""
    return dict(entry) if isinstance(entry, dict) else {"field": str(entry)}


def compact(options: dict[str, Any]) -> str | dict[str, Any]:
    """The short form of an entry: its name when only ``field`` is left."""
    cleaned = {k: v for k, v in options.items() if v not in (None, "", False, {}) or k == "sortable"}
    if cleaned.get("sortable") is True:
        cleaned.pop("sortable")
    if cleaned.get("span") == 1:
        cleaned.pop("span")
    return cleaned["field"] if set(cleaned) == {"field"} else cleaned


def set_entry_option(entries: list[Any], index: int, key: str, value: Any) -> None:
    """Set one override of ``entries[index]`` (``readonly``, ``span``, ``hint``, ``width``...), keeping the
    entry as a bare name when nothing is overridden."""
    options = entry_options(entries[index])
    options[key] = value
    entries[index] = compact(options)


def move(items: list[Any], index: int, delta: int) -> bool:
    """Move ``items[index]`` by ``delta`` places (within bounds); returns whether it moved."""
    target = index + delta
    if not 0 <= index < len(items) or not 0 <= target < len(items):
        return False
    items.insert(target, items.pop(index))
    return True


def placed_fields(data: dict[str, Any]) -> list[str]:
    """The fields placed in a form's sections, in order."""
    return [entry_field(e) for s in data.get("layout") or [] for e in s.get("fields") or []]


def find_entry(data: dict[str, Any], field: str) -> tuple[int, int] | None:
    """(section, position) of ``field`` in a form's layout."""
    for i, section in enumerate(data.get("layout") or []):
        for j, entry in enumerate(section.get("fields") or []):
            if entry_field(entry) == field:
                return i, j
    return None


def add_to_section(data: dict[str, Any], section: int, field: str) -> None:
    data["layout"][section].setdefault("fields", []).append(field)


def move_to_section(data: dict[str, Any], field: str, target: int) -> bool:
    """Move a placed field to the end of another section (an emptied section keeps no fields: the checker
    reports it until it gets one or is removed)."""
    found = find_entry(data, field)
    if found is None or found[0] == target or not 0 <= target < len(data.get("layout") or []):
        return False
    i, j = found
    entry = data["layout"][i]["fields"].pop(j)
    data["layout"][target].setdefault("fields", []).append(entry)
    return True


def remove_entry(data: dict[str, Any], field: str) -> bool:
    found = find_entry(data, field)
    if found is None:
        return False
    del data["layout"][found[0]]["fields"][found[1]]
    return True


def new_section(title: str) -> dict[str, Any]:
    return {"title": {"en": title}, "columns": 2, "fields": []}


def unplaced(entity: Entity | None, placed: list[str]) -> list[EntityField]:
    """The entity's active fields not yet on the screen (offered to be added)."""
    if entity is None:
        return []
    return [f for f in entity.active_fields if f.name not in placed]


def sort_entries(data: dict[str, Any]) -> list[tuple[str, bool]]:
    """A list's default sort as (field, descending) pairs."""
    return [(s[1:], True) if str(s).startswith("-") else (str(s), False) for s in data.get("sort") or []]


def set_sort(data: dict[str, Any], pairs: list[tuple[str, bool]]) -> None:
    if pairs:
        data["sort"] = [f"-{f}" if desc else f for f, desc in pairs if f]
    else:
        data.pop("sort", None)


# ----------------------------------------------------------------------------------- sample data

SAMPLE_TEXT = {"phone": "13800000000", "email": "someone@example.com"}


def sample_value(field: EntityField, mset: MetadataSet, n: int = 0) -> Any:
    """A plausible value of ``field`` for the preview (the n-th sample row); links stay empty (a preview
    does not read other records)."""
    t = field.type
    v = field.validation
    if t == "int" or t == "decimal":
        low = int(v.min) if v is not None and v.min is not None else 0
        high = int(v.max) if v is not None and v.max is not None else low + 100
        value = min(high, low + 1 + n)
        return value if t == "int" else Decimal(value) + Decimal("0.5")
    if t == "bool":
        return n % 2 == 1
    if t == "date":
        return date(2026, 1, 1) + timedelta(days=n)
    if t == "datetime":
        return datetime(2026, 1, 1, 9, 0) + timedelta(hours=n)
    if t == "category":
        tree = mset.categories.get(field.category or "")
        codes = [] if tree is None else [c.code for c in tree.nodes
                                         if not c.retired and (tree.selectable == "any" or not tree.children(c.code))]
        if not codes:
            return [] if field.multiple else None
        code = codes[n % len(codes)]
        return [code] if field.multiple else code
    if t in ("link", "json"):
        return None
    if t in SAMPLE_TEXT:
        return SAMPLE_TEXT[t] if n == 0 else SAMPLE_TEXT[t].replace("0", str(n % 10), 1)
    text = f"{field.label.en} {n + 1}"
    limit = v.max_length if v is not None and v.max_length else None
    return text[:limit] if limit else text


def sample_record(entity: Entity, mset: MetadataSet) -> dict[str, Any]:
    """The values a new record shows in the form preview: each field's default, else a sample."""
    values: dict[str, Any] = {}
    for f in entity.active_fields:
        values[f.name] = f.default if f.default not in (None, "today", "now") else sample_value(f, mset)
    return values


def sample_rows(entity: Entity, mset: MetadataSet, count: int = 5) -> list[dict[str, Any]]:
    """Rows of sample records (with the system columns) for the list preview."""
    rows = []
    for n in range(count):
        row: dict[str, Any] = {f.name: sample_value(f, mset, n) for f in entity.active_fields}
        stamp = datetime(2026, 1, 1, 9, 0) + timedelta(days=n)
        row.update(id=n + 1, created_at=stamp, updated_at=stamp, created_by="admin", updated_by="admin",
                   version=1)
        rows.append(row)
    return rows


def _sort_key(name: str) -> Callable[[dict[str, Any]], Any]:
    def key(row: dict[str, Any]) -> Any:
        value = row[name]
        return str(value) if isinstance(value, list) else value
    return key


def sorted_rows(rows: list[dict[str, Any]], sort: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    """``rows`` in the order of ``sort`` ((field, descending) pairs; empty values last)."""
    out = list(rows)
    for name, descending in reversed(sort):
        present = [r for r in out if r.get(name) not in (None, "", [])]
        empty = [r for r in out if r.get(name) in (None, "", [])]
        present.sort(key=_sort_key(name), reverse=descending)
        out = present + empty
    return out


def sample_page(rows: list[dict[str, Any]], sort: list[tuple[str, bool]], page: int, page_size: int) -> Page:
    ordered = sorted_rows(rows, sort)
    start = (max(page, 1) - 1) * page_size
    return Page(rows=ordered[start:start + page_size], total=len(ordered), capped=False, page=max(page, 1),
                page_size=page_size)


def switch_view(data: dict[str, Any], view: str) -> None:
    """Change a screen between form/desktop (sections) and list (columns), carrying the fields over."""
    data["view"] = view
    if view == "list" and not data.get("columns"):
        data["columns"] = placed_fields(data) or ["id"]
    if view in ("form", "desktop") and not data.get("layout"):
        fields = [entry_field(c) for c in data.get("columns") or []] or ["id"]
        data["layout"] = [{"title": {"en": "General"}, "columns": 2, "fields": fields}]
    if view == "list":
        data.pop("layout", None)
        data.pop("related", None)
    else:
        for key in ("columns", "sort", "filters", "page_size", "form"):
            data.pop(key, None)


def template(name: str) -> dict[str, Any]:
    """A new screen named ``name``: ``<entity>_form`` / ``<entity>_list`` guess the entity and the view."""
    view = "form" if name.endswith("_form") else "list"
    entity = name.rsplit("_", 1)[0] if name.endswith(("_form", "_list")) else name
    data: dict[str, Any] = {"kind": "screen", "name": name, "entity": entity, "view": view,
                            "title": {"en": entity.replace("_", " ").capitalize()}}
    switch_view(data, view)
    return data
