"""System tables of agentless reminder campaigns (seed 004's arrears reminder, docs/outbound.md).

``ReminderCampaign``: a list of customers to call without an agent, the IVR flow that plays the notice, the
calling window, the retry interval in days and the attempts before the unreached are escalated to agents.
``ReminderTarget``: one customer of a campaign (number, amount, due date, its own window if any) with its
state; ``ReminderAttempt``: every dial of a target with its outcome, written before the dial (``dialling``)
and completed after, so an attempt cut short by a crash or a lost Asterisk link is never lost.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    FloatField,
    IntegerField,
)

from .base import SystemModel, utcnow
from .jsonfield import JSONField


class ReminderCampaign(SystemModel):
    """One reminder campaign (``hl_reminder_campaign``)."""

    id = AutoField()
    name = CharField(max_length=128)
    flow = CharField(max_length=64, default="reminder")
    """The IVR flow played to the customer (``var.amount``, ``var.due_date``, ``var.customer_name`` are set)."""
    status = CharField(max_length=16, default="draft", index=True)
    """``draft``, ``running``, ``paused`` (by a user, or the Asterisk link down: ``pause_reason``) or ``done``."""
    pause_reason = CharField(max_length=255, null=True)
    window_start = CharField(max_length=5, default="08:00")
    window_end = CharField(max_length=5, default="21:00")
    retry_days = IntegerField(default=3)
    max_attempts = IntegerField(default=3)
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)
    rejected = JSONField(default=list)
    """Rows of the list refused when it was loaded: ``{row, phone, reason}``."""

    class Meta:
        table_name = "hl_reminder_campaign"


class ReminderTarget(SystemModel):
    """One customer of a campaign (``hl_reminder_target``)."""

    id = AutoField()
    campaign = IntegerField(index=True)
    phone = CharField(max_length=32)
    customer_no = CharField(max_length=64, null=True)
    name = CharField(max_length=128, null=True)
    amount = FloatField()
    due_date = DateField()
    window = CharField(max_length=11, null=True)
    """The number's own calling window (``09:00-18:00``), else the campaign's."""
    status = CharField(max_length=16, default="pending", index=True)
    """``pending`` (to dial at ``next_at``), ``dialling``, ``confirmed``, ``to_agent``, ``answered`` (heard the
    notice, pressed nothing), ``unreached`` (attempts used up: escalated)."""
    attempts = IntegerField(default=0)
    next_at = DateTimeField(null=True, index=True)
    last_outcome = CharField(max_length=16, null=True)
    escalated = BooleanField(default=False)

    class Meta:
        table_name = "hl_reminder_target"
        indexes = ((("campaign", "phone"), True),)


class ReminderAttempt(SystemModel):
    """One dial of a target (``hl_reminder_attempt``)."""

    id = AutoField()
    campaign = IntegerField(index=True)
    target = IntegerField(index=True)
    started_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True)
    outcome = CharField(max_length=16, default="dialling")
    """``dialling`` until it ends; then ``confirmed``, ``to_agent``, ``answered``, ``no_answer``, ``busy``,
    ``failed`` or ``refused`` (outside the calling window: not dialled)."""
    call_id = IntegerField(null=True)
    detail = CharField(max_length=255, null=True)

    class Meta:
        table_name = "hl_reminder_attempt"


REMINDER_MODELS = [ReminderCampaign, ReminderTarget, ReminderAttempt]
