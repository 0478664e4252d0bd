"""What the coverage ranking of documents reads from the text index (docs/search.md, *Documents*).

The ranking (:mod:`helpline.services.doc_search`) asks the index for three things, each bounded so that a
search costs a few milliseconds at 100,000 documents on both databases:

* :func:`frequencies` — how many records hold each item, counted up to a cap (a word held by more is *common*
  and only weighs in the ranking of records found by the rarer ones), in one statement. PostgreSQL first reads
  the planner's statistics of the index column (its most common lexemes, cached for :data:`STATS_SECONDS`; the
  column's statistics target is raised for documents, ``text_index.DOCUMENT_STATISTICS``): an item they say is
  common is not counted at all — counting it would visit thousands of rows of the table;
* :func:`postings` — the ids of the records holding each rarer item, per group of fields (one statement);
* :func:`record_terms` — the index terms of a few records (the best of the first step), to weigh every item.

PostgreSQL statements with a ``LIMIT`` run with sequential scans off: the planner would otherwise read the table
and parse every document's ``tsvector`` (160 ms for a common word) where the GIN index answers in 1-2 ms.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .database import db, is_postgres
from .text_index import match_expression, table
from .text_tokens import AllOf, AnyOf, Exact, Node, Term

STATS_SECONDS = 300.0
"""How long PostgreSQL's lexeme statistics of an index are reused."""

_stats_lock = threading.Lock()
_stats: dict[str, tuple[float, dict[str, float], int]] = {}


@contextmanager
def _by_index() -> Iterator[None]:
    """On PostgreSQL, the statements inside read the index table through its GIN index, never by a sequential
    scan (in a transaction or savepoint of their own; the setting is put back after them)."""
    if not is_postgres():
        yield
        return
    with db.atomic():
        db.execute_sql("SET LOCAL enable_seqscan = off")
        yield
        db.execute_sql("SET LOCAL enable_seqscan = on")


def _common_lexemes(entity_name: str) -> dict[str, float]:
    """PostgreSQL's most common lexemes of the index column and the share of records holding each (empty before
    the table was analysed)."""
    return _read_stats(entity_name)[1]


def _estimated_rows(entity_name: str) -> int:
    """PostgreSQL's estimate of the index table's rows (as of the statistics read by :func:`_common_lexemes`)."""
    return _read_stats(entity_name)[2]


def _read_stats(entity_name: str) -> tuple[float, dict[str, float], int]:
    """(when read, most common lexemes, rows) of an index table, read again after :data:`STATS_SECONDS` (per
    database: the key holds the database's name)."""
    key = f"{db.database}/{entity_name}"
    now = time.monotonic()
    cached = _stats.get(key)
    if cached is not None and now - cached[0] < STATS_SECONDS:
        return cached
    t = table(entity_name)
    row = db.execute_sql("SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples FROM "
                         "pg_class c LEFT JOIN pg_stats s ON s.tablename = c.relname AND s.attname = 'doc' "
                         "WHERE c.relname = %s", (t,)).fetchone()
    freqs: dict[str, float] = {}
    if row and row[0] and row[1]:
        freqs = {str(lexeme): float(f) for lexeme, f in zip(row[0], row[1], strict=False)}
    found = (now, freqs, max(0, int(row[2] or 0)) if row else 0)
    with _stats_lock:
        _stats[key] = found
    return found


def _share(node: Node, fields: list[str], freqs: dict[str, float]) -> float:
    """The share of records holding ``node`` estimated from the common lexemes (0 when none of its terms is
    common: it is then counted)."""
    if isinstance(node, Exact):
        return freqs.get(node.text, 0.0)
    if isinstance(node, Term):
        if node.prefix:
            return 0.0
        missing = 1.0
        for f in fields:
            missing *= 1.0 - freqs.get(f"{f}_{node.text}", 0.0)
        return 1.0 - missing
    if isinstance(node, AllOf):
        return min(_share(n, fields, freqs) for n in node.items)
    if isinstance(node, AnyOf):
        missing = 1.0
        for n in node.items:
            missing *= 1.0 - _share(n, fields, freqs)
        return 1.0 - missing
    return 0.0


