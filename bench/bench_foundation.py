"""Foundation benchmarks: metadata load, caller lookup and list pages on a million customers.

Prints a figures table (p50/p95/p99 against each target) and the machine it ran on; ``--json FILE`` writes
the same figures as JSON. Run from the repository root::

    PYTHONPATH=. python bench/bench_foundation.py --reuse --start-postgres
    PYTHONPATH=. python bench/bench_foundation.py --quick                 # 100k customers, SQLite only

What is measured (see bench/README.md):

1. ``load_directory('metadata')``: cold (the first load in a fresh interpreter, which builds the rule
   grammar; the import that builds the pydantic models is reported apart) and warm (repeated loads in one
   process). Target < 300 ms.
2. ``find_customer_by_phone``: random existing numbers, the same numbers in ``+86`` form, and unknown
   numbers. Target p99 < 2 ms.
3. ``platform.records.list_page(actor, ListQuery(...))`` for pages of 50: a filter (value tier and city) with a
   sort by name or ``created_at`` desc, a quick search, and an agent whose row scope limits them to a city.
   Target p95 < 50 ms. The call is the whole service call a list page makes: permission and scope, the
   page query, the capped count, masks and the audit entry (customers are ``audit_reads``).

The customers come from :class:`helpline.demo.generator.DemoGenerator` (``customer_row``: the same rows,
seed and numbering as ``DemoGenerator.customers``) but are inserted with the driver's ``executemany`` /
``execute_values`` instead of peewee's ``insert_many``, which spends most of its time building SQL
(1M rows: about 3 minutes instead of 15). ``created_at`` is spread over 2019-2025 in id order.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after PYTHONPATH: a private copy of helpline on PYTHONPATH wins

log = logging.getLogger("bench")

from _customers import _analyze, customer_count, generate_customers, remove_sqlite, sqlite_path  # noqa: E402
from _report import (  # noqa: E402
    Result,
    _loadavg,
    cycle,
    explain_text,
    machine_info,
    machine_text,
    percentile,
    run_timed,
    summarise,
    table,
)

TIERS = ["gold", "diamond", "platinum"]
CITY = "changsha"
METADATA_TARGET_MS = 300.0
LOOKUP_TARGET_MS = 2.0
LIST_TARGET_MS = 50.0


# -- statistics ------------------------------------------------------------------------------------
COLD_SNIPPET = r"""
import json, time
t0 = time.perf_counter()
from helpline.metadata.loader import load_directory
t1 = time.perf_counter()
r = load_directory('metadata')
t2 = time.perf_counter()
load_directory('metadata')
t3 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "first_ms": (t2 - t1) * 1e3, "second_ms": (t3 - t2) * 1e3,
                  "ok": r.ok, "objects": len(r.metadata), "files": r.files}))
