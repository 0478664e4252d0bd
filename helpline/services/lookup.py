"""Caller identification: find the customer behind a phone number, fast (an indexed equality lookup).

The IVR calls this at the start of every call (``telephony/ivr/identify.py``); the agent desktop's screen-pop
too: one implementation, its SQL built once per model. The number is normalised and tried in the forms it
may be stored in (with or without +86, a trunk 0).
"""

from __future__ import annotations

from typing import Any

from helpline.data.database import db, session
from helpline.data.entities import EntityModel
from helpline.data.entities import column as column_of

from .platform import Platform
from .values import phone_variants

LOOKUP_FIELDS = ("phone", "phone2")


def find_customer_by_phone(platform: Platform, number: str, *, entity: str = "customer") -> dict[str, Any] | None:
    """The customer whose indexed phone field holds ``number``, or None (never raises for odd input)."""
    if not number or not any(ch.isdigit() for ch in number):
        return None
    meta = platform.metadata.entities.get(entity)
    if meta is None:
        return None
    model = platform.models[entity]
    variants = phone_variants(number)
    fields = [f for f in LOOKUP_FIELDS if (fd := meta.field(f)) is not None and (fd.indexed or fd.unique)]
    if not fields:
        return None
    with session():
        for name in fields:
            sql, tail = _statement(model, name, len(variants))
            row = db.execute_sql(sql, [*variants, *tail]).fetchone()
            if row is not None:
                # by field name, the model's fields turning stored values into Python ones (JSON, dates, decimals)
                return {f.name: f.python_value(v) for f, v in zip(model._meta.sorted_fields, row, strict=True)}
    return None


_STATEMENTS: dict[tuple[int, str, int], tuple[type[EntityModel], str, list[Any]]] = {}


def _statement(model: type[EntityModel], field: str, n: int) -> tuple[str, list[Any]]:
    """The lookup SQL for ``field`` with ``n`` number forms, built once per model (peewee needs about a
    millisecond to build a 40-column select; the indexed lookup itself takes a few hundredths)."""
    key = (id(model), field, n)
    cached = _STATEMENTS.get(key)
    if cached is None or cached[0] is not model:
        column = column_of(model, field)
        clause = column == "?" if n == 1 else column.in_(["?"] * n)
        query = model.select().where(clause).order_by(model.id).limit(1)
        sql, params = query.sql()
        if len(_STATEMENTS) > 64:
            _STATEMENTS.clear()
        cached = _STATEMENTS[key] = (model, sql, list(params[n:]))  # the number forms, then LIMIT
    return cached[1], cached[2]
