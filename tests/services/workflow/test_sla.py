"""Service levels on the engine: the policy chosen at the start, deadlines on the row, pauses in waiting states, the
response, and the timer (warnings, breaches, escalation) — each step once, across overlapping passes and a
restart. The engine's clock is set by the test (``engine.utcnow``) so the minutes are exact."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from wf_helpers import actor

import helpline.services.workflow.engine as engine_module
from helpline.data.database import session, write_transaction
from helpline.data.system import User, UserRole
from helpline.data.workflow import WorkflowInstance, WorkflowStep
from helpline.security.actor import Actor
from helpline.services.platform import Platform

FAULT = """\
# A fault dispatch for the SLA tests: 'processing' is waiting for parts (the clock pauses).
kind: workflow
name: fault_test
label: {en: Fault, zh_CN: 故障}
entity: work_order
state_field: status
applies: 'record.type == fault'
initial: new
states:
  - {name: new, label: {en: New, zh_CN: 新建}}
  - {name: dispatched, label: {en: Dispatched, zh_CN: 已派单}}
  - {name: processing, label: {en: Waiting for parts, zh_CN: 等待备件}, kind: waiting}
  - {name: replied, label: {en: Replied, zh_CN: 已回复}}
  - {name: closed, label: {en: Closed, zh_CN: 已闭环}, kind: closed}
transitions:
  - {name: accept, label: {en: Accept, zh_CN: 受理}, from: [new], to: dispatched, roles: [agent],
     assign: {to: department, department: maintenance}}
  - {name: wait_parts, label: {en: Wait for parts, zh_CN: 等待备件}, from: [dispatched], to: processing, roles: [agent]}
  - {name: resume, label: {en: Resume, zh_CN: 继续处理}, from: [processing], to: dispatched, roles: [agent]}
  - {name: reply, label: {en: Reply, zh_CN: 回复}, from: [dispatched], to: replied, roles: [agent]}
  - {name: close, label: {en: Close, zh_CN: 闭环}, from: [replied], to: closed, roles: [agent]}
"""

URGENT = """\
# Urgent faults: answered in 10 minutes, fixed in 60, round the clock.
kind: sla
name: fault_urgent
workflow: fault_test
applies: 'record.priority == urgent'
calendar: round_the_clock
response: 10m
resolution: 60m
warning: 80
escalation:
  - {at: warning, notify: [head]}
  - {at: breach, notify: ['role:supervisor']}
  - {at: breach, after: 30m, reassign: engineering, notify: [department]}
