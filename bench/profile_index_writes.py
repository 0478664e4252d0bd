"""Profile the writes of customers' quick-search entries on PostgreSQL (the import's index writes, issue 18): N
customers of the import benchmark's workbook cut into their entries (``text_index.documents``), then loaded
into a ``(id, tsvector)`` table with its GIN index in 2,000-row transactions, as an import batch does, one way
per run: ``values`` (``execute_values`` of term arrays, the earlier import) or ``copy`` (``COPY`` of tsvector
lines, ``text_rebuild.copy_text``, the import now); optionally with session settings, a GIN built with
``fastupdate = off``, or no GIN at all (what the rest costs). Prints wall and client CPU seconds, the index's
size and how long the pending list's cleanup took afterwards.

    PYTHONPATH=. python bench/profile_index_writes.py --pg postgresql://postgres@127.0.0.1:5432/postgres
        [--rows 100000] [--way copy|values] [--set gin_pending_list_limit=64MB ...] [--gin default|nofast|none]

The database is a throwaway one, dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any

import bench_import
from _pg import drop_database, throwaway_database  # bench/ is the script's folder: on sys.path

HEADER_FIELDS = ["customer_no", "name", "gender", "birth_date", "age", "address", "employer", "income", "education",
                 "tv_count", "smart_card_no", "phone", "phone2", "email", "city", "value_tier", "lifecycle",
                 "charging", "structure", "remarks"]


def customers(n: int) -> list[dict[str, Any]]:
    """The workbook's rows as stored records (id, fields; the phone's digits as the transform keeps them)."""
    rng = random.Random(1)
    rows = []
    for i in range(n):
        row = dict(zip(HEADER_FIELDS, bench_import.row(i, rng), strict=True))
        row.update(id=i + 1, county=None)
        rows.append(row)
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pg", required=True, help="a PostgreSQL server URL")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--way", choices=["copy", "values"], default="copy")
    p.add_argument("--set", action="append", default=[], help="a session setting NAME=VALUE (repeatable)")
    p.add_argument("--gin", choices=["default", "nofast", "none"], default="default")
    args = p.parse_args()
    import io

    import psycopg2
    from psycopg2.extras import execute_values

    from helpline.data.text_index import PG_ROW, documents
    from helpline.data.text_rebuild import copy_text
    from helpline.metadata.loader import load_directory

    entity = load_directory(bench_import.ROOT / "metadata").metadata.entities["customer"]
    rows = customers(args.rows)
    url, name = throwaway_database(args.pg, "hl_profile_index")
    try:
        conn = psycopg2.connect(url)
        cur = conn.cursor()
        cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, doc TSVECTOR NOT NULL)")
        if args.gin != "none":
            cur.execute("CREATE INDEX t_doc ON t USING GIN (doc)" + (" WITH (fastupdate = off)"
                                                                     if args.gin == "nofast" else ""))
        conn.commit()
        for setting in args.set:
            key, _, value = setting.partition("=")
            cur.execute("SELECT set_config(%s, %s, false)", (key, value))
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(rows), 2000):
            batch = rows[start:start + 2000]
            if args.way == "copy":
                cur.execute("DELETE FROM t WHERE id = ANY(%s)", ([r["id"] for r in batch],))
                cur.copy_expert("COPY t (id, doc) FROM STDIN", io.StringIO(copy_text(batch, entity)))
            else:
                values = [(r["id"], *documents(entity, r)) for r in batch]
                execute_values(cur, "INSERT INTO t (id, doc) VALUES %s ON CONFLICT (id) DO UPDATE SET doc = "
                               "EXCLUDED.doc", values, template=PG_ROW, page_size=1000)
            conn.commit()
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        size = clean = ""
        if args.gin != "none":
            cur.execute("SELECT pg_size_pretty(pg_relation_size('t_doc'))")
            size = cur.fetchone()[0]
            t = time.perf_counter()
            cur.execute("SELECT gin_clean_pending_list('t_doc')")
            conn.commit()
            clean = f", its pending list cleaned afterwards in {time.perf_counter() - t:.2f} s"
        print(f"{args.rows:,} customers' entries by {args.way}, GIN {args.gin}, {args.set or 'default settings'}: "
              f"{wall:.2f} s wall, {used:.2f} s client CPU (cutting the terms included); index {size}{clean}")
        conn.close()
    finally:
        drop_database(args.pg, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
