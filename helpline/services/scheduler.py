"""The process's one scheduler: every timer of Helpline is a job here (APScheduler 3, background thread).

A job is a :class:`JobSpec` — a name, a crontab expression (five fields, in the scheduler's time zone), the
function to run and a description. :class:`Scheduler` runs each job at most once at a time; a run that was
missed while the process was down or busy runs once, not once per missed time (``coalesce``), if it is
less than the grace period late. Every run is written to ``hl_job_run`` when it starts and when it ends,
with its result or its error, so an administrator sees the next run and the last result of every job on the
jobs page (``/page/jobs``) and can run one now (permission ``jobs.manage``, audited). A job's failure is
logged with its name and never stops the scheduler or the other jobs.

Runs left ``running`` by a process that ended during them are closed as ``interrupted`` at the next start.

With several instances on one PostgreSQL database each process has its scheduler, but jobs run on the leader
only (``helpline.services.leader``): :meth:`Scheduler.start` with an election starts paused, the scheduler
resumes when the instance is elected (closing the runs the previous leader left open; each job's next run
counted from then, so a run the old leader already made is not made again) and pauses when it loses; before
each scheduled run it asks the election to confirm the lock on its connection, so a job never starts on two
instances at once. On a standby "run now" is refused with the leader's name.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from helpline.data.base import utcnow
from helpline.data.database import session
from helpline.data.jobs import JobRun
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

log = logging.getLogger("helpline.scheduler")

MISFIRE_GRACE_S = 3600
"""A run more than this late (the process was down) is skipped; the next one comes at its time."""

JobResult = dict[str, Any] | str | None


class SchedulerError(ValueError):
    """A job cannot be scheduled (bad crontab expression, unknown job, duplicate name); the message says why."""


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job."""

    name: str
    cron: str
    """Five crontab fields: minute hour day-of-month month day-of-week (``0 3 * * *``: 03:00 every day), or
    ``@every <n>s``."""
    func: Callable[[], JobResult]
    description: str = ""
    timezone: str | None = None
    """The zone of ``cron`` (a ``job`` of the metadata has its own); unset: the scheduler's."""


@dataclass(frozen=True)
class JobInfo:
    """What the jobs page shows of one job."""

    name: str
    cron: str
    description: str
    next_run: datetime | None
    """UTC, naive; None while the scheduler is paused or stopped."""
    last_status: str
    last_started: datetime | None
    last_seconds: float | None
    last_result: Any
    last_error: str
    running: bool


def parse_cron(expression: str, timezone: str = "UTC") -> CronTrigger | IntervalTrigger:
    """The trigger of a crontab expression (or ``@every <n>s``, for jobs more often than a minute), or
    :class:`SchedulerError` naming what is wrong."""
    if expression.startswith("@every "):
        amount = expression[len("@every "):].strip()
        if not (amount.endswith("s") and amount[:-1].isdigit() and int(amount[:-1]) > 0):
            raise SchedulerError(f"'{expression}': say '@every <seconds>s', e.g. '@every 30s'")
        return IntervalTrigger(seconds=int(amount[:-1]), timezone=timezone)
    fields = expression.split()
    if len(fields) != 5:
        raise SchedulerError(f"'{expression}' is not a crontab expression: it needs 5 fields "
                             f"(minute hour day-of-month month day-of-week), it has {len(fields)}")
    try:
        return CronTrigger.from_crontab(expression, timezone=timezone)
    except ValueError as exc:
        raise SchedulerError(f"'{expression}' is not a valid crontab expression: {exc}") from exc


