"""A report's result as an Excel workbook: numbers with their formats (per cent, seconds, counts), never a formula
(:func:`report_xlsx`; the reports page's export and the scheduled reports)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reports import ReportResult

PERCENT = frozenset({"service_level", "service_level_abandons", "target", "answer_rate", "abandon_rate",
                     "compliance_rate", "self_service_rate", "occupancy", "satisfaction_rate", "resolved_rate",
                     "contact_rate", "reach_rate", "on_time_rate", "exit_rate"})
SECONDS = frozenset({"time_s", "avg_time_s", "talk_s", "wait_s", "asa_s", "aht_s", "avg_abandon_s", "signed_in_s",
                     "ready_s", "not_ready_s", "study_s", "idle_s", "ringing_s", "talking_s", "hold_s", "wrap_up_s"})


def number_format(measure: str) -> str:
    if measure in PERCENT:
        return "0.0%"
    if measure in SECONDS:
        return "0.0"
    return "0"


def report_xlsx(result: ReportResult, title: str, headers: dict[str, str] | None = None,
                texts: dict[str, dict[str, str]] | None = None, total: str = "total") -> bytes:
    """The result as an .xlsx: values as numbers with number formats (per cent, seconds, counts), text never
    a formula, the totals last (labelled ``total``); ``texts`` gives a dimension's values as shown (tier labels)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from .excel import cell_value

    names = [*result.dimensions, *result.measures]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "report")
    bold = Font(bold=True)

    def row_cells(values: list[Any], font: Any = None) -> list[Any]:
        cells = []
        for name, raw in zip(names, values, strict=True):
            value = cell_value(raw)
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            elif name in result.measures and isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.number_format = number_format(name)
            if font is not None:
                cell.font = font
            cells.append(cell)
        return cells

    header = []
    for n in names:
        c = WriteOnlyCell(ws, value=(headers or {}).get(n, n))
        c.font, c.data_type = bold, "s"
        header.append(c)
    ws.append(header)
    shown = texts or {}
    for r in result.rows:
        ws.append(row_cells([shown.get(n, {}).get(str(r.get(n)), r.get(n)) for n in names]))
    if result.totals:
        ws.append(row_cells([(total if i == 0 else "") if n in result.dimensions else result.totals.get(n)
                             for i, n in enumerate(names)], bold))
    import io

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
