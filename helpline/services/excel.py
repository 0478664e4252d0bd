"""Excel export of list and query results (openpyxl, write-only, safe against formula injection), and opening an
uploaded workbook read-only (:func:`open_read_only`).

Text that starts with ``=``, ``+``, ``-`` or ``@`` is written as a text cell, never as a formula, so a
customer named ``=HYPERLINK(...)`` cannot run anything in the spreadsheet of whoever opens the export.

openpyxl defect worked around here:

1. ``load_workbook(read_only=True)`` sizes every sheet when it opens the book (``ReadOnlyWorksheet._get_size``):
   it iterates the sheet's XML until the ``<dimension>`` element or the *end* of ``<sheetData>``, so a sheet
   without ``<dimension>`` (openpyxl's own write-only books, many exporters) is parsed whole before the first
   row is read: 4.6 s of a 10,000-row import, 46 s of a 100,000-row one. :func:`open_read_only` looks for
   ``<dimension>`` in the sheet's first 64 KB only (the schema puts it before ``<sheetData>``) and otherwise
   leaves the sheet unsized, as openpyxl's own ``reset_dimensions()`` does.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)\"")
_sizing = threading.Lock()


def _size_from_head(sheet: Any) -> None:
    """``ReadOnlyWorksheet._get_size`` reading the sheet's first 64 KB only (defect 1 in the module docstring)."""
    from openpyxl.utils.cell import range_boundaries

    with sheet._get_source() as src:
        found = DIMENSION.search(src.read(1 << 16))
    if found:
        ref = found.group(1).decode()
        sheet._min_column, sheet._min_row, sheet._max_column, sheet._max_row = range_boundaries(
            ref if ":" in ref else f"{ref}:{ref}")


def open_read_only(source: str | Path | IO[bytes]) -> Any:
    """``openpyxl.load_workbook(source, read_only=True, data_only=True)`` without parsing each sheet whole to
    size it (defect 1): formulas give their cached values, never evaluated."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    with _sizing:  # the class attribute is swapped while this book loads (another load waits, ~ms)
        upstream = ReadOnlyWorksheet._get_size
        ReadOnlyWorksheet._get_size = _size_from_head  # type: ignore[method-assign]
        try:
            return load_workbook(source, read_only=True, data_only=True)
        finally:
            ReadOnlyWorksheet._get_size = upstream  # type: ignore[method-assign]


def cell_value(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, Decimal, bool, datetime, date)):
        return value
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value)
    return str(value)


def workbook_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """An .xlsx with one sheet: a bold header row, then ``rows``."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "export")
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        c = WriteOnlyCell(ws, value=str(h))
        c.font = bold
        c.data_type = "s"
        header_cells.append(c)
    ws.append(header_cells)
    for row in rows:
        cells = []
        for raw in row:
            value = cell_value(raw)
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            cells.append(cell)
        ws.append(cells)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
