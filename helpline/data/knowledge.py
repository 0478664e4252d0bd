"""System tables of the knowledge base (docs/knowledge.md): attachments (``hl_kb_attachment``, the file itself on
disk under its SHA-256), published versions (``hl_kb_version``), the usage log (``hl_kb_event``: every view,
search and vote, with the search text and its number of hits) and one vote per user and article
(``hl_kb_vote``). The articles themselves are the ``knowledge_article`` entity."""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, BooleanField, CharField, DateTimeField, IntegerField, TextField

from .base import SystemModel, utcnow


class KbAttachment(SystemModel):
    id = AutoField()
    article_id = BigIntegerField(index=True)
    name = CharField(max_length=200)
    content_type = CharField(max_length=100)
    size = BigIntegerField()
    sha256 = CharField(max_length=64, index=True)
    """The file is ``<files dir>/<sha256[:2]>/<sha256>``; read back, it must hash to this again."""
    created_by = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_kb_attachment"


class KbVersion(SystemModel):
    """The article as it was published (one row per publication): versions are compared with difflib."""

    id = AutoField()
    article_id = BigIntegerField(index=True)
    number = IntegerField()
    title = CharField(max_length=500)
    body = TextField()
    keywords = CharField(max_length=500, default="")
    published_by = CharField(max_length=64)
    published_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_kb_version"
        indexes = ((("article_id", "number"), True),)


class KbEvent(SystemModel):
    """One use of the knowledge base: ``view`` (an article opened), ``search`` (``text`` and its ``hits``; 0 is a
    search with no result) or ``vote`` (``helpful``)."""

    id = AutoField()
    at = DateTimeField(default=utcnow, index=True)
    username = CharField(max_length=64)
    kind = CharField(max_length=8)
    article_id = BigIntegerField(null=True, index=True)
    text = CharField(max_length=200, null=True)
    hits = IntegerField(null=True)
    helpful = BooleanField(null=True)
    source = CharField(max_length=16, default="")
    """Where it happened: ``page`` (the knowledge page) or ``desk`` (the desktop's panel during a call)."""

    class Meta:
        table_name = "hl_kb_event"
        indexes = ((("kind", "at"), False),)


class KbVote(SystemModel):
    id = AutoField()
    article_id = BigIntegerField()
    username = CharField(max_length=64)
    helpful = BooleanField()
    at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_kb_vote"
        indexes = ((("article_id", "username"), True),)


KNOWLEDGE_MODELS = [KbAttachment, KbVersion, KbEvent, KbVote]
