"""System tables of the router: agent profiles, every agent transition, every routing decision of a call.

``AgentRecord`` (``hl_agent``) is an agent's profile: agent number (工号), the user it signs in as, the
endpoint the switch dials, skills with levels, groups, region, auto-answer, own wrap-up time.
``AgentEvent`` (``hl_agent_event``) is the journal of transitions (status, state, alerts) the router
emits, with time, reason, call and who made the change; the router's state is rebuilt from the last
status of each agent after a restart. ``CallRoute`` (``hl_call_route``) holds each routing decision of
a call with its reason ("agent 1002: skill billing level 1, ready 41 s; tier gold 12 pts behind").
"""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, BooleanField, CharField, DateTimeField, FloatField

from .base import SystemModel, utcnow
from .jsonfield import JSONField


class AgentRecord(SystemModel):
    id = AutoField()
    number = CharField(max_length=32, unique=True)
    username = CharField(max_length=64, null=True, unique=True)
    name = CharField(max_length=128, default="")
    endpoint = CharField(max_length=128, default="")
    skills = JSONField(default=dict)
    """Skill → level (1 = first skill)."""
    groups = JSONField(default=list)
    region = CharField(max_length=32, null=True)
    city = CharField(max_length=32, null=True)
    auto_answer = BooleanField(default=False)
    wrap_up_s = FloatField(null=True)
    active = BooleanField(default=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_agent"


class AgentEvent(SystemModel):
    id = AutoField()
    agent = CharField(max_length=32, index=True)
    at = DateTimeField(default=utcnow, index=True)
    what = CharField(max_length=16)
    """``status``, ``state`` or ``alert``."""
    old = CharField(max_length=32, default="")
    new = CharField(max_length=32, default="")
    reason = CharField(max_length=255, null=True)
    call_id = BigIntegerField(null=True)
    by = CharField(max_length=64, null=True)
    duration_s = FloatField(default=0.0)

    class Meta:
        table_name = "hl_agent_event"


class CallRoute(SystemModel):
    id = AutoField()
    call_id = BigIntegerField(index=True)
    at = DateTimeField(default=utcnow)
    kind = CharField(max_length=16)
    agent = CharField(max_length=32, null=True)
    queue = CharField(max_length=64, null=True)
    reason = CharField(max_length=500, default="")

    class Meta:
        table_name = "hl_call_route"


AGENT_MODELS = [AgentRecord, AgentEvent, CallRoute]
