"""Opening uploaded workbooks read-only (``helpline.services.excel.open_read_only``): the sheet is not parsed
whole to size it when it has no ``<dimension>`` (openpyxl defect 1 in that module), and is sized as before
when it has one."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from helpline.services.excel import open_read_only


def _write_only_book(path: Path, rows: int) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("客户")
    sheet.append(["客户编号", "姓名"])
    for i in range(rows):
        sheet.append([f"X{i:05d}", f"客户{i}"])
    book.save(path)


def _has_dimension(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        return b"<dimension" in archive.read("xl/worksheets/sheet1.xml")[:4096]


def _bytes_read_while_loading(monkeypatch: pytest.MonkeyPatch, load: Callable[[], Any]) -> int:
    """How many bytes of the sheet XML ``load()`` reads (the sheet sources are wrapped to count)."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    counted = [0]
    upstream = ReadOnlyWorksheet._get_source

    class Counting:
        def __init__(self, raw: Any) -> None:
            self.raw = raw

        def read(self, n: int = -1) -> bytes:
            data = self.raw.read(n)
            counted[0] += len(data)
            return bytes(data)

        def close(self) -> None:
            self.raw.close()

        def __enter__(self) -> Counting:
            return self

        def __exit__(self, *exc: object) -> None:
            self.close()

    monkeypatch.setattr(ReadOnlyWorksheet, "_get_source", lambda self: Counting(upstream(self)))
    load().close()
    monkeypatch.undo()
    return counted[0]


def test_a_sheet_without_dimension_is_not_parsed_to_size_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    path = tmp_path / "export.xlsx"
    _write_only_book(path, 3000)
    assert not _has_dimension(path)  # the case the workaround is for
    with zipfile.ZipFile(path) as archive:
        size = archive.getinfo("xl/worksheets/sheet1.xml").file_size
    assert size > 100_000
    upstream = _bytes_read_while_loading(monkeypatch, lambda: load_workbook(path, read_only=True, data_only=True))
    ours = _bytes_read_while_loading(monkeypatch, lambda: open_read_only(path))
    assert upstream == size  # openpyxl read the whole sheet before the first row was asked for
    assert ours <= 1 << 16
    book = open_read_only(path)
    sheet = book.worksheets[0]
    assert sheet._max_row is None  # unsized: nothing was parsed before the first row is asked for
    rows = list(sheet.iter_rows(values_only=True))
    book.close()
    assert len(rows) == 3001 and rows[1] == ("X00000", "客户0") and rows[-1] == ("X02999", "客户2999")


def test_a_sheet_with_dimension_is_sized_as_before(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    for i in range(12):
        sheet.append([i, f"v{i}", None, i * 2])
    data = io.BytesIO()
    book.save(data)
    opened = open_read_only(io.BytesIO(data.getvalue()))
    upstream = load_workbook(io.BytesIO(data.getvalue()), read_only=True, data_only=True)
    got, expected = opened.worksheets[0], upstream.worksheets[0]
    assert (got.min_row, got.max_row, got.min_column, got.max_column) == (1, 12, 1, 4)
    assert (got.min_row, got.max_row, got.min_column, got.max_column) == (
        expected.min_row, expected.max_row, expected.min_column, expected.max_column)
    assert list(got.iter_rows(values_only=True)) == list(expected.iter_rows(values_only=True))


def test_loading_leaves_openpyxl_as_it_was(tmp_path: Path) -> None:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    before = ReadOnlyWorksheet._get_size
    path = tmp_path / "export.xlsx"
    _write_only_book(path, 3)
    open_read_only(path).close()
    assert ReadOnlyWorksheet._get_size is before
