"""Inboxes and transitions at scale: "my department's work" with the menu counts, and taking an action.

Run: ``PYTHONPATH=. python bench/bench_inbox.py [--orders 1000000] [--db URL | --pg-server URL]``.
``--pg-server`` takes a PostgreSQL server URL (e.g. the shared dev server), makes a throwaway database on it and
drops it afterwards. Exits non-zero on any failure (a target missed, a wrong count, a refused transition).

The data: ``--orders`` work orders written in bulk straight into the tables (with their ``hl_wf_instance``
rows): 14 cities, 16 departments, 95 % closed; the open ones spread over the states of the bench's process,
some assigned to a user or to ``role:technician@<city>``, some past their resolution deadline.

- *department page*: a technician of the Changsha maintenance team (row scope: his city) opens "My department's
  work" — the first page (25 rows) with its count (up to 200) — and the menu's four counts (up to 99 each);
  target p95 < 100 ms.
- *transition*: ``WorkflowService.take`` of the bench's ``forward`` on distinct open orders (check, record write,
  instance, step, audit, assignment, the engine's listeners: SLA and notices); target p95 < 50 ms.
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
from _report import finish, p95  # noqa: E402

from helpline.data.database import db, session, write_transaction  # noqa: E402
from helpline.data.entities import column  # noqa: E402
from helpline.data.system import User, UserRole  # noqa: E402
from helpline.data.workflow import DepartmentMember, WorkflowInstance  # noqa: E402
from helpline.security.actor import Actor  # noqa: E402
from helpline.services.platform import Platform  # noqa: E402
from helpline.services.workflow import inboxes  # noqa: E402
from helpline.services.workflow.inbox import COUNT_CAP, MENU_CAP  # noqa: E402

FLOW = """\
# The bench's process.
kind: workflow
name: bench_flow
label: {en: Bench, zh_CN: 基准}
entity: work_order
state_field: status
applies: 'record.type == fault'
initial: new
states:
  - {name: new, label: {en: New, zh_CN: 新建}}
  - {name: dispatched, label: {en: Dispatched, zh_CN: 已派单}}
  - {name: waiting_parts, label: {en: Waiting for parts, zh_CN: 等待备件}, kind: waiting}
  - {name: closed, label: {en: Closed, zh_CN: 已闭环}, kind: closed}
transitions:
  - name: forward
    label: {en: Forward, zh_CN: 转派}
    from: [new]
    to: dispatched
    roles: [agent, technician]
    require: [department]
    assign: {to: department, field: department}
    effects: [{notify: [department]}]
  - {name: wait, label: {en: Wait for parts, zh_CN: 等待备件}, from: [dispatched], to: waiting_parts,
     roles: [technician]}
  - {name: close, label: {en: Close, zh_CN: 闭环}, from: [dispatched, waiting_parts], to: closed, roles: [technician]}
