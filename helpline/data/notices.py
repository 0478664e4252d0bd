"""System tables of the notice centre: the in-app notices (``hl_notice``) and their outbox (``hl_notice_delivery``).

A :class:`Notice` is one message to one user — written in the same transaction as what caused it (a workflow
transition, a service-level warning), so it exists exactly when its cause does. It keeps a locale key and
parameters, not text: it is worded in the reader's language when shown or sent.

A :class:`NoticeDelivery` is one copy of a notice to send over one channel (``email``, ``sms``, an extension's
channel) to one address, written in the notice's transaction. The delivery pass claims due rows one by one
with a conditional update, so two passes never send one row twice; ``next_attempt_at`` (indexed) says when a
row is due, and is cleared once it is sent or given up.
"""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, IntegerField

from .base import SystemModel, utcnow
from .jsonfield import JSONField


class Notice(SystemModel):
    """One notice to one user."""

    id = AutoField()
    username = CharField(max_length=64)
    kind = CharField(max_length=32)
    """What caused it: ``transition``, ``sla_warning``, ``sla_breach``, ``escalate``, or a caller's own kind."""
    title_key = CharField(max_length=128)
    body_key = CharField(max_length=128, default="")
    params = JSONField(null=True)
    """The keys' parameters; a value ``{"en": ..., "zh_CN": ...}`` is worded in the reader's language and
    ``{"utc": iso}`` is a time shown in the reader's time zone."""
    entity = CharField(max_length=64, null=True)
    record_id = IntegerField(null=True)
    """The record the notice is about (the notices page opens it)."""
    created_at = DateTimeField(default=utcnow)
    read_at = DateTimeField(null=True)

    class Meta:
        table_name = "hl_notice"
        indexes = ((("username", "read_at"), False), (("username", "id"), False))


class NoticeDelivery(SystemModel):
    """One copy of a notice to send on one channel to one address (the outbox)."""

    id = AutoField()
    notice_id = IntegerField(index=True)
    channel = CharField(max_length=32)
    address = CharField(max_length=254)
    status = CharField(max_length=16, default="pending")
    """``pending`` (due at ``next_attempt_at``), ``sending`` (claimed by a pass; due again when its lease runs
    out, should that pass have died), ``sent`` or ``failed`` (given up after the last attempt)."""
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True, index=True, default=utcnow)
    last_error = CharField(max_length=1000, default="")
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)

    class Meta:
        table_name = "hl_notice_delivery"


NOTICE_MODELS = [Notice, NoticeDelivery]
