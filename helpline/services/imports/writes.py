"""The writes of one import batch: its new records, its updates (version checked and bumped), one audit entry per
record, the undo log and the quick-search index — each kind with one statement a batch (a group of updates
changing the same fields: one statement on PostgreSQL, one prepared statement on SQLite), not one per row.

On PostgreSQL new records, their audit entries, undo-log rows and index entries each go in one ``COPY`` (ids taken
from the sequence first); a batch of new records only is usually made ready beforehand by :mod:`.prepared` and
only sent. psycopg2's ``executemany`` would make one round trip per row (6,000 a batch). On SQLite
``executemany`` of one prepared statement is the fastest (no network), the ids read back by the batch's unique key.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable, Collection
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg2
from peewee import CharField, Field, IntegerField, IntegrityError, TextField

from helpline.data.base import utcnow
from helpline.data.database import db, is_postgres
from helpline.data.imports import ImportChange
from helpline.data.jsonfield import JSONField, _default, dumps
from helpline.data.system import AuditEntry
from helpline.metadata.kinds import Entity
from helpline.security.actor import Actor

from .checks import among
from .rows import RowProblem

orjson: Any
try:  # a dependency of nicegui too; pinned in pyproject.toml
    import orjson
except ImportError:  # pragma: no cover
    orjson = None

_index_rows: Any
try:  # the text index of quick search, when this checkout has it
    from helpline.data.text_index import write_rows as _index_rows
except ImportError:  # pragma: no cover
    _index_rows = None

INTEGRITY = (IntegrityError, sqlite3.IntegrityError, psycopg2.IntegrityError)
"""A constraint refused a write: peewee's error, or the driver's own from the batch statements sent through a raw
cursor (``executemany``, ``execute_values``, ``COPY``), which peewee does not translate."""

Reject = Callable[[Any, list[RowProblem]], None]
"""Called with a pending row and its problems when the database refused it."""


def write_batch(actor: Actor, entity: Entity, model: Any, pending: list[Any], run_id: int | None,
                reject: Reject, counts: Any) -> None:
    """Write the checked rows ``pending`` (each with ``values``, ``existing`` and ``changes``) in the caller's
    transaction; ``counts.inserted``/``counts.updated`` grow by what was written. ``run_id`` None (a dry run):
    no undo log."""
    now = utcnow()
    inserts = [p for p in pending if p.existing is None]
    audits: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    detail = {"import_run": run_id or 0}  # one object: its JSON is made once a batch (see bulk_insert)
    key = next((f.name for f in entity.active_fields if f.unique and all(p.values.get(f.name) not in (None, "")
                                                                       for p in inserts)), None)
    if inserts:
        rows = [stamped(p.values, actor.username, now) for p in inserts]
        try:
            with db.atomic():
                ids: list[int | None] = list(insert_with_ids(model, rows, key))
        except INTEGRITY:  # a constraint the checks did not foresee: row by row, rejecting the culprits
            ids = []
            for p, row in zip(inserts, rows, strict=True):
                try:
                    with db.atomic():
                        ids.extend(insert_with_ids(model, [row]))
                except IntegrityError as exc:
                    reject(p, [RowProblem(p.number, "", None, str(exc))])
                    ids.append(None)
        for p, record_id in zip(inserts, ids, strict=True):
            if record_id is None:
                continue
            counts.inserted += 1
            audits.append(created_audit(actor, entity, record_id, p.values, detail))
            changes.append(inserted_change(run_id, record_id))
            p.values["id"] = record_id
    updates = [p for p in pending if p.existing is not None]
    done = update_rows(model, [(p.existing["id"], p.existing["version"], p.changes) for p in updates],
                       actor.username, now)
    for p in updates:
        before = p.existing
        if before["id"] not in done:
            reject(p, [RowProblem(p.number, "", None, "the record changed meanwhile")])
            continue
        counts.updated += 1
        old = {f: before.get(f) for f in p.changes}
        audits.append({"actor": actor.username, "action": "update", "entity": entity.name,
                       "record_id": str(before["id"]), "before": old, "after": p.changes, "detail": detail})
        changes.append({"run": run_id, "record_id": before["id"], "action": "update", "before": old,
                        "version": before["version"] + 1})
    bulk_insert(AuditEntry, audits)
    if run_id is not None:
        bulk_insert(ImportChange, changes)
    if pending and indexed(entity):
        # the quick-search index, in this transaction, from the values as written: one statement a batch
        written = [{**(p.existing or {}), **p.values} for p in pending]
        index_rows(entity, [r for r in written if r.get("id") is not None],
                   new={p.values["id"] for p in pending if p.existing is None and p.values.get("id") is not None})


def stamped(values: dict[str, Any], by: str, now: datetime) -> dict[str, Any]:
    """A new record's row: its values, who created it and when."""
    return {**values, "created_by": by, "updated_by": by, "created_at": now, "updated_at": now}


