"""System tables of bulletins (公告): to whom each bulletin goes (``hl_bulletin_target``) and who read or
acknowledged it (``hl_bulletin_read``).

The bulletin itself (title, text, must-read, validity window) is a record of the ``bulletin`` entity, so the one
text search indexes it; these tables keep what the entity does not: its audience — roles, departments (a
department reaches its sub-departments' members) and regions (a city reaches its counties' users) — and one
receipt per reader, written when the reader opens the bulletin and completed when they acknowledge it.
"""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, IntegerField

from .base import SystemModel, utcnow


class BulletinTarget(SystemModel):
    """One audience of a bulletin: a role, a department or a region."""

    id = AutoField()
    bulletin_id = IntegerField(index=True)
    kind = CharField(max_length=16)
    """``role``, ``department`` or ``region``."""
    value = CharField(max_length=64)

    class Meta:
        table_name = "hl_bulletin_target"
        indexes = ((("kind", "value"), False),)


class BulletinRead(SystemModel):
    """One reader's receipt of one bulletin."""

    id = AutoField()
    bulletin_id = IntegerField()
    username = CharField(max_length=64)
    read_at = DateTimeField(default=utcnow)
    acknowledged_at = DateTimeField(null=True)
    """When the reader confirmed a must-read bulletin (None: read only)."""

    class Meta:
        table_name = "hl_bulletin_read"
        indexes = ((("bulletin_id", "username"), True), (("username", "bulletin_id"), False))


BULLETIN_MODELS = [BulletinTarget, BulletinRead]
