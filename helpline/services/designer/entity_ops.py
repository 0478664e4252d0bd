"""Pure operations of the entity designer on an entity's data (the dict of its YAML file).

Adding a field, turning what an administrator typed into a typed default or validation bound, retiring a
field, and deciding which changes would be destructive: a field that is published has a column in the
table, so it can be neither deleted, renamed nor retyped (the migration is additive only, and
``Platform.publish_many`` refuses such a change with ``DestructiveChangeRefused``); it can be retired
instead, which keeps the column and the old values but takes it off screens. :func:`field_usages` finds
where a field is used, so retiring it can also take it off the screens that place it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

from helpline.metadata.kinds import Entity
from helpline.metadata.kinds.entity import FieldType
from helpline.metadata.kinds.imports import Import
from helpline.metadata.metaset import MetadataSet

FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
"""Every field type, in the order the designer offers them."""

NUMBER_OPTIONS = ("min", "max")
TEXT_OPTIONS = ("min_length", "max_length", "regex")


def field_index(data: dict[str, Any], name: str) -> int | None:
    """The position of field ``name`` in ``data['fields']`` (None: not there)."""
    for i, f in enumerate(data.get("fields") or []):
        if isinstance(f, dict) and f.get("name") == name:
            return i
    return None


def add_field(data: dict[str, Any], name: str, type_: str, *, label: dict[str, str] | None = None,
              category: str | None = None, link: str | None = None) -> dict[str, Any]:
    """Append a new field to the entity data and return it (the checker reports a bad name or a
    duplicate; the type-specific property is only set for its type)."""
    field: dict[str, Any] = {"name": name, "type": type_,
                             "label": dict(label) if label else {"en": name.replace("_", " ").capitalize()}}
    if type_ == "category":
        field["category"] = category or ""
    if type_ == "link":
        field["link"] = link or ""
    data.setdefault("fields", []).append(field)
    return field


def remove_field(data: dict[str, Any], name: str) -> bool:
    """Drop a field that was never published (see :func:`refusal` for published ones)."""
    i = field_index(data, name)
    if i is None:
        return False
    del data["fields"][i]
    return True


def set_option(holder: dict[str, Any], key: str, value: Any) -> None:
    """Set ``holder[key]``, or remove the key when the value is empty or false (keeps the YAML short)."""
    if value is None or value is False or value == "" or value == []:
        holder.pop(key, None)
    else:
        holder[key] = value


def plain_number(text: str | float | int | None) -> int | float | str | None:
    """A number as the YAML should hold it: an int when integral, a float otherwise; text that is not a
    number is kept as it is (the checker then reports it); empty is None."""
    if text is None:
        return None
    if isinstance(text, bool):
        return text
    if isinstance(text, int):
        return text
    if isinstance(text, float):
        return int(text) if text.is_integer() else text
    raw = str(text).strip()
    if not raw:
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return raw
    if not number.is_finite():
        return raw
    return int(number) if number == number.to_integral_value() else float(number)


def set_validation(field: dict[str, Any], key: str, value: Any) -> None:
    """Set one validation property (``min``, ``max_length``, ``regex``, ``rule``...); an empty one is
    removed, and so is an empty ``validation``."""
    validation = dict(field.get("validation") or {})
    if key in NUMBER_OPTIONS or key in ("min_length", "max_length"):
        value = plain_number(value)
    elif isinstance(value, str):
        value = value.strip()
    set_option(validation, key, value)
    set_option(field, "validation", validation or None)


def coerce_default(type_: str, text: Any, *, multiple: bool = False) -> Any:
    """What the designer stores as the default of a field of ``type_`` for what was typed: a number for
    number fields, true/false for flags, a list of codes for multiple categories, ``today``/``now`` or an
    ISO date; anything that does not fit is kept as typed so the checker reports it (HL-E215). Empty: None."""
    if text is None:
        return None
    if not isinstance(text, str):
        return text
    raw = text.strip()
    if not raw:
        return None
    if type_ in ("int", "decimal"):
        number = plain_number(raw)
        if type_ == "int" and isinstance(number, float):
            return raw
        return number
    if type_ == "bool":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    if type_ == "date" and raw != "today":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return raw
    if type_ == "datetime" and raw != "now":
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            return raw
    if type_ == "category" and multiple:
        return [code.strip() for code in raw.split(",") if code.strip()]
    return raw


def default_text(value: Any) -> str:
    """A stored default as the designer's text input shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def published(live: Entity | None, name: str) -> bool:
    """Whether the live (published) entity has the field, i.e. its table has the column: then deleting,
    renaming or retyping it (or switching ``multiple``, or the linked entity) would lose data and is
    refused; retiring it is the way out."""
    return live is not None and live.field(name) is not None


