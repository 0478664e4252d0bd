"""The condition tree every filter is expressed in before it becomes SQL.

Lists (per-column filters, quick search), query screens (inputs and their logic), row scopes and exports
all build these small immutable nodes; :mod:`helpline.data.query` turns them into parameterised peewee
expressions. ``TRUE`` is the empty ``All``; ``FALSE`` the empty ``AnyOf``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains", "starts_with", "ends_with",
             "prefix", "between", "is_empty", "not_empty", "digits", "linked",
             "text_match"]
"""``digits``: the field's digits contain the value (any part of a phone number); ``linked``: the link field
points at a record of another entity that meets a condition (value: :class:`helpline.data.query.Linked`);
``text_match`` (on ``id``): the record's text index matches (value: :class:`helpline.data.query.TextMatch`)."""
OPS: frozenset[str] = frozenset(Op.__args__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Cmp:
    """``field op value``; ``value`` is a list for in/not_in, a (low, high) pair for between."""

    field: str
    op: str
    value: Any = None

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown operator {self.op!r}; operators are {', '.join(sorted(OPS))}")


@dataclass(frozen=True)
class All:
    items: tuple[Cond, ...] = ()


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Cond, ...] = ()


@dataclass(frozen=True)
class Not:
    item: Cond


Cond = Cmp | All | AnyOf | Not

TRUE: Cond = All(())
FALSE: Cond = AnyOf(())


def _junction(kind: type[All] | type[AnyOf], items: tuple[Cond | None, ...]) -> Cond:
    neutral, decisive = (TRUE, FALSE) if kind is All else (FALSE, TRUE)
    flat: list[Cond] = []
    for item in items:
        if item is None or item == neutral:
            continue
        flat.extend(item.items if isinstance(item, kind) else (item,))
    if any(i == decisive for i in flat):
        return decisive
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def all_of(*items: Cond | None) -> Cond:
    """``and`` of the given conditions, dropping None and TRUE, flattening nested ``All``."""
    return _junction(All, items)


def any_of(*items: Cond | None) -> Cond:
    """``or`` of the given conditions, dropping None and FALSE, flattening nested ``AnyOf``."""
    return _junction(AnyOf, items)


def fields_of(cond: Cond) -> set[str]:
    """Every field a condition reads."""
    if isinstance(cond, Cmp):
        return {cond.field}
    if isinstance(cond, Not):
        return fields_of(cond.item)
    out: set[str] = set()
    for item in cond.items:
        out |= fields_of(item)
    return out


def describe(cond: Cond) -> Any:
    """A JSON-friendly form of the condition (for the audit log)."""
    if isinstance(cond, Cmp):
        value = list(cond.value) if isinstance(cond.value, (tuple, set, frozenset)) else cond.value
        return [cond.field, cond.op, value]
    if isinstance(cond, Not):
        return {"not": describe(cond.item)}
    key = "and" if isinstance(cond, All) else "or"
    return {key: [describe(i) for i in cond.items]}
