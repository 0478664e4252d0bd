"""Reports over a year of a 500-agent centre: the standard reports over a month and a year, the fact update per
event, and ``stats rebuild`` of one day (issue 20; figures in bench/README.md).

The facts are written directly in bulk (what a year of 20,000 calls a day leaves in them): the daily facts for
the whole year, the 15-minute call facts for the last month (the reports by interval cover at most 92 days),
the daily agent facts for the year. A raw day (calls and agent events in ``hl_call``/``hl_agent_event``) is
written for the rebuild figure. Targets: a report over a month p95 < 1 s, over a year < 3 s; a fact update
< 1 ms per event; a rebuild of a day < 10 s. Every miss is a failure; the exit status is non-zero on any.

    python bench/bench_reports.py                        # a fresh SQLite file
    python bench/bench_reports.py --pg-server postgresql://postgres@127.0.0.1:55432/postgres
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _pg import drop_database, throwaway_database  # noqa: E402
from _report import finish, p95  # noqa: E402

from helpline.data.agents import AgentEvent, AgentRecord  # noqa: E402
from helpline.data.base import centre_midnight  # noqa: E402
from helpline.data.calls import Call  # noqa: E402
from helpline.data.database import db, session, write_transaction  # noqa: E402
from helpline.data.stats import AGENT_VALUES, STAT_MODELS  # noqa: E402
from helpline.metadata.kinds.report import Report  # noqa: E402
from helpline.security.actor import Actor  # noqa: E402
from helpline.services import stats, stats_behind, stats_ivr  # noqa: E402
from helpline.services.platform import Platform  # noqa: E402
from helpline.services.reports import run_report  # noqa: E402

QUEUES = ("general", "billing", "complaint", "vip")
TIERS = ("platinum", "diamond", "gold", "silver", "vip", "ordinary")
CITIES = tuple(f"43{n:02d}" for n in range(1, 15))
FLOWS = ("main", "english")
SHARES = {"ready": 0.8, "not_ready": 0.15, "study": 0.05, "idle": 0.3, "reserved": 0.0, "ringing": 0.03,
          "talking": 0.5, "hold": 0.04, "wrap_up": 0.13}
"""Each status's and state's share of an agent's signed-in day (the order of AGENT_VALUES)."""
SYSTEM = Actor.system()
# the share of a day's calls in each hour (a centre's day: quiet nights, a morning peak, an afternoon one)
HOURLY = [1, 1, 1, 1, 1, 2, 3, 5, 8, 9, 9, 8, 6, 7, 8, 8, 7, 6, 5, 4, 3, 3, 2, 1]


