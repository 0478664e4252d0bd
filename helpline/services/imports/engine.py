"""Run an import: a dry run over every row in a transaction that is rolled back, or a real run committed in
batches with a checkpoint; the result record, the rejected-rows workbook, resuming and undo.

Each batch reads the existing records of its keys at once, validates every row as the record service would
(:func:`clean_values`, links, unique fields, validation rules), then writes its inserts with one statement, its
updates one by one (version checked and bumped), one audit entry per record and the undo log, and the run's
checkpoint (``rows_done``) in the same transaction. A file-level problem (not a workbook, a password, merged
cells, a required column missing) refuses the run before any row is written; a row-level problem rejects that
row only, and the dry run reports exactly the rows the real run would reject.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpline.config import ROOT
from helpline.data.base import utcnow
from helpline.data.database import db, is_sqlite, session, write_transaction
from helpline.data.entities import rows as select_rows
from helpline.data.imports import ImportRun, ensure_tables
from helpline.metadata.kinds import Entity
from helpline.metadata.kinds.imports import Import
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

from ..numbering import assign_numbers, numbered_fields
from ..values import clean_values
from .ahead import Ahead, Converted, converted_batches
from .batch import Checked, Pending, in_flight_of
from .behind import InFlight, WriteBehind
from .changes import ImportRefused, delete_missing, undo_run
from .checks import among, row_checks
from .keys import MEMORY_KEYS, SeenKeys
from .prepared import Prepared, prepare_inserts, send
from .report import ImportReport
from .rows import Mapping, RowConverter, RowProblem, map_headers
from .sources import SourceError, Table, open_source
from .words import both, failure, field_problem, languages_of, say
from .writes import write_batch

if TYPE_CHECKING:
    from ..platform import Platform

log = logging.getLogger("helpline.imports")
UPLOADS = ROOT / "var" / "imports"
PREVIEW_ROWS = 20
KEPT_PROBLEMS = 2000
Progress = Callable[[int, int | None, "ImportReport"], None]

def _on(flag: bool | None) -> bool:
    """A worker-thread flag: as set, or (None) on PostgreSQL only."""
    return not is_sqlite() if flag is None else flag


class ImportService:
    """Imports for one platform (its metadata, models and categories)."""

    writes_behind: bool | None = None
    """A real run writes each batch in a worker thread while it checks the next (:mod:`.behind`), the batch's
    COPY texts made by the checking thread (:mod:`.prepared`). None (the default): on PostgreSQL only, where the
    server is another process (the 1,000,000-row CSV: 231–244 s, in turn 314–356 s); on SQLite the statements
    run in this process and a second thread only adds GIL hand-overs. Never on an in-memory SQLite database nor
    for an entity linking to itself."""

    def __init__(self, platform: Platform, uploads: Path | None = None, memory_keys: int = MEMORY_KEYS) -> None:
        self.platform = platform
        self.uploads = uploads or UPLOADS
        self.memory_keys = memory_keys
        """The file's keys held in memory before the rest go to a temporary database (:class:`.keys.SeenKeys`)."""
        self._seen = SeenKeys(0)
        self.pipelined: bool | None = None
        """Read and convert the next batch in a worker thread while this one is written (:mod:`.ahead`). None (the
        default): on PostgreSQL only — on SQLite the thread cost more than it overlapped (the 100,000-row xlsx:
        24.4 s in one thread, 28.6 s with it)."""

    # -- set-up ---------------------------------------------------------------------------------------
    def definition(self, name: str) -> Import:
        found = self.platform.metadata.objects.get("import", {}).get(name)
        if not isinstance(found, Import):
            known = ", ".join(sorted(self.platform.metadata.objects.get("import", {}))) or "none"
            raise ImportRefused(f"no import definition '{name}' (metadata/imports/; defined: {known})")
        return found

    def definitions(self) -> list[Import]:
        return [o for _, o in sorted(self.platform.metadata.objects.get("import", {}).items()) if isinstance(o, Import)]

    def _allowed(self, actor: Actor, definition: Import, deleting: bool = False) -> Entity:
        """The definition's entity, when ``actor`` may import into it (and delete from it, when ``deleting``)."""
        entity = self.platform.metadata.entities.get(definition.entity)
        if entity is None:
            raise ImportRefused(f"import '{definition.name}': no entity '{definition.entity}'")
        try:
            actor.require_permission("import")
            if definition.mode != "update":
                actor.require(entity.name, "create")
            if definition.mode != "insert":
                actor.require(entity.name, "update")
            if deleting:
                actor.require(entity.name, "delete")
        except PermissionDenied:
            with session():
                audit(actor, "denied", entity=entity.name, detail={"action": "import", "definition": definition.name})
            raise
        return entity

    def store_upload(self, data: bytes, file_name: str) -> Path:
        """Keep an uploaded file where a run (and its resumption) reads it."""
        self.uploads.mkdir(parents=True, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(file_name).name)[-120:]
        path = self.uploads / f"{int(time.time() * 1000)}_{threading.get_ident() % 10000}_{safe}"
        path.write_bytes(data)
        return path

    def _open(self, definition: Import, entity: Entity, path: Path | None, name: str | None
              ) -> tuple[Table, Mapping, RowConverter]:
        table = open_source(definition.source, path, name)
        try:
            mapping = map_headers(definition, entity, table.headers)
        except SourceError:
            table.close()
            raise
        return table, mapping, RowConverter(definition, entity, mapping)

    # -- preview and dry run --------------------------------------------------------------------------
    def preview(self, actor: Actor, name: str, path: Path | None, file_name: str | None = None,
                limit: int = PREVIEW_ROWS) -> ImportReport:
        """The mapping and the first ``limit`` rows as they will be stored (nothing written)."""
        definition = self.definition(name)
        entity = self._allowed(actor, definition)
        table, mapping, converter = self._open(definition, entity, path, file_name)
        report = self._report(definition, True, table, mapping)
        try:
            for number, cells in table.rows:
                values, problems = converter.convert(number, cells)
                cleaned, errors = clean_values(entity, values, self.platform.metadata.categories,
                                               partial=definition.mode == "update")
                shown = {k: cleaned.get(k, values.get(k)) for k in mapping.header}
                shown["_row"] = number
                shown["_problems"] = "; ".join([p.message for p in problems] +
                                               [f"{mapping.header.get(k, k)}: {e.text()}" for k, e in errors.items()])
                shown["_problem_list"] = problems + [self._field_problem(entity, number, mapping.header, k,
                                                                         values.get(k), e) for k, e in errors.items()]
                report.preview.append(shown)
                if len(report.preview) >= limit:
                    break
        finally:
            table.close()
        return report

    def dry_run(self, actor: Actor, name: str, path: Path | None, file_name: str | None = None,
                progress: Progress | None = None) -> ImportReport:
        """Every row validated and written in a transaction that is then rolled back: the problems of each row
        and the counts a real run would give."""
        definition = self.definition(name)
        entity = self._allowed(actor, definition)
        table, mapping, converter = self._open(definition, entity, path, file_name)
        report = self._report(definition, True, table, mapping)
        started = time.perf_counter()
        try:
            with session():
                ensure_tables()
                with db.atomic() as txn:
                    self._process(actor, definition, entity, table, converter, report, None, 0, progress, None)
                    txn.rollback()
        finally:
            table.close()
            self._seen.close()
        report.status, report.seconds = "checked", round(time.perf_counter() - started, 3)
        return report

    # -- real run -------------------------------------------------------------------------------------
    def run(self, actor: Actor, name: str, path: Path | None, file_name: str | None = None, *,
            progress: Progress | None = None, cancel: threading.Event | None = None,
            confirm_delete: bool = False) -> ImportReport:
        """Load the rows in batches, each committed with the checkpoint; returns the result (kept in
        ``hl_import_run`` and audited)."""
        definition = self.definition(name)
        entity = self._allowed(actor, definition, deleting=confirm_delete and definition.delete_missing)
        table, mapping, converter = self._open(definition, entity, path, file_name)
        with session(), write_transaction():
            ensure_tables()
            shown = file_name or (path.name if path else "")
            run = ImportRun.create(definition=name, entity=entity.name, file_name=shown,
                                   stored_path=str(path or ""), started_by=actor.username, rows_total=table.total,
                                   confirm_delete=confirm_delete)
        return self._execute(actor, definition, entity, run, table, mapping, converter, progress, cancel)

    def resume(self, actor: Actor, run_id: int, *, progress: Progress | None = None,
               cancel: threading.Event | None = None) -> ImportReport:
        """Go on with a run that crashed, failed or was cancelled, after its last committed batch."""
        with session():
            ensure_tables()
            run = ImportRun.get_or_none(ImportRun.id == run_id)
        if run is None:
            raise ImportRefused(f"no import run {run_id}")
        if run.status not in ("failed", "cancelled", "interrupted", "running"):
            raise ImportRefused(f"import run {run_id} is {run.status}; only a failed, cancelled or interrupted run "
                                f"resumes", "imports.refused.not_resumable", run=run_id,
                                status=both(run.status, say("zh_CN", f"imports.status.{run.status}")))
        definition = self.definition(run.definition)
        entity = self._allowed(actor, definition, deleting=run.confirm_delete and definition.delete_missing)
        path = Path(run.stored_path) if run.stored_path else None
        table, mapping, converter = self._open(definition, entity, path, run.file_name or None)
        with session(), write_transaction():
            ImportRun.update(status="running", error="").where(ImportRun.id == run.id).execute()
        return self._execute(actor, definition, entity, run, table, mapping, converter, progress, cancel)

    def _execute(self, actor: Actor, definition: Import, entity: Entity, run: ImportRun, table: Table,
                 mapping: Mapping, converter: RowConverter, progress: Progress | None,
                 cancel: threading.Event | None) -> ImportReport:
        report = self._report(definition, False, table, mapping)
        report.run_id = run.id
        for name in ("inserted", "updated", "unchanged", "rejected", "warnings", "deleted"):
            setattr(report, name, getattr(run, name))
        report.problems = [RowProblem(**p) for p in (run.problems or [])]
        started = time.perf_counter()
        try:
            with session():
                status = self._process(actor, definition, entity, table, converter, report, run, run.rows_done,
                                       progress, cancel)
            if status == "done" and definition.delete_missing and run.confirm_delete:
                self._delete_missing(actor, definition, entity, run, report)
            if status == "done" and table.done is not None:
                table.done()
            report.status = status
        except Exception as exc:
            log.exception("import run %s failed", run.id)
            report.status, report.error = "failed", failure(exc)  # worded by key in each reader's language
        finally:
            table.close()
            self._seen.close()
        report.seconds = round((run.seconds or 0) + time.perf_counter() - started, 3)
        with session(), write_transaction():
            ImportRun.update(status=report.status, error=report.error, finished_at=utcnow(), seconds=report.seconds,
                             problems=[p.as_dict() for p in report.problems[:KEPT_PROBLEMS]]
                             ).where(ImportRun.id == run.id).execute()
            audit(actor, "import", entity=entity.name, record_id=run.id,
                  detail={"definition": definition.name, "file": run.file_name, "status": report.status,
                          **report.counts(), "seconds": report.seconds})
        return report

    def _report(self, definition: Import, dry: bool, table: Table, mapping: Mapping) -> ImportReport:
        return ImportReport(definition.name, dry, headers=list(table.headers), mapping=dict(mapping.header),
                            ignored=list(mapping.ignored), total=table.total)

    # -- the rows -------------------------------------------------------------------------------------
    def _process(self, actor: Actor, definition: Import, entity: Entity, table: Table, converter: RowConverter,
                 report: ImportReport, run: ImportRun | None, skip: int, progress: Progress | None,
                 cancel: threading.Event | None) -> str:
        seen = self._seen = SeenKeys(self.memory_keys)
        rows = iter(table.rows)
        index = 0
        for number, cells in itertools.islice(rows, skip):  # committed by an earlier attempt: only their keys
            index += 1
            values, _ = converter.convert(number, cells)
            if definition.key and values.get(definition.key) not in (None, ""):
                seen.add(str(values[definition.key]), number)
            report.rows = index
        ahead = Ahead(rows, converter, definition.batch_size) if _on(self.pipelined) else None
        batches = ahead if ahead is not None else converted_batches(rows, converter, definition.batch_size)
        behind = WriteBehind() if run is not None and self._writes_behind(entity) else None
        head = converter.mapping.header
        in_flight: InFlight | None = None
        committed = index
        failed = True
        try:
            for converted in batches:
                index += len(converted)
                if behind is None:  # checked and written in one transaction
                    with write_transaction() if run is not None else db.atomic():
                        checked = self._prepared(actor, entity, run, self._check(definition, entity, head, converted,
                                                                                report.dry_run, None))
                        self._commit(actor, entity, checked, report, run, index)
                    if progress is not None:
                        progress(index, table.total, report)
                    if cancel is not None and cancel.is_set() and len(converted) >= definition.batch_size:
                        failed = False
                        return "cancelled"
                    continue
                if in_flight is not None and in_flight.frees_unique and behind.wait() and progress is not None:
                    progress(committed, table.total, report)  # its old unique values are free once it commits
                checked = self._prepared(actor, entity, run, self._check(definition, entity, head, converted, False,
                                                                         in_flight))
                if behind.wait() and progress is not None:
                    progress(committed, table.total, report)
                if cancel is not None and cancel.is_set():
                    failed = False
                    return "cancelled"  # this batch checked, not written: a resumed run checks it again
                behind.submit(self._commit_alone(actor, entity, checked, report, run, index))
                in_flight, committed = checked.in_flight, index
            if behind is not None and behind.wait() and progress is not None:
                progress(committed, table.total, report)
            failed = False
        finally:
            if ahead is not None:
                ahead.close()
            if behind is not None:
                behind.close(raise_error=not failed)
        return "done"

    def _writes_behind(self, entity: Entity) -> bool:
        """Whether a real run writes each batch in a worker thread while it checks the next (:mod:`.behind`): not
        on an in-memory SQLite database (one connection) nor for an entity that links to itself (a row may
        name a record of the batch in flight)."""
        if not _on(self.writes_behind) or (is_sqlite() and str(db.obj.database) == ":memory:"):
            return False
        return not any(f.type == "link" and f.link == entity.name for f in entity.active_fields)

    def _reject(self, report: ImportReport, number: int, cells: list[Any], problems: list[RowProblem]) -> None:
        report.rejected += 1
        report.problems.extend(problems)
        report.rejected_rows.append((number, cells, "; ".join(p.text() for p in problems if p.severity == "error")))

    def _check(self, definition: Import, entity: Entity, head: dict[str, str], converted: list[Converted],
               dry: bool, in_flight: InFlight | None) -> Checked:
        """One batch's rows checked against the file's earlier keys, the database and ``in_flight`` (the batch
        being written meanwhile): the rows to write and what was found (counted in the batch's own report)."""
        model: Any = self.platform.models[entity.name]
        categories = self.platform.metadata.categories
        key = definition.key
        part = ImportReport(definition.name, dry)
        keys = [str(v[key]) for _, _, v, p in converted if key and v.get(key) not in (None, "")]
        existing: dict[str, dict[str, Any]] = {}
        if key and keys:
            column = getattr(model, key)
            for start in range(0, len(keys), 500):
                for row in select_rows(model.select().where(among(column, keys[start:start + 500]))):
                    existing[str(row[key])] = row
        first = self._seen.first_rows(keys)  # the keys of earlier batches (and, below, of this one)
        pending: list[Pending] = []
        zh_entity = entity.label.zh_CN if entity.label else entity.name
        named = {"entity": both(entity.name, zh_entity), "key": both(key, head.get(key or "", key or ""))}
        for number, cells, values, problems in converted:
            errors = [p for p in problems if p.severity == "error"]
            k = str(values[key]) if key and values.get(key) not in (None, "") else None
            if not errors and key and k is not None:
                if k in first:
                    errors.append(RowProblem(number, head.get(key, key), k, f"duplicate {key}: row "
                                             f"{first[k]} of the file has the same value",
                                             key="imports.problem.duplicate", params={**named, "value": k,
                                                                                     "row": first[k]}))
                else:
                    first[k] = number
                    self._seen.add(k, number)
                before = existing.get(k)
                if before is not None and definition.mode == "insert":
                    errors.append(RowProblem(number, head.get(key, key), k, f"a {entity.name} with {key} '{k}' "
                                             f"exists already (mode insert)", key="imports.problem.exists",
                                             params={**named, "value": k}))
                if before is None and definition.mode == "update":
                    errors.append(RowProblem(number, head.get(key, key), k, f"no {entity.name} with {key} "
                                             f"'{k}' (mode update)", key="imports.problem.no_record",
                                             params={**named, "value": k}))
            elif not errors and key and definition.mode != "insert":
                errors.append(RowProblem(number, head.get(key, key), None, f"the key {key} is empty",
                                         key="imports.problem.empty_key", params={"key": named["key"]}))
            if errors:
                self._reject(part, number, cells, problems + [e for e in errors if e not in problems])
                continue
            before = existing.get(k) if k is not None else None
            cleaned, field_errors = clean_values(entity, values, categories, previous=before,
                                                 partial=before is not None)
            numbered = numbered_fields(entity, cleaned, field_errors) if before is None else []
            if field_errors:
                self._reject(part, number, cells, problems + [self._field_problem(
                    entity, number, head, f, values.get(f), e) for f, e in field_errors.items()])
                continue
            item = Pending(number, cells, cleaned, before, numbered=numbered)
            if before is not None:
                item.changes = {f: v for f, v in cleaned.items() if before.get(f) != v}
                if not item.changes:
                    part.unchanged += 1
                    part.warnings += sum(p.severity == "warning" for p in problems)
                    part.problems.extend(problems)
                    continue
            part.problems.extend(problems)
            part.warnings += sum(p.severity == "warning" for p in problems)
            pending.append(item)
        bad = row_checks(self.platform, entity, pending, head, in_flight.unique if in_flight else None)
        for p in pending:
            if p.number in bad:
                self._reject(part, p.number, p.cells, bad[p.number])
        pending = [p for p in pending if p.number not in bad]
        return Checked(pending, part, in_flight_of(entity, pending))

    def _prepared(self, actor: Actor, entity: Entity, run: ImportRun | None, checked: Checked) -> Checked:
        """``checked`` with its new records made ready to send, where they can be (:mod:`.prepared`)."""
        checked.prepared = prepare_inserts(actor, entity, self.platform.models[entity.name], checked.pending,
                                           run.id if run is not None else None)
        return checked

    def _commit_alone(self, actor: Actor, entity: Entity, checked: Checked, report: ImportReport,
                      run: ImportRun | None, index: int) -> Callable[[], None]:
        """:meth:`_commit` in a write transaction of its own (the writer thread's job)."""
        def job() -> None:
            with write_transaction():
                self._commit(actor, entity, checked, report, run, index)
        return job

    def _commit(self, actor: Actor, entity: Entity, checked: Checked, report: ImportReport,
                run: ImportRun | None, index: int) -> None:
        """Write a checked batch in the caller's transaction (its new records numbered first), add what it
        found and did to ``report`` and, in a real run, the checkpoint."""
        model: Any = self.platform.models[entity.name]
        part = checked.part
        for item in checked.pending:
            if item.numbered:
                assign_numbers(model, entity, item.values, item.numbered)
        self._write(actor, entity, checked.pending, part, run, checked.prepared)
        # in the file's order, whichever check found them (a batch of one row gives the same report)
        part.problems.sort(key=lambda p: p.row)
        part.rejected_rows.sort(key=lambda r: r[0])
        for name in ("inserted", "updated", "unchanged", "rejected", "warnings"):
            setattr(report, name, getattr(report, name) + getattr(part, name))
        report.problems.extend(part.problems)
        report.rejected_rows.extend(part.rejected_rows)
        report.rows = index
        if run is not None:
            ImportRun.update(rows_done=index, inserted=report.inserted, updated=report.updated,
                             unchanged=report.unchanged, rejected=report.rejected, warnings=report.warnings,
                             ).where(ImportRun.id == run.id).execute()
        if len(report.problems) > KEPT_PROBLEMS * 5:
            del report.problems[KEPT_PROBLEMS * 5:]

    @staticmethod
    def _field_problem(entity: Entity, number: int, head: dict[str, str], name: str, value: Any, error: Any
                       ) -> RowProblem:
        """A field error of the entity's validation, worded as the record form words it."""
        f = entity.field(name)
        return field_problem(number, head.get(name, name), value, error, languages_of(f.label) if f else None)

    def _write(self, actor: Actor, entity: Entity, pending: list[Pending], report: ImportReport,
               run: ImportRun | None, prepared: Prepared | None = None) -> None:
        """Write a batch: ``prepared`` sent, else (none, or refused) by :func:`write_batch`."""
        if prepared is not None and send(prepared, report):
            return
        write_batch(actor, entity, self.platform.models[entity.name], pending, run.id if run is not None else None,
                    lambda p, problems: self._reject(report, p.number, p.cells, problems), report)

    def _delete_missing(self, actor: Actor, definition: Import, entity: Entity, run: ImportRun,
                        report: ImportReport) -> None:
        report.deleted = delete_missing(self.platform.models[entity.name], actor, definition, entity, run, self._seen)

    def undo(self, actor: Actor, run_id: int) -> int:
        """Take back what run ``run_id`` did, while no one changed its records since; returns the records
        restored. Refused (nothing changed) with the records changed since."""
        with session():
            ensure_tables()
            run = ImportRun.get_or_none(ImportRun.id == run_id)
        if run is None:
            raise ImportRefused(f"no import run {run_id}")
        definition = self.definition(run.definition)
        entity = self._allowed(actor, definition)
        return undo_run(self.platform.models[entity.name], actor, entity, run_id)

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest runs, as the import page lists them."""
        with session():
            ensure_tables()
            query: Any = ImportRun.select().order_by(ImportRun.id.desc()).limit(limit).dicts()
            return [dict(r) for r in query]

    def copy_for_run(self, path: Path) -> Path:
        """A copy of a file given on the command line, where a resumed run finds it again."""
        self.uploads.mkdir(parents=True, exist_ok=True)
        target = self.uploads / f"{int(time.time() * 1000)}_{path.name}"
        shutil.copyfile(path, target)
        return target
