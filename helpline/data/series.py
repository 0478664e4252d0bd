"""The counters of numbering series (``hl_series_counter``): one row per entity field and period.

:func:`next_number` takes the next value of a field's series inside the caller's write transaction: the row
is incremented with one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement, so two saves at the same
time never get the same number (PostgreSQL locks the row until the transaction ends; SQLite writes one
transaction at a time), and a save that fails rolls its number back with it. A counter starts after the
highest value already stored for its period (demo or imported records), and skips a value someone stored
by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from peewee import BigIntegerField, CharField, Field, Model

from helpline.metadata.series import Series

from .base import SystemModel

SKIP_LIMIT = 1000
"""How many values stored by hand a counter skips before giving up (then the unique index refuses)."""


class SeriesCounter(SystemModel):
    """The last number given for one key (``work_order.order_no|WO20261206{#}``)."""

    key = CharField(max_length=255, primary_key=True)
    value = BigIntegerField(default=0)

    class Meta:
        table_name = "hl_series_counter"


def _increment(key: str, by: int = 1) -> int:
    query = (SeriesCounter.insert(key=key, value=by)
             .on_conflict(conflict_target=[SeriesCounter.key],
                          update={SeriesCounter.value: SeriesCounter.value + by})
             .returning(SeriesCounter.value))
    return int(next(iter(query.execute())).value)


def _highest_stored(model: type[Model], column: Field, series: Series, now: datetime) -> int:
    """The highest counter among the values already stored for ``now``'s period (0: none)."""
    before, _ = series.around(now)
    query = model.select(column).where(column.startswith(before)) if before else model.select(column)
    query = query.order_by(column.desc()).limit(200) if before else query
    rows: list[tuple[Any, ...]] = list(query.tuples())  # type: ignore[arg-type]
    found = [series.seq_of(str(row[0]), now) for row in rows if row[0] is not None]
    return max((n for n in found if n is not None), default=0)


def next_number(model: type[Model], entity: str, field: str, series: Series, now: datetime | None = None) -> str:
    """The next value of ``field``'s series (call inside the write transaction that stores the record)."""
    now = now or datetime.now()
    key = f"{entity}.{field}|{series.key(now)}"
    column: Field = getattr(model, field)
    seq = _increment(key)
    if seq == 1:  # a new counter: continue after what is stored already
        highest = _highest_stored(model, column, series, now)
        if highest:
            seq = _increment(key, highest)
    for _ in range(SKIP_LIMIT):
        value = series.render(seq, now)
        if not model.select(model.id).where(column == value).exists():  # type: ignore[attr-defined]
            return value
        seq = _increment(key)
    return series.render(seq, now)
