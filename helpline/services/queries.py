"""Run a query screen: its inputs become conditions, its logic (rule language) relates them, and the
result is a page of rows or a 2-D table — through the record service, so scope, masks and audit apply.

An input left empty drops out of the logic (``tier and (city or county)`` with no city is
``tier and county``); a required input left empty is an error naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from helpline.data.base import from_centre
from helpline.data.conditions import Cmp, Cond, all_of
from helpline.data.query import ListQuery, Page, PivotTable, sort_keys
from helpline.data.rule_filters import Ref, SubCondition, to_condition
from helpline.metadata.kinds import Query, QueryInput
from helpline.metadata.rule_checks import query_logic_use
from helpline.rules.checker import check_expression
from helpline.security.actor import Actor

from .platform import Platform
from .values import coerce


class QueryInputError(ValueError):
    """Inputs are missing or invalid; ``errors`` maps input names to a locale key."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class QueryResult:
    where: Cond
    page: Page | None = None
    pivot: PivotTable | None = None


def is_blank(value: Any) -> bool:
    if value is None or value == "" or value == []:
        return True
    return isinstance(value, (list, tuple)) and len(value) == 2 and all(v in (None, "") for v in value)


def typed_time(field: Any, raw: Any, value: Any) -> Any:
    """A time a user typed (text) is the centre's wall clock: the stored (UTC) time it means. Other values as
    they are."""
    if field.type == "datetime" and isinstance(raw, str) and isinstance(value, datetime):
        return from_centre(value)
    return value


def typed_range(field: Any, low: Any, high: Any) -> tuple[Any, Any]:
    """A range a user typed (``from``, ``to``; None when open) as stored values: a date range of a datetime field
    includes its last day, and its times are the centre's (:func:`typed_time`). ``ValueError`` for a value that is
    not of the field's type."""
    low_v = None if low in (None, "") else coerce(field, low)
    high_v = None if high in (None, "") else coerce(field, high)
    if field.type == "datetime" and isinstance(high_v, datetime) and isinstance(high, str) and len(high) <= 10:
        high_v = high_v.replace(hour=23, minute=59, second=59)  # a date range includes its last day
    return typed_time(field, low, low_v), typed_time(field, high, high_v)


def input_condition(platform: Platform, query: Query, inp: QueryInput, raw: Any) -> Cond | None:
    """The condition of one filled-in input (None when it is empty)."""
    if is_blank(raw):
        return None
    entity = platform.metadata.entities[query.entity]
    field = entity.any_field(inp.field)
    assert field is not None
    if inp.op == "between":
        low, high = raw if isinstance(raw, (list, tuple)) else (raw, None)
        return Cmp(inp.field, "between", typed_range(field, low, high))
    if inp.op == "in":
        values = raw if isinstance(raw, (list, tuple, set)) else [raw]
        return Cmp(inp.field, "in", [coerce(field, v) if field.type != "category" else v for v in values])
    if inp.op == "is_empty":
        return Cmp(inp.field, "is_empty" if raw in (True, "true", "yes", 1) else "not_empty")
    if inp.op in ("contains", "starts_with"):
        return Cmp(inp.field, inp.op, str(raw).strip())
    value = typed_time(field, raw, coerce(field, raw)) if field.type != "category" else raw
    if field.type == "date" and isinstance(value, datetime):
        value = value.date()
    if isinstance(value, list):
        return Cmp(inp.field, "in", value)
    return Cmp(inp.field, inp.op, value)


def build_condition(platform: Platform, query: Query, values: dict[str, Any],
                    hidden: frozenset[str] = frozenset()) -> Cond:
    """The inputs' condition; an input on a field in ``hidden`` (masked for the user) cannot be filled in."""
    errors: dict[str, str] = {}
    atoms: dict[str, Cond | None] = {}
    for inp in query.inputs:
        raw = values.get(inp.name, inp.default)
        if inp.required and is_blank(raw):
            errors[inp.name] = "query.required_input"
            continue
        if inp.field in hidden and not is_blank(raw):
            errors[inp.name] = "query.masked_input"
            continue
        try:
            atoms[inp.name] = input_condition(platform, query, inp, raw)
        except (ValueError, TypeError):
            errors[inp.name] = "errors.type"
    if errors:
        raise QueryInputError(errors)
    if not query.logic:
        return all_of(*atoms.values())
    result = check_expression(query.logic, query_logic_use(query, platform.metadata))
    if result.expr is None or not result.ok:
        raise QueryInputError({"logic": "; ".join(p.message for p in result.problems)})

    def resolve(parts: tuple[str, ...]) -> Ref:
        return SubCondition(atoms.get(parts[-1]))

    return to_condition(result.expr, resolve)


def run_query(platform: Platform, actor: Actor, name: str, values: dict[str, Any], *, page: int = 1,
              page_size: int | None = None, sort: list[tuple[str, bool]] | None = None) -> QueryResult:
    query = platform.metadata.queries[name]
    where = build_condition(platform, query, values, platform.records.hidden(actor, query.entity))
    if query.pivot:
        p = query.pivot
        table = platform.records.pivot(actor, query.entity, where, p.rows, p.columns, p.measure, p.of)
        return QueryResult(where=where, pivot=table)
    listing = ListQuery(entity=query.entity, where=where, sort=sort or sort_keys(query.sort or ["-id"]),
                        page=page, page_size=page_size or query.page_size)
    return QueryResult(where=where, page=platform.records.list_page(actor, listing, purpose="query"))


