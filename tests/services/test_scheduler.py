"""The process scheduler: jobs on crontab expressions, every run recorded, failures kept apart, runs on demand
checked and audited, runs cut short by a crash closed at the next start."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from helpline.data.database import session
from helpline.data.jobs import JobRun
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import search_audit
from helpline.services.platform import Platform
from helpline.services.scheduler import JobSpec, Scheduler, SchedulerError, parse_cron


def test_bad_crontab_expressions_are_refused_with_the_reason() -> None:
    with pytest.raises(SchedulerError, match="5 fields"):
        parse_cron("0 3 * *")
    with pytest.raises(SchedulerError, match="not a valid crontab"):
        parse_cron("0 25 * * *")
    assert parse_cron("*/15 8-17 * * mon-fri").get_next_fire_time(None, datetime(2026, 12, 5, 9, 1, tzinfo=UTC)) \
        == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Saturday → Monday 08:00


def test_runs_are_recorded_and_a_failure_does_not_stop_the_others(platform: Platform) -> None:
    scheduler = Scheduler()
    scheduler.add(JobSpec("good", "0 3 * * *", lambda: {"purged": 2}, "a job that works"))
    scheduler.add(JobSpec("bad", "0 4 * * *", lambda: 1 / 0, "a job that fails"))
    with pytest.raises(SchedulerError, match="already scheduled"):
        scheduler.add(JobSpec("good", "0 5 * * *", lambda: None))
    assert scheduler.run("bad").status == "failed"
    ok = scheduler.run("good")
    assert ok.status == "ok" and ok.result == {"purged": 2} and ok.seconds is not None
    jobs = {j.name: j for j in scheduler.jobs()}
    assert jobs["bad"].last_status == "failed" and "ZeroDivisionError" in jobs["bad"].last_error
    assert jobs["good"].last_status == "ok" and jobs["good"].last_result == {"purged": 2}
    assert jobs["good"].next_run is not None and jobs["good"].next_run.hour == 3
    with pytest.raises(SchedulerError, match="no job named"):
        scheduler.run("missing")


def test_one_run_of_a_job_at_a_time(platform: Platform) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow() -> str:
        entered.set()
        release.wait(5)
        return "done"

    scheduler = Scheduler()
    scheduler.add(JobSpec("slow", "0 3 * * *", slow))
    first = threading.Thread(target=scheduler.run, args=("slow",))
    first.start()
    assert entered.wait(5)
    assert scheduler.run("slow").status == "skipped"
    release.set()
    first.join(5)
    with session():
        assert [r.status for r in JobRun.select().where(JobRun.job == "slow")] == ["ok"]


def test_run_now_needs_the_permission_and_is_audited(platform: Platform) -> None:
    scheduler = Scheduler()
    scheduler.add(JobSpec("purge", "0 3 * * *", lambda: "ok"))
    agent = Actor("agent1", roles=("agent",)).bind(platform.metadata)
    with pytest.raises(PermissionDenied):
        scheduler.run_now("purge", agent)
    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    assert scheduler.run_now("purge", admin).trigger == "admin"
    with session():
        assert [e["action"] for e in search_audit(entity="job", record_id="purge")] == ["run_job", "denied"]


def test_a_run_cut_short_by_a_crash_is_closed_at_the_next_start(platform: Platform) -> None:
    with session():
        JobRun.create(job="purge", status="running")
    scheduler = Scheduler().start()
    try:
        with session():
            row = JobRun.get(JobRun.job == "purge")
        assert row.status == "interrupted" and row.finished_at is not None
    finally:
        scheduler.stop()
    assert not scheduler.running


def test_scheduled_runs_fire_on_the_scheduler_thread(platform: Platform) -> None:
    fired = threading.Event()
    scheduler = Scheduler()
    scheduler.add(JobSpec("tick", "* * * * *", lambda: fired.set() or "tick"))
    scheduler.start()
    try:
        job = scheduler._aps.get_job("tick")
        job.modify(next_run_time=datetime.now(UTC))  # due now instead of at the next minute
        assert fired.wait(10)
    finally:
        scheduler.stop(wait=True)
    with session():
        assert JobRun.select().where(JobRun.job == "tick", JobRun.status == "ok").count() == 1
