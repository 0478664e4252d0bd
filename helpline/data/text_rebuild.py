"""Rebuilding an entity's text index from its table: ``run.py reindex``, and a stale small index at start.

The rebuild makes the index table anew (its layout may have changed) and marks the index incomplete in the
same transaction, so searches use the ``LIKE`` path until the rebuild has finished; it then fills the table in
batches, each its own transaction, and marks the index complete in the last one (PostgreSQL builds the GIN
index there, once: cheaper than keeping it up to date row by row). A rebuild that is killed or fails leaves
that incomplete index — searches still answer, by ``LIKE`` — and running it again starts over.

From :data:`PARALLEL_ROWS` records a second, forked process cuts each batch into terms (jieba and the term
sets: the larger part of the work) while this one reads the next batch and writes the previous one. On
PostgreSQL a batch is one ``COPY`` of ``id, tsvector`` text lines the worker makes (the terms are word
characters, quoted as lexemes; the server parses no SQL per row). A record that a concurrent save has
indexed meanwhile keeps the save's entry (newer than the rebuild's read): SQLite leaves it out of the batch,
PostgreSQL loads such a batch through a temporary table.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

from helpline.metadata.kinds import Entity

from .database import db, is_postgres
from .entities import EntityModels
from .text_index import (
    _batch_values,
    _create,
    _insert_sql,
    _set_state,
    create_state_table,
    documents,
    indexed_fields,
    stored_fields,
    table,
)

GIN_BUILD_MEMORY = "512MB"
"""``maintenance_work_mem`` of the rebuild's GIN index build (PostgreSQL; that transaction only)."""
PARALLEL_ROWS = 50_000
"""A rebuild of at least this many records cuts the terms in a second process (:func:`rebuild`)."""
_WORKER_ENTITY: list[Entity] = []


def _worker_init(entity: Entity) -> None:
    _WORKER_ENTITY[:] = [entity]


def _lexeme(term: str) -> str:
    """A term as a quoted tsvector lexeme (terms are word characters: the escapes are for safety only)."""
    if "'" in term or "\\" in term:
        term = term.replace("\\", "\\\\").replace("'", "''")
    return f"'{term}'"


def copy_text(rows: list[dict[str, Any]], entity: Entity) -> str:
    """A batch as PostgreSQL ``COPY`` text: ``id<TAB>tsvector`` lines (the same lexemes, without positions,
    as :data:`text_index.PG_ROW` stores)."""
    lines = []
    for row in rows:
        title, body = documents(entity, row)
        terms = " ".join(title + body)  # no term holds a space; title and body never share one (field prefix)
        if "'" in terms or "\\" in terms:  # never from the tokenizer: quoted one by one, COPY's escape doubled
            doc = " ".join(_lexeme(t) for t in title + body).replace("\\", "\\\\")
        else:
            doc = f"'{terms.replace(' ', chr(39) + ' ' + chr(39))}'" if terms else ""
        lines.append(f"{int(row['id'])}\t{doc}\n")
    return "".join(lines)


def _cut(rows: list[dict[str, Any]], postgres: bool, entity: Entity | None = None) -> Any:
    """A batch's index rows: COPY text (PostgreSQL) or value tuples (SQLite); in the worker process or not."""
    entity = entity or _WORKER_ENTITY[0]
    return copy_text(rows, entity) if postgres else _batch_values(rows, False, entity)


def _copy(entity_name: str, text: str) -> None:
    """Load COPY text into the index; on a record a concurrent save has indexed meanwhile (its entry is newer
    than the rebuild's read), through a temporary table, keeping the saved entries."""
    from psycopg2 import IntegrityError

    t = table(entity_name)
    try:
        with db.atomic(), db.cursor() as cur:  # a savepoint: the failed COPY is undone alone
            cur.copy_expert(f'COPY "{t}" (id, doc) FROM STDIN', io.StringIO(text))
    except IntegrityError:
        with db.cursor() as cur:
            cur.execute('CREATE TEMPORARY TABLE IF NOT EXISTS "hl_text_load" (id BIGINT, doc TSVECTOR) '
                        "ON COMMIT DELETE ROWS")
            cur.copy_expert('COPY "hl_text_load" (id, doc) FROM STDIN', io.StringIO(text))
            cur.execute(f'INSERT INTO "{t}" (id, doc) SELECT id, doc FROM "hl_text_load" '
                        "ON CONFLICT (id) DO NOTHING")
            cur.execute('DELETE FROM "hl_text_load"')


