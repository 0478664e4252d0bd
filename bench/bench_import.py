"""Data import benchmark (issue 18): a 100,000-row × 20-column customer workbook validated and loaded on SQLite
(< 30 s) and PostgreSQL (< 45 s) with the loading process under 300 MB, a 1,000,000-row CSV (< 5 min), and an
incremental BOSS sync of 10,000 changes (< 10 s).

    PYTHONPATH=. python bench/bench_import.py [--rows 100000] [--csv-rows 1000000] [--changes 10000]
                                              [--pg postgresql://user@127.0.0.1:5432/postgres]   (0 rows: none)
                                              [--skip-sqlite]   (the CSV on PostgreSQL only)
                                              [--in-turn]   (an A/B: ImportService.writes_behind off)

Each load runs in a child process (``--child``) on a fresh database with the demo metadata plus a 20-column
definition, so its peak memory (``ru_maxrss``) is the loading process's alone; the files are generated first
(not timed). Wall-clock seconds are the targets; the loading process's CPU seconds are printed beside them (on a
shared, loaded machine they tell what the code costs). With ``--pg`` each load and the sync also run on PostgreSQL
(a throwaway database each); without it (or ``HELPLINE_TEST_PG``) the PostgreSQL
rows are skipped and said so. A target missed is a failure; the script exits non-zero when any failed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _pg import drop_database, throwaway_database  # bench/ is the script's folder: on sys.path

ROOT = Path(__file__).resolve().parent.parent
HEADERS = ["客户编号", "姓名", "性别", "出生日期", "年龄", "家庭住址", "工作单位", "月收入", "文化程度", "电视机数量",
           "智能卡号", "联系电话", "其他电话", "电子邮件", "市州", "客户等级", "生命周期", "收费类别", "客户结构",
           "备注"]
DEFINITION = """\
# 20 columns of a BOSS customer export (the import benchmark).
kind: import
name: bench_customers
entity: customer
key: customer_no
mode: upsert
batch_size: 2000
columns:
  - {field: customer_no, headers: [客户编号], required: true}
  - {field: name, headers: [姓名], required: true}
  - {field: gender, headers: [性别], codes: sex}
  - {field: birth_date, headers: [出生日期]}
  - {field: age, headers: [年龄]}
  - {field: address, headers: [家庭住址]}
  - {field: employer, headers: [工作单位]}
  - {field: income, headers: [月收入]}
  - {field: education, headers: [文化程度]}
  - {field: tv_count, headers: [电视机数量]}
  - {field: smart_card_no, headers: [智能卡号]}
  - {field: phone, headers: [联系电话], transform: 'digits(value)'}
  - {field: phone2, headers: [其他电话]}
  - {field: email, headers: [电子邮件]}
  - {field: city, headers: [市州]}
  - {field: value_tier, headers: [客户等级], codes: tiers}
  - {field: lifecycle, headers: [生命周期]}
  - {field: charging, headers: [收费类别]}
  - {field: structure, headers: [客户结构]}
  - {field: remarks, headers: [备注]}
code_tables:
  sex: {'1': male, '2': female}
  tiers: {'01': ordinary, '02': silver, '03': gold, '04': diamond, '05': platinum}