"""
CITIES = ("changsha", "zhuzhou", "xiangtan", "hengyang", "shaoyang", "yueyang", "changde", "zhangjiajie",
          "yiyang", "chenzhou", "yongzhou", "huaihua", "loudi", "xiangxi")
DEPARTMENTS = ("maint_changsha", "maint_zhuzhou", "maint_yiyang", "maintenance", "engineering", "customer_service",
               "marketing", "finance", "broadband_ops", "qa_desk", "maint_changsha", "maint_zhuzhou",
               "maintenance", "engineering", "broadband_ops", "customer_service")
OPEN_STATES = ("new", "dispatched", "waiting_parts")


def seed(platform: Platform, orders: int, now: datetime, batch: int = 5000) -> dict[str, int]:
    """Work orders and their instances in bulk; returns how many open orders of each kind were written."""
    rng = random.Random(7)
    model = platform.models["work_order"]
    made = {"open": 0, "changsha_team_open": 0}
    records: list[dict[str, Any]] = []
    instances: list[dict[str, Any]] = []

    rec_cols = ["id", "order_no", "type", "status", "title", "city", "department", "priority", "accepted_at",
                "created_at", "updated_at", "created_by", "updated_by", "version"]
    inst_cols = ["entity", "record_id", "workflow", "state", "state_since", "department", "assignee", "created_by",
                 "opened_at", "version", "closed_at", "resolution_due", "sla_state"]
    table = model._meta.table_name
    postgres = not url_is_sqlite(platform)

    def insert(conn: Any, name: str, cols: list[str], rows: list[dict[str, Any]]) -> None:
        values = [tuple(r.get(c) for c in cols) for r in rows]
        quoted = ", ".join(f'"{c}"' for c in cols)
        cur = conn.cursor()
        if postgres:
            from psycopg2.extras import execute_values
            execute_values(cur, f'INSERT INTO "{name}" ({quoted}) VALUES %s', values, page_size=len(values))
        else:
            marks = ", ".join("?" for _ in cols)
            cur.executemany(f'INSERT INTO "{name}" ({quoted}) VALUES ({marks})', values)

    def flush() -> None:
        with write_transaction():
            conn = db.connection()
            insert(conn, table, rec_cols, records)
            insert(conn, "hl_wf_instance", inst_cols, instances)
        records.clear()
        instances.clear()

    with session():
        for i in range(1, orders + 1):
            opened = now - timedelta(minutes=rng.randint(10, 60 * 24 * 365))
            is_open = rng.random() < 0.05
            state = rng.choice(OPEN_STATES) if is_open else "closed"
            city = CITIES[i % len(CITIES)]
            department = DEPARTMENTS[rng.randrange(len(DEPARTMENTS))] if state != "new" else None
            if department == "maint_changsha":
                city = "changsha"
            assignee = None
            if is_open and rng.random() < 0.2:
                assignee = rng.choice(("tech1", "agent1", f"role:technician@{city}"))
            due = opened + timedelta(hours=rng.choice((1, 16, 72)))
            records.append({"id": i, "order_no": f"WO{i:09d}", "type": "fault", "status": state, "title": f"Fault {i}",
                            "city": city, "department": department, "priority": "normal", "accepted_at": opened,
                            "created_at": opened, "updated_at": opened, "created_by": "agent1",
                            "updated_by": "agent1", "version": 1})
            instances.append({"entity": "work_order", "record_id": i, "workflow": "bench_flow", "state": state,
                              "state_since": opened, "department": department, "assignee": assignee,
                              "created_by": "agent1", "opened_at": opened, "version": 1,
                              "closed_at": None if is_open else opened + timedelta(hours=5),
                              "resolution_due": due, "sla_state": None})
            if is_open:
                made["open"] += 1
                made["changsha_team_open"] += int(department == "maint_changsha")
            if len(records) >= batch:
                flush()
        if records:
            flush()
    return made




def has_orders(platform: Platform) -> bool:
    model = platform.models["work_order"]
    with session():
        return bool(model.select().exists())


def counted(platform: Platform) -> dict[str, int]:
    """What :func:`seed` returned, counted again on a database seeded before (``--reuse``)."""
    with session():
        open_rows = WorkflowInstance.select().where(WorkflowInstance.closed_at.is_null())
        model = platform.models["work_order"]
        team = (open_rows.join(model, on=(model.id == WorkflowInstance.record_id))
                .where(WorkflowInstance.department == "maint_changsha")
                .where(column(model, "city") == "changsha"))
        return {"open": open_rows.count(), "changsha_team_open": team.count()}


def url_is_sqlite(platform: Platform) -> bool:
    return "sqlite" in type(db.obj).__name__.lower()




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--transitions", type=int, default=200)
    parser.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--pg-server", default="", help="PostgreSQL server URL: a throwaway database on it")
    parser.add_argument("--json", default="")
    parser.add_argument("--reuse", action="store_true", help="with --db: keep the orders already there (no seeding)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    pg_name = ""
    if args.pg_server:
        url, pg_name = throwaway_database(args.pg_server, "hl_bench_inbox")
    else:
        url = args.db or f"sqlite:///{tmp}/bench.db"
    failures: list[str] = []
    figures: dict[str, Any] = {"db": url.split(":")[0], "orders": args.orders}
    try:
        metadata = tmp / "metadata"
        shutil.copytree(ROOT / "metadata", metadata)
        (metadata / "workflows").mkdir(exist_ok=True)
        (metadata / "workflows" / "bench_flow.yaml").write_text(FLOW, encoding="utf-8")
        platform = Platform()
        platform.start(url, str(metadata))
        with session():
            User.get_or_create(username="tech1", defaults={"password_hash": "x", "regions": ["changsha"]})
            UserRole.get_or_create(username="tech1", role="technician")
            for name in ("tech1", "tech2", "tech3"):
                DepartmentMember.get_or_create(department="maint_changsha", username=name,
                                               defaults={"head": name == "tech1"})
        now = datetime.utcnow().replace(microsecond=0)
        started = time.perf_counter()
        made = counted(platform) if args.reuse and has_orders(platform) else seed(platform, args.orders, now)
        figures["seed_s"] = round(time.perf_counter() - started, 1)
        if url.startswith("postgres"):
            with session():
                db.execute_sql("ANALYZE")
        figures.update(made)
        tech = Actor("tech1", roles=("technician",), regions=("changsha",), language="en").bind(platform.metadata)
        box = inboxes(platform)
        expected = made["changsha_team_open"]
        page_times: list[float] = []
        count_times: list[float] = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            page = box.page(tech, "department", page_size=25)
            t1 = time.perf_counter()
            counts = box.counts(tech)
            page_times.append(t1 - t0)
            count_times.append(time.perf_counter() - t1)
        if page.total != min(expected, COUNT_CAP) or counts["department"] != (min(expected, MENU_CAP),
                                                                               expected > MENU_CAP):
            failures.append(f"department count {page.total}/{counts['department']} (expected {expected})")
        if len(page.rows) != min(25, expected):
            failures.append(f"first page had {len(page.rows)} rows")
        both = [a + b for a, b in zip(page_times, count_times, strict=True)]
        for key, times in (("department_page_with_its_count_ms", page_times), ("menu_counts_ms", count_times),
                           ("page_and_menu_counts_ms", both)):
            figures[key] = {"median": round(statistics.median(times) * 1e3, 1), "p95": round(p95(times) * 1e3, 1)}
        figures["counts"] = {k: v[0] for k, v in counts.items()}
        if p95(page_times) >= 0.100:
            failures.append(f"department page with its count p95 {p95(page_times) * 1e3:.1f} ms (target < 100 ms)")
        if p95(both) >= 0.100:
            failures.append(f"department page with the menu counts p95 {p95(both) * 1e3:.1f} ms (target < 100 ms)")
        agent = Actor("agent1", roles=("agent",), regions=("changsha",), language="en").bind(platform.metadata)
        model = platform.models["work_order"]
        with session():  # new orders of Changsha: forwarded to the Changsha team, they enter tech1's box
            fresh = [r["id"] for r in model.select(model.id).where(
                (column(model, "status") == "new") & (column(model, "city") == "changsha"))
                .limit(args.transitions).dicts()]
        take_times: list[float] = []
        for rid in fresh:
            t0 = time.perf_counter()
            try:
                platform.workflows.take(agent, "work_order", rid, "forward", {"department": "maint_changsha"},
                                        comment="bench")
            except Exception as exc:  # counted: the bench exits non-zero
                failures.append(f"take on {rid}: {exc}")
                continue
            take_times.append(time.perf_counter() - t0)
        if take_times:
            figures["take_ms"] = {"n": len(take_times), "median": round(statistics.median(take_times) * 1e3, 1),
                                  "p95": round(p95(take_times) * 1e3, 1)}
            if p95(take_times) >= 0.050:
                failures.append(f"take a transition p95 {p95(take_times) * 1e3:.1f} ms (target < 50 ms)")
        after = box.count(tech, "department")[0]
        if after != min(expected + len(take_times), COUNT_CAP):
            failures.append(f"after {len(take_times)} forwards the department count is {after}, "
                            f"expected {expected + len(take_times)}")
    finally:
        if pg_name:
            drop_database(args.pg_server, pg_name)
        shutil.rmtree(tmp, ignore_errors=True)
    return finish(figures, failures, args.json)


if __name__ == "__main__":
    sys.exit(main())