def created_audit(actor: Actor, entity: Entity, record_id: int, values: dict[str, Any], detail: dict[str, Any]
                  ) -> dict[str, Any]:
    """The audit entry of a record an import created (``detail``: the batch's one object)."""
    return {"actor": actor.username, "action": "create", "entity": entity.name, "record_id": str(record_id),
            "after": {"id": record_id, **values}, "detail": detail}


def inserted_change(run_id: int | None, record_id: int) -> dict[str, Any]:
    """The undo-log row of a record an import created."""
    return {"run": run_id, "record_id": record_id, "action": "insert", "version": 1}


def indexed(entity: Entity) -> bool:
    """Whether ``entity`` has a quick-search index (its writes keep it)."""
    if _index_rows is None:
        return False
    from helpline.data.text_index import indexed_fields

    return bool(indexed_fields(entity))


def index_rows(entity: Entity, rows: list[dict[str, Any]], new: Collection[int] = ()) -> None:
    """Write the quick-search index entries of ``rows`` (as stored, each with its ``id``) in the caller's
    transaction, replacing any they had (``new``: ids just inserted, none had an entry: PostgreSQL's ids come
    from a sequence, never used before). PostgreSQL: their old entries deleted by id and the new ones loaded
    with one ``COPY`` of ``id<TAB>tsvector`` lines (``text_rebuild.copy_text``: the entries a save writes) —
    ``execute_values`` of term arrays cost the client 7 s and the server 5 s more per 100,000 customers;
    SQLite: ``text_index.write_rows``."""
    if not rows:
        return
    if not is_postgres():
        _index_rows(entity, rows)
        return
    from helpline.data.text_index import table
    from helpline.data.text_rebuild import copy_text

    lines = copy_text(rows, entity)
    t = table(entity.name)
    old = [int(r["id"]) for r in rows if r["id"] not in new]
    with db.cursor() as cur:
        if old:
            cur.execute(f'DELETE FROM "{t}" WHERE id = ANY(%s)', (old,))
        copy_text_in(cur, f'COPY "{t}" (id, doc) FROM STDIN', lines)


def db_values(model: Any, rows: list[dict[str, Any]]) -> tuple[list[Any], list[list[Any]]]:
    """The fields written (all but an ``id`` the rows lack) and each row's database values; a column a row lacks
    takes its field's default. A JSON value that is the very object of the row before (a batch's shared
    ``detail``) is turned into JSON once."""
    fields = [f for f in model._meta.sorted_fields if not (f.name == "id" and "id" not in rows[0])]
    plan = [(f.name, _converter(f), f.default, callable(f.default)) for f in fields]  # looked up once, not per cell
    return fields, [[to_db(row[name]) if name in row else to_db(default() if dynamic else default)
                     for name, to_db, default, dynamic in plan] for row in rows]


def _converter(field: Any) -> Callable[[Any], Any]:
    """``field.db_value``, or what gives the same value faster: a text or whole number that is already one is
    kept as it is (peewee's ``adapt`` would make the same in two calls a cell), a JSON value is written by
    :func:`to_json` (each distinct object once)."""
    if isinstance(field, JSONField):
        return _once(to_json)
    to_db = field.db_value
    plain = type(field).db_value is Field.db_value
    if plain and isinstance(field, CharField | TextField) and type(field).adapt is CharField.adapt:
        return lambda v: v if type(v) is str else to_db(v)
    if plain and isinstance(field, IntegerField) and type(field).adapt is IntegerField.adapt:
        return lambda v: v if type(v) is int else to_db(v)
    return to_db  # type: ignore[no-any-return]


def to_json(value: Any) -> Any:
    """A JSON column's text as :class:`JSONField` writes it (None stays NULL), made by orjson (several times the
    speed of :func:`json.dumps`: the audit entry of every imported record holds all its values); the same
    value read back (floats may be spelled otherwise: ``1e-7`` for ``1e-07``). What orjson refuses (an integer
    over 64 bits) goes through :func:`helpline.data.jsonfield.dumps`."""
    if value is None:
        return None
    if orjson is not None:
        try:
            return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # orjson.JSONEncodeError is one
            pass
    return dumps(value)


