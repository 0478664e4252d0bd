"""Leader election (helpline.services.leader): on PostgreSQL two instances started together — one leads; the
leader's connection terminated or its process killed — a standby leads within 5 s (measured); on SQLite the
one process leads. Scheduled jobs run on the leader only (helpline.services.scheduler)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpline.data.database import db, open_database, session
from helpline.data.jobs import Instance, JobRun
from helpline.security.actor import Actor
from helpline.services.leader import LeaderElection, LeaderError
from helpline.services.scheduler import JobSpec, Scheduler, SchedulerError

RENEW_S = 0.05
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_url(pg_url: str) -> str:
    """conftest's fresh PostgreSQL database with the election's and the scheduler's tables."""
    with session():
        db.create_tables([JobRun, Instance], safe=True)
    return pg_url


def _elections(url: str, n: int) -> list[LeaderElection]:
    return [LeaderElection(url, renew_s=RENEW_S, instance=f"test-{i}") for i in range(n)]


def _wait(condition: object, limit_s: float = 5.0) -> float:
    """Seconds until ``condition()`` holds (fails after ``limit_s``)."""
    started = time.perf_counter()
    while not condition():  # type: ignore[operator]
        if time.perf_counter() - started > limit_s:
            raise AssertionError(f"not within {limit_s} s")
        time.sleep(0.01)
    return time.perf_counter() - started


def _terminate(url: str, backend_pid: int) -> None:
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))
    conn.close()


@pytest.mark.postgres
def test_two_instances_started_at_once_exactly_one_leads(pg_url: str) -> None:
    elections = _elections(pg_url, 2)
    gate = threading.Barrier(2)
    threads = [threading.Thread(target=lambda e=e: (gate.wait(), e.start())) for e in elections]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(e.role for e in elections) == ["leader", "standby"]
        winner = next(e for e in elections if e.is_leader)
        for e in elections:  # both name the same leader, with its identity
            found = e.leader()
            assert found is not None and (found.instance, found.pid) == (winner.instance, os.getpid())
            assert found.since is not None
        for _ in range(3):  # the standby keeps trying and keeps failing while the leader lives
            assert [e.step() for e in elections].count(True) == 1
        with session():
            roles = {r.id: r.role for r in Instance.select()}
        assert sorted(roles.values()) == ["leader", "standby"] and roles[winner.instance] == "leader"
    finally:
        for e in elections:
            e.stop()


@pytest.mark.postgres
def test_leader_connection_terminated_standby_leads_within_5_s(pg_url: str) -> None:
    first, second = _elections(pg_url, 2)
    lost: list[str] = []
    elected: list[str] = []
    first.follow(lambda: elected.append("first"), lambda: lost.append("first"))
    second.follow(lambda: elected.append("second"), lambda: lost.append("second"))
    try:
        first.start()
        second.start()
        assert first.is_leader and not second.is_leader and elected == ["first"]
        with session():
            backend = Instance.get_by_id("test-0").backend_pid
        _terminate(pg_url, backend)
        took = _wait(lambda: second.is_leader)
        print(f"standby led {took:.3f} s after the leader's connection was terminated")
        assert took < 5.0
        _wait(lambda: not first.is_leader)  # the old leader noticed and stepped down
        _wait(lambda: lost == ["first"] and elected == ["first", "second"])  # (callbacks run after the flag)
        assert lost == ["first"] and elected == ["first", "second"]
        found = first.leader()
        assert found is not None and found.instance == "test-1"
        # the old leader reconnects as a standby and stays one
        _wait(lambda: first._conn is not None)
        assert not first.step() and second.step()
    finally:
        first.stop()
        second.stop()


_CHILD = """
import sys, time
from helpline.data.database import open_database
from helpline.services.leader import LeaderElection
open_database(sys.argv[1])
e = LeaderElection(sys.argv[1], renew_s=0.05, instance="child").start()
print("leader" if e.is_leader else "standby", flush=True)
time.sleep(60)
"""


