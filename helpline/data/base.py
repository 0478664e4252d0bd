"""The base of every system table (``hl_*``) and the clock they stamp rows with."""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import Model

from .database import db


def utcnow() -> datetime:
    """Now in UTC, naive (how every timestamp column stores time)."""
    return datetime.now(UTC).replace(tzinfo=None)


class SystemModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