def frequencies(entity_name: str, queries: list[tuple[Node, list[str]]], cap: int) -> tuple[int, list[int]]:
    """The number of records in the index (its largest id: close enough for weights) and, for each ``(node,
    fields)``, how many records hold it there, counted up to ``cap`` (``cap`` when more; on PostgreSQL also when
    its statistics say so, without counting) — in one statement."""
    t = table(entity_name)
    postgres = is_postgres()
    freqs = _common_lexemes(entity_name) if postgres else {}
    key = "id" if postgres else "rowid"
    records = _estimated_rows(entity_name) if postgres and freqs else 0
    parts: list[str] = []
    params: list[Any] = []
    for node, fields in queries:
        if postgres and freqs and _share(node, fields, freqs) * records > cap:
            parts.append(str(cap))
        elif postgres:  # no LIMIT: with one the planner reads the table; the statistics bound the count here
            parts.append(f'(SELECT count(*) FROM "{t}" WHERE doc @@ %s::tsquery)')
            params.append(match_expression(node, fields))
        else:
            parts.append(f'(SELECT count(*) FROM (SELECT 1 FROM "{t}" WHERE "{t}" MATCH ? LIMIT ?))')
            params += [match_expression(node, fields), cap + 1]
    found = db.execute_sql(f'SELECT (SELECT max({key}) FROM "{t}"){"".join(", " + p for p in parts)}',
                           tuple(params)).fetchone()
    return int(found[0] or 0), [min(cap, int(n)) for n in found[1:]]


def postings(entity_name: str, queries: list[tuple[Node, list[str]]], limit: int | None = None
             ) -> list[list[int]]:
    """The ids of the records holding each ``(node, fields)`` (at most ``limit`` each: the first ones the index
    gives, in no particular order — an ``ORDER BY`` would make PostgreSQL walk the primary key and parse the
    documents), in one statement."""
    if not queries:
        return []
    t = table(entity_name)
    postgres = is_postgres()
    if postgres:
        parts = [f'SELECT {k}, id FROM "{t}" WHERE doc @@ %s::tsquery' for k in range(len(queries))]
    else:
        parts = [f'SELECT {k}, rowid FROM "{t}" WHERE "{t}" MATCH ?' for k in range(len(queries))]
    if limit is not None:
        parts = [f"SELECT * FROM ({p} LIMIT {int(limit)}) AS q{k}" for k, p in enumerate(parts)]
    params = tuple(match_expression(node, fields) for node, fields in queries)
    found: list[list[int]] = [[] for _ in queries]
    if limit is None:  # the postings of rarer words: the planner takes the GIN index by itself
        rows = db.execute_sql(" UNION ALL ".join(parts), params).fetchall()
    else:
        with _by_index():
            rows = db.execute_sql(" UNION ALL ".join(parts), params).fetchall()
    for k, record_id in rows:
        found[int(k)].append(int(record_id))
    return found


def record_terms(entity_name: str, ids: list[int]) -> dict[int, frozenset[str]]:
    """The index terms (``<field>_<term>``) of the records ``ids``."""
    if not ids:
        return {}
    t = table(entity_name)
    if is_postgres():
        sql = f"SELECT id, array_to_string(tsvector_to_array(doc), ' ') FROM \"{t}\" WHERE id = ANY(%s)"
        rows: list[Any] = db.execute_sql(sql, (list(ids),)).fetchall()
        return {int(i): frozenset(text.split()) for i, text in rows}
    marks = ", ".join("?" * len(ids))
    rows = db.execute_sql(f'SELECT rowid, title, body FROM "{t}" WHERE rowid IN ({marks})', tuple(ids)).fetchall()
    return {int(i): frozenset(f"{title or ''} {body or ''}".split()) for i, title, body in rows}
