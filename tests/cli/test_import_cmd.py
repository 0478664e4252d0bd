"""``run.py import``: a dry run that writes nothing and saves the rejected rows, a real run, bad files refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from import_files import uploads_in, xlsx
from openpyxl import load_workbook

from helpline.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_import_command(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", metadata)
    uploads_in(monkeypatch, tmp_path / "uploads")
    db = f"sqlite:///{tmp_path}/h.db"
    base = ["--db", db, "--metadata", str(metadata)]
    path = xlsx(tmp_path / "boss.xlsx", [["客户编号", "客户名称", "性别", "联系电话", "客户等级"],
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


def test_resume_undo_and_confirmed_deletes(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The options docs/imports.md gives: ``--confirm-delete`` (with a ``delete_missing`` definition), ``--undo RUN``
    and ``--resume RUN`` of a cancelled run."""
    import threading

    from helpline.data.database import session
    from helpline.security.actor import Actor
    from helpline.services.imports import ImportService
    from helpline.services.platform import Platform

    metadata = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", metadata)
    text = (metadata / "imports" / "customers_xlsx.yaml").read_text(encoding="utf-8")
    (metadata / "imports" / "mirror.yaml").write_text(
        text.replace("name: customers_xlsx", "name: mirror").replace("mode: upsert", "mode: upsert\n"
                                                                      "delete_missing: true\nbatch_size: 1"),
        encoding="utf-8")
    uploads_in(monkeypatch, tmp_path / "uploads")
    db = f"sqlite:///{tmp_path}/h.db"
    base = ["--db", db, "--metadata", str(metadata)]
    head = ["客户编号", "客户名称", "联系电话"]
    three = xlsx(tmp_path / "three.xlsx", [head, ["B001", "张三", "13800138000"], ["B002", "李四", "13800138001"],
                                            ["B003", "王五", "13800138002"]])
    one = xlsx(tmp_path / "one.xlsx", [head, ["B001", "张三", "13800138000"]])
    assert main(["import", "mirror", str(three), *base]) == 0
    assert main(["import", "mirror", str(one), *base]) == 0
    assert "import run 2 done: 1 rows, 0 inserted, 0 updated, 1 unchanged, 0 rejected, 0 warnings in" in \
        capsys.readouterr().out, "not confirmed: nothing deleted"
    assert main(["import", "mirror", str(one), "--confirm-delete", *base]) == 0
    assert "import run 3 done: 1 rows, 0 inserted, 0 updated, 1 unchanged, 0 rejected, 0 warnings, 2 deleted " \
           "(missing from the source) in" in capsys.readouterr().out
    assert main(["import", "--undo", "3", *base]) == 0
    assert "import run 3 undone: 2 records restored" in capsys.readouterr().out
    assert main(["import", "--undo", "3", *base]) == 2
    assert "import run 3 was undone already" in capsys.readouterr().err

    platform = Platform()
    platform.start(db, str(metadata))
    model = platform.models["customer"]
    with session():
        assert sorted(r.customer_no for r in model.select()) == ["B001", "B002", "B003"]
    service = ImportService(platform)
    stop = threading.Event()
    four = xlsx(tmp_path / "four.xlsx", [head, ["B001", "张三", "13800138000"], ["B002", "李四", "13800138001"],
                                          ["B003", "王五", "13800138002"], ["B004", "赵六", "13800138003"],
                                          ["B005", "钱七", "13800138004"]])
    cancelled = service.run(Actor.system(), "mirror", service.copy_for_run(four), "four.xlsx",
                            progress=lambda *_: stop.set(), cancel=stop)
    assert cancelled.status == "cancelled" and cancelled.run_id == 4 and cancelled.rows == 1
    assert main(["import", "--resume", "4", *base]) == 0
    assert "import run 4 done: 5 rows, 2 inserted, 0 updated, 3 unchanged" in capsys.readouterr().out
    with session():
        assert model.select().count() == 5
