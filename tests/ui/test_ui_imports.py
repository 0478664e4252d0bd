"""The import page: drop a file, see the mapping and the first rows as stored, dry-run (problems by row and
column, the rejected rows as xlsx), import with progress, find the result; agents cannot open it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from import_steps import book, drop_file
from nicegui.testing import User
from ui_helpers import log_in, see

import helpline.services.imports.engine as engine
from helpline.data.database import session
from helpline.services.platform import Platform

ROWS = [["客户编号", "客户名称", "性别", "联系电话", "客户等级", "备注列"],
        ["U001", "张三", "1", "138-0013-8000", "03", "x"],
        ["U002", "李四", "2", "12", "05", "y"],
        ["U003", "王五", "女", "13900139000", "01", "z"]]


async def _wait(check, tries: int = 300) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if check():
            return
        await asyncio.sleep(0.05)
    assert check()


async def test_admin_maps_dry_runs_and_imports(user: User, ui_platform: Platform, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "UPLOADS", tmp_path / "uploads")
    await log_in(user, "admin", path="/page/imports")
    await drop_file(user, book(ROWS))
    preview = user.find(marker="imports-preview").elements.pop()
    message = user.find(marker="imports-message").elements.pop()
    await _wait(lambda: len(preview.rows) == 3 or bool(message.text))
    assert not message.text, message.text
    first = preview.rows[0]
    assert (first["customer_no"], first["gender"], first["phone"], first["value_tier"]) == \
        ("U001", "male", "13800138000", "gold"), "as it will be stored"
    await see(user, "Ignored: 备注列")

    user.find(marker="imports-dry-run").click()
    problems = user.find(marker="imports-problems").elements.pop()
    await _wait(lambda: len(problems.rows) >= 1)
    row = problems.rows[0]
    assert (row["row"], row["column"], row["value"]) == (3, "联系电话", "12")
    await see(user, "Dry run finished: 3 rows, 2 inserted, 0 updated, 0 unchanged, 1 rejected")
    model = ui_platform.models["customer"]
    with session():
        assert not model.select().where(model.customer_no.in_(["U001", "U003"])).exists(), "a dry run writes nothing"

    user.find(marker="imports-run").click()
    await see(user, "Imported: 3 rows, 2 inserted")
    bar = user.find(marker="imports-progress").elements.pop()
    assert bar.value == 1
    with session():
        assert {r.customer_no for r in model.select().where(model.customer_no.in_(["U001", "U003"]))} == \
            {"U001", "U003"}
    runs = user.find(marker="imports-runs").elements.pop()
    await _wait(lambda: bool(runs.rows))
    assert runs.rows[0]["inserted"] == "2" and runs.rows[0]["started_by"] == "admin"


async def test_a_bad_file_is_refused_with_its_reason(user: User, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "UPLOADS", tmp_path / "uploads")
    await log_in(user, "admin", path="/page/imports")
    await drop_file(user, b"a,b\n1,2\n")
    await see(user, "boss.xlsx is not an Excel workbook although its name says so")


async def test_agents_cannot_open_the_import_page(user: User) -> None:
    await log_in(user, "agent1", path="/page/imports", expect_shell=False)
    await user.should_not_see(marker="imports-upload")


async def test_a_crashed_run_resumed_and_undone_from_the_page(user: User, ui_platform: Platform, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18 item 2's "a crashed or cancelled run resumes where it stopped, and a run can be undone", with the
    page's own buttons: a run whose process died before its first batch was committed (its row says running,
    nothing done) is chosen in the recent runs, resumed, then undone."""
    from helpline.data.imports import ImportRun, ensure_tables
    from helpline.services.imports import ImportService

    monkeypatch.setattr(engine, "UPLOADS", tmp_path / "uploads")
    stored = ImportService(ui_platform).store_upload(book(ROWS), "boss.xlsx")
    with session():
        ensure_tables()
        crashed = ImportRun.create(definition="customers_xlsx", entity="customer", file_name="boss.xlsx",
                                   stored_path=str(stored), started_by="admin", rows_total=3).id
    await log_in(user, "admin", path="/page/imports")
    runs = user.find(marker="imports-runs").elements.pop()
    await _wait(lambda: bool(runs.rows))
    runs.selected = [next(r for r in runs.rows if r["id"] == str(crashed))]
    user.find(marker="imports-resume").click()
    await see(user, "Imported: 3 rows, 2 inserted, 0 updated, 0 unchanged, 1 rejected")
    model = ui_platform.models["customer"]
    with session():
        assert ImportRun.get_by_id(crashed).status == "done"
        assert model.select().where(model.customer_no.in_(["U001", "U003"])).count() == 2

    runs.selected = [next(r for r in runs.rows if r["id"] == str(crashed))]
    user.find(marker="imports-undo").click()
    await see(user, "2 records restored.")
    with session():
        assert ImportRun.get_by_id(crashed).status == "undone"
        assert not model.select().where(model.customer_no.in_(["U001", "U003"])).exists()


async def test_cancel_from_the_page_stops_after_the_batch(user: User, ui_platform: Platform, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18 item 2's "import with a progress bar … and cancel", with the page's button: batches of one row,
    the run held after its first batch until *Cancel* was pressed; the run stops there (one customer committed,
    the run cancelled) and *Resume* finishes it."""
    import threading

    from helpline.data.imports import ImportRun

    monkeypatch.setattr(engine, "UPLOADS", tmp_path / "uploads")
    monkeypatch.setattr(ui_platform.metadata.objects["import"]["customers_xlsx"], "batch_size", 1)
    gate = threading.Event()
    check = engine.ImportService._check
    checked: list[int] = []

    def held(self: engine.ImportService, *args: Any, **kwargs: Any) -> Any:
        checked.append(1)
        if len(checked) == 2:  # the second batch, while the first is written
            gate.wait(10)  # the test presses Cancel meanwhile
        return check(self, *args, **kwargs)

    monkeypatch.setattr(engine.ImportService, "_check", held)
    monkeypatch.setattr(engine.ImportService, "writes_behind", True)  # (the default) batch 2 is checked while 1 commits
    await log_in(user, "admin", path="/page/imports")
    await drop_file(user, book(ROWS))
    preview = user.find(marker="imports-preview").elements.pop()
    await _wait(lambda: len(preview.rows) == 3)
    user.find(marker="imports-run").click()

    def first_batch() -> bool:
        with session():
            return ImportRun.select().where(ImportRun.rows_done == 1).exists()
    await _wait(first_batch)
    user.find(marker="imports-cancel").click()
    gate.set()
    await see(user, "Cancelled: 1 rows, 1 inserted")
    model = ui_platform.models["customer"]
    with session():
        run = ImportRun.get(ImportRun.rows_done == 1)
        assert run.status == "cancelled" and model.select().where(model.customer_no.startswith("U")).count() == 1

    runs = user.find(marker="imports-runs").elements.pop()
    await _wait(lambda: any(r["id"] == str(run.id) for r in runs.rows))
    runs.selected = [next(r for r in runs.rows if r["id"] == str(run.id))]
    user.find(marker="imports-resume").click()
    await see(user, "Imported: 3 rows, 2 inserted, 0 updated, 0 unchanged, 1 rejected")
