"""Major faults and emergencies (issue 22 item 6): the call-spike alert on fixed call data (one region far over
its usual level, a busy but steady one, a quiet one), the ``call_spike`` job of the one scheduler run directly
(supervisors told once per region and window), the thresholds' checks, and declaring an emergency — the IVR's
outage notice, a must-read bulletin to agents and an emergency dispatch work order walked through its process
on the workflow engine. On SQLite and PostgreSQL (``HELPLINE_TEST_PG``)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from helpline.config import Settings
from helpline.data.base import utcnow
from helpline.data.calls import Call
from helpline.data.database import session, write_transaction
from helpline.data.jobs import JobRun
from helpline.data.notices import Notice
from helpline.data.system import User, UserRole
from helpline.data.workflow import DepartmentMember, WorkflowInstance
from helpline.security.actor import Actor, PermissionDenied
from helpline.services.emergency import SpikeRule, declare, spikes
from helpline.services.platform import Platform

SYSTEM = Actor.system()


def add_user(name: str, role: str, regions: list[str] | None = None) -> None:
    """A user with a role (no password: hashing one costs a second under load, and no test here logs in)."""
    with session(), write_transaction():
        User.create(username=name, password_hash="-", regions=regions or [])
        UserRole.create(username=name, role=role)
RULE = SpikeRule(window_min=15, baseline_h=24, factor=3.0, min_calls=20)


def calls(city: str, count: int, start: datetime, minutes: float) -> list[dict[str, object]]:
    """``count`` calls from ``city`` spread evenly over ``minutes`` from ``start``."""
    step = minutes / count
    return [{"city": city, "caller_number": "13800000000", "started_at": start + timedelta(minutes=i * step)}
            for i in range(count)]


def seed(now: datetime) -> None:
    """Changsha: 4 calls an hour all day, then 40 in the last 15 minutes (a spike). Yueyang: 100 an hour all day
    and 25 in the last 15 minutes (busy, steady). Zhuzhou: none, then 12 (many times nothing, under 20)."""
    window = now - timedelta(minutes=15)
    day = now - timedelta(hours=24)
    rows = (calls("changsha", 95, day, 23.75 * 60) + calls("changsha", 40, window, 14.5)
            + calls("yueyang", 2375, day, 23.75 * 60) + calls("yueyang", 25, window, 14.5)
            + calls("zhuzhou", 12, window, 14.5)
            + calls("changsha", 50, now - timedelta(hours=30), 60))  # before the baseline: not counted
    with session(), write_transaction():
        for start in range(0, len(rows), 500):
            Call.insert_many(rows[start:start + 500]).execute()


def test_one_regions_spike_among_steady_ones(platform: Platform) -> None:
    now = utcnow().replace(microsecond=0)
    seed(now)
    found = spikes(RULE, now)
    assert [(s.region, s.calls, s.usual) for s in found] == [("changsha", 40, 1.0)]
    assert spikes(SpikeRule(window_min=15, baseline_h=24, factor=50.0, min_calls=20), now) == []  # 40× only
    assert [s.region for s in spikes(SpikeRule(15, 24, 3.0, 10), now)] == ["zhuzhou", "changsha"]  # ∞ first
    assert spikes(RULE, now - timedelta(hours=1)) == []  # an hour earlier nothing spiked


def test_thresholds_are_checked() -> None:
    with pytest.raises(ValueError, match="factor"):
        SpikeRule(factor=1.0)
    with pytest.raises(ValueError, match="window"):
        SpikeRule(window_min=120, baseline_h=1)
    with pytest.raises(ValueError, match="HELPLINE_SPIKE_"):
        SpikeRule.from_settings(Settings(spike_min_calls=0))


def test_the_scheduler_job_alerts_supervisors_once(platform: Platform) -> None:
    from helpline.cli.common import start_scheduler

    for name, role in (("sup1", "supervisor"), ("sup2", "supervisor"), ("a1", "agent")):
        add_user(name, role)
    seed(utcnow().replace(microsecond=0))
    scheduler = start_scheduler(platform, Settings(spike_cron="*/5 * * * *", backup_cron="off"), None)
    try:
        assert {"call_spike", "bulletin_notices"} <= {j.name for j in scheduler.jobs()}
        first = scheduler.run("call_spike")
        again = scheduler.run("call_spike")  # the same spike within its window: not told twice
    finally:
        scheduler.stop()
    assert first.status == "ok" and first.result["alerted"] == ["changsha"]
    assert again.status == "ok" and again.result == {"spikes": 1, "alerted": [], "told": 0}
    with session():
        told = sorted(n.username for n in Notice.select().where(Notice.kind == "call_spike"))
        assert JobRun.select().where(JobRun.job == "call_spike").count() == 2
    assert "sup1" in told and "sup2" in told and "a1" not in told and len(told) == len(set(told))
    off = start_scheduler(platform, Settings(spike_cron="off", backup_cron="off"), None)
    try:
        assert "call_spike" not in {j.name for j in off.jobs()}
    finally:
        off.stop()


def test_declared_emergency_runs_its_dispatch_process(platform: Platform) -> None:
    p = platform
    sup = Actor("sup1", roles=("supervisor",), language="en").bind(p.metadata)
    agent = Actor("a1", roles=("agent",), regions=("changsha",)).bind(p.metadata)
    tech = Actor("tech1", roles=("technician",), regions=("changsha",)).bind(p.metadata)
    add_user("a1", "agent", ["changsha"])  # the bulletin's reader
    with session():
        DepartmentMember.create(department="maint_changsha", username="tech1")
    with pytest.raises(PermissionDenied):
        declare(p, agent, "changsha", "x", "y")
    made = declare(p, sup, "changsha", "长沙光缆中断", "长沙地区因光缆中断，有线电视信号中断，正在抢修。")
    outage = p.records.get(sup, "outage", made.outage_id).values
    assert (outage["region"], outage["active"]) == ("changsha", True)
    assert [b.id for b in p.bulletins.pending_must_read(agent)] == [made.bulletin_id]
    order = p.records.get(sup, "work_order", made.work_order_id).values
    assert (order["type"], order["priority"], order["status"], order["city"]) == ("emergency", "urgent", "new",
                                                                                  "changsha")

    def state() -> tuple[str, str | None]:
        with session():
            wf = WorkflowInstance.get(WorkflowInstance.record_id == made.work_order_id)
            return wf.state, wf.department

    assert state() == ("new", None)
    p.workflows.take(sup, "work_order", made.work_order_id, "dispatch")
    assert state() == ("dispatched", "maint_changsha")
    p.workflows.take(tech, "work_order", made.work_order_id, "start")
    p.workflows.take(tech, "work_order", made.work_order_id, "restore", {"reply": "光缆已熔接"})
    p.workflows.take(sup, "work_order", made.work_order_id, "not_restored", comment="岳麓区仍无信号")
    assert state()[0] == "processing"
    p.workflows.take(tech, "work_order", made.work_order_id, "restore", {"reply": "全部恢复"})
    with pytest.raises(PermissionDenied):
        p.workflows.take(tech, "work_order", made.work_order_id, "close")  # the supervisor confirms
    p.workflows.take(sup, "work_order", made.work_order_id, "close")
    assert state()[0] == "closed"
    with session():
        told = {n.username for n in Notice.select().where(Notice.kind == "transition")}
    assert "tech1" in told
