"""Helpers of the import tests: writers of xlsx files and the headers of the test definition."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_xlsx(path: Path, rows: list[list[Any]], sheet: str = "客户") -> Path:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


HEADERS = ["客户编号", "姓名", "电话", "出生日期", "客户等级", "市州", "地址"]
