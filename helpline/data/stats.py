"""Fact tables of the centre's statistics: calls and agent time per 15-minute interval and per day.

Kept as events happen (:mod:`helpline.services.stats` adds to them in the transaction that closes a call
record or writes the router's journal) and rebuilt from the raw records (``run.py stats rebuild``).

* ``StatCall`` (``hl_stat_call``): per interval × queue × tier × region × city × flow × agent — the calls
  that *started* in the interval (a call spanning two intervals counts once, in the one it arrived in).
* ``StatCallQueue`` (``hl_stat_call_queue``): per interval × tier × queue (the centre-wide interval reports).
* ``StatCallDay`` (``hl_stat_call_day``): the same per day without the agent (the long reports read it).
* ``StatIvrNode`` (``hl_stat_ivr_node``): per day × flow × node, the IVR nodes' visits and exits (the trails).
* ``StatAgent`` / ``StatAgentDay`` (``hl_stat_agent_time``, ``hl_stat_agent_time_day``): per period × agent,
  one row with the seconds spent in each status and state (``ready_s`` ... ``wrap_up_s``) and the spells of each that
  ended (``talking_n`` are the calls handled). A spell crossing an interval boundary is split at the boundary.

Every key column is a non-null string ("" for none), so that one unique index makes each row an upsert.
"""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, BlobField, CharField, DateField, DateTimeField, DoubleField, IntegerField

from .base import SystemModel, utcnow
from .jsonfield import JSONField

CALL_COUNTS = ("calls", "offered", "answered", "within", "abandoned_ivr", "abandoned_queue", "abandoned_short",
               "timeout", "empty", "completed", "callbacks", "transfers", "legs", "errors", "wait_n",
               "surveys", "survey_answered", "survey_satisfied", "survey_dissatisfied", "survey_resolved")
"""Integer measures of a call fact (``wait_n``: waits summed in ``wait_s``)."""
CALL_SUMS = ("wait_s", "wait_answered_s", "wait_abandoned_s", "talk_s", "ivr_s")
"""Seconds summed in a call fact."""
CALL_KEYS = ("queue", "tier", "region", "city", "flow")
CALL_ATTRS = ("skill", "team", "department")
"""Columns of ``hl_stat_call`` that follow from its key (the queue's skill, the agent's team and department):
written when the row is made, never part of the unique key (a report by them reads the 15-minute facts)."""
AGENT_ATTRS = ("team", "department")
"""Columns of the agent facts that follow from the agent (its team and the team's department)."""


class _Measures(SystemModel):
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
    surveys = IntegerField(default=0)
    """Calls whose caller went into the post-call survey."""
    survey_answered = IntegerField(default=0)
    """Surveys with the satisfaction question answered."""
    survey_satisfied = IntegerField(default=0)
    """Satisfaction answered very satisfied or satisfied."""
    survey_dissatisfied = IntegerField(default=0)
    survey_resolved = IntegerField(default=0)
    """The caller said the problem was solved."""
    wait_s = DoubleField(default=0.0)
    wait_answered_s = DoubleField(default=0.0)
    wait_abandoned_s = DoubleField(default=0.0)
    talk_s = DoubleField(default=0.0)
    ivr_s = DoubleField(default=0.0)


class _CallMeasures(_Measures):
    queue = CharField(max_length=64, default="")
    tier = CharField(max_length=64, default="")
    region = CharField(max_length=32, default="")
    city = CharField(max_length=32, default="")
    flow = CharField(max_length=64, default="")


class StatCall(_CallMeasures):
    id = AutoField()
    interval = DateTimeField()
    agent = CharField(max_length=32, default="")
    skill = CharField(max_length=64, default="")
    """The queue's skill (routing metadata)."""
    team = CharField(max_length=64, default="")
    """The agent's team: the ``employee`` record's ``team`` (by ``agent_no``)."""
    department = CharField(max_length=64, default="")
    """The team's top department in the ``department`` category tree."""

    class Meta:
        table_name = "hl_stat_call"
        indexes = ((("interval", "tier", "queue", "region", "city", "flow", "agent"), True),
                   (("city", "interval"), False), (("region", "interval"), False))
        """Interval then tier first: a report by interval and tier groups along the index, without a sort; a
        city's supervisor reads their city's rows by the second."""


class StatCallQueue(_Measures):
    """``hl_stat_call_queue``: per interval × tier × queue only (a few dozen rows an interval), what the reports
    by interval of the whole centre read."""

    id = AutoField()
    interval = DateTimeField()
    tier = CharField(max_length=64, default="")
    queue = CharField(max_length=64, default="")
    skill = CharField(max_length=64, default="")

    class Meta:
        table_name = "hl_stat_call_queue"
        indexes = ((("interval", "tier", "queue"), True),)


class StatCallDay(_CallMeasures):
    id = AutoField()
    day = DateField()
    skill = CharField(max_length=64, default="")

    class Meta:
        table_name = "hl_stat_call_day"
        indexes = ((("day", "tier", "queue", "region", "city", "flow"), True),)


