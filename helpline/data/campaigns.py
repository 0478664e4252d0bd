"""System tables of outbound campaigns (docs/outbound.md): runs, the numbers of each run, every attempt, and the
do-not-call list.

A *run* is one start of a ``campaign`` object on its list (``hl_campaign_run``); its numbers
(``hl_campaign_number``) carry their state (``ready``, ``dialling``, ``done``, ``gave_up``, ``dnc``), the attempts
made, when the next may be made and a booked call-back. Every attempt (``hl_campaign_attempt``) is written *before*
the number is dialled, so a restarted server knows what was in flight and never dials a number twice in one window.
"""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, IntegerField

from .base import SystemModel, utcnow
from .jsonfield import JSONField


class CampaignRun(SystemModel):
    """One run of a campaign on its list."""

    id = AutoField()
    campaign = CharField(max_length=64, index=True)
    status = CharField(max_length=16, default="loading")
    """``loading``, ``running``, ``paused``, ``stopped`` or ``done``."""
    reason = CharField(max_length=200, default="")
    """Why it is paused (``link``: the switch connection is down; ``user``: a supervisor paused it)."""
    counts = JSONField(null=True)
    """The list's loading: ``{rows, loaded, invalid, duplicate, dnc}``."""
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_campaign_run"


class CampaignNumber(SystemModel):
    """One person of a run's list."""

    id = AutoField()
    run = IntegerField(index=True)
    phone = CharField(max_length=32)
    name = CharField(max_length=200, default="")
    region = CharField(max_length=64, default="")
    data = JSONField(null=True)
    """The list row (``contact.<field>`` in the questionnaire's conditions)."""
    status = CharField(max_length=16, default="ready")
    """``ready``, ``dialling``, ``done`` (reached), ``gave_up`` (attempts used), ``dnc`` (on the do-not-call list
    at dial time)."""
    attempts = IntegerField(default=0)
    next_at = DateTimeField(null=True)
    """Not before this moment (UTC; a retry interval or a call-back); null: at once."""
    last_outcome = CharField(max_length=16, default="")
    callback_user = CharField(max_length=64, default="")
    """A personal call-back: only this user's desktop is offered the number."""
    agent = CharField(max_length=64, default="")
    answers = JSONField(null=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_campaign_number"
        indexes = ((("run", "status", "next_at"), False), (("run", "phone"), True))


class CampaignAttempt(SystemModel):
    """One dial of one number."""

    id = AutoField()
    run = IntegerField(index=True)
    number = IntegerField(index=True)
    phone = CharField(max_length=32)
    window = CharField(max_length=32, default="")
    """The call window it was made in (``2026-12-07/0``: date and window index): at most one dial per number and
    window after a restart."""
    started_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True)
    outcome = CharField(max_length=16, default="")
    """Empty while in flight; ``answered``, ``busy``, ``no_answer``, ``machine``, ``failed``, ``interrupted`` (the
    process ended or the switch link dropped during the dial)."""
    agent = CharField(max_length=64, default="")
    call_id = IntegerField(null=True)

    class Meta:
        table_name = "hl_campaign_attempt"


class DoNotCall(SystemModel):
    """A number that no campaign may dial."""

    id = AutoField()
    number = CharField(max_length=32, unique=True)
    """Digits only, without a leading +86 / 0086."""
    reason = CharField(max_length=200, default="")
    source = CharField(max_length=64, default="")
    added_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_do_not_call"


CAMPAIGN_MODELS = [CampaignRun, CampaignNumber, CampaignAttempt, DoNotCall]