"""
IN_TURN = False
"""``--in-turn``: the loads check and write each batch in turn, no writer thread (for an A/B of it)."""
CITIES = ["changsha", "zhuzhou", "xiangtan", "hengyang", "yueyang", "changde", "yiyang", "chenzhou"]


def row(i: int, rng: random.Random) -> list[Any]:
    born = f"{rng.randint(1940, 2005)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
    return [f"X{i:09d}", "客户" + str(i), rng.choice("12"), born,
            rng.randint(18, 85), f"五一大道{rng.randint(1, 999)}号", "湖南广电", rng.randint(1000, 20000),
            rng.choice(["primary", "junior", "senior"]), rng.randint(1, 3), f"8731{i:012d}",
            f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}", "", f"u{i}@example.com", rng.choice(CITIES),
            rng.choice(["01", "01", "02", "03", "04", "05"]), "in_use", "paying", "individual", ""]


def write_xlsx(path: Path, n: int) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet("客户")
    ws.append(HEADERS)
    rng = random.Random(1)
    for i in range(n):
        ws.append(row(i, rng))
    book.save(path)


def write_csv(path: Path, n: int) -> None:
    rng = random.Random(2)
    with path.open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        for i in range(n):
            w.writerow(row(i, rng))


def child(args: argparse.Namespace) -> int:
    """Load ``args.file`` (or sync ``args.changes`` from a simulator) into ``args.db``; print one JSON line."""
    import logging

    logging.disable(logging.WARNING)
    from helpline.demo.generator import DemoGenerator
    from helpline.security.actor import Actor
    from helpline.services.imports import ImportService
    from helpline.services.platform import Platform

    platform = Platform()
    platform.start(args.db, args.metadata)
    DemoGenerator(platform).seed_regions()
    service = ImportService(platform, uploads=Path(args.metadata).parent / "uploads")
    service.writes_behind = False if args.in_turn else None
    started, cpu = time.perf_counter(), time.process_time()
    if args.child == "sync":
        from extensions.boss.simulator import Simulator

        sim = Simulator(customers=args.changes).start()
        os.environ["HELPLINE_BOSS_URL"] = sim.url
        started, cpu = time.perf_counter(), time.process_time()
        report = service.run(Actor.system(), "boss_customers", None)
        sim.stop()
    else:
        report = service.run(Actor.system(), "bench_customers", Path(args.file))
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": round(seconds, 2), "status": report.status, **report.counts(),
                      "error": report.error, "first_problems": [p.text() for p in report.problems[:3]],
                      "cpu_s": round(time.process_time() - cpu, 2),
                      "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
    return 0


def measure(what: str, kind: str, work: Path, db: str, file: Path | None = None, changes: int = 0
            ) -> dict[str, Any]:
    metadata = work / f"metadata-{uuid.uuid4().hex[:6]}"
    shutil.copytree(ROOT / "metadata", metadata)
    (metadata / "imports" / "bench_customers.yaml").write_text(DEFINITION, encoding="utf-8")
    cmd = [sys.executable, __file__, "--child", kind, "--db", db, "--metadata", str(metadata),
           "--changes", str(changes)] + (["--file", str(file)] if file else [])
    cmd += ["--in-turn"] if IN_TURN else []
    load = _loadavg()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    load = f"{load} -> {_loadavg()}"  # the machine's load average (1 min) before and after: say it with the figure
    if out.returncode != 0 or not out.stdout.strip():
        return {"what": what, "status": "crashed", "error": out.stderr[-2000:], "load": load}
    result = {"what": what, **json.loads(out.stdout.strip().splitlines()[-1]), "load": load}
    print(f"{what}: {result['seconds']} s, CPU {result['cpu_s']} s, {result['max_rss_mb']} MB, load {load}",
          flush=True)
    return result


def _loadavg() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--csv-rows", type=int, default=1_000_000)
    p.add_argument("--changes", type=int, default=10_000)
    p.add_argument("--pg", default=os.environ.get("HELPLINE_TEST_PG", ""), help="a PostgreSQL server URL")
    p.add_argument("--skip-sqlite", action="store_true", help="the CSV load on PostgreSQL only (no SQLite CSV load)")
    p.add_argument("--in-turn", action="store_true",
                   help="check and write each batch in turn, no writer thread (ImportService.writes_behind off)")
    p.add_argument("--child", choices=["load", "sync"], help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--metadata", help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    args = p.parse_args()
    global IN_TURN
    IN_TURN = args.in_turn
    if args.child:
        return child(args)
    work = Path(tempfile.mkdtemp(prefix="hl-bench-import-"))
    results: list[tuple[dict[str, Any], float, float | None]] = []
    try:
        xlsx, big = work / "customers.xlsx", work / "customers.csv"
        t = time.perf_counter()
        write_xlsx(xlsx, args.rows)
        print(f"load average {_loadavg()}; generated {xlsx.name}: {args.rows:,} rows x 20 columns, "
              f"{xlsx.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.0f} s", flush=True)
        xlsx_target = 30.0 * args.rows / 100_000
        if args.rows:  # --rows 0: the CSV and the sync only
            results.append((measure(f"xlsx {args.rows:,} rows, SQLite", "load", work, f"sqlite:///{work}/a.db",
                                    xlsx), xlsx_target, 300.0))
        if args.pg and args.rows:
            url, name = throwaway_database(args.pg, "hl_bench_import")
            try:
                results.append((measure(f"xlsx {args.rows:,} rows, PostgreSQL", "load", work, url, xlsx),
                                45.0 * args.rows / 100_000, 300.0))
            finally:
                drop_database(args.pg, name)
        else:
            print("PostgreSQL: skipped (no --pg / HELPLINE_TEST_PG)")
        if args.csv_rows:
            t = time.perf_counter()
            write_csv(big, args.csv_rows)
            print(f"generated {big.name} (GBK): {args.csv_rows:,} rows, {big.stat().st_size / 1e6:.0f} MB in "
                  f"{time.perf_counter() - t:.0f} s", flush=True)
            if not args.skip_sqlite:
                results.append((measure(f"csv {args.csv_rows:,} rows, SQLite", "load", work,
                                        f"sqlite:///{work}/b.db", big), 300.0 * args.csv_rows / 1_000_000, None))
            if args.pg:
                url, name = throwaway_database(args.pg, "hl_bench_import_csv")
                try:
                    results.append((measure(f"csv {args.csv_rows:,} rows, PostgreSQL", "load", work, url, big),
                                    300.0 * args.csv_rows / 1_000_000, None))
                finally:
                    drop_database(args.pg, name)
        if args.changes:  # --changes 0: no sync
            results.append((measure(f"BOSS sync of {args.changes:,} changes, SQLite", "sync", work,
                                    f"sqlite:///{work}/c.db", changes=args.changes), 10.0 * args.changes / 10_000,
                            None))
            if args.pg:
                url, name = throwaway_database(args.pg, "hl_bench_import_sync")
                try:
                    results.append((measure(f"BOSS sync of {args.changes:,} changes, PostgreSQL", "sync", work, url,
                                            changes=args.changes), 10.0 * args.changes / 10_000, None))
                finally:
                    drop_database(args.pg, name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    failures = 0
    print(f"\n{'what':42} {'seconds':>8} {'cpu s':>7} {'target':>7} {'rows/s':>9} {'MB':>6} {'load':>11}  result")
    for r, target, mb in results:
        ok = r.get("status") == "done" and r.get("rejected", 1) == 0 and r["seconds"] <= target and \
            (mb is None or r["max_rss_mb"] <= mb)
        failures += not ok
        rate = r.get("rows", 0) / r["seconds"] if r.get("seconds") else 0
        print(f"{r['what']:42} {r.get('seconds', float('nan')):8.1f} {r.get('cpu_s', float('nan')):7.1f} "
              f"{target:7.0f} {rate:9,.0f} "
              f"{r.get('max_rss_mb', float('nan')):6.0f} {r.get('load', ''):>11}  {'ok' if ok else 'FAILED'} "
              f"{'' if ok else (r.get('error') or r.get('first_problems') or r.get('status'))}")
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