"""

NORMAL = """\
# Other faults: an hour to answer and two working days (16 counted hours) to fix, in office hours.
kind: sla
name: fault_normal
workflow: fault_test
order: 1
calendar: prc
response: 1h
resolution: 16h
responded_by: [accept]
"""

PLATINUM = """\
# Platinum customers' faults: 5 and 30 minutes, whatever the priority (the tier of the linked customer).
kind: sla
name: fault_platinum
workflow: fault_test
applies: 'customer.value_tier == platinum'
order: -1
calendar: round_the_clock
response: 5m
resolution: 30m
"""

T0 = datetime(2026, 3, 3, 1, 0)  # Tuesday 09:00 in Beijing


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sla_platform(wf_platform: Platform, demo_metadata: Path, monkeypatch: pytest.MonkeyPatch) -> Platform:
    (demo_metadata / "workflows" / "fault_test.yaml").write_text(FAULT, encoding="utf-8")
    (demo_metadata / "slas").mkdir(exist_ok=True)
    (demo_metadata / "slas" / "fault_urgent.yaml").write_text(URGENT, encoding="utf-8")
    (demo_metadata / "slas" / "fault_normal.yaml").write_text(NORMAL, encoding="utf-8")
    (demo_metadata / "slas" / "fault_platinum.yaml").write_text(PLATINUM, encoding="utf-8")
    report = wf_platform.store.sync_files(demo_metadata)
    assert not report.problems, [p.format() for p in report.problems]
    with session():
        User.create(username="duty1", password_hash="x", regions=["changsha"])
        UserRole.create(username="duty1", role="supervisor")
    clock = Clock(T0)
    monkeypatch.setattr(engine_module, "utcnow", clock)
    wf_platform.clock = clock  # type: ignore[attr-defined]
    return wf_platform


def fault(p: Platform, priority: str = "urgent", **values: Any) -> int:
    agent = actor(p, "agent1", "agent")
    return p.records.create(agent, "work_order", {"type": "fault", "title": "No dial tone", "priority": priority,
                                                  "city": "changsha", **values}).id


def take(p: Platform, oid: int, action: str, at: datetime) -> None:
    p.clock.now = at  # type: ignore[attr-defined]
    p.workflows.take(actor(p, "agent1", "agent"), "work_order", oid, action)


def row(oid: int) -> WorkflowInstance:
    with session():
        return WorkflowInstance.get(WorkflowInstance.record_id == oid)


def steps(oid: int) -> list[tuple[str, Any]]:
    with session():
        inst = WorkflowInstance.get(WorkflowInstance.record_id == oid)
        return [(s.action, (s.detail or {}).get("key")) for s in WorkflowStep.select()
                .where(WorkflowStep.instance_id == inst.id).order_by(WorkflowStep.id)]


def test_the_policy_and_its_deadlines_are_set_when_a_record_starts(sla_platform: Platform) -> None:
    urgent, normal = fault(sla_platform), fault(sla_platform, "normal")
    inst = row(urgent)
    assert inst.sla_policy == "fault_urgent"
    assert (inst.response_due, inst.resolution_due) == (T0 + timedelta(minutes=10), T0 + timedelta(minutes=60))
    assert inst.next_due == T0 + timedelta(minutes=8)  # the response's warning at 80 %
    assert inst.sla_state["running"] and inst.sla_state["used"] == 0
    other = row(normal)
    assert other.sla_policy == "fault_normal"  # office hours: Tue 7 h + Wed 7.5 h + Thu 08:30-10:00
    assert other.resolution_due == datetime(2026, 3, 5, 2, 0)
    assert other.response_due == T0 + timedelta(hours=1)


def test_a_policy_may_follow_the_linked_customer_s_tier(sla_platform: Platform) -> None:
    system = Actor.system()
    tiers = {tier: sla_platform.records.create(system, "customer", {
        "customer_no": f"C-{tier}", "name": f"Customer {tier}", "value_tier": tier, "city": "changsha"}).id
        for tier in ("platinum", "gold")}
    assert row(fault(sla_platform, "normal", customer=tiers["platinum"])).sla_policy == "fault_platinum"
    assert row(fault(sla_platform, "urgent", customer=tiers["gold"])).sla_policy == "fault_urgent"
    assert row(fault(sla_platform, "normal")).sla_policy == "fault_normal"  # no customer linked


def test_a_waiting_state_pauses_the_clock_and_moves_the_deadline(sla_platform: Platform) -> None:
    oid = fault(sla_platform)
    take(sla_platform, oid, "accept", T0 + timedelta(minutes=2))
    inst = row(oid)
    assert inst.responded_at == T0 + timedelta(minutes=2)
    assert inst.next_due == T0 + timedelta(minutes=48)  # the resolution's warning; the response is done
    take(sla_platform, oid, "wait_parts", T0 + timedelta(minutes=10))
    inst = row(oid)
    assert not inst.sla_state["running"] and inst.sla_state["used"] == 600 and inst.next_due is None
    take(sla_platform, oid, "resume", T0 + timedelta(minutes=40))  # 30 minutes waiting for parts
    inst = row(oid)
    assert inst.resolution_due == T0 + timedelta(minutes=90)
    assert inst.next_due == T0 + timedelta(minutes=78)
    with session():
        waited = WorkflowStep.get((WorkflowStep.instance_id == inst.id) & (WorkflowStep.action == "resume"))
    assert waited.business_seconds == 1800  # round the clock: working time = wall time


def test_the_timer_warns_breaches_and_escalates_once_across_passes_and_a_restart(
        sla_platform: Platform, db_url: str, demo_metadata: Path) -> None:
    notices: list[tuple[list[str], str, dict[str, Any]]] = []
    sla_platform.workflows.notices.append(lambda users, kind, detail: notices.append((users, kind, detail)))
    oid = fault(sla_platform)
    take(sla_platform, oid, "accept", T0 + timedelta(minutes=2))
    timer = sla_platform.workflows.sla
    assert timer.run_due(T0 + timedelta(minutes=47))["fired"] == 0
    assert timer.run_due(T0 + timedelta(minutes=49))["fired"] == 1
    assert steps(oid)[-1] == ("sla_warning", "resolution.warning")
    assert notices[-1][:2] == (["boss1"], "sla_warning") and notices[-1][2]["record_id"] == oid
    assert timer.run_due(T0 + timedelta(minutes=49))["fired"] == 0  # a second pass at the same time
    assert timer.run_due(T0 + timedelta(minutes=61))["fired"] == 1
    assert notices[-1][:2] == (["duty1"], "sla_breach")
    assert row(oid).next_due == T0 + timedelta(minutes=91)  # 30 minutes after the breach was acted on
    restarted = Platform()  # the process restarts on the same database
    restarted.start(db_url, str(demo_metadata))
    restarted.workflows.notices.append(lambda users, kind, detail: notices.append((users, kind, detail)))
    assert restarted.workflows.sla.run_due(T0 + timedelta(minutes=62))["fired"] == 0
    version = row(oid).version
    assert restarted.workflows.sla.run_due(T0 + timedelta(minutes=95))["fired"] == 1
    inst = row(oid)
    assert (inst.department, inst.version, inst.next_due) == ("engineering", version + 1, None)
    assert restarted.workflows.sla.run_due(T0 + timedelta(days=30))["fired"] == 0
    assert [s for s in steps(oid) if s[0] not in ("create", "accept")] == [
        ("sla_warning", "resolution.warning"), ("sla_breach", "resolution.breach"), ("escalate", "step.2")]
    assert [n[1] for n in notices] == ["sla_warning", "sla_breach"]  # engineering has no members to tell


def test_a_missed_response_is_breached_even_when_the_timer_ran_late(sla_platform: Platform) -> None:
    oid = fault(sla_platform)
    counts = sla_platform.workflows.sla.run_due(T0 + timedelta(minutes=30))  # down for half an hour
    assert counts["fired"] == 2
    assert [s for s in steps(oid)][1:] == [("sla_warning", "response.warning"), ("sla_breach", "response.breach")]
    take(sla_platform, oid, "accept", T0 + timedelta(minutes=31))
    assert row(oid).responded_at == T0 + timedelta(minutes=31)
    assert row(oid).next_due == T0 + timedelta(minutes=48)


def test_overlapping_passes_act_once(sla_platform: Platform) -> None:
    ids = [fault(sla_platform) for _ in range(6)]
    timer = sla_platform.workflows.sla
    now = T0 + timedelta(minutes=9)
    with session():  # two passes that read the same due rows before either wrote
        seen_a = list(WorkflowInstance.select().where(WorkflowInstance.next_due <= now))
        seen_b = list(WorkflowInstance.select().where(WorkflowInstance.next_due <= now))
    with session(), write_transaction():
        assert [timer._fire(i, now, {}) for i in seen_a] == [1] * 6
    with session(), write_transaction():
        assert [timer._fire(i, now, {}) for i in seen_b] == [None] * 6
    later = T0 + timedelta(minutes=11)
    results: list[dict[str, int]] = []
    threads = [threading.Thread(target=lambda: results.append(timer.run_due(later))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["fired"] for r in results) == 6
    for oid in ids:
        assert steps(oid)[1:] == [("sla_warning", "response.warning"), ("sla_breach", "response.breach")]


def test_closing_stops_the_clock(sla_platform: Platform) -> None:
    oid = fault(sla_platform)
    for i, action in enumerate(("accept", "reply", "close")):
        take(sla_platform, oid, action, T0 + timedelta(minutes=5 * (i + 1)))
    inst = row(oid)
    assert inst.next_due is None and not inst.sla_state["running"]
    assert inst.sla_state["stopped"] == {"response": 300.0, "resolution": 900.0}
    assert inst.resolution_due == T0 + timedelta(minutes=60)  # met: closed at 15 minutes
    assert sla_platform.workflows.sla.run_due(T0 + timedelta(days=1))["due"] == 0


def test_the_timer_runs_as_a_scheduled_job_every_minute(sla_platform: Platform) -> None:
    from helpline.cli.common import start_scheduler
    from helpline.config import Settings

    oid = fault(sla_platform)
    scheduler = start_scheduler(sla_platform, Settings(), router=None)
    try:
        job = next(j for j in scheduler.jobs() if j.name == "sla_timers")
        assert job.cron == "* * * * *"
        run = scheduler.run("sla_timers")  # the real clock, months after T0: every key of the order is due
    finally:
        scheduler.stop()
    assert run.status == "ok" and run.result["fired"] == 4
    assert [s[0] for s in steps(oid)] == ["create", "sla_warning", "sla_breach", "sla_warning", "sla_breach"]


def test_a_published_change_of_a_policy_replans_its_open_records(sla_platform: Platform, demo_metadata: Path
                                                                  ) -> None:
    oid = fault(sla_platform)
    timer = sla_platform.workflows.sla
    assert timer.run_due(T0 + timedelta(minutes=1))["fired"] == 0  # nothing due; the policies as they are
    assert row(oid).next_due == T0 + timedelta(minutes=8)
    (demo_metadata / "slas" / "fault_urgent.yaml").write_text(URGENT.replace("response: 10m", "response: 5m"),
                                                              encoding="utf-8")
    report = sla_platform.store.sync_files(demo_metadata)
    assert not report.problems
    counts = timer.run_due(T0 + timedelta(minutes=4, seconds=30))  # 80 % of the new 5 minutes has passed
    assert (counts["replanned"], counts["fired"]) == (1, 1)
    assert steps(oid)[-1] == ("sla_warning", "response.warning")
    inst = row(oid)
    assert inst.response_due == T0 + timedelta(minutes=5) and inst.next_due == T0 + timedelta(minutes=5)


def test_a_process_killed_during_a_pass_loses_and_doubles_nothing(sla_platform: Platform, db_url: str,
                                                                   demo_metadata: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    ids = [fault(sla_platform) for _ in range(3)]
    script = tmp_path / "killed_pass.py"
    script.write_text(f"""
