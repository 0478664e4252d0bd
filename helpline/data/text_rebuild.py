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

On PostgreSQL a rebuild of at least twice :data:`PART_ROWS` records of an entity that is not documents (the
customers) makes the index table a table partitioned by id ranges of about that many records: as soon as a
part's rows are in, a second connection builds that part's GIN index while this one loads the next part, and
the last transaction's index on the whole table attaches the parts' (the GIN build was half of a million
customers' rebuild, one process on one core; the parts' builds cost about what one build of the whole does,
but beside the load). The same statements search either layout.
"""

from __future__ import annotations

import io
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from helpline.metadata.kinds import Entity

from .database import db, is_postgres, session
from .entities import EntityModels
from .text_index import (
    _batch_values,
    _create,
    _insert_sql,
    _set_state,
    create_state_table,
    documents,
    indexed_fields,
    is_document,
    stored_fields,
    table,
)

GIN_BUILD_MEMORY = "16MB"
"""``maintenance_work_mem`` of the rebuild's GIN index builds (PostgreSQL; their transactions only). Less memory
costs less CPU: the build sorts its entries in a tree in that memory, and a smaller tree is cheaper to search
than the extra passes it causes (a GIN build of 250,000 customers: 20 s of server CPU with 16MB, 25 s with
64MB, 32 s with 256MB; bench/README.md)."""
PART_ROWS = 250_000
"""PostgreSQL: the records of a part of a partitioned index table (:func:`rebuild`; from twice this many)."""
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


def part_bounds(model: Any, total: int, part_rows: int) -> list[int]:
    """The first ids of the parts after the first, for parts of about ``part_rows`` of ``total`` records
    (none below two parts)."""
    parts = total // part_rows if part_rows > 0 else 0
    if parts < 2:
        return []
    bounds: list[int] = []
    for k in range(1, parts):
        row = model.select(model.id).order_by(model.id).offset(total * k // parts).limit(1).tuples().first()
        if row is not None and (not bounds or row[0] > bounds[-1]):
            bounds.append(int(row[0]))
    return bounds


def create_parts(entity_name: str, bounds: list[int]) -> list[str]:
    """The index table partitioned by id at ``bounds`` (no GIN index yet); returns its parts' names, in id
    order (the last one takes every id from the last bound on: records created later)."""
    t = table(entity_name)
    db.execute_sql(f'CREATE TABLE "{t}" (id BIGINT PRIMARY KEY, doc TSVECTOR NOT NULL) PARTITION BY RANGE (id)')
    edges = ["MINVALUE", *(str(int(b)) for b in bounds), "MAXVALUE"]
    parts = [f"{t}_p{k}" for k in range(len(edges) - 1)]
    for k, part in enumerate(parts):
        db.execute_sql(f'CREATE TABLE "{part}" PARTITION OF "{t}" FOR VALUES FROM ({edges[k]}) TO ({edges[k + 1]})')
    return parts


def _build_gin(relation: str) -> None:
    """A GIN index on ``doc`` of ``relation`` (the index table, or a part of it: an index on the partitioned
    table takes its parts' own as they are), in the caller's transaction."""
    db.execute_sql(f"SET LOCAL maintenance_work_mem = '{GIN_BUILD_MEMORY}'")
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{relation}_doc" ON "{relation}" USING GIN (doc)')


class PartIndexer:
    """Builds each finished part's GIN index, one at a time, in a connection of its own (a thread waiting on
    the server) while the rebuild loads the next part."""

    def __init__(self) -> None:
        self._parts: queue.Queue[str | None] = queue.Queue()
        self._connection: Any = None
        self.error: BaseException | None = None
        self.built: list[str] = []
        self._thread = threading.Thread(target=self._run, name="text-index-parts", daemon=True)
        self._thread.start()

    def add(self, part: str) -> None:
        self._parts.put(part)

    def _run(self) -> None:
        ended = False
        try:
            with session():
                self._connection = db.connection()
                while (part := self._parts.get()) is not None:
                    if self.error is None:
                        with db.atomic():
                            _build_gin(part)
                        self.built.append(part)
                ended = True
        except BaseException as exc:  # handed to the rebuild's thread by finish()
            self.error = exc
            while not ended and self._parts.get() is not None:  # finish() and stop() put the end mark
                pass

    def finish(self) -> None:
        """Wait for the parts given; raise what a build raised."""
        self._parts.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """Cancel the build under way (the rebuild failed) and wait for the thread."""
        if self._thread.is_alive():
            self.error = self.error or RuntimeError("rebuild stopped")
            connection = self._connection
            if connection is not None:
                connection.cancel()
            self._parts.put(None)
            self._thread.join()


def rebuild(models: EntityModels, entity_name: str, *, batch: int = 5000,
            progress: Callable[[int, int, float], None] | None = None, workers: int | None = None,
            part_rows: int | None = None) -> int:
    """Rebuild one entity's index from its table in batches (each its own transaction); the index is used
    again once complete. Returns the number of records indexed; ``progress(done, total, seconds)`` after
    each batch.

    With ``workers`` (default: 1 from :data:`PARALLEL_ROWS` records, else 0) a second process cuts each
    batch into terms while this one reads the next batch and writes the previous one. PostgreSQL, not
    documents: from twice ``part_rows`` (:data:`PART_ROWS`) records the index table is partitioned and each
    part's GIN index built while the next part loads (0: never)."""
    entity = models.entity(entity_name)
    model = models[entity_name]
    names = ["id", *stored_fields(entity)]
    fields = [getattr(model, n) for n in names[1:]]
    if not indexed_fields(entity):
        return 0
    t = table(entity_name)
    total = model.select().count()
    postgres = is_postgres()
    bounds = part_bounds(model, total, PART_ROWS if part_rows is None else part_rows) \
        if postgres and not is_document(entity) else []
    with db.atomic():  # a new table (its layout may have changed); PostgreSQL's GIN index built at the end
        create_state_table()
        _set_state(entity, False)
        db.execute_sql(f'DROP TABLE IF EXISTS "{t}"')
        parts = create_parts(entity_name, bounds) if bounds else []
        if not parts:
            _create(entity_name, gin=False)
    if workers is None:
        workers = 1 if total >= PARALLEL_ROWS else 0
    started = time.perf_counter()
    done, last = 0, 0
    sql = _insert_sql(entity_name)

    def write(cut: Any, count: int, upto: int) -> None:
        nonlocal done
        with db.atomic():
            if postgres:
                _copy(entity_name, cut)
            elif cut:  # without the records a concurrent save has indexed meanwhile (its entry is newer)
                saved = {r[0] for r in db.execute_sql(f'SELECT rowid FROM "{t}" WHERE rowid BETWEEN ? AND ?',
                                                      (cut[0][0], cut[-1][0]))}
                db.connection().executemany(sql, [v for v in cut if v[0] not in saved] if saved else cut)
        done += count
        while indexer is not None and len(parts) > 1 and upto >= bounds[len(bounds) - len(parts) + 1] - 1:
            indexer.add(parts.pop(0))  # every id of that part is in (a save's later entry goes in as usual)
        if indexer is not None and indexer.error is not None:
            raise indexer.error
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
    indexer = PartIndexer() if parts else None
    try:
        pending: Any = None
        while True:
            rows = _read(model.select(model.id, *fields).where(model.id > last).order_by(model.id).limit(batch),
                         names)
            if pool is None:
                if rows:
                    write(_cut(rows, postgres, entity), len(rows), rows[-1]["id"])
            else:
                submitted = (pool.submit(_cut, rows, postgres), len(rows), rows[-1]["id"]) if rows else None
                if pending is not None:
                    write(pending[0].result(), pending[1], pending[2])
                pending = submitted
            if not rows:
                break
            last = rows[-1]["id"]
        if indexer is not None:
            for part in parts:  # the last part (and any a concurrent delete left short)
                indexer.add(part)
            indexer.finish()
    except BaseException:
        if indexer is not None:
            indexer.stop()
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    with db.atomic():
        if postgres:  # partitioned: the parts' indexes become the table's (nothing is built again)
            _build_gin(t)
        _set_state(entity, True)
    return done


def rebuild_all(models: EntityModels, skip: tuple[str, ...] = ()) -> dict[str, int]:
    """Rebuild every entity's index but ``skip`` (after a bulk load past the record service: the demo data)."""
    return {name: rebuild(models, name) for name, e in models.metadata.entities.items()
            if indexed_fields(e) and name not in skip}