def _read(query: Any, names: list[str]) -> list[dict[str, Any]]:
    """A batch's rows as the database gives them, by name: text, codes and ids need no conversion, and peewee's
    per-value conversion of a select was a third of the rebuild's own CPU (25 s a million on SQLite)."""
    sql, params = query.sql()
    return [dict(zip(names, r, strict=True)) for r in db.execute_sql(sql, params).fetchall()]


def rebuild(models: EntityModels, entity_name: str, *, batch: int = 5000,
            progress: Callable[[int, int, float], None] | None = None, workers: int | None = None) -> int:
    """Rebuild one entity's index from its table in batches (each its own transaction); the index is used
    again once complete. Returns the number of records indexed; ``progress(done, total, seconds)`` after
    each batch.

    With ``workers`` (default: 1 from :data:`PARALLEL_ROWS` records, else 0) a second process cuts each
    batch into terms while this one reads the next batch and writes the previous one."""
    entity = models.entity(entity_name)
    model = models[entity_name]
    names = ["id", *stored_fields(entity)]
    fields = [getattr(model, n) for n in names[1:]]
    if not indexed_fields(entity):
        return 0
    t = table(entity_name)
    with db.atomic():  # a new table (its layout may have changed); PostgreSQL's GIN index built at the end
        create_state_table()
        _set_state(entity, False)
        db.execute_sql(f'DROP TABLE IF EXISTS "{t}"')
        _create(entity_name, gin=False)
    total = model.select().count()
    postgres = is_postgres()
    if workers is None:
        workers = 1 if total >= PARALLEL_ROWS else 0
    started = time.perf_counter()
    done, last = 0, 0
    sql = _insert_sql(entity_name)

    def write(cut: Any, count: int) -> None:
        nonlocal done
        with db.atomic():
            if postgres:
                _copy(entity_name, cut)
            elif cut:  # without the records a concurrent save has indexed meanwhile (its entry is newer)
                saved = {r[0] for r in db.execute_sql(f'SELECT rowid FROM "{t}" WHERE rowid BETWEEN ? AND ?',
                                                      (cut[0][0], cut[-1][0]))}
                db.connection().executemany(sql, [v for v in cut if v[0] not in saved] if saved else cut)
        done += count
        if progress is not None:
            progress(done, total, time.perf_counter() - started)

    pool = None
    if workers > 0:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from .text_tokens import _segmenter

        _segmenter()  # loaded once, before the fork: the worker inherits it
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_worker_init, initargs=(entity,))
    try:
        pending: Any = None
        while True:
            rows = _read(model.select(model.id, *fields).where(model.id > last).order_by(model.id).limit(batch),
                         names)
            if pool is None:
                if rows:
                    write(_cut(rows, postgres, entity), len(rows))
            else:
                submitted = (pool.submit(_cut, rows, postgres), len(rows)) if rows else None
                if pending is not None:
                    write(pending[0].result(), pending[1])
                pending = submitted
            if not rows:
                break
            last = rows[-1]["id"]
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    with db.atomic():
        if postgres:  # a GIN build sorts its entries in memory: the default 64 MB spills a million records
            db.execute_sql(f"SET LOCAL maintenance_work_mem = '{GIN_BUILD_MEMORY}'")
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{t}_doc" ON "{t}" USING GIN (doc)')
        _set_state(entity, True)
    return done


def rebuild_all(models: EntityModels, skip: tuple[str, ...] = ()) -> dict[str, int]:
    """Rebuild every entity's index but ``skip`` (after a bulk load past the record service: the demo data)."""
    return {name: rebuild(models, name) for name, e in models.metadata.entities.items()
            if indexed_fields(e) and name not in skip}
