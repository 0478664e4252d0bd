"""Many rows into a fact table at once (``stats rebuild``): PostgreSQL by ``COPY`` in text format, SQLite by
multi-row ``INSERT`` statements in chunks."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from helpline.data.database import db, is_postgres


def bulk(model: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Many rows in one statement per chunk (the rebuild's inserts, without building a query per row)."""
    if not rows:
        return
    table = model._meta.table_name
    cols = ", ".join(f'"{c}"' for c in columns)
    if is_postgres():  # COPY: no statement text built and escaped value by value (execute_values' mogrify)
        text = io.StringIO("".join([_copy_line(row) for row in rows]))
        db.cursor().copy_expert(f'COPY "{table}" ({cols}) FROM STDIN', text)
        return
    one = "(" + ", ".join(db.param for _ in columns) + ")"
    for chunk in _chunks(rows, 400 if len(columns) > 20 else 1000):
        sql = f'INSERT INTO "{table}" ({cols}) VALUES ' + ", ".join(one for _ in chunk)
        db.execute_sql(sql, [value for row in chunk for value in row])


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_line(row: tuple[Any, ...]) -> str:
    """A row in PostgreSQL's COPY text format (numbers and dates as ``str`` gives them, text escaped)."""
    return "\t".join([v.translate(_COPY_ESCAPES) if type(v) is str else "\\N" if v is None else str(v)
                      for v in row]) + "\n"


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
