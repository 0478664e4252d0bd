"""The next batch converted in a worker thread while the current one is written (:mod:`helpline.services.imports
.ahead`): the same records, problems and counts as converting in turn; cancel and a failed conversion leave whole
batches only."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from imp_helpers import HEADERS, write_xlsx

from helpline.data.database import is_postgres, session
from helpline.data.imports import ImportRun
from helpline.security.actor import Actor
from helpline.services.imports import ImportService
from helpline.services.imports.rows import RowConverter
from helpline.services.imports.words import failure_text

SYSTEM = Actor.system()
FIELDS = ("customer_no", "name", "phone", "birth_date", "value_tier", "city", "address")


def _rows(n: int) -> list[list[Any]]:
    rows: list[list[Any]] = [[f"C{i:05d}", f"客户{i}", f"0731-8{i:06d}", "1980/3/5", "03", "changsha", f"长沙 {i} 号"]
                             for i in range(1, n + 1)]
    rows[1][2] = "12-34"          # rejected by a cleansing rule (batch 1)
    rows[4][4] = "09"             # not in the code table (batch 3)
    rows[7][3] = "2020-13-45"     # not a date (batch 4)
    rows[8][6] = None             # a warning only (batch 5)
    rows[10] = list(rows[5])      # a duplicate of row 7 (batch 6)
    rows[12][5] = "atlantis"      # no such region (batch 7)
    return rows


def _stored(imp: ImportService) -> list[tuple[Any, ...]]:
    model = imp.platform.models["customer"]
    with session():
        return sorted(tuple(r[f] for f in FIELDS) for r in model.select().dicts())


def _found(report: Any) -> tuple[Any, ...]:
    return (report.counts(), [(p.row, p.column, p.severity, p.text()) for p in report.problems],
            [(n, c, m) for n, c, m in report.rejected_rows], report.rows)


def test_pipelined_run_equals_the_sequential_run(imp: ImportService, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [HEADERS, *_rows(15)])
    imp.pipelined = False
    sequential = imp.run(SYSTEM, "small_customers", path)
    records = _stored(imp)
    dry_sequential = imp.dry_run(SYSTEM, "small_customers", path)
    assert imp.undo(SYSTEM, sequential.run_id) == sequential.inserted and _stored(imp) == []
    imp.pipelined = True
    pipelined = imp.run(SYSTEM, "small_customers", path)
    assert sequential.status == pipelined.status == "done"
    assert sequential.counts()["rejected"] == 5 and sequential.warnings == 1
    assert _found(pipelined) == _found(sequential)
    assert _stored(imp) == records and len(records) == 10
    assert _found(imp.dry_run(SYSTEM, "small_customers", path)) == _found(dry_sequential)


def test_cancel_leaves_whole_batches_and_resume_completes(imp: ImportService, tmp_path: Path) -> None:
    path = imp.copy_for_run(write_xlsx(tmp_path / "c.xlsx", [HEADERS, *_rows(15)]))
    cancel = threading.Event()
    done: list[int] = []

    def progress(index: int, total: int | None, report: Any) -> None:
        done.append(index)
        if len(done) == 3:
            cancel.set()

    imp.pipelined = True  # (the default on PostgreSQL only)
    first = imp.run(SYSTEM, "small_customers", path, progress=progress, cancel=cancel)
    assert first.status == "cancelled" and done == [2, 4, 6]
    with session():
        assert ImportRun.get_by_id(first.run_id).rows_done == 6
    assert [r[0] for r in _stored(imp)] == ["C00001", "C00003", "C00004", "C00006"], "rows 2-7: batches 1-3 only"
    assert not [t for t in threading.enumerate() if t.name == "import-convert"], "the worker stopped"
    second = imp.resume(SYSTEM, first.run_id)
    assert second.status == "done" and (second.inserted, second.rejected) == (10, 5)
    assert len(_stored(imp)) == 10


def test_a_conversion_error_fails_the_run_before_its_batch(imp: ImportService, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = imp.copy_for_run(write_xlsx(tmp_path / "c.xlsx", [HEADERS, *_rows(15)]))
    convert = RowConverter.convert
    threads: set[str] = set()

    def failing(self: RowConverter, number: int, cells: list[Any]) -> Any:
        threads.add(threading.current_thread().name)
        if number == 9:  # the second row of batch 4 (rows 8-9)
            raise RuntimeError(f"row {number}: the converter broke")
        return convert(self, number, cells)

    monkeypatch.setattr(RowConverter, "convert", failing)
    imp.pipelined = True
    first = imp.run(SYSTEM, "small_customers", path)
    assert first.status == "failed" and failure_text(first.error, "en") == (
        "the run stopped on an unexpected error; the batches committed before stay: resume the run once the cause is "
        "removed (technical detail: RuntimeError: row 9: the converter broke)")
    assert threads == {"import-convert"}, "converted in the worker only"
    with session():
        assert ImportRun.get_by_id(first.run_id).rows_done == 6
    assert len(_stored(imp)) == 4, "batches 1-3 written, nothing of row 8 (a good row of the failed batch)"
    monkeypatch.setattr(RowConverter, "convert", convert)
    assert imp.resume(SYSTEM, first.run_id).inserted == 10 and len(_stored(imp)) == 10


def test_worker_threads_by_default_on_postgresql_only(imp: ImportService, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """By default a run reads ahead and writes behind in worker threads on PostgreSQL (another process does the
    database's work meanwhile); on SQLite the statements run in this process and a second thread only adds GIL
    hand-overs (bench_import's 100,000-row xlsx: 24-28 s in one thread, 28.6-30.7 s with them)."""
    convert = RowConverter.convert
    threads: set[str] = set()

    def watched(self: RowConverter, number: int, cells: list[Any]) -> Any:
        threads.add(threading.current_thread().name)
        return convert(self, number, cells)

    monkeypatch.setattr(RowConverter, "convert", watched)
    report = imp.run(SYSTEM, "small_customers", write_xlsx(tmp_path / "c.xlsx", [HEADERS, *_rows(15)]))
    assert report.status == "done"
    assert threads == ({"import-convert"} if is_postgres() else {"MainThread"})
    assert imp._writes_behind(imp.platform.metadata.entities["customer"]) == is_postgres()
