"""System tables of staff scheduling: the shifts of a roster (``hl_shift``) and leave requests (``hl_leave``).

A roster run writes its shifts as a draft (``published`` false) under one ``run`` id; publishing a run makes
its shifts the agents' schedule (a later published run replaces the days it covers). Times are UTC, naive.
"""

from __future__ import annotations

from peewee import AutoField, BooleanField, CharField, DateField, DateTimeField, IntegerField

from .base import SystemModel, utcnow


class Shift(SystemModel):
    """One agent's shift on one day (``hl_shift``)."""

    id = AutoField()
    run = CharField(max_length=32, index=True)
    roster = CharField(max_length=64)
    username = CharField(max_length=64, index=True)
    day = DateField(index=True)
    """The local day the shift starts."""
    pattern = CharField(max_length=64)
    starts_at = DateTimeField()
    ends_at = DateTimeField()
    break_min = IntegerField(default=0)
    published = BooleanField(default=False, index=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_shift"


class LeaveRequest(SystemModel):
    """A day an agent asks to be off (``hl_leave``): ``requested``, ``approved`` or ``refused``."""

    id = AutoField()
    username = CharField(max_length=64, index=True)
    day = DateField(index=True)
    reason = CharField(max_length=255, default="")
    status = CharField(max_length=16, default="requested")
    decided_by = CharField(max_length=64, null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_leave"


STAFF_MODELS = [Shift, LeaveRequest]
