"""A real run writes each batch in a worker thread while it checks the next (:mod:`helpline.services.imports
.behind`): the same records, problems and counts as checking and writing in turn, a unique value of the batch in
flight refused as if it were committed, a freed one taken only after it is, and a failed write leaves whole
batches with the checkpoint on the last committed one."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from imp_helpers import write_xlsx

import helpline.services.imports.engine as engine
from helpline.data.database import is_postgres, session
from helpline.data.imports import ImportRun
from helpline.security.actor import Actor
from helpline.services.imports import ImportService
from helpline.services.imports.words import failure_text

SYSTEM = Actor.system()
HEADERS = ["客户编号", "姓名", "智能卡号", "市州", "地址"]


def _row(i: int, card: str | None = None) -> list[Any]:
    return [f"C{i:03d}", f"客户{i}", card or f"8739{i:08d}", "changsha", f"长沙 {i} 号"]


def _stored(imp: ImportService) -> list[tuple[Any, ...]]:
    model = imp.platform.models["customer"]
    with session():
        return sorted((r["customer_no"], r["smart_card_no"]) for r in model.select().dicts())


def _found(report: Any) -> tuple[Any, ...]:
    return (report.status, report.counts(), [(p.row, p.column, p.key, p.text()) for p in report.problems],
            [(n, m) for n, _, m in report.rejected_rows], report.rows)


def _both_ways(imp: ImportService, path: Path, name: str = "small_customers") -> tuple[Any, Any]:
    """The run written in turn, undone, then written behind: both reports and what each stored."""
    imp.writes_behind = False
    in_turn = imp.run(SYSTEM, name, path)
    stored = _stored(imp)
    imp.undo(SYSTEM, in_turn.run_id)
    imp.writes_behind = True
    behind = imp.run(SYSTEM, name, path)
    assert _stored(imp) == stored
    return in_turn, behind


def test_writes_happen_in_the_writer_thread(imp: ImportService, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch is written by the writer; on PostgreSQL its COPY texts were made by the checking thread
    (:mod:`helpline.services.imports.prepared`), so the writer only sends them."""
    write, prepare = engine.ImportService._write, engine.prepare_inserts
    threads: set[str] = set()
    prepared: list[tuple[str, bool]] = []

    def watched(*args: Any, **kwargs: Any) -> None:
        threads.add(threading.current_thread().name)
        write(*args, **kwargs)

    def preparing(*args: Any, **kwargs: Any) -> Any:
        made = prepare(*args, **kwargs)
        prepared.append((threading.current_thread().name, made is not None))
        return made

    monkeypatch.setattr(engine.ImportService, "_write", watched)
    monkeypatch.setattr(engine, "prepare_inserts", preparing)
    imp.writes_behind = True
    report = imp.run(SYSTEM, "small_customers", write_xlsx(tmp_path / "c.xlsx", [HEADERS, *map(_row, range(1, 8))]))
    assert (report.status, report.inserted) == ("done", 7) and threads == {"import-write"}
    assert {name for name, _ in prepared} == {"MainThread"} and len(prepared) == 4
    assert all(made == is_postgres() for _, made in prepared)
    assert not [t for t in threading.enumerate() if t.name == "import-write"], "the writer stopped"
    with session():
        assert ImportRun.get_by_id(report.run_id).rows_done == 7


def test_a_unique_value_of_the_batch_in_flight_is_taken(imp: ImportService, tmp_path: Path) -> None:
    """Row 3 (batch 1, being written) and row 4 (batch 2, checked meanwhile) have the same smart card: the second
    is refused exactly as when batch 1 was committed before batch 2 was checked."""
    rows = [_row(1), _row(2, "873900000777"), _row(3, "873900000777"), _row(4), _row(5, "873900000777")]
    in_turn, behind = _both_ways(imp, write_xlsx(tmp_path / "c.xlsx", [HEADERS, *rows]))
    assert _found(behind) == _found(in_turn)
    assert [(p.row, p.key) for p in behind.problems] == [(4, "form.invalid.unique"), (6, "form.invalid.unique")]
    assert (behind.inserted, behind.rejected) == (3, 2)


def test_a_unique_value_freed_by_an_update_in_flight_is_taken_once_committed(mirror: ImportService,
                                                                              tmp_path: Path) -> None:
    """Batch 1 moves C001's card to a new number, batch 2 gives the old one to a new customer C003: allowed,
    as in turn (the writer commits batch 1 before batch 2 is checked)."""
    mirror.run(SYSTEM, "mirror_customers", write_xlsx(tmp_path / "a.xlsx", [HEADERS, _row(1, "873900000001")]))
    rows = [_row(1, "873900000009"), _row(2), _row(3, "873900000001")]
    path = write_xlsx(tmp_path / "b.xlsx", [HEADERS, *rows])
    mirror.writes_behind = False
    in_turn = mirror.run(SYSTEM, "mirror_customers", path)
    stored = _stored(mirror)
    mirror.undo(SYSTEM, in_turn.run_id)
    mirror.writes_behind = True
    done: list[int] = []
    behind = mirror.run(SYSTEM, "mirror_customers", path, progress=lambda index, total, report: done.append(index))
    assert _found(behind) == _found(in_turn) and _stored(mirror) == stored
    assert done == [2, 3], "each committed batch reported, the one waited for too"
    assert (behind.updated, behind.inserted, behind.rejected) == (1, 2, 0)
    assert ("C003", "873900000001") in stored


def test_a_failed_write_keeps_whole_batches_and_the_run_resumes(imp: ImportService, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = imp.copy_for_run(write_xlsx(tmp_path / "c.xlsx", [HEADERS, *map(_row, range(1, 10))]))
    write = engine.ImportService._write
    calls: list[int] = []

    def failing(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        write(*args, **kwargs)
        if len(calls) == 3:  # batch 3 (rows 6-7) written, then the database goes away before its commit
            raise ConnectionError("server closed the connection unexpectedly")

    monkeypatch.setattr(engine.ImportService, "_write", failing)
    imp.writes_behind = True
    first = imp.run(SYSTEM, "small_customers", path)
    assert first.status == "failed" and failure_text(first.error, "en").endswith(
        "(technical detail: ConnectionError: server closed the connection unexpectedly)")
    with session():
        assert ImportRun.get_by_id(first.run_id).rows_done == 4
    assert [c for c, _ in _stored(imp)] == ["C001", "C002", "C003", "C004"], "batches 1-2, nothing of batch 3"
    assert first.inserted == 4
    assert not [t for t in threading.enumerate() if t.name == "import-write"], "the writer stopped"
    monkeypatch.setattr(engine.ImportService, "_write", write)
    second = imp.resume(SYSTEM, first.run_id)
    assert (second.status, second.inserted) == ("done", 9) and len(_stored(imp)) == 9


def test_a_batch_is_stamped_with_one_time(imp: ImportService, tmp_path: Path) -> None:
    """The records of one batch were created at one moment, whichever way it is written (prepared or not)."""
    report = imp.run(SYSTEM, "small_customers", write_xlsx(tmp_path / "c.xlsx", [HEADERS, *map(_row, range(1, 5))]))
    assert report.inserted == 4
    model = imp.platform.models["customer"]
    with session():
        rows = model.select().order_by(model.id).dicts()
        stamps = [(r["customer_no"], r["created_at"], r["updated_at"]) for r in rows]
    assert stamps[0][1] == stamps[1][1] == stamps[0][2] and stamps[2][1] == stamps[3][1]  # batches of 2
