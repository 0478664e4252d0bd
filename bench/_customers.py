"""The million demo customers of the benchmarks: generated fast with the database driver, counted, analysed,
and removed again (SQLite files)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger("bench")


def _bulk_generator(platform: Any, seed: int) -> Any:
    from helpline.demo.generator import DemoGenerator

    class BulkGenerator(DemoGenerator):
        """DemoGenerator with the category trees looked up once (the rows and random draws are unchanged)."""

        _cats: Any = None

        @property
        def categories(self) -> Any:
            if self._cats is None:
                self._cats = self.platform.metadata.categories
            return self._cats

    return BulkGenerator(platform, seed)


def generate_customers(platform: Any, n: int, *, seed: int = 7, batch: int = 5000) -> float:
    """Insert ``n`` demo customers (ids 1..n); returns seconds taken."""
    from helpline.data.database import db, is_postgres, session

    gen = _bulk_generator(platform, seed)
    gen.seed_regions()
    model = platform.models["customer"]
    fields = [f for f in model._meta.sorted_fields if f.name != "id"]
    names = [f.column_name for f in fields]
    first_day = datetime(2019, 1, 1)
    step = timedelta(days=7 * 365) / max(n, 1)
    postgres = is_postgres()
    columns = ", ".join(f'"{c}"' for c in names)
    if postgres:
        from psycopg2.extras import execute_values

        sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES %s'
    else:
        sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({", ".join("?" * len(names))})'
    started = time.perf_counter()
    done = 0
    while done < n:
        rows = []
        for k in range(min(batch, n - done)):
            i = done + k
            row = gen.customer_row(i)
            at = first_day + step * i
            row.update(created_at=at, updated_at=at, version=1)
            rows.append(tuple(f.db_value(row.get(f.name)) for f in fields))
        with session(), db.atomic():
            if postgres:
                with db.cursor() as cur:
                    execute_values(cur, sql, rows, page_size=1000)
            else:
                db.connection().executemany(sql, rows)
        done += len(rows)
        if done % 100_000 == 0 or done == n:
            elapsed = time.perf_counter() - started
            log.info("  %s customers (%.0f/s, %.0f s)", f"{done:,}", done / elapsed, elapsed)
    return time.perf_counter() - started


def customer_count(platform: Any) -> tuple[int, str | None]:
    from helpline.data.database import session

    model = platform.models["customer"]
    with session():
        count = model.select().count()
        last = model.select(model.customer_no).order_by(model.id.desc()).limit(1).scalar()
    return count, last


def _analyze(db_kind: str) -> None:
    from helpline.data.database import db, session

    with session():
        if db_kind == "postgresql":
            # what autovacuum does after a bulk load: statistics and the visibility map
            conn = db.connection()
            old = conn.autocommit
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("VACUUM ANALYZE customer")
            conn.autocommit = old
        else:
            db.execute_sql("ANALYZE")



def sqlite_path(url: str) -> Path | None:
    raw = url[len("sqlite://"):]
    if raw in (":memory:", "/:memory:"):
        return None
    return Path(raw[1:] if raw.startswith("/") else raw)


def remove_sqlite(url: str) -> None:
    path = sqlite_path(url)
    if path is None:
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)