def _once(to_db: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``to_db`` remembering its last value: the same object again is not converted again."""
    last: list[Any] = [None, None]

    def convert(value: Any) -> Any:
        if value is not last[0] or value is None:
            last[0], last[1] = value, to_db(value)
        return last[1]

    return convert


def _columns(fields: list[Any]) -> str:
    return ", ".join(f'"{f.column_name}"' for f in fields)


def bulk_insert(model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` with one statement (PostgreSQL: ``execute_values``, a round trip per 2,000 rows; SQLite:
    one prepared statement run for each row — peewee builds the SQL of every row again, 3 ms a row)."""
    if not rows:
        return
    fields, params = db_values(model, rows)
    table = model._meta.table_name
    if is_postgres():
        from psycopg2.extras import execute_values

        if copy_rows(table, fields, params):
            return
        with db.cursor() as cur:
            execute_values(cur, f'INSERT INTO "{table}" ({_columns(fields)}) VALUES %s', params, page_size=2000)
        return
    marks = ", ".join([db.param] * len(fields))
    db.cursor().executemany(f'INSERT INTO "{table}" ({_columns(fields)}) VALUES ({marks})', params)


def insert_with_ids(model: Any, rows: list[dict[str, Any]], key: str | None = None) -> list[int]:
    """Insert ``rows`` and return their ids in order: one statement for them all when ``key`` names a unique
    field every row fills (PostgreSQL: ``RETURNING`` the ids with the keys; SQLite: the ids read back by the
    keys), else one insert a row."""
    if not key or len(rows) == 1:
        return [model.insert(**row).execute() for row in rows]
    column = getattr(model, key)
    wanted = [str(row[key]) for row in rows]
    ids: dict[str, int] = {}
    if is_postgres():
        from psycopg2.extras import execute_values

        numbered = with_new_ids(model, rows)
        if numbered is not None:
            fields, params = db_values(model, numbered)
            if copy_rows(model._meta.table_name, fields, params):
                return [row["id"] for row in numbered]
        fields, params = db_values(model, rows)
        sql = (f'INSERT INTO "{model._meta.table_name}" ({_columns(fields)}) VALUES %s '
               f'RETURNING "{column.column_name}", "id"')
        with db.cursor() as cur:
            ids.update((str(k), i) for k, i in execute_values(cur, sql, params, page_size=len(params), fetch=True))
        return [ids[k] for k in wanted]
    bulk_insert(model, rows)
    for start in range(0, len(wanted), 500):
        ids.update((str(k), i) for k, i in model.select(column, model.id)
                   .where(among(column, wanted[start:start + 500])).tuples())
    return [ids[k] for k in wanted]


def with_new_ids(model: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """PostgreSQL: copies of ``rows`` each with the next id of the table's sequence (taken at once; what a
    rolled-back batch took is skipped, as an insert's would be), or None when the id has no sequence."""
    table = model._meta.table_name
    with db.cursor() as cur:
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (f'"{table}"',))
        sequence = cur.fetchone()[0]
        if sequence is None:
            return None
        cur.execute("SELECT nextval(%s) FROM generate_series(1, %s)", (sequence, len(rows)))
        return [{**row, "id": record_id} for row, (record_id,) in zip(rows, cur.fetchall(), strict=True)]


class NotCopyable(Exception):
    """A value :func:`copy_lines` does not write as COPY text (the caller's other way writes it)."""


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: Any) -> str:
    """One database value (after ``db_value``) as PostgreSQL's COPY text: ``\\N`` for NULL, a backslash, tab
    or line break escaped."""
    if value is None:
        return "\\N"
    kind = type(value)
    text: str
    if kind is str:
        text = value
    elif kind is int or kind is Decimal:
        return str(value)
    elif kind is float:
        return repr(value)
    elif kind is bool:
        return "t" if value else "f"
    elif kind is date or (kind is datetime and value.tzinfo is None):  # (psycopg2 casts an aware one)
        text = value.isoformat()
    else:
        raise NotCopyable(kind.__name__)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def copy_rows(table: str, fields: list[Any], params: list[list[Any]]) -> bool:
    """PostgreSQL: load ``params`` (database values of ``fields``) into ``table`` with one ``COPY`` — no
    statement of 40,000 parameters for the server to parse (a 2,000-row batch of customers: about half the
    time of ``execute_values``); False, nothing sent, when a value is of a type it does not write. A unique
    value taken fails the whole COPY (:data:`INTEGRITY`: the caller then goes row by row)."""
    try:
        text = copy_lines(params)
    except NotCopyable:
        return False
    with db.cursor() as cur:
        copy_text_in(cur, copy_sql(table, fields), text)
    return True


