"""Fact tables of the centre's statistics: calls and agent time per 15-minute interval and per day.

Kept as events happen (:mod:`helpline.services.stats` adds to them in the transaction that closes a call
record or writes the router's journal) and rebuilt from the raw records (``run.py stats rebuild``).

* ``StatCall`` (``hl_stat_call``): per interval × queue × tier × region × city × flow × agent — the calls
  that *started* in the interval (a call spanning two intervals counts once, in the one it arrived in).
* ``StatCallDay`` (``hl_stat_call_day``): the same per day without the agent (the long reports read it).
* ``StatAgent`` / ``StatAgentDay`` (``hl_stat_agent``, ``hl_stat_agent_day``): per period × agent ×
  ``what`` (``status`` or ``state``) × value — seconds spent and spells ended (``count``; spells of
  ``talking`` are the calls handled). A spell crossing an interval boundary is split at the boundary.

Every key column is a non-null string ("" for none), so that one unique index makes each row an upsert.
"""

from __future__ import annotations

from peewee import AutoField, BlobField, CharField, DateField, DateTimeField, DoubleField, IntegerField

from .base import SystemModel, utcnow
from .jsonfield import JSONField

CALL_COUNTS = ("calls", "offered", "answered", "within", "abandoned_ivr", "abandoned_queue", "abandoned_short",
               "timeout", "empty", "completed", "callbacks", "transfers", "legs", "errors", "wait_n")
"""Integer measures of a call fact (``wait_n``: waits summed in ``wait_s``)."""
CALL_SUMS = ("wait_s", "wait_answered_s", "wait_abandoned_s", "talk_s", "ivr_s")
"""Seconds summed in a call fact."""
CALL_KEYS = ("queue", "tier", "region", "city", "flow")


class _CallMeasures(SystemModel):
    queue = CharField(max_length=64, default="")
    tier = CharField(max_length=64, default="")
    region = CharField(max_length=32, default="")
    city = CharField(max_length=32, default="")
    flow = CharField(max_length=64, default="")
    calls = IntegerField(default=0)
    """Calls that reached the IVR (first legs)."""
    offered = IntegerField(default=0)
    """Calls that reached a queue of the router."""
    answered = IntegerField(default=0)
    within = IntegerField(default=0)
    """Answered within the tier's threshold."""
    abandoned_ivr = IntegerField(default=0)
    abandoned_queue = IntegerField(default=0)
    abandoned_short = IntegerField(default=0)
    """Queue abandons under the short-abandon threshold (a subset of ``abandoned_queue``)."""
    timeout = IntegerField(default=0)
    empty = IntegerField(default=0)
    completed = IntegerField(default=0)
    """Self-service: completed in the IVR without a queue."""
    callbacks = IntegerField(default=0)
    transfers = IntegerField(default=0)
    """Calls transferred (once per call, whatever the number of legs)."""
    legs = IntegerField(default=0)
    """Further legs of transferred calls (records sharing a call's uniqueid): shown, never offered again."""
    errors = IntegerField(default=0)
    wait_n = IntegerField(default=0)
    wait_s = DoubleField(default=0.0)
    wait_answered_s = DoubleField(default=0.0)
    wait_abandoned_s = DoubleField(default=0.0)
    talk_s = DoubleField(default=0.0)
    ivr_s = DoubleField(default=0.0)


class StatCall(_CallMeasures):
    id = AutoField()
    interval = DateTimeField()
    agent = CharField(max_length=32, default="")

    class Meta:
        table_name = "hl_stat_call"
        indexes = ((("interval", "tier", "queue", "region", "city", "flow", "agent"), True),)
        """Interval then tier first: a report by interval and tier groups along the index, without a sort."""


class StatCallDay(_CallMeasures):
    id = AutoField()
    day = DateField()

    class Meta:
        table_name = "hl_stat_call_day"
        indexes = ((("day", "tier", "queue", "region", "city", "flow"), True),)


class StatAgent(SystemModel):
    id = AutoField()
    interval = DateTimeField()
    agent = CharField(max_length=32)
    what = CharField(max_length=16)
    value = CharField(max_length=32)
    seconds = DoubleField(default=0.0)
    count = IntegerField(default=0)

    class Meta:
        table_name = "hl_stat_agent"
        indexes = ((("interval", "agent", "what", "value"), True),)


class StatAgentDay(SystemModel):
    id = AutoField()
    day = DateField()
    agent = CharField(max_length=32)
    what = CharField(max_length=16)
    value = CharField(max_length=32)
    seconds = DoubleField(default=0.0)
    count = IntegerField(default=0)

    class Meta:
        table_name = "hl_stat_agent_day"
        indexes = ((("day", "agent", "what", "value"), True),)


class ReportSchedule(SystemModel):
    """A report sent on a schedule (``hl_report_schedule``): its fixed inputs, the period it covers, whom."""

    id = AutoField()
    report = CharField(max_length=64)
    every = CharField(max_length=8)
    """``daily`` (yesterday's figures, each morning) or ``weekly`` (last Monday-Sunday, on Mondays)."""
    inputs = JSONField(default=dict)
    """The report's inputs other than the period."""
    recipients = JSONField(default=list)
    """Usernames and ``role:<role>``."""
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)
    last_sent_on = DateField(null=True)

    class Meta:
        table_name = "hl_report_schedule"


class ReportFile(SystemModel):
    """A workbook a scheduled report produced (``hl_report_file``), downloaded from the notice."""

    id = AutoField()
    schedule_id = IntegerField(null=True)
    report = CharField(max_length=64)
    name = CharField(max_length=128)
    created_at = DateTimeField(default=utcnow)
    recipients = JSONField(default=list)
    content = BlobField()

    class Meta:
        table_name = "hl_report_file"


STAT_MODELS = [StatCall, StatCallDay, StatAgent, StatAgentDay, ReportSchedule, ReportFile]
