"""System tables of the call-back queue: one row per call-back task (``hl_callback``) and one per attempt
(``hl_callback_attempt``).

A task is made when the IVR takes a call-back request or a voice message, or when a work order's "reply to the
customer" step asks for one (a workflow effect ``callback: true``). It stays ``open`` until an agent reaches
the customer, finds the number wrong, or the attempts run out; the router offers open tasks to agents like
calls (``telephony.callbacks``). The table is the truth: after a restart every open task is offered again.
"""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, CharField, DateTimeField, IntegerField

from .base import SystemModel, utcnow


class CallbackTask(SystemModel):
    """One customer to call back."""

    id = AutoField()
    created_at = DateTimeField(default=utcnow, index=True)
    source = CharField(max_length=16, default="ivr")
    """``ivr`` (a call-back request), ``message`` (a voice message), ``workorder`` (a reply to the customer)."""
    call_id = BigIntegerField(null=True, index=True)
    """The call the request or message came from (its record, its trail)."""
    number = CharField(max_length=32)
    customer_id = BigIntegerField(null=True)
    customer_name = CharField(max_length=128, null=True)
    tier = CharField(max_length=32, default="ordinary")
    region = CharField(max_length=32, null=True)
    city = CharField(max_length=32, null=True)
    queue = CharField(max_length=64)
    """The queue whose agents call back (its skill, agent group and region routing)."""
    recording = CharField(max_length=255, null=True)
    """The voice message (relative to the recordings folder), if the caller left one."""
    entity = CharField(max_length=64, null=True)
    record_id = BigIntegerField(null=True)
    """The work order (entity and id) whose reply step opened the task."""
    status = CharField(max_length=16, default="open", index=True)
    """``open`` (to be worked) or ``closed``."""
    outcome = CharField(max_length=16, null=True)
    """Of a closed task: ``reached``, ``wrong_number``, ``gave_up`` (attempts used up), ``cancelled``."""
    attempts = IntegerField(default=0)
    max_attempts = IntegerField(default=3)
    next_attempt_at = DateTimeField(default=utcnow, index=True)
    """Not offered before this time (a retry after no answer)."""
    due_at = DateTimeField(index=True)
    """When the customer should have been called back (per tier); later is overdue."""
    closed_at = DateTimeField(null=True)
    agent = CharField(max_length=32, null=True)
    """The agent of the last attempt."""
    note = CharField(max_length=500, default="")

    class Meta:
        table_name = "hl_callback"


class CallbackAttempt(SystemModel):
    """One agent's try to reach the customer."""

    id = AutoField()
    task_id = IntegerField(index=True)
    agent = CharField(max_length=32)
    username = CharField(max_length=64, default="")
    started_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True)
    outcome = CharField(max_length=16, null=True)
    """``reached``, ``no_answer``, ``wrong_number`` (``interrupted``: taken again before an outcome)."""
    note = CharField(max_length=500, default="")
    call_id = BigIntegerField(null=True)
    """The outbound call placed for it (``hl_call``), once the agent dialled."""
    dial_result = CharField(max_length=16, null=True)
    """How the switch ended that call (answered, busy, noanswer ...)."""

    class Meta:
        table_name = "hl_callback_attempt"


CALLBACK_MODELS = [CallbackTask, CallbackAttempt]
