"""Service-level timers: one scheduler pass over many open orders, and the cost of one deadline.

Run: ``PYTHONPATH=. python bench/bench_sla.py [--orders 100000] [--due 1000] [--db URL | --pg-server URL]``.
``--pg-server`` takes a PostgreSQL server URL (e.g. the shared dev server), makes a throwaway database on it and
drops it afterwards. Exits non-zero when a target is missed or a pass acts on a row twice.

- *pass*: ``--orders`` open work-order instances under an SLA policy (calendar ``prc``, escalation at warning
  and breach, notices to the department head and the supervisors), ``--due`` of them with a step due now; one
  ``SlaService.run_due`` finds them through the ``next_due`` index, claims each, writes its step and hands its
  notices; target < 1 s. A second pass right after must find nothing (exactly once).
- *deadline*: ``BusinessCalendar.add`` on the PRC calendar from random instants over 2026-2027 by random
  amounts up to two weeks of office time, and the whole plan of one row (deadlines and next due); target
  p95 < 50 µs.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _pg import drop_database, throwaway_database  # noqa: E402
from _report import finish  # noqa: E402

from helpline.data.database import session, write_transaction  # noqa: E402
from helpline.data.system import User, UserRole  # noqa: E402
from helpline.data.workflow import DepartmentMember, WorkflowInstance, WorkflowStep  # noqa: E402
from helpline.services.platform import Platform  # noqa: E402

FLOW = """\
# The bench's fault process.
kind: workflow
name: bench_fault
label: {en: Fault, zh_CN: 故障}
entity: work_order
state_field: status
applies: 'record.type == fault'
initial: new
states:
  - {name: new, label: {en: New, zh_CN: 新建}}
  - {name: closed, label: {en: Closed, zh_CN: 已闭环}, kind: closed}
transitions:
  - {name: close, label: {en: Close, zh_CN: 闭环}, from: [new], to: closed, roles: [agent]}
"""
POLICY = """\
# The bench's policy.
kind: sla
name: bench_fault
workflow: bench_fault
calendar: prc
response: 1h
resolution: 16h
escalation:
  - {at: warning, of: response, notify: [head]}
  - {at: breach, of: response, notify: ['role:supervisor']}
"""
DEPARTMENTS = ("maintenance", "engineering", "customer_service", "broadband_ops")




def seed(platform: Platform, orders: int, due: int, now: datetime) -> None:
    """``orders`` open instances; ``due`` of them with the response's warning due a minute ago."""
    sla = platform.workflows.sla
    policy, cal = sla.policy("bench_fault"), sla.calendar("prc")
    assert policy is not None and cal is not None
    rng = random.Random(7)
    with session():
        WorkflowStep.delete().execute()
        WorkflowInstance.delete().execute()
        rows: list[dict[str, Any]] = []
        for i in range(orders):
            opened = now - timedelta(minutes=rng.randint(0, 30)) if i >= due else now - timedelta(hours=3)
            state = {"used": 0.0, "running": True, "since": opened.isoformat(), "stopped": {}, "done": {}}
            cols = sla._deadlines(policy, cal, state)
            if i < due:
                cols["next_due"] = now - timedelta(minutes=1)
            elif cols["next_due"] <= now:
                cols["next_due"] = now + timedelta(minutes=rng.randint(5, 600))
            rows.append(dict(entity="work_order", record_id=i + 1, workflow="bench_fault", state="new",
                             state_since=opened, opened_at=opened, department=DEPARTMENTS[i % len(DEPARTMENTS)],
                             created_by="agent1", sla_policy="bench_fault", **cols))
            if len(rows) == 5000:
                with write_transaction():
                    WorkflowInstance.insert_many(rows).execute()
                rows = []
        if rows:
            with write_transaction():
                WorkflowInstance.insert_many(rows).execute()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--deadlines", type=int, default=50_000)
    parser.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--pg-server", default="", help="PostgreSQL server URL: a throwaway database on it")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    pg_name = ""
    if args.pg_server:
        url, pg_name = throwaway_database(args.pg_server, "hl_bench_sla")
    else:
        url = args.db or f"sqlite:///{tmp}/bench.db"
    failures: list[str] = []
    figures: dict[str, Any] = {"db": url.split(":")[0], "orders": args.orders, "due": args.due}
    try:
        metadata = tmp / "metadata"
        shutil.copytree(ROOT / "metadata", metadata)
        (metadata / "workflows").mkdir(exist_ok=True)
        (metadata / "workflows" / "bench_fault.yaml").write_text(FLOW, encoding="utf-8")
        (metadata / "slas").mkdir(exist_ok=True)
        (metadata / "slas" / "bench_fault.yaml").write_text(POLICY, encoding="utf-8")
        platform = Platform()
        platform.start(url, str(metadata))
        with session():
            for d in DEPARTMENTS:
                DepartmentMember.create(department=d, username=f"head_{d}", head=True)
            User.create(username="duty1", password_hash="x", regions=[])
            UserRole.create(username="duty1", role="supervisor")
        told: list[int] = []
        platform.workflows.notices.append(lambda users, kind, detail: told.append(len(users)))
        now = datetime(2026, 3, 3, 6, 0)  # Tuesday 14:00 in Beijing
        passes: list[float] = []
        for _ in range(args.passes):
            seed(platform, args.orders, args.due, now)
            started = time.perf_counter()
            counts = platform.workflows.sla.run_due(now)
            passes.append(time.perf_counter() - started)
            # 3 hours after opening: the response's warning and breach, once each
            if counts["fired"] != 2 * args.due or platform.workflows.sla.run_due(now)["fired"] != 0:
                failures.append(f"pass acted on {counts} (expected {2 * args.due} keys, then nothing)")
        figures["pass_s"] = {"median": round(statistics.median(passes), 3), "max": round(max(passes), 3)}
        figures["notices"] = len(told)
        if max(passes) >= 1.0:
            failures.append(f"one pass took {max(passes):.3f} s (target < 1 s)")
        cal = platform.workflows.sla.calendar("prc")
        policy = platform.workflows.sla.policy("bench_fault")
        assert cal is not None and policy is not None
        rng = random.Random(11)
        base = datetime(2026, 1, 1)
        starts = [base + timedelta(seconds=rng.randint(0, 2 * 365 * 86400)) for _ in range(args.deadlines)]
        amounts = [rng.randint(60, 10 * 27000) for _ in range(args.deadlines)]
        for label, fn in (("add", lambda s, n: cal.add(s, n)),
                          ("row_plan", lambda s, n: platform.workflows.sla._deadlines(
                              policy, cal, {"used": n % 3600, "running": True, "since": s.isoformat(),
                                            "stopped": {}, "done": {}}))):
            times = []
            for s, n in zip(starts, amounts, strict=True):
                t0 = time.perf_counter()
                fn(s, n)
                times.append(time.perf_counter() - t0)
            times.sort()
            p95 = times[int(0.95 * (len(times) - 1))] * 1e6
            figures[f"deadline_{label}_us"] = {"mean": round(statistics.mean(times) * 1e6, 2), "p95": round(p95, 2)}
            if label == "add" and p95 >= 50:
                failures.append(f"a deadline computation took {p95:.1f} µs at p95 (target < 50 µs)")
    finally:
        if pg_name:
            drop_database(args.pg_server, pg_name)
        shutil.rmtree(tmp, ignore_errors=True)
    return finish(figures, failures, args.json)


if __name__ == "__main__":
    sys.exit(main())
