"""Backup and restore of the 1,000,000-customer database, timed, the restored copy checked identical.

Run: ``PYTHONPATH=. python bench/bench_backup.py [--customers N] [--reuse] [--skip-sqlite]
[--pg-server postgresql://user@host:port/postgres] [--json FILE]``.

For each database (SQLite ``var/bench/customers-<N>.db``, the file bench_foundation.py makes and reuses; with
``--pg-server``, a database ``hl_bench_backup_<N>`` on that server, kept with ``--reuse``): the customers are
generated when absent (the demo generator, as bench_foundation.py), then

- *backup*: ``helpline.services.backup.backup`` into a temporary folder (the copy or ``pg_dump``, the manifest
  with every table's row count and content hash, the copy's sha256), timed; the hashing alone is timed too;
- *restore*: ``restore`` of that backup into a fresh database (a new SQLite file; a new PostgreSQL database),
  timed, including the comparison of every table's rows and hash with the manifest;
- *identical*: the restored database's snapshot equals the source's, table by table.

Exits non-zero when a restored copy differs.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._customers import customer_count, generate_customers, remove_sqlite  # noqa: E402
from helpline.data.database import db  # noqa: E402
from helpline.services.backup import backup, database_bytes, plan_restore, restore  # noqa: E402
from helpline.services.backup_manifest import snapshot_url  # noqa: E402

log = logging.getLogger("bench")


def _pg_admin(server: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(server)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def _pg_url(server: str, name: str) -> str:
    return urlunparse(urlparse(server)._replace(path="/" + name))


def _release() -> None:
    obj = db.obj
    if obj is not None and hasattr(obj, "close_all"):
        obj.close_all()


def prepare(url: str, n: int, metadata: str) -> dict[str, Any]:
    """The database of ``url`` holding exactly the ``n`` generated customers (generated when not)."""
    from helpline.services.platform import Platform

    platform = Platform()
    platform.start(url, metadata)
    count, last = customer_count(platform)
    info: dict[str, Any] = {}
    if count == n and last == f"HN{n:08d}":
        log.info("%s: reusing %s customers", url, f"{n:,}")
    else:
        if count:
            raise SystemExit(f"{url} holds {count:,} customers, not the {n:,} generated ones: remove it first")
        log.info("%s: generating %s customers ...", url, f"{n:,}")
        info["generate_s"] = round(generate_customers(platform, n), 1)
    _release()
    return info


def measure(kind: str, source: str, fresh_target: str, workdir: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {"database": kind, "database_mb": round(database_bytes(source) / 1e6, 1)}
    t0 = time.perf_counter()
    before = snapshot_url(source)
    figures["hash_s"] = round(time.perf_counter() - t0, 1)
    figures["rows"] = sum(s.rows for s in before.content.values())
    figures["tables"] = len(before.content)
    done = backup(source, workdir / "backups")
    figures["backup_s"] = round(done.seconds, 1)
    figures["backup_mb"] = round(done.manifest["bytes"] / 1e6, 1)
    log.info("%s: backup %.1f s (%s MB; hashing alone %.1f s)", kind, done.seconds, figures["backup_mb"],
             figures["hash_s"])
    t0 = time.perf_counter()
    restored = restore(plan_restore(done.path, fresh_target), fresh_target)
    figures["restore_s"] = round(time.perf_counter() - t0, 1)
    figures["identical"] = restored.content == before.content and restored.tables == before.tables
    log.info("%s: restore %.1f s, identical: %s", kind, figures["restore_s"], figures["identical"])
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--reuse", action="store_true", help="keep the generated databases for the next run")
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--pg-server", metavar="URL", help="a PostgreSQL server to measure on too")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--metadata", default=str(ROOT / "metadata"), metavar="DIR", help="metadata (default: the demo's)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    n = args.customers
    results: list[dict[str, Any]] = []
    workdir = Path(tempfile.mkdtemp(prefix="hl-bench-backup-", dir=ROOT / "var"))
    try:
        if not args.skip_sqlite:
            source = f"sqlite:///{ROOT / 'var' / 'bench' / f'customers-{n}.db'}"
            (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
            info = prepare(source, n, args.metadata)
            results.append({**info, **measure("sqlite", source, f"sqlite:///{workdir / 'restored.db'}", workdir)})
            if not args.reuse:
                remove_sqlite(source)
        if args.pg_server:
            name, restored_name = f"hl_bench_backup_{n}", f"hl_bench_restored_{n}"
            try:
                _pg_admin(args.pg_server, f'CREATE DATABASE "{name}"')
            except Exception:  # there from an earlier --reuse run
                log.info("database %s exists", name)
            _pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
            _pg_admin(args.pg_server, f'CREATE DATABASE "{restored_name}"')
            try:
                source = _pg_url(args.pg_server, name)
                info = prepare(source, n, args.metadata)
                results.append({**info, **measure("postgresql", source, _pg_url(args.pg_server, restored_name),
                                                  workdir / "pg")})
            finally:
                _release()
                _pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
                if not args.reuse:
                    _pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{n:,} customers")
    print("| database | size MB | rows (all tables) | backup s | backup MB | hashing s | restore s (checked) "
          "| identical |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['database']} | {r['database_mb']} | {r['rows']:,} | {r['backup_s']} | {r['backup_mb']} | "
              f"{r['hash_s']} | {r['restore_s']} | {'yes' if r['identical'] else '**NO**'} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"customers": n, "results": results}, indent=1), encoding="utf-8")
    return 0 if all(r["identical"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
