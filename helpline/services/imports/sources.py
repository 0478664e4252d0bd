"""Read an import's source as headers and numbered rows, refusing a file that cannot be read with a message that
names the file or the setting.

- xlsx: openpyxl in read-only mode with the cached results of formulas (``data_only``; never evaluated). A
  file that is not a workbook, an old ``.xls``, a password-protected workbook and a sheet with merged cells are
  refused before any row is read.
- csv: UTF-8 with or without a BOM, else GBK (GB 18030); ``source.encoding`` forces one.
- sql: a SELECT over a database URL (its column names are the headers).
- http: a JSON answer, the rows at ``source.items``; an unreachable interface, a timeout and malformed JSON are
  refused with the URL and the setting to look at.
- ``<extension>.<source>``: a function of an extension's ``IMPORT_SOURCES`` giving dicts.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpline.metadata.kinds.imports import ImportSource

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
Row = tuple[int, list[Any]]


class SourceError(ValueError):
    """The source cannot be read as a whole; the message names the file or setting and what to do. Nothing
    was loaded. ``key`` and ``params`` word it in a reader's language (:func:`.words.refusal`)."""

    def __init__(self, message: str, key: str = "", **params: Any) -> None:
        super().__init__(message)
        self.key, self.params = key, params


class NoHeaderRow(SourceError):
    """The file ends before its header row (an empty sheet or file)."""


@dataclass
class Table:
    """A source opened for reading: its headers and an iterator of ``(row number, cells)``."""

    headers: list[str]
    rows: Iterator[Row]
    total: int | None = None
    """Data rows, when known in advance (a progress bar's total)."""
    close: Callable[[], None] = field(default=lambda: None)
    done: Callable[[], None] | None = None
    """Called after a real run loaded every row (an extension source advances its watermark here)."""


KINDS = {"zip": "a ZIP archive", "ole": "an old Excel 97-2003 (.xls) or other Office file", "pdf": "a PDF document",
         "html": "an HTML page", "json": "a JSON document", "binary": "a binary file", "text": "a text (CSV) file"}
"""What a file looks like (its locale text: ``imports.kind.<code>``)."""


def _kind(head: bytes) -> str:
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(b"%PDF"):
        return "pdf"
    low = head[:512].lstrip().lower()
    if low.startswith((b"<!doctype html", b"<html")):
        return "html"
    if low.startswith((b"{", b"[")):
        return "json"
    if b"\x00" in head[:4096]:
        return "binary"
    return "text"


def _looks_like(head: bytes) -> str:
    return KINDS[_kind(head)]


def _protected(path: Path) -> bool:
    """An encrypted OOXML workbook is an OLE compound file with an ``EncryptedPackage`` stream."""
    return "EncryptedPackage".encode("utf-16-le") in path.read_bytes()


def _merged_ranges(archive: zipfile.ZipFile, member: str, limit: int = 5) -> list[str]:
    """The merged ranges of a sheet, read from its XML as a stream (read-only worksheets do not expose them)."""
    found: list[str] = []
    pattern = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+:[A-Z]+\d+)"')
    tail = b""
    with archive.open(member) as fh:
        while len(found) < limit:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            data = tail + chunk
            found.extend(m.decode() for m in pattern.findall(data) if m.decode() not in found)
            tail = data[-200:]
    return found[:limit]


