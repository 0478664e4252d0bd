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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpline.config import ROOT
from helpline.data.base import utcnow
from helpline.data.database import db, session, write_transaction
from helpline.data.entities import rows as select_rows
from helpline.data.imports import ImportRun, ensure_tables
from helpline.metadata.kinds import Entity
from helpline.metadata.kinds.imports import Import
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

from ..excel import workbook_bytes
from ..numbering import assign_numbers, numbered_fields
from ..values import clean_values
from .ahead import Ahead, Converted, converted_batches
from .changes import ImportRefused, delete_missing, undo_run
from .checks import among, row_checks
from .keys import MEMORY_KEYS, SeenKeys
from .rows import Mapping, RowConverter, RowProblem, map_headers
from .sources import SourceError, Table, open_source
from .words import both, field_problem, languages_of, line, say
from .writes import write_batch

if TYPE_CHECKING:
    from ..platform import Platform

log = logging.getLogger("helpline.imports")
UPLOADS = ROOT / "var" / "imports"
PREVIEW_ROWS = 20
KEPT_PROBLEMS = 2000
Progress = Callable[[int, int | None, "ImportReport"], None]

@dataclass
class ImportReport:
    """What a dry run or a run found and did."""

    definition: str
    dry_run: bool
    run_id: int | None = None
    status: str = "running"
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    """field → the file's header."""
    ignored: list[str] = field(default_factory=list)
    rows: int = 0
    total: int | None = None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0
    deleted: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    rejected_rows: list[tuple[int, list[Any], str]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "warnings": self.warnings, "deleted": self.deleted}


@dataclass
class _Pending:
    number: int
    cells: list[Any]
    values: dict[str, Any]
    existing: dict[str, Any] | None = None
    changes: dict[str, Any] = field(default_factory=dict)


class ImportService:
    """Imports for one platform (its metadata, models and categories)."""

    def __init__(self, platform: Platform, uploads: Path | None = None, memory_keys: int = MEMORY_KEYS) -> None:
        self.platform = platform
        self.uploads = uploads or UPLOADS
        self.memory_keys = memory_keys
        """The file's keys held in memory before the rest go to a temporary database (:class:`.keys.SeenKeys`)."""
        self._seen = SeenKeys(0)
        self.pipelined = True
        """Read and convert the next batch in a worker thread while this one is written (:mod:`.ahead`)."""

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
            report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
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
        ahead = Ahead(rows, converter, definition.batch_size) if self.pipelined else None
        batches = ahead if ahead is not None else converted_batches(rows, converter, definition.batch_size)
        try:
            for converted in batches:
                index += len(converted)
                self._batch(actor, definition, entity, converter.mapping.header, converted, report, run, index)
                if progress is not None:
                    progress(index, table.total, report)
                if cancel is not None and cancel.is_set() and len(converted) >= definition.batch_size:
                    return "cancelled"
        finally:
            if ahead is not None:
                ahead.close()
        return "done"

    def _reject(self, report: ImportReport, number: int, cells: list[Any], problems: list[RowProblem]) -> None:
        report.rejected += 1
        report.problems.extend(problems)
        report.rejected_rows.append((number, cells, "; ".join(p.text() for p in problems if p.severity == "error")))

    def _batch(self, actor: Actor, definition: Import, entity: Entity, head: dict[str, str],
               converted: list[Converted], report: ImportReport, run: ImportRun | None, index: int) -> None:
        model: Any = self.platform.models[entity.name]
        categories = self.platform.metadata.categories
        key = definition.key
        problems_from, rejected_from = len(report.problems), len(report.rejected_rows)
        keys = [str(v[key]) for _, _, v, p in converted if key and v.get(key) not in (None, "")]
        writer = write_transaction() if run is not None else db.atomic()
        with writer:
            existing: dict[str, dict[str, Any]] = {}
            if key and keys:
                column = getattr(model, key)
                for start in range(0, len(keys), 500):
                    for row in select_rows(model.select().where(among(column, keys[start:start + 500]))):
                        existing[str(row[key])] = row
            first = self._seen.first_rows(keys)  # the keys of earlier batches (and, below, of this one)
            pending: list[_Pending] = []
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
                    self._reject(report, number, cells, problems + [e for e in errors if e not in problems])
                    continue
                before = existing.get(k) if k is not None else None
                cleaned, field_errors = clean_values(entity, values, categories, previous=before,
                                                     partial=before is not None)
                numbered = numbered_fields(entity, cleaned, field_errors) if before is None else []
                if field_errors:
                    self._reject(report, number, cells, problems + [self._field_problem(
                        entity, number, head, f, values.get(f), e) for f, e in field_errors.items()])
                    continue
                item = _Pending(number, cells, cleaned, before)
                if before is not None:
                    item.changes = {f: v for f, v in cleaned.items() if before.get(f) != v}
                    if not item.changes:
                        report.unchanged += 1
                        report.warnings += sum(p.severity == "warning" for p in problems)
                        report.problems.extend(problems)
                        continue
                else:
                    assign_numbers(model, entity, cleaned, numbered)
                report.problems.extend(problems)
                report.warnings += sum(p.severity == "warning" for p in problems)
                pending.append(item)
            pending = self._check_links_and_rules(entity, pending, report, head)
            self._write(actor, entity, pending, report, run)
            # in the file's order, whichever check found them (a batch of one row gives the same report)
            report.problems[problems_from:] = sorted(report.problems[problems_from:], key=lambda p: p.row)
            report.rejected_rows[rejected_from:] = sorted(report.rejected_rows[rejected_from:], key=lambda r: r[0])
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

    def _check_links_and_rules(self, entity: Entity, pending: list[_Pending], report: ImportReport,
                               head: dict[str, str]) -> list[_Pending]:
        bad = row_checks(self.platform, entity, pending, head)
        for p in pending:
            if p.number in bad:
                self._reject(report, p.number, p.cells, bad[p.number])
        return [p for p in pending if p.number not in bad]

    def _write(self, actor: Actor, entity: Entity, pending: list[_Pending], report: ImportReport,
               run: ImportRun | None) -> None:
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


ERROR_COLUMNS = ("Error / 错误", "Row / 行")
"""The columns :func:`error_workbook` adds after the file's own (a fixed file uploaded again ignores them);
headed in one language when the workbook is made for a reader (``imports.col.error``, ``imports.col.row``)."""


def error_workbook(report: ImportReport, language: str | None = None) -> bytes:
    """The rejected rows with their cells as read and an error column naming each problem (formula-safe); in
    ``language`` (its headers and messages) when given, else with both languages' headers and English."""
    headers = [*report.headers, *ERROR_COLUMNS]
    worded: dict[int, list[str]] = {}
    if language is not None:
        headers[-2:] = [say(language, "imports.col.error"), say(language, "imports.col.row")]
        for p in report.problems:
            if p.severity == "error":
                worded.setdefault(p.row, []).append(line(p, language))
    rows = ([*cells, *([None] * (len(report.headers) - len(cells))),
             "; ".join(worded[number]) if number in worded else message, number]
            for number, cells, message in report.rejected_rows)
    return workbook_bytes("rejected", headers, rows)