@pytest.mark.postgres
def test_leader_process_killed_standby_leads_within_5_s(pg_url: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", _CHILD, pg_url], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    standby = LeaderElection(pg_url, renew_s=RENEW_S, instance="parent")
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "leader"
        standby.start()
        assert not standby.is_leader
        found = standby.leader()
        assert found is not None and (found.instance, found.pid) == ("child", child.pid)
        child.kill()
        killed = time.perf_counter()
        _wait(lambda: standby.is_leader)
        took = time.perf_counter() - killed
        print(f"standby led {took:.3f} s after the leader's process was killed")
        assert took < 5.0
        found = standby.leader()
        assert found is not None and found.instance == "parent"
    finally:
        child.kill()
        child.wait()
        standby.stop()


def test_sqlite_the_one_process_leads(sqlite_url: str) -> None:
    open_database(sqlite_url)
    election = LeaderElection(sqlite_url, renew_s=RENEW_S, instance="solo")
    called: list[str] = []
    election.start()
    try:
        election.follow(lambda: called.append("elected"), lambda: called.append("lost"))
        assert election.is_leader and called == ["elected"]
        assert election.step() and election.is_leader and called == ["elected"], "a scheduled run's check keeps it"
        figures = election.figures()
        assert figures["role"] == "leader" and figures["leader"]["instance"] == "solo"
        assert figures["leader"]["pid"] == os.getpid()
    finally:
        election.stop()
    assert called == ["elected", "lost"] and not election.is_leader
    with session():
        assert Instance.get_by_id("solo").role == "stopped"


def test_bad_settings_are_refused() -> None:
    with pytest.raises(LeaderError, match="over 0"):
        LeaderElection("sqlite:///x.db", renew_s=0)
    with pytest.raises(LeaderError, match="postgresql://"):
        LeaderElection("postgresql://host:5432", renew_s=1)


# -- the scheduler on the leader only -------------------------------------------------------------------------
@pytest.mark.postgres
def test_scheduled_jobs_run_on_the_leader_only(pg_url: str) -> None:
    first, second = _elections(pg_url, 2)
    ran: list[str] = []
    schedulers = []
    try:
        for election in (first, second):
            election.start()
            scheduler = Scheduler(leader=election)
            scheduler.add(JobSpec("tick", "0 3 * * *", lambda i=election.instance: ran.append(i)))
            schedulers.append(scheduler.start())
        lead, standby = schedulers
        assert lead.leading and not standby.leading
        # the job comes due on both instances at once: it runs on the leader only
        now = datetime.now(UTC)
        for s in schedulers:
            s._aps.get_job("tick").modify(next_run_time=now)
            s._aps.wakeup()
        _wait(lambda: ran == ["test-0"], 2.0)
        time.sleep(0.1)  # the standby's due run would have come by now
        assert ran == ["test-0"]
        assert standby.run("tick").status == "skipped"  # a due run reaching the standby is refused too
        with pytest.raises(SchedulerError, match="standby: jobs run on test-0"):
            standby.run_now("tick", Actor.system())
        with session():
            assert [(r.job, r.instance) for r in JobRun.select()] == [("tick", "test-0")]
        # the leader dies: the standby's scheduler leads, the old one pauses; the next due run is the new one's
        with session():
            backend = Instance.get_by_id("test-0").backend_pid
        _terminate(pg_url, backend)
        _wait(lambda: standby.leading and not lead.leading)
        assert standby._aps.get_job("tick").next_run_time > now  # counted from the election, not run again
        for s in schedulers:
            s._aps.get_job("tick").modify(next_run_time=datetime.now(UTC))
            s._aps.wakeup()
        _wait(lambda: len(ran) == 2, 2.0)
        assert ran == ["test-0", "test-1"]
    finally:
        for s in schedulers:
            s.stop()
        first.stop()
        second.stop()
