"""Numbering series: patterns that number new records, such as ``WO{yyyyMMdd}{seq:5}`` → ``WO2026120600001``.

A text field with ``series: "<pattern>"`` gets its value from the server when a record is created without
one. A pattern is literal text with placeholders in braces: date parts (``{yyyy}``, ``{yy}``, ``{MM}``,
``{dd}``, written alone or together as ``{yyyyMMdd}``, ``{yyMM}``, ...; the server's local date) and exactly one
``{seq:N}``, the counter zero-padded to N digits (1–12; ``{seq}`` pads nothing). The counter restarts for every
different rendering of the rest of the pattern: daily with ``{yyyyMMdd}``, monthly with ``{yyyyMM}``, never
without a date. ``{{`` and ``}}`` are literal braces. :func:`parse_series` explains a bad pattern
(``HL-E220`` in ``run.py check``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from .kinds.entity import EntityField

DATE_PARTS = ("yyyy", "yy", "MM", "dd")
MAX_SEQ_WIDTH = 12
MAX_PATTERN_LENGTH = 100
_DATE = re.compile(r"(?:yyyy|yy|MM|dd)+")
_SEQ = re.compile(r"seq(?::(\d+))?")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class SeriesError(ValueError):
    """A pattern that cannot number records; the message says why."""


@dataclass(frozen=True)
class Series:
    """A parsed pattern: ``parts`` are literal texts, date placeholders (``{yyyyMMdd}``) and ``{seq}``."""

    pattern: str
    parts: tuple[tuple[str, str], ...]
    """(``"text"``, literal) / (``"date"``, ``yyyyMMdd``) / (``"seq"``, ``""``), in order."""
    width: int
    """Digits the counter is padded to (0: no padding)."""

    def around(self, now: datetime) -> tuple[str, str]:
        """The text before and after the counter on ``now``'s date (``("WO20261206", "")``)."""
        index = next(i for i, (kind, _) in enumerate(self.parts) if kind == "seq")
        return ("".join(_render(kind, value, now) for kind, value in self.parts[:index]),
                "".join(_render(kind, value, now) for kind, value in self.parts[index + 1:]))

    def key(self, now: datetime) -> str:
        """The pattern rendered without the counter (``WO20261206{#}``): one counter per distinct key."""
        before, after = self.around(now)
        return f"{before}{{#}}{after}"

    def render(self, seq: int, now: datetime) -> str:
        """The value numbered ``seq`` on ``now``'s date."""
        before, after = self.around(now)
        return f"{before}{str(seq).zfill(self.width)}{after}"

    def seq_of(self, value: str, now: datetime) -> int | None:
        """The counter of ``value`` if it is a value of ``now``'s counter (``WO2026120600042`` → 42), else None."""
        before, after = self.around(now)
        digits = f"\\d{{{self.width},}}" if self.width else r"\d+"
        found = re.fullmatch(re.escape(before) + f"({digits})" + re.escape(after), value)
        return int(found.group(1)) if found else None

    def longest(self) -> int:
        """Characters of the longest value before the counter outgrows its width (for the column's length)."""
        return len(self.render(10 ** max(self.width, 1) - 1, datetime(2000, 12, 31)))


def _render(kind: str, value: str, now: datetime) -> str:
    if kind == "text":
        return value
    out = value
    for part, text in (("yyyy", f"{now.year:04d}"), ("yy", f"{now.year % 100:02d}"), ("MM", f"{now.month:02d}"),
                       ("dd", f"{now.day:02d}")):
        out = out.replace(part, text)
    return out


def series_problem(field: EntityField) -> str | None:
    """Why ``field``'s series cannot number it (``HL-E220``), or None."""
    if field.series is None:
        return None
    try:
        series = parse_series(field.series)
    except SeriesError as exc:
        return f"series of field '{field.name}': {exc}"
    if field.type != "text":
        return f"series of field '{field.name}': a series numbers text fields, this one is {field.type}"
    if field.default is not None:
        return f"series of field '{field.name}': a numbered field has no default"
    if series.longest() > field.max_length:
        return (f"series of field '{field.name}': its values have {series.longest()} characters, the field holds "
                f"{field.max_length}")
    return None


@lru_cache(maxsize=256)
def parse_series(pattern: str) -> Series:
    """The parsed pattern, or :class:`SeriesError` saying what is wrong with it."""
    if not pattern.strip():
        raise SeriesError("the pattern is empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise SeriesError(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters")
    parts: list[tuple[str, str]] = []
    width: int | None = None
    position = 0
    for token in _TOKEN.finditer(pattern):
        if token.start() > position:
            parts.append(("text", pattern[position:token.start()]))
        position = token.end()
        text = token.group(0)
        if text in ("{{", "}}"):
            parts.append(("text", text[0]))
            continue
        if text in ("{", "}"):
            raise SeriesError(f"unbalanced '{text}' at character {token.start() + 1} (write {text}{text} for a "
                              "literal brace)")
        inner = token.group(1).strip()
        seq = _SEQ.fullmatch(inner)
        if seq is not None:
            if width is not None:
                raise SeriesError("the pattern has more than one {seq}")
            width = int(seq.group(1)) if seq.group(1) is not None else 0
            if seq.group(1) is not None and not 1 <= width <= MAX_SEQ_WIDTH:
                raise SeriesError(f"{{seq:{seq.group(1)}}}: the counter has 1 to {MAX_SEQ_WIDTH} digits")
            parts.append(("seq", ""))
        elif _DATE.fullmatch(inner):
            parts.append(("date", inner))
        else:
            raise SeriesError(f"unknown placeholder {{{inner}}}: use {{seq:N}} and date parts "
                              f"{', '.join('{' + p + '}' for p in DATE_PARTS)} (e.g. {{yyyyMMdd}})")
    if position < len(pattern):
        parts.append(("text", pattern[position:]))
    if width is None:
        raise SeriesError("the pattern has no {seq:N}: values would repeat")
    merged: list[tuple[str, str]] = []
    for kind, value in parts:  # adjacent literals as one ("{{" splits them)
        if merged and kind == "text" and merged[-1][0] == "text":
            merged[-1] = ("text", merged[-1][1] + value)
        else:
            merged.append((kind, value))
    return Series(pattern, tuple(merged), width)
