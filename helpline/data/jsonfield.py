"""A JSON column that is ``jsonb`` on PostgreSQL and text on SQLite, with non-ASCII kept readable."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from peewee import Field


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default, separators=(",", ":"))


class JSONField(Field):  # type: ignore[misc]
    field_type = "JSON"

    def ddl_datatype(self, ctx: Any) -> Any:
        from peewee import SQL

        from .database import is_postgres

        return SQL("JSONB" if is_postgres() else "TEXT")

    def db_value(self, value: Any) -> Any:
        return None if value is None else dumps(value)

    def python_value(self, value: Any) -> Any:
        if value is None or not isinstance(value, (str, bytes)):
            return value
        return json.loads(value)
