"""A batch between its check and its write: each row to write (:class:`Pending`), the batch as checked
(:class:`Checked`) and what it makes true once written (:func:`in_flight_of`, for the writer thread)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from helpline.metadata.kinds import Entity

from .behind import InFlight
from .prepared import Prepared
from .report import ImportReport


@dataclass
class Pending:
    """A row checked and to be written: its cells, its values, the record it updates and what changes."""

    number: int
    cells: list[Any]
    values: dict[str, Any]
    existing: dict[str, Any] | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    numbered: list[Any] = field(default_factory=list)
    """The fields of a new record to number (``numbering.assign_numbers``) when it is written."""


@dataclass
class Checked:
    """A batch checked, to be written: its rows, what the checks found, what it makes true once written."""

    pending: list[Pending]
    part: ImportReport
    in_flight: InFlight
    prepared: Prepared | None = None
    """Its new records ready to send (:mod:`.prepared`), made by the checking thread when a writer writes."""


def in_flight_of(entity: Entity, pending: list[Pending]) -> InFlight:
    """The unique values ``pending`` takes, and whether an update of it changes one (:class:`.behind.InFlight`)."""
    found = InFlight()
    for f in entity.active_fields:
        if not f.unique or f.name == "id":
            continue
        taken = {str(p.values[f.name]) for p in pending if p.values.get(f.name) not in (None, "")}
        if taken:
            found.unique[f.name] = taken
        found.frees_unique = found.frees_unique or any(p.existing is not None and f.name in p.changes
                                                       for p in pending)
    return found
