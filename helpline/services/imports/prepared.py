"""A batch of new records made ready for PostgreSQL before its write transaction: their ids taken from the table's
sequence and every ``COPY`` text built (the records, their audit entries, the undo log, the quick-search index),
so that the transaction only sends them.

With the writer thread (:mod:`.behind`) this is the checking thread's work. Building the texts is Python (the
index terms, COPY's escaping, the audit entries' JSON): done in the writer, it held the GIL against the next
batch's checks, and the server's time hardly overlapped them. Left to the writer are the sends, during which the
driver releases the GIL. Without the writer the same steps run in turn.

A batch with an update, a field to number at write time or a value COPY does not write is not prepared
(:func:`prepare_inserts` says None) and :func:`.writes.write_batch` writes it; so is a prepared batch a constraint
refused (:func:`send` says False, nothing of it written), row by row as that function does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpline.data.base import utcnow
from helpline.data.database import db, is_postgres
from helpline.data.imports import ImportChange
from helpline.data.system import AuditEntry
from helpline.metadata.kinds import Entity
from helpline.security.actor import Actor

from .writes import (
    INTEGRITY,
    NotCopyable,
    copy_lines,
    copy_sql,
    copy_text_in,
    created_audit,
    db_values,
    indexed,
    inserted_change,
    stamped,
    with_new_ids,
)


@dataclass
class Prepared:
    """A batch's new records with their ids, and the ``COPY`` statements that write them, records first."""

    pending: list[Any]
    ids: list[int]
    copies: list[tuple[str, str]]
    """``(COPY … FROM STDIN, its text)`` in the order sent."""


def prepare_inserts(actor: Actor, entity: Entity, model: Any, pending: list[Any], run_id: int | None
                    ) -> Prepared | None:
    """PostgreSQL: the checked rows ``pending``, all new, made ready to send (ids taken now: a sequence is outside
    any transaction, what a batch never sent took is skipped as a rolled-back insert's would be); None when the
    database is SQLite or a row is an update, has a field to number, or a value COPY does not write."""
    if not is_postgres() or not pending or any(p.existing is not None or p.numbered for p in pending):
        return None
    now = utcnow()  # one time for the batch, as write_batch stamps it
    rows = with_new_ids(model, [stamped(p.values, actor.username, now) for p in pending])
    if rows is None:
        return None
    ids = [int(row["id"]) for row in rows]
    detail = {"import_run": run_id or 0}  # one object: its JSON is made once a batch (writes.db_values)
    tables: list[tuple[Any, list[dict[str, Any]]]] = [
        (model, rows), (AuditEntry, [created_audit(actor, entity, i, p.values, detail)
                                     for p, i in zip(pending, ids, strict=True)])]
    if run_id is not None:
        tables.append((ImportChange, [inserted_change(run_id, i) for i in ids]))
    copies: list[tuple[str, str]] = []
    try:
        for table_model, table_rows in tables:
            fields, params = db_values(table_model, table_rows)
            copies.append((copy_sql(table_model._meta.table_name, fields), copy_lines(params)))
    except NotCopyable:
        return None
    if indexed(entity):
        from helpline.data.text_index import table
        from helpline.data.text_rebuild import copy_text

        written = [{**p.values, "id": i} for p, i in zip(pending, ids, strict=True)]
        copies.append((f'COPY "{table(entity.name)}" (id, doc) FROM STDIN', copy_text(written, entity)))
    return Prepared(pending, ids, copies)


def send(prepared: Prepared, counts: Any) -> bool:
    """Send ``prepared`` in the caller's transaction (``counts.inserted`` grows, each row's values get its id);
    False, nothing of it written (a savepoint), when a constraint refused it."""
    try:
        with db.atomic(), db.cursor() as cur:
            for sql, text in prepared.copies:
                copy_text_in(cur, sql, text)
    except INTEGRITY:
        return False
    for p, record_id in zip(prepared.pending, prepared.ids, strict=True):
        p.values["id"] = record_id
    counts.inserted += len(prepared.ids)
    return True