def copy_sql(table: str, fields: list[Any]) -> str:
    """The ``COPY … FROM STDIN`` of ``fields`` into ``table``."""
    return f'COPY "{table}" ({_columns(fields)}) FROM STDIN'


def copy_lines(params: list[list[Any]]) -> str:
    """Rows of database values as ``COPY`` text lines (:class:`NotCopyable` when a value has a type it does
    not write)."""
    return "".join(["\t".join([_copy_value(v) for v in row]) + "\n" for row in params])


def copy_text_in(cursor: Any, sql: str, text: str) -> None:
    """Send ``text`` to a ``COPY … FROM STDIN`` in one read. psycopg2 reads the file 8 KB at a time by default,
    each read a Python call that needs the GIL; while another thread of the run holds it (the converter), a
    read may wait up to the interpreter's switch interval (5 ms). A 2,000-row batch of customers is ~600 KB,
    ~75 reads. The gain on the 1,000,000-row CSV was within the machine's run-to-run variation."""
    cursor.copy_expert(sql, io.StringIO(text), size=max(8192, len(text) + 1))


def _pg_types(table: str) -> dict[str, str]:
    """PostgreSQL column types of ``table`` (the casts of an ``UPDATE … FROM (VALUES …)``), asked each batch
    with updates: a designer may have added or changed a column since, and another database may be open."""
    cursor = db.execute_sql("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", (f'"{table}"',))
    return dict(cursor.fetchall())


def update_rows(model: Any, items: list[tuple[int, int, dict[str, Any]]], by: str, now: datetime) -> set[int]:
    """Apply ``(id, version, changes)`` to each record whose version is still ``version`` (version bumped,
    ``updated_by``/``updated_at`` set); the ids updated — a record changed meanwhile is not. Rows changing the
    same fields go together: one ``UPDATE … FROM (VALUES …) RETURNING`` on PostgreSQL, one prepared statement
    run per row on SQLite (its rowcount tells)."""
    groups: dict[tuple[str, ...], list[tuple[int, int, dict[str, Any]]]] = {}
    for item in items:
        groups.setdefault(tuple(item[2]), []).append(item)
    done: set[int] = set()
    table = model._meta.table_name
    types = _pg_types(table) if groups and is_postgres() else {}
    for names, group in groups.items():
        fields = [model._meta.fields[n] for n in names]
        rows = [[rid, version, *(f.db_value(changes[f.name]) for f in fields)] for rid, version, changes in group]
        if is_postgres():
            from psycopg2.extras import execute_values

            cols = ["id", "version", *(f.column_name for f in fields)]
            template = "(" + ", ".join(f"%s::{types[c]}" for c in cols) + ")"
            sets = "".join(f'"{c}" = v."{c}", ' for c in cols[2:])
            listed = ", ".join(f'"{c}"' for c in cols)
            with db.cursor() as cur:
                by_sql, now_sql = (cur.mogrify("%s", (v,)).decode().replace("%", "%%") for v in (by, now))
                sql = (f'UPDATE "{table}" AS t SET {sets}"version" = t."version" + 1, "updated_by" = {by_sql}, '
                       f'"updated_at" = {now_sql} FROM (VALUES %s) AS v({listed}) '
                       f'WHERE t."id" = v."id" AND t."version" = v."version" RETURNING t."id"')
                done.update(i for (i,) in execute_values(cur, sql, rows, template=template, page_size=len(rows),
                                                         fetch=True))
            continue
        sets = "".join(f'"{f.column_name}" = ?, ' for f in fields)
        sql = (f'UPDATE "{table}" SET {sets}"version" = "version" + 1, "updated_by" = ?, "updated_at" = ? '
               f'WHERE "id" = ? AND "version" = ?')
        cursor = db.cursor()
        stamp = model._meta.fields["updated_at"].db_value(now)
        for rid, version, *values in rows:
            cursor.execute(sql, [*values, by, stamp, rid, version])
            if cursor.rowcount == 1:
                done.add(rid)
    return done
