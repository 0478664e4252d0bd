"""Dry runs, real runs in batches, the result record, resuming after a crash, cancelling and undo."""

from __future__ import annotations

import io
import threading
from datetime import date
from pathlib import Path

import pytest
from imp_helpers import HEADERS, write_xlsx
from openpyxl import load_workbook

from helpline.data.database import session
from helpline.data.imports import ImportRun
from helpline.data.system import AuditEntry
from helpline.security.actor import Actor
from helpline.services.imports import ImportService
from helpline.services.imports.changes import ImportRefused
from helpline.services.imports.report import error_workbook
from helpline.services.records import RecordService

SYSTEM = Actor.system()


def _customers(imp: ImportService) -> dict[str, dict]:
    model = imp.platform.models["customer"]
    with session():
        return {r["customer_no"]: r for r in model.select().dicts()}


def _rows(n: int, start: int = 1) -> list[list]:
    return [[f"C{i:05d}", f"客户{i}", f"0731-8{i:06d}", "1980/3/5", "03", "changsha", f"长沙 {i} 号"]
            for i in range(start, start + n)]


def test_upsert_maps_transforms_and_keeps_a_result(imp: ImportService, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [HEADERS, *_rows(5)])
    report = imp.run(SYSTEM, "small_customers", path)
    assert report.status == "done" and (report.inserted, report.rejected) == (5, 0)
    stored = _customers(imp)
    c1 = stored["C00001"]
    assert (c1["phone"], c1["birth_date"], c1["value_tier"], c1["city"]) == ("07318000001", date(1980, 3, 5),
                                                                           "gold", "changsha")
    rows = _rows(5)
    rows[1][1] = "改名"
    again = imp.run(SYSTEM, "small_customers", write_xlsx(tmp_path / "c2.xlsx", [HEADERS, *rows]))
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 4)
    assert _customers(imp)["C00002"]["name"] == "改名"
    with session():
        run = ImportRun.get_by_id(again.run_id)
        assert (run.status, run.updated, run.unchanged, run.started_by) == ("done", 1, 4, "system")
        audited = AuditEntry.select().where((AuditEntry.action == "import") & (AuditEntry.record_id == str(run.id)))
        assert audited.count() == 1
        assert AuditEntry.select().where(AuditEntry.action == "update", AuditEntry.entity == "customer").count() == 1


def test_dry_run_names_each_problem_and_writes_nothing(imp: ImportService, tmp_path: Path) -> None:
    rows = _rows(6)
    rows[1][2] = "12-34"            # phone too short (cleansing: reject)
    rows[2][4] = "09"               # not in the code table
    rows[3][3] = "2020-13-45"       # not a date
    rows[4][5] = "atlantis"         # no such region
    rows[5][6] = None               # warning only
    path = write_xlsx(tmp_path / "c.xlsx", [HEADERS, *rows])
    report = imp.dry_run(SYSTEM, "small_customers", path)
    assert _customers(imp) == {}
    assert (report.inserted, report.rejected, report.warnings) == (2, 4, 1)
    found = {(p.row, p.column, p.severity) for p in report.problems}
    assert {(3, "电话", "error"), (4, "客户等级", "error"), (5, "出生日期", "error"), (6, "市州", "error"),
            (7, "地址", "warning")} == found
    messages = [p.text() for p in report.problems]
    assert "row 4, column 客户等级 ('09'): code '09' is not in code table 'tiers'" in messages
    book = load_workbook(io.BytesIO(error_workbook(report)))
    sheet = book.active
    got = list(sheet.iter_rows(values_only=True))
    assert got[0][-2:] == ("Error / 错误", "Row / 行") and len(got) == 5
    assert got[1][0] == "C00002" and "phone too short" in got[1][-2] and got[1][-1] == 3
    real = imp.run(SYSTEM, "small_customers", path)
    assert (real.inserted, real.rejected) == (report.inserted, report.rejected), "the dry run foretells the run"


def test_a_crashed_run_resumes_after_its_last_batch(imp: ImportService, tmp_path: Path) -> None:
    path = imp.copy_for_run(write_xlsx(tmp_path / "c.xlsx", [HEADERS, *_rows(7)]))
    calls = []

    def crash(done: int, total: int | None, report) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise RuntimeError("power cut")

    first = imp.run(SYSTEM, "small_customers", path, progress=crash)
    assert first.status == "failed" and "power cut" in first.error
    assert len(_customers(imp)) == 4, "two batches of two committed"
    with session():
        assert ImportRun.get_by_id(first.run_id).rows_done == 4
    done = imp.resume(SYSTEM, first.run_id)
    assert done.status == "done" and done.inserted == 7 and len(_customers(imp)) == 7
    with session():
        assert ImportRun.get_by_id(first.run_id).inserted == 7


def test_cancel_stops_after_the_batch_and_resume_finishes(imp: ImportService, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [HEADERS, *_rows(6)])
    cancel = threading.Event()
    report = imp.run(SYSTEM, "small_customers", path, progress=lambda *a: cancel.set(), cancel=cancel)
    assert report.status == "cancelled" and len(_customers(imp)) == 2
    assert imp.resume(SYSTEM, report.run_id).inserted == 6


def test_duplicate_keys_inside_one_file(imp: ImportService, tmp_path: Path) -> None:
    rows = _rows(3)
    rows.append(list(rows[0]))
    report = imp.run(SYSTEM, "small_customers", write_xlsx(tmp_path / "c.xlsx", [HEADERS, *rows]))
    assert report.inserted == 3 and report.rejected == 1
    assert report.problems[0].text() == "row 5, column 客户编号 ('C00001'): duplicate customer_no: row 2 of the file " \
                                        "has the same value"


def test_undo_while_nothing_newer_changed_its_rows(imp: ImportService, tmp_path: Path) -> None:
    first = imp.run(SYSTEM, "small_customers", write_xlsx(tmp_path / "a.xlsx", [HEADERS, *_rows(3)]))
    rows = _rows(4)
    rows[0][1] = "新名字"
    second = imp.run(SYSTEM, "small_customers", write_xlsx(tmp_path / "b.xlsx", [HEADERS, *rows]))
    assert (second.inserted, second.updated) == (1, 1)
    assert imp.undo(SYSTEM, second.run_id) == 2
    from helpline.data.query import ListQuery

    page = RecordService(imp.platform).list_page(SYSTEM, ListQuery(entity="customer", search="新名字"))
    assert page.rows == [], "the quick search no longer finds the undone name"
    stored = _customers(imp)
    assert set(stored) == {"C00001", "C00002", "C00003"} and stored["C00001"]["name"] == "客户1"
    with pytest.raises(ImportRefused, match="undone already"):
        imp.undo(SYSTEM, second.run_id)
    RecordService(imp.platform).update(SYSTEM, "customer", stored["C00002"]["id"], {"name": "agent edit"})
    changed = r"cannot be undone: 2 of its records changed since — customer \d+ \(by system\)"
    with pytest.raises(ImportRefused, match=changed):
        imp.undo(SYSTEM, first.run_id)
    assert len(_customers(imp)) == 3, "a refused undo changes nothing"


def test_the_import_permission_is_required(imp: ImportService, tmp_path: Path) -> None:
    from helpline.security.actor import PermissionDenied

    agent = Actor(username="agent1", roles=["agent"]).bind(imp.platform.metadata)
    with pytest.raises(PermissionDenied):
        imp.dry_run(agent, "small_customers", write_xlsx(tmp_path / "a.xlsx", [HEADERS, *_rows(1)]))
    with session():
        assert AuditEntry.select().where(AuditEntry.action == "denied", AuditEntry.actor == "agent1").count() == 1
