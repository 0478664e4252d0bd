"""The import page in the user's language (issue 18, audit G6): a Chinese administrator sees the dry run's row
problems, the definition's cleansing texts and a refused file in Chinese, and downloads an error workbook headed and
worded in Chinese; an English one gets English."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from import_steps import book, drop_file
from nicegui.testing import User
from openpyxl import load_workbook
from ui_helpers import log_in, see

import helpline.services.imports.engine as engine
from helpline.data.database import session
from helpline.data.system import User as UserRow

ROWS = [["客户编号", "客户名称", "联系电话", "客户等级", "市州"],
        ["W001", "张三", "13800138000", "03", "changsha"],
        ["W002", "李四", "12", "03", "changsha"],
        ["W003", "王五", "13900139000", "09", "changsha"],
        ["W004", "赵六", "13700137000", "01", "atlantis"]]


async def _dry_run(user: User, language: str) -> list[dict]:
    with session():
        UserRow.update(language=language).where(UserRow.username == "admin").execute()
    await log_in(user, "admin", path="/page/imports")
    await drop_file(user, book(ROWS))
    preview = user.find(marker="imports-preview").elements.pop()
    for _ in range(300):
        if len(preview.rows) == 4:
            break
        await asyncio.sleep(0.05)
    headings = {c["name"]: c["label"] for c in preview.columns}
    # a column the file has keeps the file's header; one it lacks is headed by the field's label in the language
    assert headings["phone"] == "联系电话" and headings["gender"] == ("性别" if language == "zh_CN" else "Gender")
    user.find(marker="imports-dry-run").click()
    problems = user.find(marker="imports-problems").elements.pop()
    for _ in range(300):
        if len(problems.rows) == 3:
            break
        await asyncio.sleep(0.05)
    return [dict(r) for r in problems.rows]


async def _rejected(user: User) -> list[tuple]:
    user.find(marker="imports-errors").click()
    response = await user.download.next(timeout=5)
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


async def test_a_chinese_administrator_sees_problems_refusals_and_the_error_workbook_in_chinese(
        user: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "UPLOADS", tmp_path / "uploads")
    rows = await _dry_run(user, "zh_CN")
    assert [(r["row"], r["column"], r["message"], r["severity"]) for r in rows] == [
        (3, "联系电话", "电话号码不足7位", "拒绝"),
        (4, "客户等级", "代码“09”不在代码表“boss_tiers”中", "拒绝"),
        (5, "市州", "没有级别为市州的区域“atlantis”", "拒绝")]
    await see(user, "试导入完成：共 4 行，新增 1")
    got = await _rejected(user)
    assert got[0][-2:] == ("错误", "行号") and len(got) == 4
    assert got[1][-2:] == ("第 3 行“联系电话”列（“12”）：电话号码不足7位", 3)

    await drop_file(user, b"a,b\n1,2\n", choose=False)
    await see(user, "boss.xlsx 的文件名表明是 Excel 工作簿，但它实际是文本（CSV）文件；请将扩展名改为 .csv")


async def test_an_english_administrator_gets_english(user: User, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "UPLOADS", tmp_path / "uploads")
    rows = await _dry_run(user, "en")
    assert [r["message"] for r in rows] == ["The phone number has fewer than 7 digits",
                                            "code '09' is not in code table 'boss_tiers'",
                                            "no region 'atlantis' of level city"]
    got = await _rejected(user)
    assert got[0][-2:] == ("Error", "Row")
    assert got[1][-2:] == ("row 3, column 联系电话 ('12'): The phone number has fewer than 7 digits", 3)