import os
from datetime import datetime
from helpline.services.platform import Platform
p = Platform()
p.start({db_url!r}, {str(demo_metadata)!r})
def hook(users, kind, detail):  # the process dies while handing the second breach notice
    hook.calls = getattr(hook, "calls", 0) + 1
    if hook.calls == 2:
        os._exit(9)
p.workflows.notices.append(hook)
p.workflows.sla.run_due(datetime.fromisoformat({(T0 + timedelta(minutes=61)).isoformat()!r}))
""", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[3])
    assert done.returncode == 9, done.stderr
    assert all(steps(oid) == [("create", None)] for oid in ids)  # the pass's transaction died with it
    told: list[int] = []
    sla_platform.workflows.notices.append(lambda users, kind, detail: told.append(detail["record_id"]))
    assert sla_platform.workflows.sla.run_due(T0 + timedelta(minutes=61))["fired"] == 4 * 3
    assert sorted(told) == sorted(ids)  # the supervisor told of each breach once
    assert all(steps(oid)[1:] == [("sla_warning", "response.warning"), ("sla_breach", "response.breach"),
                                  ("sla_warning", "resolution.warning"), ("sla_breach", "resolution.breach")]
               for oid in ids)


def test_the_status_a_screen_shows(sla_platform: Platform) -> None:
    oid = fault(sla_platform)
    sla = sla_platform.workflows.sla
    fresh = sla.status(row(oid), T0 + timedelta(minutes=9))
    assert fresh is not None and fresh.policy == "fault_urgent" and fresh.running
    assert (fresh.response_left, fresh.resolution_left, fresh.warned, fresh.breached) == (
        60.0, 3060.0, ("response",), ())
    take(sla_platform, oid, "accept", T0 + timedelta(minutes=12))
    take(sla_platform, oid, "wait_parts", T0 + timedelta(minutes=20))
    paused = sla.status(row(oid), T0 + timedelta(minutes=90))  # paused: the clock stays at 20 minutes
    assert paused is not None and not paused.running and paused.used == 1200
    assert (paused.response_left, paused.resolution_left, paused.breached) == (None, 2400.0, ("response",))
    assert paused.responded_at == T0 + timedelta(minutes=12)
    assert sla.status(row(fault(sla_platform, "low", type="complaint")), T0) is None  # no policy


def test_the_shipped_fault_policy_times_the_response_and_the_technician_on_site(
        platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(T0)
    monkeypatch.setattr(engine_module, "utcnow", clock)
    agent = actor(platform, "agent1", "agent")
    oid = platform.records.create(agent, "work_order", {"type": "fault", "title": "No dial tone",
                                                        "city": "changsha"}).id
    inst = row(oid)
    assert (inst.workflow, inst.sla_policy) == ("fault", "fault")
    assert (inst.response_due, inst.resolution_due) == (T0 + timedelta(minutes=10), T0 + timedelta(minutes=60))
    clock.now = T0 + timedelta(minutes=4)
    platform.workflows.take(agent, "work_order", oid, "dispatch")
    assert row(oid).responded_at == clock.now
    clock.now = T0 + timedelta(minutes=55)
    platform.workflows.take(actor(platform, "tech1", "technician"), "work_order", oid, "arrive")
    inst = row(oid)
    assert inst.sla_state["stopped"] == {"response": 240.0, "resolution": 3300.0}  # on site in 55 minutes
    assert inst.next_due == T0 + timedelta(minutes=55)  # the warning (48 min) passed unseen: due at the next pass
    fired = platform.workflows.sla.run_due(T0 + timedelta(hours=3))
    assert fired["fired"] == 1 and steps(oid)[-1] == ("sla_warning", "resolution.warning")
    assert row(oid).next_due is None  # met: no breach, no escalation


def test_a_record_moved_by_a_state_map_has_its_clock_follow_the_new_state(sla_platform: Platform,
                                                                         demo_metadata: Path) -> None:
    oid = fault(sla_platform)
    take(sla_platform, oid, "accept", T0 + timedelta(minutes=2))
    take(sla_platform, oid, "wait_parts", T0 + timedelta(minutes=10))
    assert not row(oid).sla_state["running"] and row(oid).next_due is None  # waiting for parts: paused
    # a revision drops 'processing' (waiting) and moves its records back to 'dispatched' (the clock runs)
    dropped = (FAULT.replace("  - {name: processing, label: {en: Waiting for parts, zh_CN: 等待备件}, kind: waiting}\n",
                             "")
               .replace("  - {name: wait_parts, label: {en: Wait for parts, zh_CN: 等待备件}, from: [dispatched], "
                        "to: processing, roles: [agent]}\n", "")
               .replace("  - {name: resume, label: {en: Resume, zh_CN: 继续处理}, from: [processing], to: dispatched, "
                        "roles: [agent]}\n", ""))
    assert "name: processing" not in dropped and "to: processing" not in dropped
    sla_platform.clock.now = T0 + timedelta(minutes=40)  # type: ignore[attr-defined]
    (demo_metadata / "workflows" / "fault_test.yaml").write_text(dropped + "state_map: {processing: dispatched}\n",
                                                                 encoding="utf-8")
    assert not sla_platform.store.sync_files(demo_metadata).problems
    inst = row(oid)
    assert inst.state == "dispatched" and steps(oid)[-1] == ("migrate", None)
    assert inst.sla_state["running"] and inst.sla_state["used"] == 600  # 10 minutes counted, 30 paused
    assert inst.resolution_due == T0 + timedelta(minutes=90)  # 60 minutes from the start plus the pause
    assert inst.next_due == T0 + timedelta(minutes=78)  # the resolution's warning at 80 %
