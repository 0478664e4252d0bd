"""System tables of calls: one record per call through the IVR, and the numbers whose region is known.

``Call`` is opened when a call reaches the FastAGI server and closed when the IVR lets it go (transfer,
hang-up, block, error), with the trail of every node it passed (node, prompt, digits, timing, the branch
taken and the rule that matched), the result and any error with its rule position. ``CallerRegion``
remembers the region of a number seen before without a customer record, so the next call from it is
routed to that region straight away (requirements: region routing).
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    FloatField,
    IntegerField,
)

from .base import SystemModel, utcnow
from .jsonfield import JSONField


class Call(SystemModel):
    """One call through the IVR (``hl_call``)."""

    id = AutoField()
    uniqueid = CharField(max_length=64, index=True, default="")
    """Asterisk's ``agi_uniqueid`` (or the simulated switch's id)."""
    channel = CharField(max_length=128, default="")
    switch = CharField(max_length=16, default="agi")
    """``agi`` or ``simulated``."""
    flow = CharField(max_length=64, null=True, index=True)
    dnid = CharField(max_length=32, null=True)
    caller_number = CharField(max_length=32, null=True, index=True)
    customer_id = BigIntegerField(null=True, index=True)
    customer_name = CharField(max_length=128, null=True)
    tier = CharField(max_length=64, null=True)
    region = CharField(max_length=32, null=True)
    city = CharField(max_length=32, null=True)
    blacklisted = BooleanField(default=False)
    started_at = DateTimeField(default=utcnow, index=True)
    ended_at = DateTimeField(null=True)
    result = CharField(max_length=16, null=True, index=True)
    """``connected``, ``transfer``, ``hangup``, ``blocked``, ``callback``, ``completed``, ``error``, ``empty`` or
    ``timeout``; None while running."""
    queue = CharField(max_length=64, null=True)
    priority = IntegerField(null=True)
    hangup_node = CharField(max_length=64, null=True)
    """The node the caller hung up in."""
    error = JSONField(null=True)
    """``{id, message, node, line, column, excerpt}`` of the failure that ended the call or was recovered."""
    trail = JSONField(default=list)
    variables = JSONField(default=dict)
    recording = CharField(max_length=255, null=True)
    callback_number = CharField(max_length=32, null=True)
    identify_ms = FloatField(null=True)
    agent = CharField(max_length=32, null=True, index=True)
    """The agent who answered (router)."""
    wait_s = FloatField(null=True)
    """Seconds in the router's queues before an agent answered or the caller left."""
    routed = CharField(max_length=16, null=True)
    """How the call left the router: ``answered``, ``abandoned``, ``timeout``, ``empty``."""
    talk_s = FloatField(null=True)
    call_recording = CharField(max_length=255, null=True)
    """The recording of the agent's conversation (relative to the recordings folder), if the queue records."""
    direction = CharField(max_length=16, null=True, default="inbound", index=True)
    """``inbound`` (through the IVR), ``outbound`` (an agent or a campaign dialled out) or ``internal`` (agent to
    agent); None on records written before outbound calls existed (inbound)."""
    answered_at = DateTimeField(null=True)
    """When the far end answered an outbound or internal call (``started_at``: when it was dialled)."""
    node = CharField(max_length=96, null=True)
    """The process that served the call (``host:pid:start``): a record left open by a process that ended is
    closed as ``interrupted`` when Helpline starts again."""

    class Meta:
        table_name = "hl_call"


class CallerRegion(SystemModel):
    """A number seen before and the region it was found in (``hl_caller_region``)."""

    id = AutoField()
    number = CharField(max_length=32, unique=True)
    region = CharField(max_length=32)
    calls = IntegerField(default=1)
    seen_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_caller_region"


CALL_MODELS = [Call, CallerRegion]
