"""System tables of processes: one instance per governed record, one step per transition taken.

``WorkflowInstance`` (``hl_wf_instance``) says which workflow governs a record, its state and since when,
who it is assigned to (a department and/or a user), and an optimistic ``version`` that every transition
checks and bumps, so two people acting on one record at once cannot both succeed. The service-level
deadlines live on the same row (``response_due``, ``resolution_due``, ``next_due`` — the earliest moment a
timer must look at it, indexed so the scheduler finds what is due without scanning). ``WorkflowStep``
(``hl_wf_step``) keeps each transition: who, when, from, to, the comment and the time spent in the state
left (wall-clock seconds and, when a calendar applies, business seconds). ``DepartmentMember`` and
``DepartmentRegion`` say who works in a department (one of them its head) and which regions it serves.
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
    TextField,
)

from .base import SystemModel, utcnow
from .jsonfield import JSONField


class WorkflowInstance(SystemModel):
    id = AutoField()
    entity = CharField(max_length=64)
    record_id = BigIntegerField()
    workflow = CharField(max_length=64, index=True)
    state = CharField(max_length=64)
    state_since = DateTimeField(default=utcnow)
    department = CharField(max_length=64, null=True, index=True)
    assignee = CharField(max_length=64, null=True, index=True)
    created_by = CharField(max_length=64, default="")
    opened_at = DateTimeField(default=utcnow)
    closed_at = DateTimeField(null=True)
    version = IntegerField(default=1)
    # service level (filled when an SLA policy applies)
    sla_policy = CharField(max_length=64, null=True)
    response_due = DateTimeField(null=True)
    responded_at = DateTimeField(null=True)
    resolution_due = DateTimeField(null=True)
    next_due = DateTimeField(null=True, index=True)
    """The earliest time a timer must look at this record (a warning, a breach, an escalation step)."""
    sla_state = JSONField(null=True)
    """Business seconds used so far, whether the clock runs, the escalation steps already done."""

    class Meta:
        table_name = "hl_wf_instance"
        indexes = ((("entity", "record_id"), True), (("state", "department"), False))


# The inboxes (helpline.services.workflow.inbox) read open rows only, in order: a department's and an assignee's
# newest first, the overdue ones by their deadline. Partial indexes over the open rows (a few per cent of them)
# give both databases that order straight from the index, so a page or a capped count stops early.
for _name, _fields in (("hl_wf_open_department", (WorkflowInstance.department, WorkflowInstance.id)),
                       ("hl_wf_open_assignee", (WorkflowInstance.assignee, WorkflowInstance.id)),
                       ("hl_wf_open_due", (WorkflowInstance.resolution_due, WorkflowInstance.id))):
    WorkflowInstance.add_index(WorkflowInstance.index(*_fields, where=WorkflowInstance.closed_at.is_null(),
                                                      name=_name))


class WorkflowStep(SystemModel):
    id = AutoField()
    instance_id = IntegerField(index=True)
    action = CharField(max_length=64)
    """The transition's name; ``create`` for the record's start in the initial state, ``migrate`` for a
    state mapped by a published revision, ``assign`` for a reassignment by a timer."""
    from_state = CharField(max_length=64, null=True)
    to_state = CharField(max_length=64)
    actor = CharField(max_length=64)
    at = DateTimeField(default=utcnow, index=True)
    comment = TextField(default="")
    seconds_in_state = FloatField(null=True)
    business_seconds = FloatField(null=True)
    department = CharField(max_length=64, null=True)
    assignee = CharField(max_length=64, null=True)
    detail = JSONField(null=True)

    class Meta:
        table_name = "hl_wf_step"


class DepartmentMember(SystemModel):
    """A user's membership of a department (a code of the ``department`` category tree); ``head`` marks the
    department's head, who is told of warnings and escalations."""

    id = AutoField()
    department = CharField(max_length=64, index=True)
    username = CharField(max_length=64, index=True)
    head = BooleanField(default=False)

    class Meta:
        table_name = "hl_department_member"
        indexes = ((("department", "username"), True),)


class DepartmentRegion(SystemModel):
    """A region (a code of the ``region`` records, e.g. ``changsha``) a department serves."""

    id = AutoField()
    department = CharField(max_length=64, index=True)
    region = CharField(max_length=64, index=True)

    class Meta:
        table_name = "hl_department_region"
        indexes = ((("department", "region"), True),)


WORKFLOW_MODELS = [WorkflowInstance, WorkflowStep, DepartmentMember, DepartmentRegion]
