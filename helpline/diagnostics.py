"""Diagnostics shared by every checker: metadata files, rule texts, imports.

A :class:`Problem` is one thing wrong, in the style of Django's system checks: a stable id
(``HL-E104`` for metadata, ``HL-R201`` for rules), where it is (``file:line:col``), what is wrong and a
hint for fixing it. Checkers collect every problem they find and raise :class:`ProblemsError` once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One diagnostic with a stable id and a source position (1-based line and column)."""

    id: str
    message: str
    hint: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    excerpt: str = ""
    severity: Severity = "error"

    @property
    def location(self) -> str:
        parts = [self.file or "<text>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def with_file(self, file: str, line_offset: int = 0, column_offset: int = 0) -> Problem:
        """The same problem placed inside a file (e.g. a rule text embedded in a YAML value)."""
        line = None if self.line is None else self.line + line_offset
        column = self.column
        if column is not None and self.line == 1:
            column += column_offset
        return replace(self, file=file, line=line, column=column)

    def format(self) -> str:
        """``FILE:LINE:COL: ID message`` then the caret excerpt and the hint, each indented."""
        text = f"{self.location}: {self.id} {self.message}"
        if self.excerpt:
            text += "\n" + "\n".join("    " + ln for ln in self.excerpt.rstrip("\n").splitlines())
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "message": self.message,
            "hint": self.hint,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
        }


def caret_excerpt(text: str, line: int, column: int, width: int = 1) -> str:
    """The source line ``line`` of ``text`` with a caret under ``column`` (both 1-based)."""
    lines = text.splitlines() or [""]
    if not 1 <= line <= len(lines):
        return ""
    src = lines[line - 1]
    col = max(1, min(column, len(src) + 1))
    return f"{src}\n{' ' * (col - 1)}{'^' * max(1, width)}"


class ProblemsError(Exception):
    """Raised with every problem found, never just the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__(self.summary())

    def summary(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''}"
        return head + ":\n" + "\n".join(p.format() for p in self.problems)
