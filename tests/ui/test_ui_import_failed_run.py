"""A run that fails part-way, on the import page in the reader's language (issue 18): a GBK file broken after its
first rows is read until the broken byte; the run fails, and the page shows why in the administrator's language —
the refusal's text, then the technical detail (the decoder's English) — where before it showed nothing but
"Failed" (the error was English only); the list of runs words the stored error the same way."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from import_steps import drop_file
from nicegui.testing import User
from ui_helpers import log_in, see

import helpline.services.imports.engine as engine
from helpline.data.database import session
from helpline.data.system import User as UserRow

GOOD_ROWS = 21
"""More than the preview's 20 rows, so the preview stops before the broken byte."""


def broken_gbk() -> bytes:
    """A GBK customer file whose first rows are good and whose broken byte comes after the first block the
    reader decodes (8 KiB of blank lines skipped between), so the run, not the preview, meets it (the run's first
    batch holds the good rows too: it fails whole)."""
    lines = ["客户编号,客户名称,联系电话,客户等级"] + [f"F{i:03d},客户{i},1380013{i:04d},03" for i in range(GOOD_ROWS)]
    good = ("\n".join(lines) + "\n").encode("gbk")
    return good + b"\n" * 9000 + "F999,坏行".encode("gbk") + b"\xff\xfe\xff,13800000000,03\n"


async def _failed_run(user: User, language: str, caplog: pytest.LogCaptureFixture) -> tuple[str, dict]:
    with session():
        UserRow.update(language=language).where(UserRow.username == "admin").execute()
    await log_in(user, "admin", path="/page/imports")
    await drop_file(user, broken_gbk(), name="boss.csv")
    run_button = user.find(marker="imports-run").elements.pop()
    for _ in range(300):
        if run_button.enabled:
            break
        await asyncio.sleep(0.05)
    user.find(marker="imports-run").click()
    message = user.find(marker="imports-message").elements.pop()
    for _ in range(300):
        if message.text:
            break
        await asyncio.sleep(0.05)
    runs = user.find(marker="imports-runs").elements.pop()
    for _ in range(300):
        if runs.rows:
            break
        await asyncio.sleep(0.05)
    logged = [r for r in caplog.get_records("call") if r.levelname == "ERROR"]
    assert [r.name for r in logged] == ["helpline.imports"], "the failure is logged with its traceback"
    caplog.clear()  # expected (the user fixture fails a test on any ERROR log)
    return message.text, dict(runs.rows[0])


async def test_a_failed_run_reads_in_chinese(user: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(engine, "UPLOADS", tmp_path / "uploads")
    text, run = await _failed_run(user, "zh_CN", caplog)
    assert text.startswith("boss.csv 第 ") and \
        "行附近：不是 GBK 文本（illegal multibyte sequence）；请将文件另存为 UTF-8 或 GBK" in text, text
    assert "（技术细节：UnicodeDecodeError: 'gb18030' codec can't decode byte 0xff" in text, text
    assert (run["status"], run["error"]) == ("失败", text), "the list of runs words it the same"
    await see(user, "技术细节")


async def test_a_failed_run_reads_in_english(user: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(engine, "UPLOADS", tmp_path / "uploads")
    text, run = await _failed_run(user, "en", caplog)
    assert text.startswith("boss.csv, near line ") and ": not GBK text (illegal multibyte sequence); save the file " \
        "as UTF-8 or GBK, or set source.encoding (technical detail: UnicodeDecodeError: 'gb18030' codec can't " \
        "decode byte 0xff" in text, text
    assert (run["status"], run["error"]) == ("Failed", text)