def retire(data: dict[str, Any], name: str, retired: bool = True) -> bool:
    """Retire a field (it stays in the table and on old records, leaves screens), or bring it back. A
    retired field is also taken out of the entity's quick search. Returns whether anything changed."""
    i = field_index(data, name)
    if i is None:
        return False
    field = data["fields"][i]
    before = bool(field.get("retired"))
    set_option(field, "retired", retired)
    if retired and name in (data.get("search_fields") or []):
        data["search_fields"] = [n for n in data["search_fields"] if n != name]
    return before != retired


@dataclass(frozen=True)
class Usage:
    """A place that uses a field: the object and where in it."""

    kind: str
    name: str
    where: str

    def describe(self) -> str:
        return f"{self.kind} '{self.name}': {self.where}"


def field_usages(mset: MetadataSet, entity: str, field: str) -> list[Usage]:
    """Where ``entity.field`` is used by screens (layout, columns, sort, filters, related lists), queries,
    import definitions (a column's target, the key, a cleansing rule's field) and the entity itself (title
    field)."""
    found: list[Usage] = []
    for screen in mset.screens.values():
        if screen.entity == entity:
            if field in [r.field for s in screen.layout for r in s.refs()]:
                found.append(Usage("screen", screen.name, "layout"))
            if field in [c.field for c in screen.column_refs()]:
                found.append(Usage("screen", screen.name, "columns"))
            if field in [s.lstrip("-") for s in screen.sort]:
                found.append(Usage("screen", screen.name, "sort"))
            if field in screen.filters:
                found.append(Usage("screen", screen.name, "filters"))
        for rel in screen.related:
            if rel.entity == entity and (field in rel.columns or field in [s.lstrip("-") for s in rel.sort]):
                found.append(Usage("screen", screen.name, "related"))
    for query in mset.queries.values():
        if query.entity == entity:
            names = {i.field for i in query.inputs} | set(query.columns) | {s.lstrip("-") for s in query.sort}
            if query.pivot is not None:
                names |= {query.pivot.rows, query.pivot.columns, query.pivot.of or ""}
            if field in names:
                found.append(Usage("query", query.name, "inputs/columns"))
    for name, imp in sorted(mset.objects.get("import", {}).items()):
        if isinstance(imp, Import) and imp.entity == entity:
            places = [where for where, used in (("columns", imp.column(field) is not None), ("key", imp.key == field),
                                                 ("cleansing", field in [c.field for c in imp.cleansing])) if used]
            if places:
                found.append(Usage("import", name, "/".join(places)))
    owner = mset.entities.get(entity)
    if owner is not None and owner.title_field == field:
        found.append(Usage("entity", entity, "title_field"))
    return found


def _entry_field(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        value = entry.get("field")
        return str(value) if value is not None else None
    return None


def remove_from_screen(screen: dict[str, Any], entity: str, field: str) -> bool:
    """Take ``field`` of ``entity`` off a screen's data (sections, columns, sort, filters, related lists);
    a section left empty is dropped. Returns whether anything changed."""
    changed = False
    if screen.get("entity") == entity:
        layout = []
        for section in screen.get("layout") or []:
            kept = [e for e in section.get("fields") or [] if _entry_field(e) != field]
            changed |= len(kept) != len(section.get("fields") or [])
            if kept:
                layout.append({**section, "fields": kept})
        if "layout" in screen:
            screen["layout"] = layout
        for key in ("columns", "filters", "sort"):
            if key in screen:
                kept = [e for e in screen[key] if (_entry_field(e) or "").lstrip("-") != field]
                changed |= len(kept) != len(screen[key])
                screen[key] = kept
    for rel in screen.get("related") or []:
        if rel.get("entity") == entity:
            for key in ("columns", "sort"):
                if key in rel:
                    kept = [c for c in rel[key] if str(c).lstrip("-") != field]
                    changed |= len(kept) != len(rel[key])
                    rel[key] = kept
    return changed
