"""Text search benchmarks (issue 17): customer search at scale, index update per write, ``reindex``.

Run from the repository root::

    PYTHONPATH=. python bench/bench_search.py --customers 100000 --reuse --start-postgres
    PYTHONPATH=. python bench/bench_search.py --customers 1000000 --reuse            # SQLite only

The customers are bench_foundation's (same generator, seed and file ``var/bench/customers-N.db``: with --reuse
an existing file is copied to ``var/bench/search-customers-N.db`` so the foundation bench's file is left as it
was). What is measured (targets of issue 17):

1. ``reindex``: :func:`helpline.data.text_index.rebuild` of every customer (what ``run.py reindex`` runs).
   Target: 1,000,000 customers in < 5 minutes (300 s).
2. Search as agent1 (row scope: changsha) for a customer of changsha, by a two-character name (the given
   name), the full name, a part of the address (4 characters from its middle) and a part of the phone number
   (7 digits from its middle): ``platform.search.search`` (ranked, 20 hits, highlighted) and the list's quick
   search (``records.list_page``, page 1 of 50 sorted by customer no., with its count). Target p95 < 50 ms.
   Every term is also checked: the expected customer must be found (a list query for that id with the search)
   — a miss is a failure.
3. Index update per write: :func:`helpline.data.text_index.write_row` of a changed customer inside a
   transaction (the part a save adds). Target p95 < 5 ms.

Exit status: 1 if any search missed its expected customer or any target was missed.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from _report import Result, _loadavg, cycle, machine_info, machine_text, run_timed, summarise, summary, table  # noqa: E402
from bench_foundation import DatabaseBench, Target  # noqa: E402

log = logging.getLogger("bench")
SEARCH_TARGET_MS = 50.0
WRITE_TARGET_MS = 5.0
REINDEX_TARGET_S_PER_MILLION = 300.0
CITY = "changsha"
KINDS = ("two-character name", "full name", "part of an address", "part of a phone")


def terms(platform: Any, n: int, k: int, seed: int = 2026) -> dict[str, list[tuple[int, str]]]:
    """(customer id, what an agent types) for random customers of the agent's city."""
    from helpline.data.database import session

    model = platform.models["customer"]
    rng = random.Random(seed)
    out: dict[str, list[tuple[int, str]]] = {kind: [] for kind in KINDS}
    with session():
        while min(len(v) for v in out.values()) < k:
            ids = rng.sample(range(1, n + 1), min(n, 2000))
            rows = model.select(model.id, model.name, model.address, model.phone).where(
                model.id.in_(ids) & (model.city == CITY)).tuples()
            for cid, name, address, phone in rows:
                if name and len(name) >= 3:
                    out["two-character name"].append((cid, name[-2:]))
                if name:
                    out["full name"].append((cid, name))
                if address and len(address) >= 8:
                    start = rng.randrange(2, len(address) - 5)
                    out["part of an address"].append((cid, address[start:start + 4]))
                if phone and len(phone) >= 10:
                    out["part of a phone"].append((cid, phone[2:9]))
    return {kind: v[:k] for kind, v in out.items()}


def cpu_note(cpu: list[float]) -> str:
    """This process's CPU time per call, p50/p95 (SQLite works in the process: the cost without the wait for
    a core on a loaded machine; PostgreSQL's share is in the server)."""
    s = sorted(cpu[10:] or cpu)
    return f"; cpu p50/p95 {s[len(s) // 2]:.1f}/{s[int(len(s) * 0.95)]:.1f} ms" if s else ""


def found(platform: Any, agent: Any, cid: int, text: str) -> bool:
    from helpline.data.conditions import Cmp
    from helpline.data.query import ListQuery

    page = platform.records.list_page(agent, ListQuery(entity="customer", search=text, where=Cmp("id", "eq", cid)))
    return [r["id"] for r in page.rows] == [cid]


