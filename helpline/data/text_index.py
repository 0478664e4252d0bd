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
from collections.abc import Callable, Collection
from typing import Any

from peewee import SQL, NodeList

from helpline.metadata.kinds import Entity
from helpline.metadata.metaset import MetadataSet

from .conditions import All, Cmp, Cond
from .conditions import AnyOf as CondAnyOf
from .database import db, is_postgres
from .entities import EntityModels
from .text_tokens import AllOf, AnyOf, Exact, Node, Split, Term, field_terms

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


def is_document(entity: Entity) -> bool:
    """Whether an entity's records are documents, searched by questions: an indexed long text that is one of
    its quick-search fields (articles, bulletins, notes; not a customer's remarks)."""
    return any(f.type == "long_text" and f.text_search and f.name in entity.search_fields
               for f in entity.active_fields)


def gram_fields(entity: Entity) -> frozenset[str]:
    """The indexed single-line fields of an entity whose records are not documents (a customer's name and
    address): their Chinese runs are indexed by trigrams and joined to a number that follows, and a query
    matches there adjacent text (:mod:`text_tokens`), so a part of an address asks for short lists."""
    if is_document(entity):
        return frozenset()
    return frozenset(f.name for f in entity.active_fields if f.text_search and f.type != "long_text")


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


def scope_exact(entity: Entity, cond: Cond) -> bool:
    """Whether :func:`scope_node` checks ``cond`` exactly, not a superset: every part of it an equality or
    ``in`` on :func:`scope_fields` with values the index holds as they are (no case folded)."""
    if isinstance(cond, Cmp):
        values = (cond.value or []) if cond.op == "in" else [cond.value]
        return scope_node(entity, cond) is not None and all(str(v) == str(v).lower() for v in values)
    if isinstance(cond, (All, CondAnyOf)):
        return bool(cond.items) and all(scope_exact(entity, c) for c in cond.items)
    return False


def table(entity_name: str) -> str:
    return f"hl_text_{entity_name}"


def signature(entity: Entity) -> str:
    grams = sorted(gram_fields(entity))
    text = f"{TOKENS_VERSION}:{entity.title_field}:{','.join(stored_fields(entity))}"
    return hashlib.sha256((text + (f":grams={','.join(grams)}" if grams else "")).encode()).hexdigest()[:16]


_SYNONYM_GROUPS: dict[int, tuple[Any, list[list[str]]]] = {}
"""The groups of each synonym tree object (a search asks for them every time; a change installs a new tree)."""


def synonym_groups(metadata: MetadataSet) -> list[list[str]]:
    """The synonym dictionary: groups of terms a search treats as one (retired nodes left out). Worked out once
    per tree (the shared lists: not to be changed by the caller)."""
    tree = metadata.categories.get(SYNONYMS)
    if tree is None:
        return []
    cached = _SYNONYM_GROUPS.get(id(tree))
    if cached is not None and cached[0] is tree:
        return cached[1]
    by_code = {n.code: n for n in tree.nodes}
    groups: dict[str, list[str]] = {}
    for node in tree.nodes:
        if node.retired:
            continue
        root, seen = node, {node.code}
        while root.parent and root.parent in by_code and root.parent not in seen:  # to the top (a cycle stops)
            root = by_code[root.parent]
            seen.add(root.code)
        groups.setdefault(root.code, []).extend(t for t in (node.label.en, node.label.zh_CN) if t)
    found = [list(dict.fromkeys(g)) for g in groups.values() if len(g) > 1]
    if len(_SYNONYM_GROUPS) > 8:
        _SYNONYM_GROUPS.clear()
    _SYNONYM_GROUPS[id(tree)] = (tree, found)
    return found


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
    if ready:
        _statistics(entity)


DOCUMENT_STATISTICS = 1000
"""PostgreSQL's statistics target of a document index's column (the default is 100): its most common lexemes
— about 2,000, those held by more than 0.4 % of 100,000 articles — tell the document search which words are
common without counting them (:mod:`text_docs`); with the default only the 1,000 held by more than 5 %."""


def _statistics(entity: Entity) -> None:
    if is_postgres() and is_document(entity):
        db.execute_sql(f'ALTER TABLE "{table(entity.name)}" ALTER COLUMN doc SET STATISTICS {DOCUMENT_STATISTICS}')


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
            _statistics(entity)
            continue
        model = models[name]
        if model.select().limit(AUTO_REBUILD_ROWS + 1).count() <= AUTO_REBUILD_ROWS:
            rebuild(models, name)
        else:
            _set_state(entity, False)
            stale.append(name)
    return stale


# -- writes --------------------------------------------------------------------------------------
def _plan(entity: Entity) -> tuple[tuple[tuple[str, bool, bool, bool], ...], tuple[str, ...]]:
    """((field, is the title, any part, grams), ...) of the indexed fields and the scope fields of ``entity``
    (looked up once per entity: a rebuild calls :func:`documents` for every record)."""
    cached = _PLANS.get(id(entity))
    if cached is not None and cached[0] is entity:
        return cached[1]  # type: ignore[no-any-return]
    fields = []
    grams = gram_fields(entity)
    for name in indexed_fields(entity):
        f = entity.field(name)
        fields.append((name, name == entity.title_field, bool(f and f.type == "phone"), name in grams))
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
    for name, is_title, any_part, grams in fields:
        value = row.get(name)
        if value is None or value == "":
            continue
        (title if is_title else body).extend(field_terms(name, value, any_part=any_part, grams=grams))
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

def _batch_values(rows: list[dict[str, Any]], postgres: bool, entity: Entity) -> list[tuple[Any, ...]]:
    """The index rows of a batch of records: (id, title terms, other terms), SQLite's joined by spaces."""
    out: list[tuple[Any, ...]] = []
    for row in rows:
        title, body = documents(entity, row)
        out.append((row["id"], title, body) if postgres else (row["id"], " ".join(title), " ".join(body)))
    return out


