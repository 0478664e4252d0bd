"""Excel export of list and query results (openpyxl, write-only, safe against formula injection).

Text that starts with ``=``, ``+``, ``-`` or ``@`` is written as a text cell, never as a formula, so a
customer named ``=HYPERLINK(...)`` cannot run anything in the spreadsheet of whoever opens the export.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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