def bench_target(target: Target, a: argparse.Namespace, failures: list[str]) -> tuple[list[Result], dict[str, Any]]:
    from helpline.data.database import db, session
    from helpline.data.query import ListQuery
    from helpline.data.text_index import rebuild, write_row
    from helpline.security.actor import Actor

    bench = DatabaseBench(target, a)
    results: list[Result] = []
    try:
        info = bench.prepare()
        p = bench.platform
        label = target.label
        if not a.skip_reindex:
            log.info("%s: reindex of %s customers ...", label, f"{a.customers:,}")
            t0 = time.perf_counter()
            c0 = time.process_time()
            with session():
                count = rebuild(p.models, "customer", batch=5000,
                                progress=lambda d, t, s: log.info("  %s/%s (%.0f s)", f"{d:,}", f"{t:,}", s)
                                if d % 100_000 == 0 else None)
            seconds = time.perf_counter() - t0
            info["reindex_cpu_s"] = round(time.process_time() - c0, 1)  # this process (the worker not counted)
            target_s = REINDEX_TARGET_S_PER_MILLION * a.customers / 1_000_000
            info["reindex_s"] = round(seconds, 1)
            results.append(summarise(f"reindex of {count:,} customers (s)", label, [seconds * 1000], target_s * 1000,
                                     "p50", f"{count / seconds:,.0f} customers/s; target scaled to "
                                            f"{a.customers:,}: {target_s:.0f} s; load {_loadavg()}; "
                                            f"cpu of this process {info['reindex_cpu_s']} s"))
            if target.kind == "postgresql":
                with session():
                    db.execute_sql("ANALYZE hl_text_customer")
        with session():
            if target.kind == "postgresql":
                info["index_mb"] = round(db.execute_sql(
                    "SELECT pg_total_relation_size('hl_text_customer')").fetchone()[0] / 1e6)
        agent = Actor("agent1", roles=("agent",), regions=(CITY,)).bind(p.metadata)
        cases = terms(p, a.customers, a.terms)
        for kind, pairs in cases.items():
            missed = [(cid, t) for cid, t in pairs if not found(p, agent, cid, t)]
            failures += [f"{label}: {kind} {t!r} did not find customer {cid}" for cid, t in missed]
            texts = [t for _, t in pairs]
            hits: list[int] = []

            cpu: list[float] = []

            def ranked(text: str, hits: list[int] = hits, cpu: list[float] = cpu) -> None:
                t0 = time.process_time()
                hits.append(len(p.search.search(agent, "customer", text, limit=20)))
                cpu.append((time.process_time() - t0) * 1000)

            samples = run_timed(ranked, cycle(texts), warmup=10, reps=a.reps, min_reps=30, budget_s=a.budget)
            results.append(summarise(f"search (ranked, 20 hits): {kind}", label, samples, SEARCH_TARGET_MS, "p95",
                                     f"{len(texts)} terms, {len(missed)} not found, hits p50 "
                                     f"{sorted(hits)[len(hits) // 2]}; load {_loadavg()}{cpu_note(cpu)}"))
            totals: list[int] = []
            cpu = []

            def listed(text: str, totals: list[int] = totals, cpu: list[float] = cpu) -> None:
                t0 = time.process_time()
                totals.append(p.records.list_page(agent, ListQuery(entity="customer", search=text, page_size=50,
                                                                   sort=[("customer_no", False)])).total)
                cpu.append((time.process_time() - t0) * 1000)

            samples = run_timed(listed, cycle(texts), warmup=10, reps=a.reps, min_reps=30, budget_s=a.budget)
            results.append(summarise(f"list quick search, page 1 + count: {kind}", label, samples, SEARCH_TARGET_MS,
                                     "p95", f"count p50 {sorted(totals)[len(totals) // 2]:,}; load {_loadavg()}"
                                     + cpu_note(cpu)))
        entity = p.metadata.entities["customer"]
        model = p.models["customer"]
        rng = random.Random(7)
        ids = [rng.randint(1, a.customers) for _ in range(200)]
        with session():
            rows = {r["id"]: r for r in model.select().where(model.id.in_(ids)).dicts()}
        changed = [{**rows[i], "address": f"{rows[i]['address']}{n}号"} for n, i in enumerate(ids) if i in rows]

        inner: list[float] = []

        def index_write(row: dict[str, Any]) -> None:
            with session(), db.atomic() as tx:
                t0 = time.perf_counter()
                write_row(entity, row)
                inner.append((time.perf_counter() - t0) * 1000)
                tx.rollback()  # leave the bench data as it was

        load = _loadavg()
        samples = run_timed(index_write, cycle(changed), warmup=10, reps=300, min_reps=50, budget_s=a.budget)
        results.append(summarise("index update per write", label, inner[10:], WRITE_TARGET_MS, "p95",
                                 f"write_row of a changed customer inside the save's transaction; load {load}"))
        results.append(summarise("same with its own BEGIN and ROLLBACK", label, samples, None, None,
                                 "for comparison: the round trips a save pays anyway"))
        return results, info
    finally:
        bench.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--reuse", action="store_true", help="reuse generated customers (see above)")
    p.add_argument("--db", action="append", default=[], help="database URL (repeatable)")
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--start-postgres", action="store_true", help="a throwaway PostgreSQL cluster (bench/_pg.py)")
    p.add_argument("--pg-data", default="/tmp/helpline-bench-pg-search")
    p.add_argument("--pg-port", type=int, default=None)
    p.add_argument("--skip-reindex", action="store_true", help="the index is complete already")
    p.add_argument("--terms", type=int, default=100, help="customers searched per kind")
    p.add_argument("--reps", type=int, default=300)
    p.add_argument("--budget", type=float, default=20.0)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("helpline", "peewee", "jieba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.chdir(ROOT)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not a.db and not a.skip_sqlite:
        mine = ROOT / f"var/bench/search-customers-{a.customers}.db"
        theirs = ROOT / f"var/bench/customers-{a.customers}.db"
        if a.reuse and not mine.exists() and theirs.exists():
            shutil.copyfile(theirs, mine)
        a.db = [f"sqlite:///{mine.relative_to(ROOT)}"]
    machine = machine_info()
    from helpline.data.text_tokens import _segmenter

    t0 = time.perf_counter()
    _segmenter()
    machine["jieba_load_s"] = round(time.perf_counter() - t0, 2)
    targets = [Target(u, "postgresql" if u.startswith("postgres") else "sqlite") for u in a.db]
    results: list[Result] = []
    dbinfo: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    pg = None
    try:
        if a.start_postgres:
            from _pg import ThrowawayPostgres

            pg = ThrowawayPostgres(Path(a.pg_data), a.pg_port, keep=a.reuse, settings={"shared_buffers": "512MB"})
            pg.start()
            targets.append(Target(pg.url, "postgresql"))
        for target in targets:
            try:
                found_results, info = bench_target(target, a, failures)
            except Exception as exc:  # report it and go on with the next database
                log.exception("%s failed", target.label)
                failures.append(f"{target.label}: {exc.__class__.__name__}: {str(exc)[:200]}")
                continue
            print(table(found_results), flush=True)  # each database's figures as soon as they are in
            results += found_results
            dbinfo[target.label] = info
    finally:
        if pg is not None:
            pg.stop()
    machine["load_average_end"] = _loadavg()
    print()
    print(machine_text(machine, dbinfo))
    print()
    return summary(results, failures)


if __name__ == "__main__":
    sys.exit(main())