"""


def bench_metadata(cold_runs: int, warm_reps: int) -> list[Result]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([p for p in (env.get("PYTHONPATH", ""), str(ROOT)) if p])
    cold: list[dict[str, Any]] = []
    for _ in range(cold_runs):
        # -P: no cwd on sys.path, so a private copy of helpline named by PYTHONPATH is the one measured
        out = subprocess.run([sys.executable, "-P", "-c", COLD_SNIPPET], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=True)
        cold.append(json.loads(out.stdout.strip().splitlines()[-1]))
    first = cold[0]
    if not first["ok"]:
        raise SystemExit("the demo metadata does not load cleanly; fix it before benchmarking")
    objects = f"{first['objects']} objects / {first['files']} files"

    from helpline.metadata.loader import load_directory

    samples = run_timed(lambda _: load_directory("metadata"), cycle([None]), warmup=3, reps=warm_reps,
                        min_reps=warm_reps, budget_s=0)
    return [
        summarise("metadata: import loader (pydantic models), fresh process", "-", [c["import_ms"] for c in cold],
                  None, None, "not part of the target"),
        summarise("metadata: first load_directory, fresh process (cold)", "-", [c["first_ms"] for c in cold],
                  METADATA_TARGET_MS, "p95", f"builds the rule grammar; {objects}"),
        summarise("metadata: import + first load, fresh process", "-",
                  [c["import_ms"] + c["first_ms"] for c in cold], None, None, "what a start-up pays"),
        summarise("metadata: load_directory, warm (same process)", "-", samples, METADATA_TARGET_MS, "p95",
                  objects),
    ]


# -- data generation -----------------------------------------------------------------------------
# -- 2./3. database benchmarks -------------------------------------------------------------------
@dataclass
class Target:
    url: str
    kind: str  # sqlite | postgresql

    @property
    def label(self) -> str:
        return "SQLite" if self.kind == "sqlite" else "PostgreSQL"



@dataclass
class ListCase:
    name: str
    actor: str  # system | agent
    where: bool  # the tier + city filter
    sort: list[tuple[str, bool]]
    search: str | None = None  # "name", "phone" or "phone_part" (its last 7 digits): what the agent types
    pages: int = 20


LOOKUP_NAMES = ("lookup: existing number", "lookup: existing number in +86 form (2 variants)",
                "lookup: unknown number (half in +86 form)")

LIST_CASES = [
    ListCase("list: tier in (gold,diamond,platinum) & city, sort name", "system", True, [("name", False)]),
    ListCase("list: tier in (...) & city, sort created_at desc", "system", True, [("created_at", True)]),
    ListCase("list: quick search by a name, sort customer_no, page 1", "system", False,
             [("customer_no", False)], search="name", pages=1),
    ListCase("list: quick search by a phone number, sort customer_no, page 1", "system", False,
             [("customer_no", False)], search="phone", pages=1),
    ListCase("list: quick search by part of a phone number (last 7 digits), sort customer_no, page 1", "system",
             False, [("customer_no", False)], search="phone_part", pages=1),
    ListCase("list: agent row scope (changsha), sort customer_no", "agent", False, [("customer_no", False)]),
    ListCase("list: agent row scope + tier filter, sort name", "agent", True, [("name", False)]),
    ListCase("list: agent row scope, sort name", "agent", False, [("name", False)]),
]


class DatabaseBench:
    def __init__(self, target: Target, args: argparse.Namespace):
        self.target = target
        self.args = args
        self.rng = random.Random(2026)
        self.platform: Any = None
        self.notes: list[str] = []

    # set-up -----------------------------------------------------------------------------------------
    def prepare(self) -> dict[str, Any]:
        from helpline.data.database import session
        from helpline.services.platform import Platform

        n = self.args.customers
        info: dict[str, Any] = {"customers": n}
        if self.target.kind == "sqlite" and not self.args.reuse:
            remove_sqlite(self.target.url)
        platform = Platform()
        t0 = time.perf_counter()
        platform.start(self.target.url, str(ROOT / "metadata"))
        info["start_s"] = round(time.perf_counter() - t0, 2)
        self.platform = platform
        count, last = customer_count(platform)
        if self.args.reuse and count == n and last == f"HN{n:08d}":
            log.info("%s: reusing %s customers", self.target.label, f"{n:,}")
            info["generated"] = False
        else:
            if count:
                log.info("%s: %s customers there, %s wanted: regenerating", self.target.label, f"{count:,}",
                         f"{n:,}")
                from helpline.data.database import db

                with session(), db.atomic():
                    if self.target.kind == "postgresql":
                        db.execute_sql('TRUNCATE "customer" RESTART IDENTITY')
                    else:
                        db.execute_sql('DELETE FROM "customer"')
                        db.execute_sql("DELETE FROM sqlite_sequence WHERE name = 'customer'")
            log.info("%s: generating %s customers ...", self.target.label, f"{n:,}")
            info["generate_s"] = round(generate_customers(platform, n), 1)
            info["generated"] = True
            if self.target.kind == "postgresql":
                _analyze("postgresql")
        if self.target.kind == "sqlite":
            path = sqlite_path(self.target.url)
            if path is not None:
                info["file_mb"] = round(path.stat().st_size / 1e6)
        else:
            from helpline.data.database import db

            with session():
                info["server"] = db.execute_sql("SHOW server_version").fetchone()[0]
                info["table_mb"] = round(db.execute_sql(
                    "SELECT pg_total_relation_size('customer')").fetchone()[0] / 1e6)
        return info

    def close(self) -> None:
        from helpline.data.database import db

        obj = db.obj
        if obj is not None and hasattr(obj, "close_all"):
            obj.close_all()
        elif obj is not None and not obj.is_closed():
            obj.close()

    def drop_generated(self) -> None:
        """Without --reuse the generated customers are not kept."""
        from helpline.data.database import db, session

        if self.target.kind == "sqlite":
            self.close()
            remove_sqlite(self.target.url)
        else:
            with session():
                db.execute_sql('TRUNCATE "customer" RESTART IDENTITY')
            self.close()

    # 2. lookup -------------------------------------------------------------------------------------
    def sample_phones(self, k: int) -> list[str]:
        from helpline.data.database import session

        model = self.platform.models["customer"]
        ids = self.rng.sample(range(1, self.args.customers + 1), min(k, self.args.customers))
        phones: list[str] = []
        with session():
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                phones += [r[0] for r in model.select(model.phone).where(model.id.in_(chunk)).tuples() if r[0]]
        self.rng.shuffle(phones)
        return phones

    def bench_lookup(self) -> list[Result]:
        from helpline.services.lookup import find_customer_by_phone

        a = self.args
        existing = self.sample_phones(2000)
        unknown = [f"134{self.rng.randrange(10**8):08d}" for _ in range(2000)]  # 134 is never generated
        unknown = [f"+86{u}" if i % 2 else u for i, u in enumerate(unknown)]
        found = sum(find_customer_by_phone(self.platform, p) is not None for p in existing[:200])
        missing = sum(find_customer_by_phone(self.platform, p) is None for p in unknown[:200])
        assert found == 200 and missing == 200, (found, missing)
        plus86 = [f"+86{p}" for p in existing if not p.startswith("0")]

        def lookup(number: str) -> None:
            find_customer_by_phone(self.platform, number)

        out = []
        for name, inputs in zip(LOOKUP_NAMES, (existing, plus86, unknown), strict=True):
            if not wanted(a, name):
                continue
            samples = run_timed(lookup, cycle(inputs), warmup=a.lookup_warmup, reps=a.lookup_reps,
                                min_reps=a.lookup_reps // 4, budget_s=a.budget)
            out.append(summarise(name, self.target.label, samples, LOOKUP_TARGET_MS, "p99",
                                 f"{len(set(inputs))} distinct numbers"))
        return out

    # 3. lists --------------------------------------------------------------------------------------
    def actor(self, kind: str) -> Any:
        from helpline.security.actor import Actor

        if kind == "agent":
            return Actor("agent1", roles=("agent",), regions=(CITY,)).bind(self.platform.metadata)
        return Actor.system()

    def search_terms(self, kind: str, k: int) -> list[str]:
        """Names or phone numbers of random existing customers (what agents type)."""
        from helpline.data.database import session

        model = self.platform.models["customer"]
        column = model._meta.fields[kind.removesuffix("_part")]
        ids = self.rng.sample(range(1, self.args.customers + 1), min(k, self.args.customers))
        with session():
            terms = [r[0] for r in model.select(column).where(model.id.in_(ids)).tuples() if r[0]]
        if kind.endswith("_part"):
            terms = [t[-7:] for t in terms]
        self.rng.shuffle(terms)
        return terms

    def list_query(self, case: ListCase, page: int, search: str | None) -> Any:
        from helpline.data.conditions import TRUE, All, Cmp
        from helpline.data.query import ListQuery

        where = All((Cmp("value_tier", "in", list(TIERS)), Cmp("city", "eq", CITY))) if case.where else TRUE
        return ListQuery(entity="customer", where=where, sort=list(case.sort), search=search, page=page,
                         page_size=50)

    def case_inputs(self, case: ListCase) -> list[tuple[int, str | None]]:
        terms: list[str | None] = list(self.search_terms(case.search, 300)) if case.search else [None]
        return [(self.rng.randint(1, case.pages), terms[i % len(terms)]) for i in range(1000)]

    def bench_lists(self) -> list[Result]:
        a = self.args
        out = []
        for case in LIST_CASES:
            if not wanted(a, case.name):
                continue
            actor = self.actor(case.actor)
            inputs = self.case_inputs(case)
            sizes: list[int] = []
            totals: list[int] = []

            def call(arg: tuple[int, str | None], case: ListCase = case, actor: Any = actor,
                     sizes: list[int] = sizes, totals: list[int] = totals) -> None:
                page = self.platform.records.list_page(actor, self.list_query(case, *arg))
                sizes.append(len(page.rows))
                totals.append(page.total)

            log.info("  %s ...", case.name)
            samples = run_timed(call, cycle(inputs), warmup=a.list_warmup, reps=a.list_reps, min_reps=a.list_min_reps,
                                budget_s=a.budget)
            matches = sorted(float(t) for t in totals)
            note = f"rows/page {sum(sizes) / len(sizes):.0f}, count p50 {percentile(matches, 50):,.0f}" + \
                   (" (capped)" if matches and matches[-1] >= 10_000 else "")
            r = summarise(case.name, self.target.label, samples, LIST_TARGET_MS, "p95", note)
            if a.explain == "all" or (a.explain == "missed" and r.verdict == "MISSED"):
                r.extra["explain"] = self.explain(case, actor, inputs[0])
            out.append(r)
        return out

    # diagnosis -------------------------------------------------------------------------------------
    def explain(self, case: ListCase, actor: Any, arg: tuple[int, str | None]) -> list[dict[str, Any]]:
        """The statements one list call runs, each timed alone and with its query plan."""
        from helpline.data.database import db, session

        statements = capture_sql(lambda: self.platform.records.list_page(actor, self.list_query(case, *arg)))
        out = []
        with session():
            for sql, params in statements:
                if not sql.lstrip().upper().startswith("SELECT"):
                    out.append({"sql": sql, "params": list(params), "ms": None, "plan": []})
                    continue
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    db.execute_sql(sql, params).fetchall()
                    times.append((time.perf_counter() - t0) * 1e3)
                if self.target.kind == "sqlite":
                    plan = [" " * 2 * _depth(r, rows) + r[3] for rows in [db.execute_sql(
                        "EXPLAIN QUERY PLAN " + sql, params).fetchall()] for r in rows]
                else:
                    plan = [r[0] for r in db.execute_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()]
                out.append({"sql": sql, "params": [str(p) for p in params], "ms": f"{sorted(times)[1]:.2f}",
                            "plan": plan})
        return out


def _depth(row: tuple[Any, ...], rows: list[tuple[Any, ...]]) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth += 1
        parent = parents[parent]
    return depth


@contextmanager
def _peewee_log() -> Iterator[list[tuple[str, Any]]]:
    captured: list[tuple[str, Any]] = []

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if isinstance(record.msg, tuple) and len(record.msg) == 2:
                captured.append(record.msg)

    logger = logging.getLogger("peewee")
    handler = Grab(logging.DEBUG)
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield captured
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def capture_sql(fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    with _peewee_log() as captured:
        fn()
    return list(captured)


# -- output --------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Helpline foundation benchmarks: metadata load, caller lookup, list pages.",
        epilog="Example: PYTHONPATH=. python bench/bench_foundation.py --reuse --start-postgres --json "
               "var/bench/foundation.json")
    p.add_argument("--db", action="append", default=[], metavar="URL",
                   help="sqlite:///var/bench/customers.db or postgresql://user@host:port/db (repeatable; a "
                        "PostgreSQL database must be a scratch one: the bench creates Helpline's tables and "
                        "replaces its customers). Default: sqlite:///var/bench/customers-<N>.db")
    p.add_argument("--start-postgres", action="store_true",
                   help="also bench a throwaway PostgreSQL 15 cluster started under /tmp as the postgres user "
                        "(127.0.0.1, port 5433 or the next free one), stopped at the end")
    p.add_argument("--skip-sqlite", action="store_true",
                   help="without --db, do not bench the default SQLite file (e.g. PostgreSQL only)")
    p.add_argument("--pg-data", default="/tmp/helpline-bench-pg", help="data directory for --start-postgres "
                   "(kept with --reuse, removed otherwise)")
    p.add_argument("--pg-port", type=int, default=None, help="port for --start-postgres (default: 5433 or free)")
    p.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                   help="server setting for --start-postgres (repeatable); default shared_buffers=1GB")
    p.add_argument("--customers", type=int, default=None, help="customers to generate (default 1,000,000)")
    p.add_argument("--quick", action="store_true", help="100,000 customers and fewer repetitions: a fast check")
    p.add_argument("--reuse", action="store_true",
                   help="keep the generated databases and reuse them when they hold the wanted customers")
    p.add_argument("--only", action="append", default=[], metavar="TEXT",
                   help="only benchmarks whose name contains TEXT (repeatable), e.g. --only lookup")
    p.add_argument("--prepare-only", action="store_true",
                   help="only generate (or check) the databases, measure nothing; use with --reuse")
    p.add_argument("--skip-metadata", action="store_true", help="skip the metadata load benchmark")
    p.add_argument("--explain", choices=["missed", "all", "none"], default="missed",
                   help="print the statements and query plans of list benchmarks (default: those that missed)")
    p.add_argument("--budget", type=float, default=None, help="max seconds per benchmark (after the minimum reps)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON ('-' for stdout)")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    if a.customers is None:
        a.customers = 100_000 if a.quick else 1_000_000
    a.lookup_warmup = 200 if a.quick else 500
    a.lookup_reps = 3000 if a.quick else 10_000
    a.list_warmup = 5 if a.quick else 20
    a.list_reps = 150 if a.quick else 400
    a.list_min_reps = 20
    a.cold_runs = 5 if a.quick else 10
    a.warm_reps = 20 if a.quick else 60
    if a.budget is None:
        a.budget = 15.0 if a.quick else 40.0
    if not a.db and not a.skip_sqlite:
        a.db = [f"sqlite:///var/bench/customers-{a.customers}.db"]
    return a


def wanted(a: argparse.Namespace, name: str) -> bool:
    return not a.only or any(o in name for o in a.only)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if a.verbose else logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("helpline", "peewee"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.chdir(ROOT)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks (stop PostgreSQL)

    machine = machine_info()
    results: list[Result] = []
    dbinfo: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()

    if not a.skip_metadata and not a.prepare_only and wanted(a, "metadata"):
        log.info("metadata load: %d fresh processes, %d warm loads ...", a.cold_runs, a.warm_reps)
        results += bench_metadata(a.cold_runs, a.warm_reps)

    targets = [Target(u, "postgresql" if u.startswith("postgres") else "sqlite") for u in a.db]
    pg = None
    try:
        if a.start_postgres:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from _pg import ThrowawayPostgres

            settings = {"shared_buffers": "1GB"}
            settings.update(dict(kv.split("=", 1) for kv in a.pg_setting))
            pg = ThrowawayPostgres(Path(a.pg_data), a.pg_port, keep=a.reuse, settings=settings)
            machine["postgresql_settings"] = settings
            log.info("starting PostgreSQL in %s on 127.0.0.1:%d ...", pg.data_dir, pg.port)
            pg.start()
            targets.append(Target(pg.url, "postgresql"))
        lookups = any(wanted(a, name) for name in LOOKUP_NAMES)
        lists = any(wanted(a, c.name) for c in LIST_CASES)
        for target in targets if (lookups or lists or a.prepare_only) else []:
            bench = DatabaseBench(target, a)
            try:
                info = bench.prepare()
                dbinfo[target.label] = info
                if target.kind == "postgresql":
                    machine["postgresql"] = info.get("server")
                if a.prepare_only:
                    continue
                if lookups:
                    log.info("%s: caller lookup ...", target.label)
                    results += bench.bench_lookup()
                if lists:
                    log.info("%s: list pages ...", target.label)
                    results += bench.bench_lists()
                if not a.reuse:
                    bench.drop_generated()
            finally:
                bench.close()
    finally:
        if pg is not None:
            pg.stop()
            log.info("PostgreSQL stopped%s", " (data kept for --reuse)" if a.reuse else "")

    machine["load_average_end"] = _loadavg()
    print()
    print(machine_text(machine, dbinfo))
    print()
    print(table(results))
    missed = [r for r in results if r.verdict == "MISSED"]
    print(f"\n{len(results)} figures, {len(missed)} missed target(s); {time.perf_counter() - started:.0f} s in all")
    text = explain_text(results)
    if text:
        print("\nStatements and plans of the list benchmarks" + (" that missed" if a.explain == "missed" else "")
              + ":" + text)
    if a.json:
        payload = {"machine": machine, "databases": dbinfo, "results": [
            {**asdict(r), "verdict": r.verdict, "target": r.target_text} for r in results]}
        text = json.dumps(payload, indent=2, ensure_ascii=False, default=str)
        if a.json == "-":
            print(text)
        else:
            Path(a.json).parent.mkdir(parents=True, exist_ok=True)
            Path(a.json).write_text(text + "\n", encoding="utf-8")
    gc.collect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