def _defaults(table: str, cols: list[str], rows: list[tuple[Any, ...]]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The columns of a fact table the rows leave out (later measures, skill, team) with their defaults: the
    tables have no server-side defaults, and their NOT NULL columns must be given."""
    model = next((m for m in STAT_MODELS if m._meta.table_name == table), None)
    if model is None:
        return cols, rows
    extra = [(f.column_name, f.default) for f in model._meta.sorted_fields
             if f.column_name not in cols and f.column_name != "id" and f.default is not None]
    if not extra:
        return cols, rows
    tail = tuple(v for _, v in extra)
    return [*cols, *(c for c, _ in extra)], [(*r, *tail) for r in rows]


def _insert(table: str, cols: list[str], rows: list[tuple[Any, ...]], postgres: bool) -> None:
    cols, rows = _defaults(table, cols, rows)
    conn = db.connection()
    cur = conn.cursor()
    quoted = ", ".join(f'"{c}"' for c in cols)
    if postgres:
        from psycopg2.extras import execute_values
        execute_values(cur, f'INSERT INTO "{table}" ({quoted}) VALUES %s', rows, page_size=5000)
    else:
        cur.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" for _ in cols)})', rows)


CALL_COLS = ["calls", "offered", "answered", "within", "abandoned_ivr", "abandoned_queue", "abandoned_short", "timeout",
             "empty", "completed", "callbacks", "transfers", "legs", "errors", "wait_n", "wait_s", "wait_answered_s",
             "wait_abandoned_s", "talk_s", "ivr_s"]


def _call_measures(rng: random.Random, n: int) -> tuple[Any, ...]:
    """The sums of ``n`` calls of one group."""
    offered = round(n * 0.9)
    abandoned = round(offered * rng.uniform(0.02, 0.08))
    answered = offered - abandoned
    within = round(answered * rng.uniform(0.7, 0.95))
    return (n, offered, answered, within, n - offered - round(n * 0.04), abandoned, abandoned // 3, 0, 0,
            round(n * 0.04), round(n * 0.01), round(n * 0.02), round(n * 0.02), 0, offered,
            offered * 14.0, answered * 12.0, abandoned * 30.0, answered * 180.0, n * 40.0)


def seed_facts(days: list[date], fine_days: int, calls_per_day: int, agents: int, postgres: bool) -> dict[str, int]:
    rng = random.Random(20)
    combos = [(q, t, c, f) for q in QUEUES for t in TIERS for c in CITIES for f in FLOWS]
    weights = [rng.uniform(0.5, 1.5) for _ in combos]
    scale = calls_per_day / sum(weights)
    made: dict[str, int] = defaultdict(int)
    day_rows: list[tuple[Any, ...]] = []
    agent_rows: list[tuple[Any, ...]] = []
    ivr_rows: list[tuple[Any, ...]] = []
    with session():
        for d in days:
            for (q, t, c, f), w in zip(combos, weights, strict=True):
                n = max(1, round(w * scale * rng.uniform(0.8, 1.2)))
                day_rows.append((d, q, t, c[:4], c, f, *_call_measures(rng, n)))
            ivr_rows.extend((d, f, f"node{n}", "menu", calls_per_day // 2, calls_per_day // 3, calls_per_day // 40,
                             calls_per_day // 100, calls_per_day // 200, calls_per_day // 50, 0, calls_per_day * 2.0)
                            for f in FLOWS for n in range(12))
            for a in range(agents):
                signed = rng.uniform(6, 9) * 3600
                row: list[Any] = [d, str(1001 + a)]
                for value, share in SHARES.items():
                    row += [signed * share, int(calls_per_day / agents) if value == "talking" else rng.randint(1, 20)]
                agent_rows.append(tuple(row))
            if len(day_rows) + len(agent_rows) > 50_000:
                made["call_day"] += len(day_rows)
                made["agent_day"] += len(agent_rows)
                _flush_days(day_rows, agent_rows, postgres)
        made["call_day"] += len(day_rows)
        made["agent_day"] += len(agent_rows)
        _flush_days(day_rows, agent_rows, postgres)
        with write_transaction():  # the IVR node facts (a day: 12 nodes of each flow)
            _insert("hl_stat_ivr_node", list(stats_ivr.IVR_COLUMNS), ivr_rows, postgres)
        made["ivr_node_day"] = len(ivr_rows)
        made["category_day"] = seed_categories(days, calls_per_day, rng, postgres)
        with write_transaction():  # the agents' profiles: a city's supervisor sees the agents of the city
            AgentRecord.insert_many([{"number": str(1001 + a), "name": f"Agent {a}", "city": CITIES[a % len(CITIES)]}
                                     for a in range(agents)]).execute()
        for d in days[-fine_days:]:
            cells: dict[tuple[Any, ...], int] = defaultdict(int)
            for hour, share in enumerate(HOURLY):
                per_hour = round(calls_per_day * share / sum(HOURLY))
                for _ in range(per_hour):
                    q, t, c, f = combos[rng.randrange(len(combos))]
                    slot = datetime(d.year, d.month, d.day, hour, 15 * rng.randrange(4))
                    cells[(slot, q, t, c[:4], c, f, str(1001 + rng.randrange(agents)))] += 1
            rows = [(*key, *_call_measures(rng, n)) for key, n in cells.items()]
            by_queue: dict[tuple[Any, ...], int] = defaultdict(int)
            for key, n in cells.items():
                by_queue[(key[0], key[2], key[1])] += n
            queue_rows = [(*key, *_call_measures(rng, n)) for key, n in by_queue.items()]
            with write_transaction():
                _insert("hl_stat_call", ["interval", "queue", "tier", "region", "city", "flow", "agent", *CALL_COLS],
                        rows, postgres)
                _insert("hl_stat_call_queue", ["interval", "tier", "queue", *CALL_COLS], queue_rows, postgres)
            made["call_interval"] += len(rows)
            made["call_queue_interval"] += len(queue_rows)
    return dict(made)


CATEGORIES = {"complaint_types": ("fault_no_signal", "fault_picture", "fault_stb", "fault_broadband",
                                   "complaint_service", "complaint_billing", "complaint_repair", "suggestion"),
              "acceptance_types": ("apply_dtv", "apply_vas", "apply_broadband", "change_package", "change_address"),
              "consultation_types": ("tariffs", "new_services", "hotline_guide", "fee_standards")}
"""Contact-record categories the seeded calls are filed under (the category facts, ``calls_by_category``)."""


def seed_categories(days: list[date], calls_per_day: int, rng: random.Random, postgres: bool) -> int:
    """The category facts: per day, category, queue and city the calls filed under it (a contact record per call)."""
    combos = [(kind, code, q, c) for kind, codes in CATEGORIES.items() for code in codes for q in QUEUES
              for c in CITIES]
    per = calls_per_day / len(combos)
    rows: list[tuple[Any, ...]] = []
    made = 0
    cols = ["day", "category_type", "category", "queue", "tier", "region", "city", "flow", "calls", "answered",
            "talk_s"]
    for d in days:
        for kind, code, q, c in combos:
            n = max(1, round(per * rng.uniform(0.5, 1.5)))
            rows.append((d, kind, code, q, "", c[:4], c, "main", n, round(n * 0.9), n * 170.0))
        if len(rows) > 50_000 or d == days[-1]:
            with write_transaction():
                _insert("hl_stat_call_category", cols, rows, postgres)
            made += len(rows)
            rows.clear()
    return made


def _flush_days(day_rows: list[tuple[Any, ...]], agent_rows: list[tuple[Any, ...]], postgres: bool) -> None:
    with write_transaction():
        _insert("hl_stat_call_day", ["day", "queue", "tier", "region", "city", "flow", *CALL_COLS], day_rows, postgres)
        _insert("hl_stat_agent_time_day",
                ["day", "agent", *(n for v in AGENT_VALUES for n in (f"{v}_s", f"{v}_n"))], agent_rows, postgres)
    day_rows.clear()
    agent_rows.clear()


def seed_raw_day(d: date, calls: int, agents: int, postgres: bool) -> None:
    """One of the centre's days of raw call records and agent events (for the rebuild; stored in UTC)."""
    rng = random.Random(21)
    midnight = centre_midnight(d)
    rows = []
    for i in range(calls):
        started = midnight + timedelta(seconds=rng.randrange(86_000))
        routed = rng.choice(("answered",) * 9 + ("abandoned",))
        rows.append((f"bench-{i}", "", False, "simulated", started, started + timedelta(seconds=200), "connected",
                     rng.choice(QUEUES), rng.choice(TIERS), rng.choice(CITIES), "main",
                     str(1001 + rng.randrange(agents)), rng.uniform(0, 60), routed, rng.uniform(30, 400), "[]", "{}"))
    events = []
    for a in range(agents):
        at = midnight + timedelta(hours=8)
        for n in range(max(2, 2 * calls // agents)):
            at += timedelta(seconds=rng.randint(30, 600))
            old, new = ("talking", "wrap_up") if n % 2 else ("wrap_up", "talking")
            events.append((str(1001 + a), at, "state", old, new, rng.uniform(30, 600)))
    with session(), write_transaction():
        _insert("hl_call", ["uniqueid", "channel", "blacklisted", "switch", "started_at", "ended_at", "result",
                            "queue", "tier", "city", "flow", "agent", "wait_s", "routed", "talk_s", "trail",
                            "variables"], rows, postgres)
        _insert("hl_agent_event", ["agent", "at", "what", "old", "new", "duration_s"], events, postgres)
        db.execute_sql("ANALYZE")




def time_reports(platform: Platform, end: date, days: int, runs: int, limit_s: float,
                 failures: list[str], actor: Actor = SYSTEM) -> dict[str, Any]:
    out: dict[str, Any] = {}
    period = {"period": [(end - timedelta(days=days - 1)).isoformat(), end.isoformat()]}
    for name, report in sorted(platform.metadata.objects.get("report", {}).items()):
        assert isinstance(report, Report)
        if report.max_days < days:
            out[name] = f"refused: covers at most {report.max_days} days"
            continue
        if report.source == "workorders":  # reads hl_wf_instance, not the facts: bench_inbox fills that table
            out[name] = "not measured here (work orders: bench/bench_inbox.py)"
            continue
        if report.source in ("outbound", "callbacks"):  # read the campaign dials and call-back tasks themselves
            out[name] = "not measured here (campaign dials, call-back tasks: not seeded)"
            continue
        if report.source == "ivr" and actor.regions:
            out[name] = "none by design (the IVR node facts are the centre's, without a city)"
            continue
        times, rows = [], 0
        for _ in range(runs):
            t0 = time.perf_counter()
            result = run_report(platform.metadata, actor, name, period)
            times.append(time.perf_counter() - t0)
            rows = result.total_rows
        out[name] = {"p95_ms": round(p95(times) * 1e3, 1), "median_ms": round(statistics.median(times) * 1e3, 1),
                     "rows": rows}
        if rows == 0:
            failures.append(f"{name} over {days} days ({actor.username}) returned no rows")
        if p95(times) >= limit_s:
            failures.append(f"{name} over {days} days ({actor.username}): p95 {p95(times):.2f} s "
                            f"(target < {limit_s} s)")
    return out


def time_flow(minutes: int, calls_per_day: int, agents: int, linger_s: float, failures: list[str], *,
              inline: bool = False) -> dict[str, Any]:
    """The fact update as a serving process does it (write-behind, helpline.services.stats_behind), under the
    peak hour's flow: calls close through ``CallService.close`` (each in its own transaction, as the IVR does:
    it marks the call pending), and each ``linger_s`` of simulated time the router journal writes what the
    window brought (its agent events and the pending calls: one transaction, aggregated upserts). Per answered
    call 5 agent events (reserved, ringing, talking, wrap-up, idle ended) and a status change every ~15 minutes
    per agent. The cost per event: the closes' pending marks plus the batches' fact work, over calls + events.
    ``inline``: the same flow counted as before the write-behind, to compare under the same load — each call in its
    closing transaction (``stats.add_call``), each agent event in a journal write of its own."""
    from helpline.services import calls as calls_module
    from helpline.services.agents import RouterJournal
    from helpline.services.calls import CallService

    counted = vars(calls_module)["add_call"]  # the closing transaction's count, timed when inline
    inline_s = [0.0]

    def timed_add_call(record: Any) -> None:
        t0 = time.perf_counter()
        counted(record)
        inline_s[0] += time.perf_counter() - t0

    rng = random.Random(23)
    per_s = calls_per_day * max(HOURLY) / sum(HOURLY) / 3600.0
    status_per_s = agents / 900.0
    journal = RouterJournal(linger_s=linger_s)
    if inline:
        vars(calls_module)["add_call"] = timed_add_call
    else:  # as a started journal, its batches run here one window at a time
        stats_behind.register(journal._pending_calls)
    stats_behind.TIMES.reset()
    service = CallService()
    start = datetime(2030, 1, 3 if inline else 2, 9)
    journal_s = 0.0
    windows = batches = 0
    seq = 0
    try:
        with session():
            for w in range(int(minutes * 60 / linger_s)):
                t = start + timedelta(seconds=w * linger_s)
                for _ in range(_poisson(rng, per_s * linger_s)):
                    seq += 1
                    began = t - timedelta(seconds=rng.uniform(60, 400))
                    agent = str(1001 + rng.randrange(agents))
                    call_id = int(Call.insert(uniqueid=f"flow-{inline}-{seq}", started_at=began,
                                              switch="simulated").execute())
                    answered = rng.random() < 0.9
                    city = rng.choice(CITIES)
                    service.close(call_id, queue=rng.choice(QUEUES), tier=rng.choice(TIERS), city=city, region=city,
                                  flow="main", routed="answered" if answered else "abandoned",
                                  wait_s=rng.uniform(0, 40), talk_s=rng.uniform(30, 400) if answered else 0.0,
                                  agent=agent if answered else None, result="connected" if answered else "hangup")
                    if answered:
                        for old, new in (("idle", "reserved"), ("reserved", "ringing"), ("ringing", "talking"),
                                         ("talking", "wrap_up"), ("wrap_up", "idle")):
                            journal.agent_event(agent=agent, at=t - timedelta(seconds=rng.uniform(0, 300)),
                                                what="state", old=old, new=new, duration_s=rng.uniform(1, 200))
                            if inline:
                                journal.flush()
                for _ in range(_poisson(rng, status_per_s * linger_s)):
                    journal.agent_event(agent=str(1001 + rng.randrange(agents)), at=t, what="status",
                                        old=rng.choice(("ready", "not_ready")), new="ready", duration_s=900.0)
                    if inline:
                        journal.flush()
                if journal._queue.empty():
                    continue
                windows += 1
                t0 = time.perf_counter()
                journal.flush()  # the window's batch
                journal_s += time.perf_counter() - t0
                batches += 1
    finally:
        stats_behind.unregister(journal._pending_calls)
        vars(calls_module)["add_call"] = counted
    times = stats_behind.TIMES
    if inline:
        calls = seq  # every call counted in its own closing transaction
        events = calls + times.events
        return {"calls": calls, "agent_events": times.events,
                "per_event_ms": round((inline_s[0] + times.batch_s) / max(1, events) * 1e3, 3),
                "call_close_ms": round(inline_s[0] / max(1, calls) * 1e3, 3),
                "agent_event_ms": round(times.batch_s / max(1, times.events) * 1e3, 3),
                "load": round(os.getloadavg()[0], 1)}
    events = times.calls + times.events
    with session():
        left = int(db.execute_sql('SELECT COUNT(*) FROM "hl_stat_pending"').fetchone()[0])
    figures = {
        "simulated_minutes": minutes, "linger_s": linger_s, "calls": times.calls, "agent_events": times.events,
        "batches": batches, "pending_left": left,
        "mark_per_call_ms": round(times.mark_s / max(1, times.marks) * 1e3, 3),
        "batch_per_event_ms": round(times.batch_s / max(1, events) * 1e3, 3),
        "batch_cpu_per_event_ms": round(times.batch_cpu_s / max(1, events) * 1e3, 3),
        "per_event_ms": round((times.mark_s + times.batch_s) / max(1, events) * 1e3, 3),
        "journal_write_per_event_ms": round(journal_s / max(1, times.events + times.calls) * 1e3, 3),
        "load": round(os.getloadavg()[0], 1)}
    if left or times.calls != seq:
        failures.append(f"the flow's batches counted {times.calls} of {seq} calls ({left} left pending)")
    if figures["per_event_ms"] >= 1.0:
        failures.append(f"fact update per event under the flow: {figures['per_event_ms']:.2f} ms (target < 1 ms)")
    return figures


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (arrivals in a window)."""
    n, p, limit = 0, 1.0, pow(2.718281828459045, -mean)
    while True:
        p *= rng.random()
        if p < limit:
            return n
        n += 1


def time_updates(n: int, failures: list[str]) -> dict[str, Any]:
    """The cost of the fact update alone, per event, in the writer's transaction (call close; agent event): the
    path of a process without the router journal (``run.py agi``), one event alone. Shown, not a target: a serving
    process counts in the journal's batches (:func:`time_flow`)."""
    rng = random.Random(22)
    call_times: list[float] = []
    agent_times: list[float] = []
    call_cpu: list[float] = []
    agent_cpu: list[float] = []
    trips: list[float] = []
    with session():
        for i in range(n):
            with write_transaction():
                started = datetime(2030, 1, 1, 9) + timedelta(seconds=i)
                call_id = int(Call.insert(uniqueid=f"upd-{i}", started_at=started).execute())
                record = {"id": call_id, "uniqueid": f"upd-{i}", "started_at": started, "ended_at": started,
                          "queue": rng.choice(QUEUES), "tier": rng.choice(TIERS), "city": rng.choice(CITIES),
                          "routed": "answered", "wait_s": rng.uniform(0, 40), "talk_s": 100.0, "agent": "1001"}
                t0, c0 = time.perf_counter(), time.process_time()
                stats.add_call(record)
                call_times.append(time.perf_counter() - t0)
                call_cpu.append(time.process_time() - c0)
                event = {"agent": str(1001 + i % 500), "at": started, "what": "state", "old": "talking",
                         "new": "wrap_up", "duration_s": 120.0}
                t0, c0 = time.perf_counter(), time.process_time()
                stats_behind.run_batch(stats_behind.batch_statements([event], calls=False)[0])
                agent_times.append(time.perf_counter() - t0)
                agent_cpu.append(time.process_time() - c0)
                AgentEvent.insert(**event).execute()  # the journal's own row (not the facts' cost)
                t0 = time.perf_counter()
                db.execute_sql("SELECT 1").fetchone()  # one round trip, the floor of an update that makes one
                trips.append(time.perf_counter() - t0)
    figures: dict[str, Any] = {
        name: {"mean_ms": round(statistics.mean(t) * 1e3, 3), "p95_ms": round(p95(t) * 1e3, 3),
               "cpu_mean_ms": round(statistics.mean(c) * 1e3, 3)}  # this process's CPU (the client side)
        for name, t, c in (("call_close", call_times, call_cpu), ("agent_event", agent_times, agent_cpu))}
    figures["round_trip"] = {"mean_ms": round(statistics.mean(trips) * 1e3, 3), "p95_ms": round(p95(trips) * 1e3, 3)}
    figures["load"] = round(os.getloadavg()[0], 1)
    return figures




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365, help="days of facts (default a year)")
    parser.add_argument("--calls-per-day", type=int, default=20_000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--runs", type=int, default=20, help="runs of each report")
    parser.add_argument("--updates", type=int, default=2000, help="events of the one-event-alone fact-update figure")
    parser.add_argument("--flow-minutes", type=int, default=60, help="simulated minutes of the peak hour's flow "
                        "for the write-behind fact-update figure")
    parser.add_argument("--linger", type=float, default=1.0, help="the router journal's batch window (s)")
    parser.add_argument("--pg-server", default="", help="PostgreSQL server URL: a throwaway database on it")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    pg_name = ""
    url = f"sqlite:///{tmp}/bench.db"
    if args.pg_server:
        url, pg_name = throwaway_database(args.pg_server, "hl_bench_reports")
    postgres = bool(pg_name)
    failures: list[str] = []
    figures: dict[str, Any] = {"db": "postgresql" if postgres else "sqlite", "days": args.days,
                               "calls_per_day": args.calls_per_day, "agents": args.agents}
    try:
        metadata = tmp / "metadata"
        shutil.copytree(ROOT / "metadata", metadata)
        platform = Platform()
        platform.start(url, str(metadata))
        stats.configure_from_metadata(platform.metadata)
        end = date(2026, 11, 30)
        days = [end - timedelta(days=n) for n in range(args.days - 1, -1, -1)]
        t0 = time.perf_counter()
        figures["fact_rows"] = seed_facts(days, min(31, args.days), args.calls_per_day, args.agents, postgres)
        figures["seed_s"] = round(time.perf_counter() - t0, 1)
        if postgres:
            with session():
                db.execute_sql("ANALYZE")
        figures["month"] = time_reports(platform, end, 30, args.runs, 1.0, failures)
        city = Actor("sup_cs", roles=("supervisor",), regions=("4301",)).bind(platform.metadata)
        figures["month_city_supervisor"] = time_reports(platform, end, 30, args.runs, 1.0, failures, city)
        if args.days >= 365:
            figures["year"] = time_reports(platform, end, 365, max(5, args.runs // 2), 3.0, failures)
        figures["fact_update"] = time_updates(args.updates, failures)
        figures["fact_update_flow"] = time_flow(args.flow_minutes, args.calls_per_day, args.agents, args.linger,
                                                failures)
        figures["fact_update_flow_inline"] = time_flow(args.flow_minutes, args.calls_per_day, args.agents,
                                                       args.linger, failures, inline=True)
        raw_day = date(2031, 1, 1)
        seed_raw_day(raw_day, args.calls_per_day, args.agents, postgres)
        t0, c0 = time.perf_counter(), time.process_time()
        counted = stats.rebuild(raw_day, raw_day)
        rebuild_s = time.perf_counter() - t0
        figures["rebuild_day"] = {"seconds": round(rebuild_s, 2), "cpu_s": round(time.process_time() - c0, 2),
                                  "load": round(os.getloadavg()[0], 1), **counted}
        if counted["calls"] != args.calls_per_day:
            failures.append(f"the rebuild counted {counted['calls']} calls of {args.calls_per_day}")
        if rebuild_s >= 10:
            failures.append(f"stats rebuild of a day: {rebuild_s:.1f} s (target < 10 s)")
    finally:
        if pg_name:
            drop_database(args.pg_server, pg_name)
        shutil.rmtree(tmp, ignore_errors=True)
    return finish(figures, failures, args.json)


if __name__ == "__main__":
    sys.exit(main())
