"""Numbering series at save: a new record gets the next number of each field with a ``series`` left empty.

:func:`numbered_fields` picks those fields (and waives their "required" error: the server fills them);
:func:`assign_numbers` takes the numbers inside the record's write transaction, so the counter and the record
are written together (see :mod:`helpline.data.series`).
"""

from __future__ import annotations

from typing import Any

from peewee import Model

from helpline.data.series import next_number
from helpline.metadata.kinds import Entity, EntityField
from helpline.metadata.series import parse_series

from .values import FieldError


def numbered_fields(entity: Entity, values: dict[str, Any], errors: dict[str, FieldError]) -> list[EntityField]:
    """The fields of ``entity`` with a series that the new record leaves empty; their "required" errors are
    dropped from ``errors`` (any other error about them stays)."""
    fields = [f for f in _series_fields(entity) if values.get(f.name) in (None, "")]
    for f in fields:
        if f.name in errors and errors[f.name].key == "errors.required":
            del errors[f.name]
    return fields


_SERIES: dict[int, tuple[Any, tuple[EntityField, ...]]] = {}
"""The active fields with a series, per active-fields tuple of an entity (an import asks for every row)."""


def _series_fields(entity: Entity) -> tuple[EntityField, ...]:
    active = entity._lookup()[2]
    cached = _SERIES.get(id(active))
    if cached is None or cached[0] is not active:
        if len(_SERIES) > 512:
            _SERIES.clear()
        cached = _SERIES[id(active)] = (active, tuple(f for f in active if f.series))
    return cached[1]


def assign_numbers(model: type[Model], entity: Entity, values: dict[str, Any], fields: list[EntityField]) -> None:
    """Give each of ``fields`` its next number in ``values`` (inside the write transaction of the insert)."""
    for f in fields:
        assert f.series is not None
        values[f.name] = next_number(model, entity.name, f.name, parse_series(f.series))