def read_xlsx(path: Path, source: ImportSource, name: str) -> Table:
    from helpline.services.excel import open_read_only

    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(OLE_MAGIC):
        if _protected(path):
            raise SourceError(f"{name} is protected by a password: open it in Excel, remove the password "
                              f"(File → Info → Protect Workbook) and upload it again", "imports.refused.password",
                              name=name)
        raise SourceError(f"{name} is an old Excel 97-2003 workbook (.xls): save it as an Excel workbook (.xlsx)",
                          "imports.refused.xls", name=name)
    if not head.startswith(ZIP_MAGIC):
        code = _kind(head)
        raise SourceError(f"{name} is not an Excel workbook although its name says so: it is {KINDS[code]}"
                          + ("; name it .csv" if code == "text" else ""),
                          "imports.refused.not_xlsx_text" if code == "text" else "imports.refused.not_xlsx",
                          name=name, kind={"key": f"imports.kind.{code}"})
    try:
        book = open_read_only(path)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SourceError(f"{name} is a ZIP archive but not an Excel workbook ({exc})", "imports.refused.zip",
                          name=name, error=str(exc)) from exc
    if source.sheet and source.sheet not in book.sheetnames:
        book.close()
        raise SourceError(f"{name} has no sheet '{source.sheet}' (source.sheet); it has: {', '.join(book.sheetnames)}",
                          "imports.refused.sheet", name=name, sheet=source.sheet, sheets=", ".join(book.sheetnames))
    ws = book[source.sheet] if source.sheet else book.worksheets[0]
    member = getattr(ws, "_worksheet_path", None)
    archive = getattr(book, "_archive", None)
    if member and archive is not None:
        merged = _merged_ranges(archive, member)
        if merged:
            book.close()
            raise SourceError(f"{name}, sheet '{ws.title}': merged cells {', '.join(merged)}; unmerge them and fill "
                              f"each cell with its value (Excel: Merge & Center → Unmerge Cells)",
                              "imports.refused.merged", name=name, sheet=ws.title, cells=", ".join(merged))
    it = ws.iter_rows(values_only=True)
    headers: list[str] = []
    for _ in range(source.header_row):
        found = next(it, None)
        if found is None:
            book.close()
            raise NoHeaderRow(f"{name}, sheet '{ws.title}' has no header row {source.header_row} (source.header_row)",
                              "imports.refused.no_header_sheet", name=name, sheet=ws.title, row=source.header_row)
        headers = ["" if c is None else str(c).strip() for c in found]
    fast = _fast(book, ws, archive, member, source.header_row)
    if fast is not None:  # ws.max_row would parse the whole sheet when it has no <dimension>: count the rows
        with archive.open(member) as fh:  # type: ignore[union-attr]
            total: int | None = sum(chunk.count(b"<row ") for chunk in iter(lambda: fh.read(1 << 20), b""))
        total = max((total or 0) - source.header_row, 0)
    else:
        total = ws.max_row - source.header_row if ws.max_row else None
    if fast is not None:
        return Table(headers, fast, total, book.close)

    def rows() -> Iterator[Row]:
        number = source.header_row
        for cells in it:
            number += 1
            if any(c is not None and c != "" for c in cells):
                yield number, list(cells)

    return Table(headers, rows(), total, book.close)


def _fast(book: Any, ws: Any, archive: Any, member: str | None, header_row: int) -> Iterator[Row] | None:
    """The data rows through :mod:`.sheet` (several times openpyxl's speed), when it understands the sheet."""
    from . import sheet

    if archive is None or not member:
        return None
    with archive.open(member) as fh:
        if not sheet.usable(fh.read(1 << 16)):
            return None
    shared = getattr(ws, "_shared_strings", None)
    if shared is None:
        return None
    dates = set(getattr(book, "_date_formats", set()))

    def rows() -> Iterator[Row]:
        with archive.open(member) as fh:
            for number, cells in sheet.rows(fh, shared, dates, book.epoch):
                if number > header_row and any(c is not None and c != "" for c in cells):
                    yield number, cells

    return rows()


