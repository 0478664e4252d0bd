"""``run.py import`` speaks the command line's language (issue 18, audit G6): ``--language``, else the POSIX
locale (LC_ALL, LC_MESSAGES, LANG), else English — row problems, the definition's texts, refusals, the error
workbook and the summary."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from import_files import uploads_in, xlsx
from openpyxl import load_workbook

from helpline.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_command_follows_its_language(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", metadata)
    uploads_in(monkeypatch, tmp_path / "up")
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    base = ["--db", f"sqlite:///{tmp_path}/h.db", "--metadata", str(metadata)]
    path = xlsx(tmp_path / "boss.xlsx", [["客户编号", "客户名称", "联系电话", "客户等级"],
                                          ["B001", "张三", "138-0013-8000", "03"],
                                          ["B002", "李四", "12", "05"],
                                          ["B003", "王五", "13900139000", "09"]])
    errors = tmp_path / "errors.xlsx"
    assert main(["import", "customers_xlsx", str(path), "--dry-run", "--errors", str(errors), *base]) == 1
    out = capsys.readouterr().out
    assert "拒绝：第 3 行“联系电话”列（“12”）：电话号码不足7位" in out
    assert "拒绝：第 4 行“客户等级”列（“09”）：代码“09”不在代码表“boss_tiers”中" in out
    assert "试导入：试导入完成，共 3 行，新增 1，更新 0，未变 0，拒绝 2" in out
    rejected = list(load_workbook(errors).active.iter_rows(values_only=True))
    assert rejected[0][-2:] == ("错误", "行号") and rejected[1][-2] == "第 3 行“联系电话”列（“12”）：电话号码不足7位"

    bad = tmp_path / "notes.xlsx"
    bad.write_text("just text", encoding="utf-8")
    assert main(["import", "customers_xlsx", str(bad), *base]) == 2
    assert capsys.readouterr().err.strip() == ("run.py import：notes.xlsx 的文件名表明是 Excel 工作簿，但它实际是"
                                               "文本（CSV）文件；请将扩展名改为 .csv；未导入任何数据")

    assert main(["import", "customers_xlsx", str(path), "--dry-run", "--language", "en", *base]) == 1
    out = capsys.readouterr().out
    assert "error: row 3, column 联系电话 ('12'): The phone number has fewer than 7 digits" in out
    assert "dry run checked: 3 rows, 1 inserted, 0 updated, 0 unchanged, 2 rejected" in out
    monkeypatch.setenv("LC_ALL", "C.UTF-8")  # LC_ALL before LANG
    assert main(["import", "customers_xlsx", str(bad), *base]) == 2
    assert "run.py import: notes.xlsx is not an Excel workbook" in capsys.readouterr().err


def test_a_failed_run_is_told_in_the_commands_language(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", metadata)
    uploads_in(monkeypatch, tmp_path / "up")
    base = ["--db", f"sqlite:///{tmp_path}/h.db", "--metadata", str(metadata)]
    path = tmp_path / "boss.csv"  # GBK, broken after 8 KiB (blank lines): the run meets it, not the file's opening
    path.write_bytes("客户编号,客户名称,联系电话\nF001,甲,13800138000\n".encode("gbk") + b"\n" * 9000
                     + "F002,乙".encode("gbk") + b"\xff\xfe\xff,13800138001\n")
    assert main(["import", "customers_xlsx", str(path), "--language", "zh_CN", *base]) == 2
    out = capsys.readouterr().out
    assert "导入批次 1：失败，共 " in out and \
        "行附近：不是 GBK 文本（illegal multibyte sequence）；请将文件另存为 UTF-8 或 GBK" in out, out
    assert "（技术细节：UnicodeDecodeError: 'gb18030' codec can't decode byte 0xff" in out, out
    assert main(["import", "--resume", "1", "--language", "en", *base]) == 2
    out = capsys.readouterr().out
    assert "import run 1 failed: " in out and ": not GBK text (illegal multibyte sequence); save the file as UTF-8 " \
        "or GBK, or set source.encoding (technical detail: UnicodeDecodeError: 'gb18030' codec" in out, out
