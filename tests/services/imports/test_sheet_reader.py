"""The streaming sheet reader (helpline/services/imports/sheet.py) gives every row exactly as openpyxl's own
read-only reader does: shared and inline strings, escaped text, numbers, booleans, dates in a date style, empty
cells between values, attributes in Excel's order (style before type), and cells whose reference is not first."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900

from helpline.services.imports import sheet

ROWS: list[list[Any]] = [
    ["编号", "名称", "数量", "金额", "有效", "日期", "时间", "备注"],
    ["A1", "张三 & <李四>", 3, 12.5, True, date(2024, 3, 5), datetime(2024, 3, 5, 8, 30), None],
    ["A2", None, 0, -1.25, False, None, None, "  空格  "],
    [None, "only B", None, None, None, None, None, None],
    ["A4", "x", 10**12, 1e-7, None, date(1999, 12, 31), None, "=not a formula"],
]


def _openpyxl(path: Path) -> list[list[Any]]:
    book = load_workbook(path, read_only=True, data_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return rows


def _streamed(path: Path) -> list[list[Any]]:
    book = load_workbook(path, read_only=True, data_only=True)
    ws = book.worksheets[0]
    with zipfile.ZipFile(path) as archive, archive.open(ws._worksheet_path) as fh:  # type: ignore[attr-defined]
        rows = [cells for _, cells in sheet.rows(fh, ws._shared_strings, set(book._date_formats),  # type: ignore
                                                 book.epoch)]
    book.close()
    return rows


def _same(a: list[list[Any]], b: list[list[Any]]) -> None:
    width = max(len(r) for r in a + b)
    assert [r + [None] * (width - len(r)) for r in a] == [r + [None] * (width - len(r)) for r in b]


@pytest.mark.parametrize("write_only", [False, True], ids=["shared-strings", "inline-strings"])
def test_rows_as_openpyxl_reads_them(tmp_path: Path, write_only: bool) -> None:
    path = tmp_path / "book.xlsx"
    book = Workbook(write_only=write_only)
    ws = book.create_sheet("s") if write_only else book.active
    assert ws is not None
    for row in ROWS:
        ws.append(row)
    if not write_only:
        ws["H5"].data_type = "s"  # text, not a formula
    book.save(path)
    expected = _openpyxl(path)
    _same(_streamed(path), expected)
    assert expected[1][5] == datetime(2024, 3, 5) and expected[1][1] == "张三 & <李四>"


def test_cells_in_any_attribute_order_and_without_a_first_reference() -> None:
    body = (b'<c r="A1" s="1" t="s"><v>0</v></c><c t="inlineStr" r="C1"><is><t>x&amp;y</t></is></c>'
            b'<c r="D1" s="2"><v>45356</v></c><c r="E1" t="str"><f>A1&amp;"!"</f><v>hi!</v></c>'
            b'<c r="F1" t="inlineStr"><is><r><t>rich </t></r><r><t>text</t></r></is></c><c r="G1"/>')
    values = sheet._cells(body, ["shared"], {2}, CALENDAR_WINDOWS_1900)
    assert values == ["shared", None, "x&y", datetime(2024, 3, 5), "hi!", "rich text", None]
    simple = sheet._cells(body.replace(b'<c t="inlineStr" r="C1">', b'<c r="C1" t="inlineStr">'), ["shared"], {2},
                          CALENDAR_WINDOWS_1900)
    assert simple == values, "the one-match path reads the same"



class _Trickle:
    """A sheet XML file object giving a few bytes a read: rows and cells cut across the reader's pieces."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.at, self.size = data, 0, size

    def read(self, _: int) -> bytes:
        chunk = self.data[self.at:self.at + self.size]
        self.at += len(chunk)
        return chunk


@pytest.mark.parametrize("size", [7, 64, 1 << 20])
def test_rows_cut_anywhere_empty_rows_and_the_sheets_tail(size: int) -> None:
    """Rows are split at ``</row>``: a self-closing row beside another one, a row without a number, one with
    more attributes, a number in a style (a date), an escaped text and the ``<rowBreaks>`` after the sheet data
    (not a row) read as the row regex reads them, wherever the file's reads end."""
    xml = (b'<worksheet><sheetData><row r="1" spans="1:3"><c r="A1" t="inlineStr"><is><t>a&lt;b</t></is></c>'
           b'<c r="C1"><v>12</v></c></row><row r="2"/><row r="3"><c r="B3" s="2"><v>45356</v></c></row>'
           b'<row><c r="A4" t="s"><v>0</v></c><c r="B4"><v>1.5</v></c></row>'
           b'<row r="6" customHeight="1"><c r="A6" t="b"><v>1</v></c></row></sheetData>'
           b'<rowBreaks count="1"><brk id="5"/></rowBreaks></worksheet>')
    got = list(sheet.rows(_Trickle(xml, size), ["shared"], {2}, CALENDAR_WINDOWS_1900))
    assert got == [(1, ["a<b", None, 12]), (2, []), (3, [None, datetime(2024, 3, 5)]), (4, ["shared", 1.5]),
                   (6, [True])]
