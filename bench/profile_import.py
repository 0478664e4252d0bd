"""Profile one import of the benchmark's workbook (bench_import.py) in this process: wall-clock and CPU seconds, the
statements sent to PostgreSQL (each ``execute`` one, each row of an ``executemany`` one) with the slowest kinds,
the wall-clock and CPU seconds a batch took through the run (in ten groups: a batch growing slower as the
tables grow shows there), and with ``--profile`` the cProfile of the run.

    PYTHONPATH=. python bench/profile_import.py --rows 20000 [--pg postgresql://user@127.0.0.1:5432/postgres]
                                                [--profile] [--sort tottime]

The workbook is generated under ``--work`` (default a new temporary folder) and reused when already there; the
database is a new SQLite file there or a throwaway PostgreSQL database, dropped at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_import
from _pg import drop_database, throwaway_database  # bench/ is the script's folder: on sys.path

STATEMENTS: dict[str, list[float]] = {}


def _count_statements() -> None:
    """Make every psycopg2 connection count and time what its cursors send."""
    import psycopg2
    import psycopg2.extensions

    class Counting(psycopg2.extensions.cursor):  # type: ignore[misc]
        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return super().execute(query, *args, **kwargs)
            finally:
                self._note(query, 1, started)

        def executemany(self, query: Any, rows: Any) -> Any:
            rows, started = list(rows), time.perf_counter()
            try:
                return super().executemany(query, rows)
            finally:
                self._note(query, len(rows), started)

        def copy_expert(self, sql: Any, file: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return super().copy_expert(sql, file, *args, **kwargs)
            finally:
                self._note(sql, 1, started)

        @staticmethod
        def _note(query: Any, n: int, started: float) -> None:
            text = " ".join((query.decode() if isinstance(query, bytes) else str(query)).split())
            kind = text.split(" VALUES ")[0][:70]  # execute_values' statements differ by their values only
            seen = STATEMENTS.setdefault(kind, [0, 0.0])
            seen[0] += n
            seen[1] += time.perf_counter() - started

    connect = psycopg2.connect
    psycopg2.connect = lambda *a, **k: connect(*a, cursor_factory=Counting, **k)


def _print_series(series: list[tuple[int, float, float]], started: float, cpu: float) -> None:
    """The time series of the batches, ten groups: does a batch take longer as the run goes on?"""
    if not series:
        return
    step = max(1, len(series) // 10)
    print("rows done   wall s/batch  CPU s/batch  (mean over each group of batches)")
    last = (0, started, cpu)
    for at in range(step - 1, len(series), step):
        index, wall, used = series[at]
        print(f"{index:9,} {(wall - last[1]) / step:12.3f} {(used - last[2]) / step:12.3f}")
        last = series[at]

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--pg", default="", help="a PostgreSQL server URL (else SQLite)")
    p.add_argument("--work", default="", help="a folder for the workbook (kept) and the SQLite file")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--sort", default="tottime")
    args = p.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="hl-profile-import-"))
    work.mkdir(parents=True, exist_ok=True)
    book = work / f"customers-{args.rows}.xlsx"
    if not book.exists():
        bench_import.write_xlsx(book, args.rows)
    metadata = Path(tempfile.mkdtemp(prefix="hl-profile-metadata-"))
    shutil.copytree(bench_import.ROOT / "metadata", metadata, dirs_exist_ok=True)
    (metadata / "imports" / "bench_customers.yaml").write_text(bench_import.DEFINITION, encoding="utf-8")
    name = ""
    if args.pg:
        _count_statements()
        url, name = throwaway_database(args.pg, "hl_profile_import")
    else:
        url = f"sqlite:///{work}/profile-{time.time_ns()}.db"
    logging.disable(logging.WARNING)
    from helpline.demo.generator import DemoGenerator
    from helpline.security.actor import Actor
    from helpline.services.imports import ImportService
    from helpline.services.platform import Platform

    try:
        platform = Platform()
        platform.start(url, str(metadata))
        DemoGenerator(platform).seed_regions()
        service = ImportService(platform, uploads=work / "uploads")
        before = sum(n for n, _ in STATEMENTS.values())
        profile = cProfile.Profile()
        started, cpu = time.perf_counter(), time.process_time()
        if args.profile:
            profile.enable()
        series: list[tuple[int, float, float]] = []

        def batch_done(index: int, total: int | None, _: Any) -> None:
            series.append((index, time.perf_counter(), time.process_time()))

        report = service.run(Actor.system(), "bench_customers", book, progress=batch_done)
        profile.disable()
        sent = sum(n for n, _ in STATEMENTS.values()) - before
        print(f"{report.status} {report.counts()}: {time.perf_counter() - started:.2f} s wall, "
              f"{time.process_time() - cpu:.2f} s CPU"
              + (f"; statements to PostgreSQL: {sent} in the run, {before} before it" if args.pg else ""))
        for kind, (n, seconds) in sorted(STATEMENTS.items(), key=lambda s: -s[1][1])[:15]:
            print(f"{n:7} {seconds:8.2f} s  {kind}")
        _print_series(series, started, cpu)
        if args.profile:
            pstats.Stats(profile).sort_stats(args.sort).print_stats(40)
    finally:
        shutil.rmtree(metadata, ignore_errors=True)
        if name:
            drop_database(args.pg, name)
    return 0 if report.status == "done" and report.rejected == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
