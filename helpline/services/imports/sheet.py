"""A fast streaming reader of one worksheet's cells, beside openpyxl's read-only mode.

openpyxl's read-only reader builds objects for every cell (about 3,000 rows of 20 columns a second on the test
machine, so a 100,000-row workbook took longer than the 30 s it may). This reads the sheet's XML in 1 MB
pieces with regular expressions and gives each row's values as openpyxl would with ``data_only=True``: shared
and inline strings, numbers, booleans, errors as text, formulas as their cached result (never evaluated), and
numbers in a date style as datetimes — using the shared strings, date styles and epoch openpyxl has read from the
workbook. A sheet whose XML uses a namespace prefix is left to openpyxl.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from openpyxl.utils import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601

ROW = re.compile(rb"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
SIMPLE = re.compile(rb'<c r="([A-Z]{1,3})\d+"(?: t="(\w+)")?([^>]*?)'
                    rb"(?:/>|>(?:<is><t>([^<]*)</t></is>|<v>([^<]*)</v>)</c>|>(.*?)</c>)", re.S)
"""A cell whose reference comes first (as Excel and openpyxl write it), in one match: the column letters, the
type when it comes next, the other attributes, and the content: an inline string's text, the ``<v>`` value
or else (a formula, rich text) the whole content. Twice the speed of :data:`CELL` and a search per part."""
REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
TYPE = re.compile(rb'\bt="(\w+)"')
STYLE = re.compile(rb'\bs="(\d+)"')
VALUE = re.compile(rb"<v(?:\s[^>]*)?>(.*?)</v>", re.S)
TEXT = re.compile(rb"<t(?:\s[^>]*)?>(.*?)</t>", re.S)
ROWNUM = re.compile(rb'\br="(\d+)"')


def usable(head: bytes) -> bool:
    """Whether this reader understands the sheet (no namespace prefix on its elements)."""
    return b"<sheetData" in head and b":sheetData" not in head


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


def _number(raw: bytes) -> int | float:
    text = raw.decode("ascii").strip()
    try:
        return int(text)
    except ValueError:
        return float(text)


def rows(source: Any, shared: list[Any], date_styles: set[int], epoch: Any) -> Iterator[tuple[int, list[Any]]]:
    """``(row number, values)`` of each row of the sheet XML file object ``source``."""
    buffer = b""
    last = 0
    while True:
        chunk = source.read(1 << 20)
        buffer += chunk
        end = buffer.rfind(b"</row>") if chunk else len(buffer)
        if end < 0:
            continue
        if chunk:
            end += len(b"</row>")
        pieces = buffer[:end].split(b"</row>")  # a row a piece: splitting is C speed, ROW's lazy match was not
        for k, piece in enumerate(pieces):
            start = piece.find(b"<row")
            if start < 0:
                continue
            close = piece.find(b">", start)
            closed = k < len(pieces) - 1  # the piece ended with </row> (else the sheet's tail)
            if closed and close > 0 and piece[start + 4:start + 5] in (b" ", b">") and piece[close - 1] != 47 \
                    and piece.count(b"<row", start + 4) == 0:  # one row, not self-closing ("/" is 47)
                found = ROWNUM.search(piece, start, close)
                number = int(found.group(1)) if found else last + 1
                last = number
                yield number, _cells(piece[close + 1:], shared, date_styles, epoch)
                continue
            for match in ROW.finditer(piece + b"</row>" if closed else piece):  # empty rows, other forms
                found = ROWNUM.search(match.group(1))
                number = int(found.group(1)) if found else last + 1
                last = number
                yield number, _cells(match.group(2) or b"", shared, date_styles, epoch)
        buffer = buffer[end:]
        if not chunk:
            return


_COLUMN: dict[bytes, int] = {}
"""Column letters → 0-based index (a sheet has few distinct columns; the conversion was a tenth of the time)."""


def _column(letters: bytes) -> int:
    found = _COLUMN.get(letters)
    if found is None:
        found = _COLUMN[letters] = column_index_from_string(letters.decode()) - 1
    return found


def _cells(body: bytes, shared: list[Any], date_styles: set[int], epoch: Any) -> list[Any]:
    if body.count(b"<c ") != body.count(b'<c r="'):  # a cell without its reference first: the general way
        return _any_cells(body, shared, date_styles, epoch)
    values: list[Any] = []
    append = values.append
    columns = _COLUMN
    for letters, kind, attrs, text, raw, inner in SIMPLE.findall(body):
        column = columns.get(letters)
        if column is None:
            column = _column(letters)
        if column != len(values) and column > len(values):
            values.extend([None] * (column - len(values)))
        if attrs and (b"t=" in attrs or b"s=" in attrs):  # attributes in another order (Excel: s before t)
            kind_match = TYPE.search(attrs)
            kind = kind_match.group(1) if kind_match else kind
        else:
            attrs = b""
        # the common cells inline (a function call a cell was a third of the reading): an inline string, a
        # shared string, a number without a style; the others as :func:`_value` and :func:`_raw` say
        if inner:
            append(_value(kind or b"n", attrs, inner, shared, date_styles, epoch))
        elif kind == b"inlineStr":
            if b"&" in text:
                append(_text(text) or None)
            else:
                append(text.decode("utf-8") or None)
        elif not raw:
            append(None)
        elif kind == b"s":
            append(str(shared[int(raw)]))
        elif (not kind or kind == b"n") and not attrs:
            try:
                append(int(raw))
            except ValueError:
                append(_raw(b"n", attrs, raw, shared, date_styles, epoch))
        else:
            append(_raw(kind or b"n", attrs, raw, shared, date_styles, epoch))
    return values


def _any_cells(body: bytes, shared: list[Any], date_styles: set[int], epoch: Any) -> list[Any]:
    values: list[Any] = []
    for cell in CELL.finditer(body):
        attrs, inner = cell.group(1), cell.group(2) or b""
        ref = REF.search(attrs)
        column = _column(ref.group(1)) if ref else len(values)
        if column > len(values):
            values.extend([None] * (column - len(values)))
        kind_match = TYPE.search(attrs)
        values.append(_value(kind_match.group(1) if kind_match else b"n", attrs, inner, shared, date_styles, epoch))
    return values


def _value(kind: bytes, attrs: bytes, inner: bytes, shared: list[Any], date_styles: set[int], epoch: Any) -> Any:
    """One cell's value from its type, attributes and content."""
    if kind == b"inlineStr":
        return "".join(_text(t) for t in TEXT.findall(inner)) or None
    v = VALUE.search(inner)
    return _raw(kind, attrs, v.group(1), shared, date_styles, epoch) if v is not None else None


def _raw(kind: bytes, attrs: bytes, raw: bytes, shared: list[Any], date_styles: set[int], epoch: Any) -> Any:
    """The value of a cell's ``<v>`` text by the cell's type (and style: numbers in a date style are dates)."""
    if kind == b"s":
        return str(shared[int(raw)])
    if kind in (b"str", b"e"):
        return _text(raw)
    if kind == b"b":
        return raw.strip() == b"1"
    if kind == b"d":
        return from_ISO8601(raw.decode())
    if not raw.strip():
        return None
    value = _number(raw)
    style = STYLE.search(attrs) if date_styles and attrs else None
    if style is not None and int(style.group(1)) in date_styles:
        return from_excel(value, epoch)
    return value
