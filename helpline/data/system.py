"""System tables, ordinary peewee classes in code: users, role assignments, metadata revisions, audit log.

Business entities are metadata (``helpline.data.entities``); these are the tables the platform itself
needs. Table names start with ``hl_`` so they never clash with an entity.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.shortcuts import model_to_dict

from .agents import AGENT_MODELS
from .base import SystemModel, utcnow
from .bulletins import BULLETIN_MODELS
from .callbacks import CALLBACK_MODELS
from .calls import Call, CallerRegion
from .campaigns import CAMPAIGN_MODELS
from .database import db
from .exams import EXAM_MODELS
from .jobs import Instance, JobRun
from .jsonfield import JSONField
from .knowledge import KNOWLEDGE_MODELS
from .notices import NOTICE_MODELS
from .qa import QA_MODELS
from .reminders import REMINDER_MODELS
from .series import SeriesCounter
from .staff import STAFF_MODELS
from .stats import STAT_MODELS
from .workflow import WORKFLOW_MODELS


class User(SystemModel):
    id = AutoField()
    username = CharField(max_length=64, unique=True)
    display_name = CharField(max_length=128, default="")
    password_hash = CharField(max_length=255)
    language = CharField(max_length=8, default="")
    """The UI language the user chose (empty: none yet — the browser's, else the server default)."""
    regions = JSONField(default=list)
    """Region codes the user serves (row scopes use them as ``user.regions``)."""
    active = BooleanField(default=True)
    failed_logins = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    password_changed_at = DateTimeField(default=utcnow)
    must_change_password = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    email = CharField(max_length=254, null=True)
    """Where e-mail notices go (empty: none by e-mail)."""
    phone = CharField(max_length=32, null=True)
    """Where SMS notices go (empty: none by SMS)."""

    class Meta:
        table_name = "hl_user"


class UserRole(SystemModel):
    id = AutoField()
    username = CharField(max_length=64, index=True)
    role = CharField(max_length=64)

    class Meta:
        table_name = "hl_user_role"
        indexes = ((("username", "role"), True),)


class MetadataRevision(SystemModel):
    """One revision of one metadata object. The live object is the newest revision of (kind, name)."""

    id = AutoField()
    kind = CharField(max_length=32)
    name = CharField(max_length=64)
    content = JSONField(null=True)
    """The object as data; None marks a removal."""
    source = TextField(default="")
    """The YAML text as written (files keep their comments and layout on export)."""
    content_hash = CharField(max_length=64)
    file_hash = CharField(max_length=64, null=True)
    """Hash of the file this revision was synced from (None for revisions made in the designers)."""
    origin = CharField(max_length=16, default="file")
    author = CharField(max_length=64, default="system")
    comment = TextField(default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_metadata_revision"
        indexes = ((("kind", "name", "id"), False),)


class MetadataDraft(SystemModel):
    """An unpublished change of one metadata object by one author (the designers' drafts)."""

    id = AutoField()
    author = CharField(max_length=64, index=True)
    kind = CharField(max_length=32)
    name = CharField(max_length=64)
    base_revision = IntegerField(null=True)
    """The live revision the draft started from (None: a new object); publishing checks it is still live."""
    source = TextField(default="")
    """The draft as YAML text."""
    removed = BooleanField(default=False)
    """The draft removes the object."""
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_metadata_draft"
        indexes = ((("author", "kind", "name"), True),)


class AuditEntry(SystemModel):
    """Who did what, when, to which record, with the values before and after."""

    id = AutoField()
    at = DateTimeField(default=utcnow, index=True)
    actor = CharField(max_length=64, index=True)
    action = CharField(max_length=32, index=True)
    entity = CharField(max_length=64, null=True, index=True)
    record_id = CharField(max_length=64, null=True)
    before = JSONField(null=True)
    after = JSONField(null=True)
    detail = JSONField(null=True)

    class Meta:
        table_name = "hl_audit"


SYSTEM_MODELS: list[type[Model]] = [User, UserRole, MetadataRevision, MetadataDraft, AuditEntry, Call, CallerRegion,
                                     JobRun, SeriesCounter, *AGENT_MODELS, *WORKFLOW_MODELS, *NOTICE_MODELS,
                                     *STAT_MODELS, *QA_MODELS,
                                     *STAFF_MODELS, *EXAM_MODELS, *CALLBACK_MODELS, *BULLETIN_MODELS, *REMINDER_MODELS]
SYSTEM_MODELS += CAMPAIGN_MODELS
SYSTEM_MODELS += KNOWLEDGE_MODELS
SYSTEM_MODELS += [Instance]  # the instances and the leader (helpline.services.leader)


def create_system_tables() -> None:
    """Create missing system tables, and add columns a newer version declares to existing ones (nullable
    or with a default; system tables are only ever extended)."""
    db.create_tables(SYSTEM_MODELS, safe=True)
    add_missing_columns(SYSTEM_MODELS)


def add_missing_columns(models: list[type[Model]]) -> list[str]:
    """Add the columns of ``models`` missing from their tables; returns ``table.column`` names added. A column
    that is not null with a constant default (the statistics' counters) is added so, the existing rows holding
    the default; the others are added nullable."""
    from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

    from .database import is_postgres

    added: list[str] = []
    operations = []
    migrator = PostgresqlMigrator(db.obj) if is_postgres() else SqliteMigrator(db.obj)
    for model in models:
        table = model._meta.table_name
        existing = {c.name for c in db.get_columns(table)}
        for name, column in model._meta.columns.items():
            if name in existing:
                continue
            size = {"max_length": column.max_length} if hasattr(column, "max_length") else {}
            if not column.null and column.default is not None and not callable(column.default):
                # a counter (default 0): the rows already there get the default, so `col + 1` counts from it
                fresh = type(column)(null=False, default=column.default, **size)
            else:
                fresh = type(column)(null=True, **size)
            operations.append(migrator.add_column(table, name, fresh))
            added.append(f"{table}.{name}")
    if operations:
        with db.atomic():
            migrate(*operations)
    return added


def as_dict(instance: Model) -> dict[str, object]:
    return dict(model_to_dict(instance, recurse=False))
