"""System tables of data imports: a run's result record (``hl_import_run``) and what it changed
(``hl_import_change``, for undo).

A run row is the checkpoint too: ``rows_done`` (source rows handled and committed) is written in the same
transaction as each batch, so a crashed or cancelled run resumes at the first row not yet committed. Each
change row keeps the record, what the run did to it (``insert``, ``update``, ``delete``), the values it
replaced and the record's version after the run: undo restores them while no one changed the record since.

The tables are created at first use (:func:`ensure_tables`), like the other system tables they are only ever
extended.
"""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, BooleanField, CharField, DateTimeField, FloatField, IntegerField

from .base import SystemModel, utcnow
from .database import db
from .jsonfield import JSONField


class ImportRun(SystemModel):
    """One run of one import definition: its source, who started it, its counts and its state."""

    id = AutoField()
    definition = CharField(max_length=64, index=True)
    entity = CharField(max_length=64)
    file_name = CharField(max_length=255, default="")
    stored_path = CharField(max_length=1000, default="")
    """A copy of the uploaded file the run reads (and a resumed run reads again)."""
    started_by = CharField(max_length=64)
    started_at = DateTimeField(default=utcnow, index=True)
    finished_at = DateTimeField(null=True)
    seconds = FloatField(null=True)
    status = CharField(max_length=16, default="running")
    """``running``, ``done``, ``failed``, ``cancelled``, ``interrupted`` or ``undone``."""
    rows_total = IntegerField(null=True)
    rows_done = IntegerField(default=0)
    inserted = IntegerField(default=0)
    updated = IntegerField(default=0)
    unchanged = IntegerField(default=0)
    rejected = IntegerField(default=0)
    warnings = IntegerField(default=0)
    deleted = IntegerField(default=0)
    confirm_delete = BooleanField(default=False)
    problems = JSONField(null=True)
    """The first problems found (row, column, value, message, severity)."""
    error = CharField(max_length=2000, default="")

    class Meta:
        table_name = "hl_import_run"


class ImportChange(SystemModel):
    """One record one run inserted, updated or deleted."""

    id = AutoField()
    run = IntegerField(index=True)
    record_id = BigIntegerField()
    action = CharField(max_length=8)
    before = JSONField(null=True)
    """(update) the changed fields' earlier values; (delete) the whole record."""
    version = IntegerField(null=True)
    """The record's version after the run (insert, update)."""

    class Meta:
        table_name = "hl_import_change"


def ensure_tables() -> None:
    """Create the import tables when missing (inside the caller's connection)."""
    db.create_tables([ImportRun, ImportChange], safe=True)
