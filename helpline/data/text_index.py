"""The text-search index of each entity with ``text_search`` fields: SQLite FTS5 or PostgreSQL tsvector + GIN.

One index table per entity, ``hl_text_<entity>``, keyed by the record id: SQLite an FTS5 table with two
columns (``title``: the terms of the title field, ``body``: the others; bm25 weighs the title 4 to 1),
PostgreSQL a table ``(id, doc tsvector)`` with a GIN index (the title field's terms weighted ``A``, the others
``B``; ranked by ``ts_rank``). Terms come from :mod:`helpline.data.text_tokens`, already segmented and
prefixed by their field, so the database's own parsers never see Chinese text or a user's syntax (the
``simple`` behaviour: ``array_to_tsvector`` and quoted tsquery lexemes).

``hl_text_state`` records per entity the indexed fields and whether the index is complete; a search uses the
index only when it is complete for the fields the metadata declares now (otherwise the list's ``LIKE`` path
answers until ``run.py reindex`` has rebuilt it). The record service keeps the index in the write's own
transaction (:func:`write_row`, :func:`remove_row`).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from typing import Any

from peewee import SQL, NodeList

from helpline.metadata.kinds import Entity
from helpline.metadata.metaset import MetadataSet

from .conditions import All, Cmp, Cond
from .conditions import AnyOf as CondAnyOf
from .database import db, is_postgres
from .entities import EntityModels
from .entities import rows as select_rows
from .text_tokens import AllOf, AnyOf, Exact, Node, Term, value_terms

TOKENS_VERSION = "6"
"""Bumped when :mod:`text_tokens` changes what it indexes: every index is then stale until rebuilt."""
AUTO_REBUILD_ROWS = 20_000
"""A stale index of at most this many records is rebuilt at start; a bigger one waits for ``run.py reindex``."""
TITLE_WEIGHT = 4.0
EXACT = re.compile(r"[0-9a-z_]{1,100}")
"""Scope values the index holds as exact terms (codes); a scope on other values is checked in SQL only."""
SYNONYMS = "search_synonyms"
"""The category tree that is the synonym dictionary: each top node is a group of equal terms — its labels in
every language and those of its children (机顶盒 = STB = set-top box)."""


def indexed_fields(entity: Entity) -> list[str]:
    return [f.name for f in entity.active_fields if f.text_search]


def scope_fields(entity: Entity) -> list[str]:
    """Indexed single-valued link and category fields (a customer's city and county): their values are in the
    text index too, as exact terms ``<field>__<value>``, so a row scope on them narrows the text match inside
    the index (:func:`scope_node`) before any row is read. The row scope is applied in SQL as well."""
    return [f.name for f in entity.active_fields
            if f.indexed and not f.multiple and f.type in ("link", "category")] if indexed_fields(entity) else []


def stored_fields(entity: Entity) -> list[str]:
    """The fields whose change rewrites a record's index entry."""
    return indexed_fields(entity) + scope_fields(entity)


def _exact(field: str, value: Any) -> str | None:
    text = str(value).lower()
    return f"{field}__{text}" if value not in (None, "") and EXACT.fullmatch(text) else None


def scope_node(entity: Entity, cond: Cond | None) -> Node | None:
    """What of a row scope the index can check (None: nothing): equality and ``in`` on :func:`scope_fields`,
    through ``and`` (the parts it can check) and ``or`` (only when it can check every branch). A superset of
    the scope: the SQL condition still decides."""
    fields = set(scope_fields(entity))
    if cond is None or not fields:
        return None
    if isinstance(cond, Cmp):
        if cond.field not in fields or cond.op not in ("eq", "in"):
            return None
        values = cond.value if cond.op == "in" else [cond.value]
        terms = [_exact(cond.field, v) for v in values or []]
        if not terms or any(t is None for t in terms):
            return None
        return AnyOf(tuple(Exact(t) for t in terms if t)) if len(terms) > 1 else Exact(terms[0] or "")
    if isinstance(cond, All):
        kept = tuple(n for n in (scope_node(entity, c) for c in cond.items) if n is not None)
        return None if not kept else kept[0] if len(kept) == 1 else AllOf(kept)
    if isinstance(cond, CondAnyOf):
        branches = [scope_node(entity, c) for c in cond.items]
        if not branches or any(b is None for b in branches):
            return None
        return AnyOf(tuple(b for b in branches if b is not None)) if len(branches) > 1 else branches[0]
    return None


def table(entity_name: str) -> str:
    return f"hl_text_{entity_name}"


def signature(entity: Entity) -> str:
    return hashlib.sha256(f"{TOKENS_VERSION}:{entity.title_field}:{','.join(stored_fields(entity))}".encode()
                        ).hexdigest()[:16]


def synonym_groups(metadata: MetadataSet) -> list[list[str]]:
    """The synonym dictionary: groups of terms a search treats as one (retired nodes left out)."""
    tree = metadata.categories.get(SYNONYMS)
    if tree is None:
        return []
    groups: dict[str, list[str]] = {}
    for node in tree.nodes:
        if node.retired:
            continue
        root = tree.path(node.code)[0].code
        groups.setdefault(root, []).extend(t for t in (node.label.en, node.label.zh_CN) if t)
    return [list(dict.fromkeys(g)) for g in groups.values() if len(g) > 1]


# -- schema and state ----------------------------------------------------------------------------
def _create(entity_name: str, *, gin: bool = True) -> None:
    """The index table (FTS5 ``detail=column``: a search asks for terms, never phrases, so no positions)."""
    t = table(entity_name)
    if is_postgres():
        db.execute_sql(f'CREATE TABLE IF NOT EXISTS "{t}" (id BIGINT PRIMARY KEY, doc TSVECTOR NOT NULL)')
        if gin:
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{t}_doc" ON "{t}" USING GIN (doc)')
    else:
        db.execute_sql(f'CREATE VIRTUAL TABLE IF NOT EXISTS "{t}" USING fts5(title, body, '
                       "tokenize = \"unicode61 tokenchars '_'\", detail = column)")


def create_state_table() -> None:
    db.execute_sql('CREATE TABLE IF NOT EXISTS "hl_text_state" (entity VARCHAR(100) PRIMARY KEY, '
                   "signature VARCHAR(40) NOT NULL, ready INTEGER NOT NULL DEFAULT 0)")


def _set_state(entity: Entity, ready: bool) -> None:
    p = _param()
    db.execute_sql(f'DELETE FROM "hl_text_state" WHERE entity = {p}', (entity.name,))
    db.execute_sql(f'INSERT INTO "hl_text_state" (entity, signature, ready) VALUES ({p}, {p}, {p})',
                   (entity.name, signature(entity), int(ready)))


def _param() -> str:
    return "%s" if is_postgres() else "?"


def is_ready(entity: Entity) -> bool:
    """Whether the entity's index is complete for the fields it declares now (inside the caller's session)."""
    if not indexed_fields(entity):
        return False
    row = db.execute_sql(f'SELECT signature, ready FROM "hl_text_state" WHERE entity = {_param()}',
                         (entity.name,)).fetchone()
    return bool(row and row[0] == signature(entity) and row[1])


def ensure(models: EntityModels) -> list[str]:
    """Create the index tables; rebuild a stale small index now. Returns the entities whose index is stale
    (bigger than :data:`AUTO_REBUILD_ROWS`: ``run.py reindex --entity E`` completes them)."""
    create_state_table()
    stale = []
    for name, entity in models.metadata.entities.items():
        if not indexed_fields(entity):
            continue
        _create(name)
        if is_ready(entity):
            continue
        model = models[name]
        if model.select().limit(AUTO_REBUILD_ROWS + 1).count() <= AUTO_REBUILD_ROWS:
            rebuild(models, name)
        else:
            _set_state(entity, False)
            stale.append(name)
    return stale


# -- writes --------------------------------------------------------------------------------------
def _plan(entity: Entity) -> tuple[tuple[tuple[str, bool, bool], ...], tuple[str, ...]]:
    """((field, is the title, any part), ...) of the indexed fields and the scope fields of ``entity``
    (looked up once per entity: a rebuild calls :func:`documents` for every record)."""
    cached = _PLANS.get(id(entity))
    if cached is not None and cached[0] is entity:
        return cached[1]  # type: ignore[no-any-return]
    fields = []
    for name in indexed_fields(entity):
        f = entity.field(name)
        fields.append((name, name == entity.title_field, bool(f and f.type == "phone")))
    plan = (tuple(fields), tuple(scope_fields(entity)))
    _PLANS[id(entity)] = (entity, plan)
    return plan


_PLANS: dict[int, tuple[Entity, Any]] = {}
"""Per entity object (its id, checked against the object: a metadata reload makes new ones)."""


def documents(entity: Entity, row: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(title terms, other terms) of a record, each ``<field>_<term>`` (in no particular order)."""
    title: list[str] = []
    body: list[str] = []
    fields, scoped = _plan(entity)
    for name, is_title, any_part in fields:
        value = row.get(name)
        if value is None or value == "":
            continue
        (title if is_title else body).extend([f"{name}_{t}" for t in value_terms(value, any_part=any_part)])
    body.extend(t for t in (_exact(name, row.get(name)) for name in scoped) if t)
    return title, body


PG_ROW = "(%s, setweight(array_to_tsvector(%s::text[]), 'A') || setweight(array_to_tsvector(%s::text[]), 'B'))"


def _insert_sql(entity_name: str, row: str = PG_ROW) -> str:
    t = table(entity_name)
    if is_postgres():
        return f'INSERT INTO "{t}" (id, doc) VALUES {row} ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc'
    return f'INSERT INTO "{t}" (rowid, title, body) VALUES (?, ?, ?)'


def _values(entity: Entity, row: dict[str, Any]) -> tuple[Any, ...]:
    title, body = documents(entity, row)
    if is_postgres():
        return (row["id"], title, body)
    return (row["id"], " ".join(title), " ".join(body))


def write_row(entity: Entity, row: dict[str, Any]) -> None:
    """Index one record (as stored) inside the caller's transaction, replacing its previous terms."""
    if not indexed_fields(entity):
        return
    if not is_postgres():
        remove_row(entity, row["id"])
    db.execute_sql(_insert_sql(entity.name), _values(entity, row))


def remove_row(entity: Entity, record_id: int) -> None:
    if not indexed_fields(entity):
        return
    key = "id" if is_postgres() else "rowid"
    db.execute_sql(f'DELETE FROM "{table(entity.name)}" WHERE {key} = {_param()}', (record_id,))



def write_rows(entity: Entity, rows: list[dict[str, Any]]) -> None:
    """Index many records (as stored, each with its ``id``, no id twice) inside the caller's transaction,
    replacing their previous terms: one prepared statement for all the rows (:func:`write_row` runs two
    statements a record; the import engine writes its batches here)."""
    if not rows or not indexed_fields(entity):
        return
    postgres = is_postgres()
    values = _batch_values(rows, postgres, entity)
    if postgres:
        from psycopg2.extras import execute_values

        with db.cursor() as cur:
            execute_values(cur, _insert_sql(entity.name, "%s"), values, template=PG_ROW, page_size=1000)
        return
    connection = db.connection()
    connection.executemany(f'DELETE FROM "{table(entity.name)}" WHERE rowid = ?', [(v[0],) for v in values])
    connection.executemany(_insert_sql(entity.name), values)

GIN_BUILD_MEMORY = "512MB"
"""``maintenance_work_mem`` of the rebuild's GIN index build (PostgreSQL; that transaction only)."""
PARALLEL_ROWS = 50_000
"""A rebuild of at least this many records cuts the terms in a second process (:func:`rebuild`)."""
_WORKER_ENTITY: list[Entity] = []


def _worker_init(entity: Entity) -> None:
    _WORKER_ENTITY[:] = [entity]


def _batch_values(rows: list[dict[str, Any]], postgres: bool, entity: Entity | None = None
                  ) -> list[tuple[Any, ...]]:
    """The index rows of a batch of records (in the rebuild's worker process, or in the caller's)."""
    entity = entity or _WORKER_ENTITY[0]
    out: list[tuple[Any, ...]] = []
    for row in rows:
        title, body = documents(entity, row)
        out.append((row["id"], title, body) if postgres else (row["id"], " ".join(title), " ".join(body)))
    return out


def rebuild(models: EntityModels, entity_name: str, *, batch: int = 5000,
            progress: Callable[[int, int, float], None] | None = None, workers: int | None = None) -> int:
    """Rebuild one entity's index from its table in batches (each its own transaction); the index is used
    again once complete. Returns the number of records indexed.

    With ``workers`` (default: 1 from :data:`PARALLEL_ROWS` records, else 0) a second process cuts each
    batch into terms (jieba, the term sets: half the work) while this one reads the next batch and writes the
    previous one: about twice as fast on two cores."""
    entity = models.entity(entity_name)
    model = models[entity_name]
    fields = [getattr(model, n) for n in stored_fields(entity)]
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

    def write(values: list[tuple[Any, ...]]) -> None:
        nonlocal done
        with db.atomic():
            if postgres:
                from psycopg2.extras import execute_values

                with db.cursor() as cur:
                    execute_values(cur, _insert_sql(entity_name, "%s"), values, template=PG_ROW, page_size=1000)
            else:
                db.connection().executemany(sql, values)
        done += len(values)
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
            rows = select_rows(model.select(model.id, *fields).where(model.id > last).order_by(model.id)
                               .limit(batch))
            if pool is None:
                if rows:
                    write(_batch_values(rows, postgres, entity))
            else:
                submitted = pool.submit(_batch_values, rows, postgres) if rows else None
                if pending is not None:
                    write(pending.result())
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


# -- queries -------------------------------------------------------------------------------------
def _fts5(node: Node, fields: list[str]) -> str:
    if isinstance(node, Exact):
        return f'"{node.text}"'
    if isinstance(node, Term):
        alternatives = [f'"{f}_{node.text}"' + (" *" if node.prefix else "") for f in fields]
        return alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"
    glue = " AND " if isinstance(node, AllOf) else " OR "
    return "(" + glue.join(_fts5(n, fields) for n in node.items) + ")"


def _tsquery(node: Node, fields: list[str]) -> str:
    if isinstance(node, Exact):
        return f"'{node.text}'"
    if isinstance(node, Term):
        alternatives = [f"'{f}_{node.text}'" + (":*" if node.prefix else "") for f in fields]
        return alternatives[0] if len(alternatives) == 1 else "(" + " | ".join(alternatives) + ")"
    glue = " & " if isinstance(node, AllOf) else " | "
    return "(" + glue.join(_tsquery(n, fields) for n in node.items) + ")"


def match_expression(node: Node, fields: list[str]) -> str:
    """The database's query text for ``node`` over ``fields`` (terms are word characters only)."""
    if not fields:
        raise ValueError("a text search needs at least one field")
    return _tsquery(node, fields) if is_postgres() else _fts5(node, fields)


def matching_ids(entity_name: str, node: Node, fields: list[str]) -> Any:
    """``SELECT id FROM the index WHERE it matches`` as a peewee node (for ``id IN (...)``)."""
    t = table(entity_name)
    text = match_expression(node, fields)
    if is_postgres():
        return NodeList((SQL(f'SELECT id FROM "{t}" WHERE doc @@ %s::tsquery', (text,)),))
    return NodeList((SQL(f'SELECT rowid FROM "{t}" WHERE "{t}" MATCH ?', (text,)),))


def ranked_ids(entity_name: str, node: Node, fields: list[str], candidates: list[int] | None, limit: int
               ) -> list[tuple[int, float]]:
    """(id, score) of the best matches, best first (higher score is better), among ``candidates`` (the ids
    the caller may see, e.g. its row scope's matches) or among every record (None)."""
    t = table(entity_name)
    text = match_expression(node, fields)
    if candidates is not None and not candidates:
        return []
    if is_postgres():
        sql = (f'SELECT id, ts_rank(doc, q) AS score FROM "{t}", CAST(%s AS tsquery) AS q WHERE doc @@ q'
               + (" AND id = ANY(%s)" if candidates is not None else "") + " ORDER BY score DESC, id LIMIT %s")
        params: tuple[Any, ...] = (text, *([candidates] if candidates is not None else []), limit)
    else:
        sql = (f'SELECT rowid, -bm25("{t}", {TITLE_WEIGHT}, 1.0) AS score FROM "{t}" WHERE "{t}" MATCH ?'
               + (" AND +rowid IN (SELECT value FROM json_each(?))" if candidates is not None else "")
               + " ORDER BY score DESC, rowid LIMIT ?")
        params = (text, *([json.dumps(candidates)] if candidates is not None else []), limit)
    cursor = db.execute_sql(sql, params)
    return [(int(r[0]), float(r[1])) for r in cursor.fetchall()]


def count_capped(entity_name: str, node: Node, fields: list[str], cap: int) -> int:
    """How many records match ``node``, counted up to ``cap`` (a word's document frequency, cheaply)."""
    t = table(entity_name)
    text = match_expression(node, fields)
    if is_postgres():
        sql = f'SELECT count(*) FROM (SELECT 1 FROM "{t}" WHERE doc @@ %s::tsquery LIMIT %s) AS m'
    else:
        sql = f'SELECT count(*) FROM (SELECT 1 FROM "{t}" WHERE "{t}" MATCH ? LIMIT ?)'
    return int(db.execute_sql(sql, (text, cap)).fetchone()[0])


def rebuild_all(models: EntityModels, skip: tuple[str, ...] = ()) -> dict[str, int]:
    """Rebuild every entity's index but ``skip`` (after a bulk load past the record service: the demo data)."""
    return {name: rebuild(models, name) for name, e in models.metadata.entities.items()
            if indexed_fields(e) and name not in skip}