def detect_encoding(path: Path, wanted: str = "auto") -> str:
    """The codec of a CSV file: a BOM decides; else UTF-8 when its start decodes as UTF-8, else GB 18030."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if wanted == "gbk":
        return "gb18030"
    if wanted == "utf-8":
        return "utf-8"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def read_csv(path: Path, source: ImportSource, name: str) -> Table:
    with path.open("rb") as fh:
        head = fh.read(4096)
    code = _kind(head)
    if code not in ("text", "json") and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SourceError(f"{name} is not a CSV text file although its name says so: it is {KINDS[code]}"
                          + ("; name it .xlsx" if code == "zip" else ""),
                          "imports.refused.not_csv_zip" if code == "zip" else "imports.refused.not_csv",
                          name=name, kind={"key": f"imports.kind.{code}"})
    encoding = detect_encoding(path, source.encoding)
    with path.open("rb") as fh:
        total = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    text = path.open("r", encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=source.delimiter)
    label = {"utf-8-sig": "UTF-8 with a BOM", "utf-8": "UTF-8", "gb18030": "GBK", "utf-16": "UTF-16"}[encoding]

    def bad_text(exc: UnicodeDecodeError) -> SourceError:
        return SourceError(f"{name}, near line {reader.line_num + 1}: not {label} text ({exc.reason}); save the file "
                           f"as UTF-8 or GBK, or set source.encoding", "imports.refused.encoding", name=name,
                           line=reader.line_num + 1, encoding=label, error=exc.reason)

    headers: list[str] = []
    try:
        for _ in range(source.header_row):
            headers = [h.strip() for h in next(reader, [])]
    except UnicodeDecodeError as exc:
        text.close()
        raise bad_text(exc) from exc
    if not any(headers):
        text.close()
        raise NoHeaderRow(f"{name} has no header row {source.header_row} (source.header_row)",
                          "imports.refused.no_header", name=name, row=source.header_row)

    def rows() -> Iterator[Row]:
        number = source.header_row
        try:
            for cells in reader:
                number += 1
                if any(c.strip() for c in cells):
                    yield number, list(cells)
        except UnicodeDecodeError as exc:
            raise bad_text(exc) from exc

    return Table(headers, rows(), max(total - source.header_row, 0), text.close)


def _dict_table(items: Iterable[Any], what: str) -> Table:
    rows = list(items)
    headers: list[str] = []
    for i, item in enumerate(rows):
        if not isinstance(item, dict):
            raise SourceError(f"{what}: item {i + 1} is not an object of named values", "imports.refused.item",
                              what=what, item=i + 1)
        headers.extend(k for k in item if k not in headers)
    return Table(headers, iter([(i + 1, [item.get(h) for h in headers]) for i, item in enumerate(rows)]), len(rows))


def read_sql(source: ImportSource) -> Table:
    from playhouse.db_url import connect

    where = f"source.url {source.url}"
    try:
        conn = connect(source.url or "")
        cursor = conn.execute_sql(source.query or "")
    except Exception as exc:
        raise SourceError(f"{where}: the query failed: {exc}", "imports.refused.query", where=where,
                          error=str(exc)) from exc
    headers = [d[0] for d in cursor.description or []]
    rows = [(i + 1, list(r)) for i, r in enumerate(cursor.fetchall())]
    conn.close()
    return Table(headers, iter(rows), len(rows))


def fetch_json(url: str, params: dict[str, Any], timeout: float, setting: str = "source.url") -> Any:
    """GET ``url`` with ``params`` and parse the answer as JSON, or :class:`SourceError` saying why not."""
    full = url + (("&" if "?" in url else "?") + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(full, timeout=timeout) as answer:  # noqa: S310 (http(s) checked by the kind)
            body = answer.read()
    except TimeoutError as exc:
        raise SourceError(f"{setting} {url}: no answer within {timeout:g} s (source.timeout)",
                          "imports.refused.timeout", setting=setting, url=url, seconds=f"{timeout:g}") from exc
    except urllib.error.HTTPError as exc:
        raise SourceError(f"{setting} {url}: the interface answered HTTP {exc.code} {exc.reason}",
                          "imports.refused.http", setting=setting, url=url, code=exc.code, reason=exc.reason) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            raise SourceError(f"{setting} {url}: no answer within {timeout:g} s (source.timeout)",
                              "imports.refused.timeout", setting=setting, url=url, seconds=f"{timeout:g}") from exc
        raise SourceError(f"{setting} {url}: cannot reach the interface ({reason})", "imports.refused.unreachable",
                          setting=setting, url=url, reason=str(reason)) from exc
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"{setting} {url}: the answer is not valid JSON ({exc}); it starts {body[:60]!r}",
                          "imports.refused.json", setting=setting, url=url, error=str(exc),
                          start=repr(body[:60])) from exc


def read_http(source: ImportSource) -> Table:
    data = fetch_json(source.url or "", source.params, source.timeout)
    for part in (source.items or "").split(".") if source.items else []:
        if not isinstance(data, dict) or part not in data:
            raise SourceError(f"source.url {source.url}: the answer has no '{source.items}' (source.items)",
                              "imports.refused.items", url=source.url, items=source.items)
        data = data[part]
    if not isinstance(data, list):
        raise SourceError(f"source.url {source.url}: the answer is not a list of rows; set source.items to the "
                          f"path of the list", "imports.refused.not_list", url=source.url)
    return _dict_table(data, f"source.url {source.url}")


def read_extension(source: ImportSource) -> Table:
    from helpline.extension_registry import registry

    name, _, kind = source.type.partition(".")
    ext = registry().extensions.get(name)
    fn = ext.import_sources.get(kind) if ext is not None else None
    if fn is None:
        raise SourceError(f"source.type '{source.type}': extensions/{name}/ declares no source '{kind}' in "
                          f"IMPORT_SOURCES", "imports.refused.no_extension_source", type=source.type, extension=name,
                          source=kind)
    try:
        result = fn(dict(source.params))
        table = _dict_table(result, f"source {source.type}")
        table.done = getattr(result, "done", None)
        return table
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(f"source {source.type} failed: {exc}", "imports.refused.extension_failed",
                          type=source.type, error=str(exc)) from exc


def open_source(source: ImportSource, path: Path | None = None, name: str | None = None) -> Table:
    """The rows of ``source``; a file source reads ``path`` (its kind chosen by ``source.type``, or by the file's
    name when that says .csv or .xlsx)."""
    if source.type in ("xlsx", "csv"):
        if path is None:
            raise SourceError(f"a {source.type} import needs a file", "imports.refused.no_file", type=source.type)
        shown = name or path.name
        suffix = Path(shown).suffix.lower()
        kind = "csv" if suffix in (".csv", ".txt") else "xlsx" if suffix in (".xlsx", ".xlsm", ".xls") else source.type
        return read_csv(path, source, shown) if kind == "csv" else read_xlsx(path, source, shown)
    if source.type == "sql":
        return read_sql(source)
    if source.type == "http":
        return read_http(source)
    return read_extension(source)


def sniff_bytes(data: bytes) -> str:
    """What ``data`` looks like (for messages about uploads)."""
    return _looks_like(data[:4096])
