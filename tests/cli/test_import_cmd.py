"""``run.py import``: a dry run that writes nothing and saves the rejected rows, a real run, bad files refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from helpline.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_import_command(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", metadata)
    monkeypatch.setattr("helpline.services.imports.engine.UPLOADS", tmp_path / "uploads")
    db = f"sqlite:///{tmp_path}/h.db"
    base = ["--db", db, "--metadata", str(metadata)]
    path = _xlsx(tmp_path / "boss.xlsx", [["客户编号", "客户名称", "性别", "联系电话", "客户等级"],
                                          ["B001", "张三", "1", "138-0013-8000", "03"],
                                          ["B002", "李四", "2", "12", "05"],
                                          ["B003", "王五", "9", "13900139000", "01"]])
    errors = tmp_path / "errors.xlsx"
    assert main(["import", "customers_xlsx", str(path), "--dry-run", "--errors", str(errors), *base]) == 1
    out = capsys.readouterr().out
    assert "error: row 3, column 联系电话 ('12'): The phone number has fewer than 7 digits" in out
    assert "error: row 4, column 性别 ('9'): code '9' is not in code table 'boss_gender'" in out
    assert "dry run checked: 3 rows, 1 inserted, 0 updated, 0 unchanged, 2 rejected" in out
    rejected = list(load_workbook(errors).active.iter_rows(values_only=True))
    assert [r[0] for r in rejected[1:]] == ["B002", "B003"]
    assert main(["import", "customers_xlsx", str(path), *base]) == 1
    assert "import run 1 done: 3 rows, 1 inserted" in capsys.readouterr().out
    bad = tmp_path / "notes.xlsx"
    bad.write_text("just text", encoding="utf-8")
    assert main(["import", "customers_xlsx", str(bad), *base]) == 2
    assert "notes.xlsx is not an Excel workbook although its name says so" in capsys.readouterr().err
