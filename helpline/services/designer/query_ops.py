"""The query designer's server side: run a query as drafted, and parse what the designer's inputs type.

:func:`run_draft_query` runs the author's draft of a query (from :meth:`DraftService.preview`, i.e. the
live metadata with the author's drafts applied) without publishing it. It runs through the record service
with the author's own actor, so the author's row scope, field masks, read permission and the audit log of
customer reads apply exactly as for a published query. The data lives in the live tables, so every field
the query uses must already be published on its entity (a field only in a draft entity is refused by name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from helpline.data.query import ListQuery, sort_keys
from helpline.diagnostics import Problem
from helpline.metadata.kinds import Entity, EntityField, Query
from helpline.metadata.metaset import MetadataSet
from helpline.security.actor import Actor
from helpline.services.designer.drafts import DraftService
from helpline.services.designer.locate import object_of
from helpline.services.platform import Platform
from helpline.services.queries import QueryResult, build_condition

OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "starts_with", "between", "is_empty")
WIDGETS = ("auto", "text", "number", "date_range", "date", "category", "select", "bool")
MEASURES = ("count", "sum", "avg")
CHARTS = ("bar", "line", "pie")
GROUPABLE = ("text", "category", "bool", "int", "link", "date")
NUMBERS = ("int", "decimal")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class DraftQueryError(ValueError):
    """The draft cannot be run; ``key`` is a locale key and ``params`` its parameters."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key, self.params = key, params
        super().__init__(f"{key} {params}")


@dataclass
class DraftRun:
    query: Query
    result: QueryResult


def fields_used(query: Query) -> list[str]:
    """Every field the query reads: its inputs, result columns, pivot and sort."""
    names = [i.field for i in query.inputs] + list(query.columns)
    if query.pivot:
        names += [query.pivot.rows, query.pivot.columns] + ([query.pivot.of] if query.pivot.of else [])
    names += [s.removeprefix("-") for s in query.sort]
    return list(dict.fromkeys(names))


def draft_query_of(platform: Platform, mset: MetadataSet, problems: list[Problem], name: str) -> Query:
    """Query ``name`` of a preview set (the live metadata with the author's drafts applied), refused when
    it has errors or cannot run on the live tables."""
    query = mset.queries.get(name)
    if query is None:
        raise DraftQueryError("designer.query.run_invalid")
    own = [p for p in problems if p.severity == "error" and object_of(p) == ("query", name)]
    if own:
        raise DraftQueryError("designer.query.run_problems", count=len(own))
    entity = platform.metadata.entities.get(query.entity)
    if entity is None:
        raise DraftQueryError("designer.query.run_unpublished_entity", entity=query.entity)
    missing = [f for f in fields_used(query) if entity.any_field(f) is None]
    if missing:
        raise DraftQueryError("designer.query.run_unpublished_fields", fields=", ".join(missing))
    return query


def draft_query(platform: Platform, actor: Actor, name: str) -> Query:
    """The author's draft of query ``name`` as it would be published (checks the designer permission)."""
    mset, problems = DraftService(platform).preview(actor)
    return draft_query_of(platform, mset, problems, name)


def run_query_object(platform: Platform, actor: Actor, query: Query, values: dict[str, Any], *,
                     page: int = 1) -> QueryResult:
    """Run ``query`` (a draft, not necessarily live) with the actor's scope and masks."""
    where = build_condition(platform, query, values)
    if query.pivot:
        p = query.pivot
        table = platform.records.pivot(actor, query.entity, where, p.rows, p.columns, p.measure, p.of)
        return QueryResult(where=where, pivot=table)
    listing = ListQuery(entity=query.entity, where=where, sort=sort_keys(query.sort or ["-id"]), page=page,
                        page_size=query.page_size)
    return QueryResult(where=where, page=platform.records.list_page(actor, listing, purpose="query"))


def run_draft_query(platform: Platform, actor: Actor, name: str, values: dict[str, Any], *,
                    page: int = 1) -> DraftRun:
    """The draft of query ``name`` and its result for ``values`` (see the module docstring)."""
    query = draft_query(platform, actor, name)
    return DraftRun(query, run_query_object(platform, actor, query, values, page=page))


# ------------------------------------------------------------------------------------ typed values
def parse_default(field: EntityField | None, op: str, text: str) -> Any:
    """What the designer typed as an input's default, as data of the field's type: a list for ``in``
    (comma separated), two values for ``between``, a number for numeric fields, a bool for bool fields;
    None for an empty text. Values that do not parse are kept as text (the checker reports them)."""
    text = text.strip()
    if not text:
        return None
    if op in ("in", "between"):
        parts = [p.strip() for p in text.split(",")]
        values = [_typed(field, p) for p in parts if p or op == "between"]
        return values if op == "in" else [*values, None, None][:2]
    if op == "is_empty":
        return _bool(text)
    return _typed(field, text)


def show_default(value: Any) -> str:
    """An input's default as the designer shows it (the inverse of :func:`parse_default`)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join("" if v is None else _text(v) for v in value)
    return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bool(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    return text


def _typed(field: EntityField | None, text: str) -> Any:
    if field is None or text == "":
        return text or None
    if field.type == "int" and re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if field.type == "decimal" and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", text):
        return float(text)
    if field.type == "bool":
        return _bool(text)
    return text


def field_choices(entity: Entity | None, types: tuple[str, ...] | None = None, *, language: str = "en",
                  keep: str | None = None) -> dict[str, str]:
    """Fields offered in a designer select (active fields, of ``types`` if given): name → "label (name)".
    ``keep`` stays offered even if it no longer fits, so the current value shows."""
    if entity is None:
        return {keep: keep} if keep else {}
    out = {f.name: f"{f.label.get(language)} ({f.name})" for f in entity.active_fields
           if types is None or f.type in types}
    if keep and keep not in out:
        out[keep] = keep
    return out
