"""What a run changed: deleting the records a source no longer has, and undoing a run.

Each insert, update and delete of a run is kept in ``hl_import_change`` with the record's version after the run
(and, for updates and deletes, the values it replaced). Undo checks every record first: one changed since by
anyone (its version moved on) refuses the whole undo with the records named; otherwise inserts are deleted,
updates restored (version bumped) and deletes put back, in one transaction, audited.
"""

from __future__ import annotations

from typing import Any

from helpline.data.base import utcnow
from helpline.data.database import session, write_transaction
from helpline.data.entities import rows as select_rows
from helpline.data.imports import ImportChange, ImportRun
from helpline.data.text_index import remove_row, write_row
from helpline.metadata.kinds import Entity
from helpline.metadata.kinds.imports import Import
from helpline.security.actor import Actor
from helpline.security.audit import audit


class ImportRefused(ValueError):
    """A run cannot start or be undone; the message says why. Nothing was changed."""


def delete_missing(model: Any, actor: Actor, definition: Import, entity: Entity, run: ImportRun,
                   seen: dict[Any, int]) -> int:
    """Delete the records whose key the source lacks (declared by the definition and confirmed by the run)."""
    key = definition.key or ""
    with session(), write_transaction():
        gone = [r for r in select_rows(model.select()) if str(r.get(key)) not in seen]
        for row in gone:
            model.delete().where(model.id == row["id"]).execute()
            remove_row(entity, row["id"])
            ImportChange.create(run=run.id, record_id=row["id"], action="delete", before=row)
            audit(actor, "delete", entity=entity.name, record_id=row["id"], detail={"import_run": run.id})
        ImportRun.update(deleted=len(gone)).where(ImportRun.id == run.id).execute()
    return len(gone)


def undo_run(model: Any, actor: Actor, entity: Entity, run_id: int) -> int:
    """Undo run ``run_id`` (see the module docstring); the number of records restored."""
    with session(), write_transaction():
        run = ImportRun.get_by_id(run_id)
        if run.status == "undone":
            raise ImportRefused(f"import run {run_id} was undone already")
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
            raise ImportRefused(f"import run {run_id} cannot be undone: {len(newer)} of its records changed since "
                                f"— {', '.join(newer[:10])}{' …' if len(newer) > 10 else ''}")
        for c in changes:
            if c.action == "insert":
                model.delete().where(model.id == c.record_id).execute()
                remove_row(entity, c.record_id)
                continue
            if c.action == "update":
                model.update(**c.before, version=model.version + 1, updated_by=actor.username,
                             updated_at=utcnow()).where(model.id == c.record_id).execute()
            else:
                model.insert(**c.before).execute()
            for row in select_rows(model.select().where(model.id == c.record_id)):
                write_row(entity, row)  # the quick-search index follows the restored values
        ImportRun.update(status="undone").where(ImportRun.id == run_id).execute()
        audit(actor, "import_undo", entity=entity.name, record_id=run_id, detail={"records": len(changes)})
        return len(changes)
