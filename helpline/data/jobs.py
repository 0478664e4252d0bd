"""System tables of scheduled-job runs (``hl_job_run``: one row per run of a job of the process scheduler) and of
the instances on the database (``hl_instance``: who leads, see ``helpline.services.leader``).

A row is written when a run starts (``running``) and completed when it ends (``ok`` or ``failed`` with the
error), so the jobs page shows the last result of every job even after a restart, and a run cut short by a
crash stays visible as ``running`` with no end (closed as ``interrupted`` at the next start).
"""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, FloatField, IntegerField

from .base import SystemModel, utcnow
from .jsonfield import JSONField


class JobRun(SystemModel):
    """One run of one scheduled job."""

    id = AutoField()
    job = CharField(max_length=64, index=True)
    started_at = DateTimeField(default=utcnow, index=True)
    finished_at = DateTimeField(null=True)
    seconds = FloatField(null=True)
    status = CharField(max_length=16, default="running")
    """``running``, ``ok``, ``failed`` or ``interrupted`` (the process ended during the run)."""
    trigger = CharField(max_length=64, default="schedule")
    """``schedule``, or the user who asked for the run."""
    instance = CharField(max_length=128, default="")
    """``host:pid`` of the process that ran it."""
    result = JSONField(null=True)
    error = CharField(max_length=2000, default="")

    class Meta:
        table_name = "hl_job_run"
        indexes = ((("job", "started_at"), False),)


class Instance(SystemModel):
    """One ``run.py serve``/``agi`` process on this database and its role in the leader election
    (``helpline.services.leader``): the row of the instance holding the leader lock says ``leader``."""

    id = CharField(max_length=128, primary_key=True)
    """The instance id: ``HELPLINE_INSTANCE_ID``, else ``host-pid``."""
    host = CharField(max_length=128, default="")
    pid = IntegerField(default=0)
    role = CharField(max_length=16, default="standby")
    """``leader``, ``standby`` or ``stopped``."""
    started_at = DateTimeField(default=utcnow)
    leader_since = DateTimeField(null=True)
    heartbeat_at = DateTimeField(default=utcnow, index=True)
    backend_pid = IntegerField(null=True)
    """The PostgreSQL backend of the instance's election connection (the one holding the lock when leader)."""

    class Meta:
        table_name = "hl_instance"