def _instance() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Scheduler:
    """The jobs of this process on one APScheduler background scheduler."""

    def __init__(self, timezone: str = "UTC", leader: Any = None) -> None:
        self.timezone = timezone
        self.leader = leader
        """The ``helpline.services.leader.LeaderElection`` of the process; None: this process always leads."""
        self.instance = leader.instance if leader is not None else _instance()
        self._leading = leader is None
        self._specs: dict[str, JobSpec] = {}
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._aps = BackgroundScheduler(timezone=timezone, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S})

    # -- set-up -----------------------------------------------------------------------------------------
    def add(self, spec: JobSpec) -> None:
        """Schedule ``spec``; :class:`SchedulerError` for a bad expression or a name already taken."""
        if spec.name in self._specs:
            raise SchedulerError(f"a job named '{spec.name}' is already scheduled")
        trigger = parse_cron(spec.cron, spec.timezone or self.timezone)
        self._specs[spec.name] = spec
        self._aps.add_job(self.run, trigger=trigger, args=(spec.name,), id=spec.name, name=spec.name,
                          replace_existing=True)

    def start(self) -> Scheduler:
        """Close runs an earlier process left open, then start the scheduler thread; with an election, start
        paused and run the jobs only while this instance leads."""
        if self.leader is None:
            self._close_left_open()
            self._aps.start()
            return self
        self._aps.start(paused=True)
        self.leader.follow(self.lead, self.stand_by)
        return self

    def _close_left_open(self) -> None:
        with session():
            left = (JobRun.update(status="interrupted", finished_at=utcnow(),
                                  error="the process ended during the run")
                    .where(JobRun.status == "running").execute())
        if left:
            log.warning("%d job run(s) left open by an earlier process closed as interrupted", left)

    def lead(self) -> None:
        """This instance was elected: close the runs the previous leader left open, count each job's next run
        from now and resume."""
        self._close_left_open()
        now = datetime.now(UTC)
        for job in self._aps.get_jobs():
            nxt = job.trigger.get_next_fire_time(None, now)
            if nxt is not None:
                job.modify(next_run_time=nxt)
        self._leading = True
        if self._aps.running:
            self._aps.resume()
        log.info("scheduler: this instance leads; %d job(s) resumed", len(self._specs))

    def stand_by(self) -> None:
        """This instance stopped leading: no job starts here any more."""
        self._leading = False
        if self._aps.running:
            self._aps.pause()
        log.info("scheduler: this instance is a standby; jobs paused")

    @property
    def leading(self) -> bool:
        """Whether jobs run here (always without an election)."""
        return self._leading

    def _confirm_leader(self) -> bool:
        if self.leader is None:
            return True
        return bool(self.leader.step()) and self._leading

    def stop(self, wait: bool = False) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=wait)

    @property
    def running(self) -> bool:
        return bool(self._aps.running)

    # -- runs -------------------------------------------------------------------------------------------
    def run(self, name: str, trigger: str = "schedule") -> JobRun:
        """Run job ``name`` now in this thread, recorded in ``hl_job_run``; a run of the same job already
        in progress makes this one a no-op (returned with status ``skipped``, not stored)."""
        spec = self._specs.get(name)
        if spec is None:
            raise SchedulerError(f"no job named '{name}'")
        if trigger == "schedule" and not self._confirm_leader():
            log.info("scheduled job '%s' not run: this instance is a standby", name)
            return JobRun(job=name, status="skipped", trigger=trigger, error="standby")
        with self._lock:
            if name in self._running:
                return JobRun(job=name, status="skipped", trigger=trigger)
            self._running.add(name)
        try:
            with session():
                row = JobRun.create(job=name, trigger=trigger, instance=self.instance)
            started = time.perf_counter()
            try:
                result = spec.func()
            except Exception as exc:
                log.exception("scheduled job '%s' failed", name)
                row.status, row.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            else:
                row.status = "ok"
                row.result = result if isinstance(result, dict) or result is None else {"result": result}
            row.finished_at, row.seconds = utcnow(), round(time.perf_counter() - started, 3)
            with session():
                row.save()
            return row
        finally:
            with self._lock:
                self._running.discard(name)

    def run_now(self, name: str, actor: Actor) -> JobRun:
        """Run job ``name`` now for ``actor`` (permission ``jobs.manage``; refusals and runs audited)."""
        try:
            actor.require_permission("jobs.manage")
        except PermissionDenied:
            with session():
                audit(actor.username, "denied", entity="job", record_id=name, detail={"action": "run_job"})
            raise
        if name not in self._specs:
            raise SchedulerError(f"no job named '{name}'")
        if not self._confirm_leader():
            found = self.leader.leader() if self.leader is not None else None
            where = f"{found.instance} ({found.host}, pid {found.pid})" if found else "the leader, once elected"
            raise SchedulerError(f"this instance ({self.instance}) is a standby: jobs run on {where}; "
                                 f"run '{name}' on the leader's jobs page")
        with session():
            audit(actor.username, "run_job", entity="job", record_id=name)
        return self.run(name, trigger=actor.username)

    # -- what the page shows ---------------------------------------------------------------------------
    def jobs(self) -> list[JobInfo]:
        """Every job with its next run and its last run's outcome, in name order."""
        with session():
            last: dict[str, JobRun] = {}
            for name in self._specs:
                found = (JobRun.select().where(JobRun.job == name)
                         .order_by(JobRun.started_at.desc(), JobRun.id.desc()).first())
                if found is not None:
                    last[name] = found
        out = []
        for name, spec in sorted(self._specs.items()):
            job = self._aps.get_job(name) if self._aps.running else None
            nxt = getattr(job, "next_run_time", None) if job is not None else None
            if nxt is None and not self._aps.running:
                nxt = parse_cron(spec.cron, spec.timezone or self.timezone).get_next_fire_time(None, datetime.now(UTC))
            run = last.get(name)
            out.append(JobInfo(
                name=name, cron=spec.cron, description=spec.description,
                next_run=nxt.astimezone(UTC).replace(tzinfo=None) if nxt is not None else None,
                last_status=run.status if run else "", last_started=run.started_at if run else None,
                last_seconds=run.seconds if run else None, last_result=run.result if run else None,
                last_error=run.error if run else "", running=name in self._running))
        return out

    def history(self, name: str, limit: int = 20) -> list[dict[str, Any]]:
        """The newest runs of job ``name``."""
        with session():
            rows = (JobRun.select().where(JobRun.job == name)
                    .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit))
            return [{"started_at": r.started_at, "status": r.status, "seconds": r.seconds, "trigger": r.trigger,
                     "result": r.result, "error": r.error, "instance": r.instance} for r in rows]
