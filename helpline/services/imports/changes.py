"""What a run changed: deleting the records a source no longer has, and undoing a run.

Each insert, update and delete of a run is kept in ``hl_import_change`` with the record's version after the run
(and, for updates and deletes, the values it replaced). Undo checks every record first: one changed since by
anyone (its version moved on) refuses the whole undo with the records named; otherwise inserts are deleted,
updates restored (version bumped) and deletes put back, in one transaction, audited. A deleted record is kept
whole — a secret field's stored hash too, not the "is set" a read gives — and put back with its dates and times
as they were (the undo log holds them as ISO text).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from peewee import DateField, DateTimeField

from helpline.data.base import utcnow
from helpline.data.database import session, write_transaction
from helpline.data.entities import SecretField, read_secret
from helpline.data.entities import rows as select_rows
from helpline.data.imports import ImportChange, ImportRun
from helpline.data.text_index import remove_row, write_row
from helpline.metadata.kinds import Entity
from helpline.metadata.kinds.imports import Import
from helpline.security.actor import Actor
from helpline.security.audit import audit

from .keys import SeenKeys


class ImportRefused(ValueError):
    """A run cannot start or be undone; the message says why. Nothing was changed. ``key`` and ``params`` word
    it in a reader's language (:func:`.words.refusal`)."""

    def __init__(self, message: str, key: str = "", **params: Any) -> None:
        super().__init__(message)
        self.key, self.params = key, params


def delete_missing(model: Any, actor: Actor, definition: Import, entity: Entity, run: ImportRun,
                   seen: SeenKeys) -> int:
    """Delete the records whose key the source lacks (declared by the definition and confirmed by the run);
    the keys are read and looked up 500 at a time, and only the records to delete are read whole."""
    key = definition.key or ""
    secrets = [name for name, f in model._meta.fields.items() if isinstance(f, SecretField)]
    with session(), write_transaction():
        ids: list[int] = []
        last = 0
        while True:  # the ids and keys of 500 records at a time, in the order of their ids
            chunk = [(i, str(k)) for i, k in model.select(model.id, getattr(model, key)).where(
                model.id > last).order_by(model.id).limit(500).tuples()]
            if not chunk:
                break
            found = seen.first_rows(k for _, k in chunk)
            ids.extend(i for i, k in chunk if k not in found)
            last = chunk[-1][0]
        gone = [r for start in range(0, len(ids), 500)
                for r in select_rows(model.select().where(model.id.in_(ids[start:start + 500])).order_by(model.id))]
        for row in gone:
            kept = {**row, **{name: read_secret(model, name, row["id"]) for name in secrets}}
            model.delete().where(model.id == row["id"]).execute()
            remove_row(entity, row["id"])
            ImportChange.create(run=run.id, record_id=row["id"], action="delete", before=kept)
            audit(actor, "delete", entity=entity.name, record_id=row["id"], detail={"import_run": run.id})
        ImportRun.update(deleted=len(gone)).where(ImportRun.id == run.id).execute()
    return len(gone)


def undo_run(model: Any, actor: Actor, entity: Entity, run_id: int) -> int:
    """Undo run ``run_id`` (see the module docstring); the number of records restored."""
    with session(), write_transaction():
        run = ImportRun.get_by_id(run_id)
        if run.status == "undone":
            raise ImportRefused(f"import run {run_id} was undone already", "imports.refused.undone", run=run_id)
        changes = list(ImportChange.select().where(ImportChange.run == run_id).order_by(ImportChange.id.desc()))
        current: dict[int, tuple[int, str]] = {}
        ids = [c.record_id for c in changes]
        for start in range(0, len(ids), 500):
            for rid, version, by in model.select(model.id, model.version, model.updated_by).where(
                    model.id.in_(ids[start:start + 500])).tuples():
                current[rid] = (version, by)
        newer = [f"{entity.name} {c.record_id}" + (f" (by {current[c.record_id][1]})" if c.record_id in current
                                                    else " (deleted)")
                 for c in changes if c.action != "delete" and current.get(c.record_id, (None, ""))[0] != c.version]
        if newer:
            more = " …" if len(newer) > 10 else ""
            chinese = [f"{entity.label.zh_CN if entity.label and entity.label.zh_CN else entity.name} {c.record_id}"
                       + (f"（{current[c.record_id][1]}）" if c.record_id in current else "（已删除）")
                       for c in changes if c.action != "delete"
                       and current.get(c.record_id, (None, ""))[0] != c.version][:10]
            raise ImportRefused(f"import run {run_id} cannot be undone: {len(newer)} of its records changed since "
                                f"— {', '.join(newer[:10])}{more}", "imports.refused.changed_since", run=run_id,
                                count=len(newer), records={"en": ", ".join(newer[:10]) + more,
                                                           "zh_CN": "、".join(chinese) + more})
        for c in changes:
            before = _typed(model, c.before or {})
            if c.action == "insert":
                model.delete().where(model.id == c.record_id).execute()
                remove_row(entity, c.record_id)
                continue
            if c.action == "update":
                model.update(**before, version=model.version + 1, updated_by=actor.username,
                             updated_at=utcnow()).where(model.id == c.record_id).execute()
            else:
                model.insert(**before).execute()
            for row in select_rows(model.select().where(model.id == c.record_id)):
                write_row(entity, row)  # the quick-search index follows the restored values
        ImportRun.update(status="undone").where(ImportRun.id == run_id).execute()
        audit(actor, "import_undo", entity=entity.name, record_id=run_id, detail={"records": len(changes)})
        return len(changes)


def _typed(model: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Values of the undo log (JSON: dates and times as ISO text) as the record's columns hold them."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        column = model._meta.fields.get(name)
        if isinstance(value, str) and isinstance(column, DateTimeField):
            value = datetime.fromisoformat(value)
        elif isinstance(value, str) and isinstance(column, DateField):
            value = date.fromisoformat(value[:10])
        out[name] = value
    return out