def rebuild(models: EntityModels, entity_name: str, *, batch: int = 5000,
            progress: Callable[[int, int, float], None] | None = None, workers: int | None = None) -> int:
    """Rebuild one entity's index from its table (:func:`helpline.data.text_rebuild.rebuild`)."""
    from .text_rebuild import rebuild as rebuild_index

    return rebuild_index(models, entity_name, batch=batch, progress=progress, workers=workers)


# -- queries -------------------------------------------------------------------------------------
def _render(node: Node, fields: list[str], grams: frozenset[str], pg: bool) -> str:
    """FTS5 (``pg`` False) or tsquery text of ``node``: a term in any of ``fields``, a :class:`Split` word in
    its gram form over the gram fields among them and its plain form over the others."""
    if isinstance(node, Exact):
        return f"'{node.text}'" if pg else f'"{node.text}"'
    either = " | " if pg else " OR "
    if isinstance(node, Term):
        star = (":*" if pg else " *") if node.prefix else ""
        alternatives = [(f"'{f}_{node.text}'" if pg else f'"{f}_{node.text}"') + star for f in fields]
        return alternatives[0] if len(alternatives) == 1 else "(" + either.join(alternatives) + ")"
    if isinstance(node, Split):
        in_grams = [f for f in fields if f in grams]
        others = [f for f in fields if f not in grams]
        parts = ([_render(node.grams, in_grams, grams, pg)] if in_grams else []) + \
            ([_render(node.plain, others, grams, pg)] if others else [])
        return parts[0] if len(parts) == 1 else "(" + either.join(parts) + ")"
    glue = (" & " if pg else " AND ") if isinstance(node, AllOf) else either
    return "(" + glue.join(_render(n, fields, grams, pg) for n in node.items) + ")"


def match_expression(node: Node, fields: list[str], grams: Collection[str] = ()) -> str:
    """The database's query text for ``node`` over ``fields`` (terms are word characters only); ``grams``:
    the entity's :func:`gram_fields` (without them a :class:`Split` word is matched in its plain form, which
    a gram field holds too: slower, the same records)."""
    if not fields:
        raise ValueError("a text search needs at least one field")
    return _render(node, fields, frozenset(grams), is_postgres())


def matching_ids(entity_name: str, node: Node, fields: list[str], grams: Collection[str] = ()) -> Any:
    """``SELECT id FROM the index WHERE it matches`` as a peewee node (for ``id IN (...)``)."""
    t = table(entity_name)
    text = match_expression(node, fields, grams)
    if is_postgres():
        return NodeList((SQL(f'SELECT id FROM "{t}" WHERE doc @@ %s::tsquery', (text,)),))
    return NodeList((SQL(f'SELECT rowid FROM "{t}" WHERE "{t}" MATCH ?', (text,)),))


def row_matches(entity_name: str, node: Node, fields: list[str], grams: Collection[str], id_column: str) -> Any:
    """Whether the index entry of the row whose id is ``id_column`` (quoted SQL) matches, as a peewee node:
    one entry looked up by its key per row (PostgreSQL; a list walking its sort order, ``query._walk_page``)."""
    if not is_postgres():
        raise ValueError("row_matches is for PostgreSQL (SQLite's plan already walks the matches)")
    text = match_expression(node, fields, grams)
    return SQL(f'((SELECT doc FROM "{table(entity_name)}" WHERE id = {id_column}) @@ %s::tsquery)', (text,))


def ranked_ids(entity_name: str, node: Node, fields: list[str], candidates: list[int] | None, limit: int,
               grams: Collection[str] = (), first: int | None = None) -> list[tuple[int, float]]:
    """(id, score) of the best matches, best first (higher score is better), among ``candidates`` (the ids
    the caller may see, e.g. its row scope's matches) or among every record (None); with ``first``, among
    the first that many matches by id only (scoring reads each match's entry: a part of an address held by a
    whole county's customers would score thousands; PostgreSQL: the first in the index table's order — a
    bitmap scan gives no id order, and sorting by id would read every match's row — which is the id order
    after a rebuild, the rows a save wrote since at the end)."""
    t = table(entity_name)
    text = match_expression(node, fields, grams)
    if candidates is not None and not candidates:
        return []
    kept = [candidates] if candidates is not None else []
    if is_postgres():
        source = f'"{t}"' if first is None else \
            f'(SELECT id, doc FROM "{t}" WHERE doc @@ %s::tsquery LIMIT {int(first)}) AS m'
        sql = (f"SELECT id, ts_rank(doc, q) AS score FROM {source}, CAST(%s AS tsquery) AS q WHERE doc @@ q"
               + (" AND id = ANY(%s)" if candidates is not None else "") + " ORDER BY score DESC, id LIMIT %s")
        params: tuple[Any, ...] = (*([text] if first is not None else []), text, *kept, limit)
    else:
        sql = (f'SELECT rowid, -bm25("{t}", {TITLE_WEIGHT}, 1.0) AS score FROM "{t}" WHERE "{t}" MATCH ?'
               + (" AND +rowid IN (SELECT value FROM json_each(?))" if candidates is not None else "")
               + ("" if first is None else f' AND rowid <= (SELECT max(rowid) FROM (SELECT rowid FROM "{t}" '
                  f'WHERE "{t}" MATCH ? ORDER BY rowid LIMIT {int(first)}))')
               + " ORDER BY score DESC, rowid LIMIT ?")
        params = (text, *[json.dumps(c) for c in kept], *([text] if first is not None else []), limit)
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
    from .text_rebuild import rebuild_all as rebuild_every

    return rebuild_every(models, skip)
