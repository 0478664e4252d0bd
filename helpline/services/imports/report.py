"""What a dry run or a run found and did (:class:`ImportReport`), and the workbook of its rejected rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..excel import workbook_bytes
from .rows import RowProblem
from .words import line, say


@dataclass
class ImportReport:
    """What a dry run or a run found and did."""

    definition: str
    dry_run: bool
    run_id: int | None = None
    status: str = "running"
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    """field → the file's header."""
    ignored: list[str] = field(default_factory=list)
    rows: int = 0
    total: int | None = None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0
    deleted: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    rejected_rows: list[tuple[int, list[Any], str]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "warnings": self.warnings, "deleted": self.deleted}


ERROR_COLUMNS = ("Error / 错误", "Row / 行")
"""The columns :func:`error_workbook` adds after the file's own (a fixed file uploaded again ignores them);
headed in one language when the workbook is made for a reader (``imports.col.error``, ``imports.col.row``)."""


def error_workbook(report: ImportReport, language: str | None = None) -> bytes:
    """The rejected rows with their cells as read and an error column naming each problem (formula-safe); in
    ``language`` (its headers and messages) when given, else with both languages' headers and English."""
    headers = [*report.headers, *ERROR_COLUMNS]
    worded: dict[int, list[str]] = {}
    if language is not None:
        headers[-2:] = [say(language, "imports.col.error"), say(language, "imports.col.row")]
        for p in report.problems:
            if p.severity == "error":
                worded.setdefault(p.row, []).append(line(p, language))
    rows = ([*cells, *([None] * (len(report.headers) - len(cells))),
             "; ".join(worded[number]) if number in worded else message, number]
            for number, cells, message in report.rejected_rows)
    return workbook_bytes("rejected", headers, rows)
