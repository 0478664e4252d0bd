"""What the coverage ranking of documents reads from the text index (docs/search.md, *Documents*).

The ranking (:mod:`helpline.services.doc_search`) asks the index for three things, each bounded so that a
search costs a few milliseconds at 100,000 documents on both databases:

* :func:`frequencies` — how many records hold an item, counted up to a cap (a word held by more is *common*
  and only weighs in the ranking of records found by the rarer ones). PostgreSQL first reads the planner's
  statistics of the index column (its most common lexemes, cached for :data:`STATS_SECONDS`): an item they say
  is common is not counted at all — counting it would read thousands of rows of the table;
* :func:`postings` — the ids of the records holding each rarer item, per group of fields (one statement);
* :func:`record_terms` — the index terms of a few records (the best of the first step), to weigh every item.

PostgreSQL statements run with sequential scans off: with a ``LIMIT`` the planner would otherwise read the table
and parse every document's ``tsvector`` (160 ms for a common word) where the GIN index answers in 1-2 ms.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .database import db, is_postgres
from .text_index import match_expression, table
from .text_tokens import AllOf, AnyOf, Exact, Node, Term

STATS_SECONDS = 300.0
"""How long PostgreSQL's lexeme statistics of an index are reused."""

_stats_lock = threading.Lock()
_stats: dict[str, tuple[float, dict[str, float]]] = {}


def record_count(entity_name: str) -> int:
    """The number of records in the index (its largest id: cheap on both databases, close enough for weights)."""
    key = "id" if is_postgres() else "rowid"
    row = db.execute_sql(f'SELECT max({key}) FROM "{table(entity_name)}"').fetchone()
    return int(row[0] or 0)


def _no_seqscan() -> None:
    if is_postgres():
        db.execute_sql("SET LOCAL enable_seqscan = off")


def _common_lexemes(entity_name: str) -> dict[str, float]:
    """PostgreSQL's most common lexemes of the index column and the share of records holding each (empty before
    the table was analysed)."""
    now = time.monotonic()
    cached = _stats.get(entity_name)
    if cached is not None and now - cached[0] < STATS_SECONDS:
        return cached[1]
    row = db.execute_sql("SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                         "WHERE tablename = %s AND attname = 'doc'", (table(entity_name),)).fetchone()
    freqs: dict[str, float] = {}
    if row and row[0] and row[1]:
        freqs = {str(lexeme): float(f) for lexeme, f in zip(row[0], row[1], strict=False)}
    with _stats_lock:
        _stats[entity_name] = (now, freqs)
    return freqs


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


def frequencies(entity_name: str, nodes: list[Node], fields: list[str], cap: int, records: int) -> list[int]:
    """For each node, how many records hold it in ``fields``, counted up to ``cap`` (``cap`` when more: on
    PostgreSQL also when the statistics say so, without counting)."""
    t = table(entity_name)
    counts: list[int] = []
    postgres = is_postgres()
    freqs = _common_lexemes(entity_name) if postgres else {}
    if postgres:
        _no_seqscan()
    for node in nodes:
        if postgres and _share(node, fields, freqs) * records > cap:
            counts.append(cap)
            continue
        text = match_expression(node, fields)
        if postgres:
            sql = f'SELECT count(*) FROM (SELECT 1 FROM "{t}" WHERE doc @@ %s::tsquery LIMIT %s) AS m'
        else:
            sql = f'SELECT count(*) FROM (SELECT 1 FROM "{t}" WHERE "{t}" MATCH ? LIMIT ?)'
        counts.append(min(cap, int(db.execute_sql(sql, (text, cap + 1)).fetchone()[0])))
    return counts


def postings(entity_name: str, queries: list[tuple[Node, list[str]]], limit: int | None = None
             ) -> list[list[int]]:
    """The ids of the records holding each ``(node, fields)`` (at most ``limit`` each: the first ids), in one
    statement."""
    if not queries:
        return []
    t = table(entity_name)
    postgres = is_postgres()
    if postgres:
        _no_seqscan()
        parts = [f'SELECT {k}, id FROM "{t}" WHERE doc @@ %s::tsquery' for k in range(len(queries))]
    else:
        parts = [f'SELECT {k}, rowid FROM "{t}" WHERE "{t}" MATCH ?' for k in range(len(queries))]
    if limit is not None:
        key = "id" if postgres else "rowid"
        parts = [f"SELECT * FROM ({p} ORDER BY {key} LIMIT {int(limit)}) AS q{k}" for k, p in enumerate(parts)]
    params = tuple(match_expression(node, fields) for node, fields in queries)
    found: list[list[int]] = [[] for _ in queries]
    for k, record_id in db.execute_sql(" UNION ALL ".join(parts), params).fetchall():
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