AGENT_VALUES = ("ready", "not_ready", "study", "idle", "reserved", "ringing", "talking", "hold", "wrap_up")
"""The statuses and states whose time is kept: ``<value>_s`` seconds and ``<value>_n`` spells ended."""


class _AgentMeasures(SystemModel):
    ready_s = DoubleField(default=0.0)
    ready_n = IntegerField(default=0)
    not_ready_s = DoubleField(default=0.0)
    not_ready_n = IntegerField(default=0)
    study_s = DoubleField(default=0.0)
    study_n = IntegerField(default=0)
    idle_s = DoubleField(default=0.0)
    idle_n = IntegerField(default=0)
    reserved_s = DoubleField(default=0.0)
    reserved_n = IntegerField(default=0)
    ringing_s = DoubleField(default=0.0)
    ringing_n = IntegerField(default=0)
    talking_s = DoubleField(default=0.0)
    talking_n = IntegerField(default=0)
    hold_s = DoubleField(default=0.0)
    hold_n = IntegerField(default=0)
    wrap_up_s = DoubleField(default=0.0)
    wrap_up_n = IntegerField(default=0)


class StatAgent(_AgentMeasures):
    id = AutoField()
    interval = DateTimeField()
    agent = CharField(max_length=32)
    team = CharField(max_length=64, default="")
    department = CharField(max_length=64, default="")

    class Meta:
        table_name = "hl_stat_agent_time"
        indexes = ((("interval", "agent"), True),)


class StatAgentDay(_AgentMeasures):
    id = AutoField()
    day = DateField()
    agent = CharField(max_length=32)
    team = CharField(max_length=64, default="")
    department = CharField(max_length=64, default="")

    class Meta:
        table_name = "hl_stat_agent_time_day"
        indexes = ((("day", "agent"), True),)


IVR_COUNTS = ("visits", "calls", "exits", "hangups", "completions", "transfers_out", "errors")
"""Integer measures of an IVR node fact."""


class StatIvrNode(SystemModel):
    """``hl_stat_ivr_node``: per day × flow × node, from the call records' trails (one step a node run): ``visits``
    (steps; a node run twice by one call counts twice), ``calls`` (records that ran it), ``exits`` (records whose
    last step it was), of those ``hangups`` (the caller hung up there, no queue reached), ``completions`` (served
    by self-service) and ``transfers_out`` (sent to a queue), ``errors`` (steps that failed), ``time_s``."""

    id = AutoField()
    day = DateField()
    flow = CharField(max_length=64, default="")
    node = CharField(max_length=96, default="")
    type = CharField(max_length=32, default="")
    visits = IntegerField(default=0)
    calls = IntegerField(default=0)
    exits = IntegerField(default=0)
    hangups = IntegerField(default=0)
    completions = IntegerField(default=0)
    transfers_out = IntegerField(default=0)
    errors = IntegerField(default=0)
    time_s = DoubleField(default=0.0)

    class Meta:
        table_name = "hl_stat_ivr_node"
        indexes = ((("day", "flow", "node"), True),)


class _CategoryKey(SystemModel):
    day = DateField()
    category_type = CharField(max_length=64, default="")
    """The contact record's field the category is from (``complaint_types`` ...)."""
    category = CharField(max_length=64, default="")
    """The code in that field's category tree."""
    queue = CharField(max_length=64, default="")
    tier = CharField(max_length=64, default="")
    region = CharField(max_length=32, default="")
    city = CharField(max_length=32, default="")
    flow = CharField(max_length=64, default="")
    answered = IntegerField(default=0)
    talk_s = DoubleField(default=0.0)


CATEGORY_KEYS = ("day", "category_type", "category", "queue", "tier", "region", "city", "flow")


class StatCallCategory(_CategoryKey):
    """``hl_stat_call_category``: calls per day × contact-record category × queue × tier × region × city × flow
    (:mod:`helpline.services.stats_category`: a call counts once, under the category its contact record was filed
    with last; a changed record moves it)."""

    id = AutoField()
    calls = IntegerField(default=0)

    class Meta:
        table_name = "hl_stat_call_category"
        indexes = (((*CATEGORY_KEYS,), True),)


class StatCallCategoryOf(_CategoryKey):
    """``hl_stat_call_category_of``: the one category each call is counted under now (what a changed contact
    record moves it from), with what it added (``answered``, ``talk_s``)."""

    id = AutoField()
    call_id = BigIntegerField(unique=True)

    class Meta:
        table_name = "hl_stat_call_category_of"
        indexes = ((("day",), False),)


class StatPending(SystemModel):
    """``hl_stat_pending``: closed call records whose facts are still to be added (the write-behind of
    :mod:`helpline.services.stats_behind`). A row is inserted in the transaction that closes the call and deleted
    in the one that adds its facts: a call is counted exactly once, and a crash in between loses nothing (the next
    writer counts what is left)."""

    id = AutoField()
    call_id = BigIntegerField(index=True)

    class Meta:
        table_name = "hl_stat_pending"


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


STAT_MODELS = [StatCall, StatCallQueue, StatCallDay, StatAgent, StatAgentDay, StatIvrNode, StatPending, ReportSchedule,
               ReportFile, StatCallCategory, StatCallCategoryOf]
