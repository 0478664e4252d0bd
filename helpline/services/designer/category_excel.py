"""A category tree as an Excel workbook, and back: what the category designer downloads and uploads.

The sheet has one row per code in display order, under a header row: ``code``, ``parent``, one
``label_<language>`` column per language (``label_en`` is required) and ``retired`` (``yes`` or empty).
Texts are written as text cells, never formulas (:func:`helpline.services.excel.workbook_bytes`).

:func:`read_tree` checks the whole file before anything is taken: every bad row is reported with its row
number (bad code name, duplicate code, unknown parent, empty label, a parent chain that loops, a bad
``retired`` value), and so is every code of the current tree that the file leaves out (codes are never
lost: records may hold them; retire a code instead). With any problem the import is refused as a whole
(:class:`CategoryImportError`) and the tree is not changed.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils.exceptions import InvalidFileException

from helpline.metadata.kinds import LANGUAGES
from helpline.services.excel import open_read_only, workbook_bytes

CODE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_CODE = 63
MAX_BYTES = 5_000_000
MAX_ROWS = 5_000
LABEL_COLUMNS = tuple(f"label_{language}" for language in LANGUAGES)
HEADERS = ("code", "parent", *LABEL_COLUMNS, "retired")
REQUIRED = ("code", "label_en")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TRUE = {"yes", "true", "1", "y", "x"}
FALSE = {"", "no", "false", "0", "n"}


@dataclass
class RowError:
    """One problem of an imported file: ``row`` is the spreadsheet's row number (None: the file as a
    whole), ``key`` a locale key (``designer.category.excel.<what>``) with its ``params``."""

    row: int | None
    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        where = f"row {self.row}: " if self.row is not None else ""
        return f"{where}{self.key.rsplit('.', 1)[-1]} {self.params}"


class CategoryImportError(ValueError):
    """The file was refused; ``errors`` lists every problem found."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


# ------------------------------------------------------------------------------------ export
def export_tree(data: dict[str, Any]) -> bytes:
    """The tree ``data`` (a category object as in its YAML file) as an .xlsx workbook."""
    rows: list[list[Any]] = []
    for node in data.get("nodes") or []:
        label = node.get("label")
        labels = {"en": label} if isinstance(label, str) else dict(label or {})
        rows.append([node.get("code", ""), node.get("parent") or "", *(labels.get(lang) or "" for lang in LANGUAGES),
                     "yes" if node.get("retired") else ""])
    return workbook_bytes(str(data.get("name") or "category"), HEADERS, rows)


# ------------------------------------------------------------------------------------ import
def read_tree(content: bytes, current: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The nodes of the tree in the workbook ``content`` (as in a category's YAML ``nodes``); raises
    :class:`CategoryImportError` with every problem (see the module docstring). ``current`` is the tree's
    nodes now: none of their codes may be missing from the file."""
    if len(content) > MAX_BYTES:
        raise CategoryImportError([RowError(None, "designer.category.excel.too_big", {"mb": MAX_BYTES // 1_000_000})])
    try:
        workbook = open_read_only(io.BytesIO(content))
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise CategoryImportError([RowError(None, "designer.category.excel.not_xlsx")]) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise CategoryImportError([RowError(None, "designer.category.excel.empty")])
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        columns, errors = _columns(header)
        if errors:
            raise CategoryImportError(errors)
        records: list[tuple[int, dict[str, str]]] = []
        for number, values in enumerate(rows, start=2):
            cells = {name: _text(values[i]) if i < len(values) else "" for name, i in columns.items()}
            if not any(cells.values()):
                continue
            if len(records) >= MAX_ROWS:
                raise CategoryImportError([RowError(number, "designer.category.excel.too_many", {"max": MAX_ROWS})])
            records.append((number, cells))
    finally:
        workbook.close()
    return _nodes(records, current or [])


def _columns(header: tuple[Any, ...] | None) -> tuple[dict[str, int], list[RowError]]:
    if header is None:
        return {}, [RowError(None, "designer.category.excel.empty")]
    columns: dict[str, int] = {}
    errors: list[RowError] = []
    for i, raw in enumerate(header):
        name = _text(raw).lower().replace(" ", "_")
        if not name:
            continue
        match = next((h for h in HEADERS if h.lower() == name), None)
        if match is None:
            errors.append(RowError(1, "designer.category.excel.unknown_column", {"column": _text(raw)}))
        elif match in columns:
            errors.append(RowError(1, "designer.category.excel.duplicate_column", {"column": match}))
        else:
            columns[match] = i
    for name in REQUIRED:
        if name not in columns:
            errors.append(RowError(1, "designer.category.excel.missing_column", {"column": name}))
    return columns, errors


def _nodes(records: list[tuple[int, dict[str, str]]], current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    errors: list[RowError] = []
    row_of: dict[str, int] = {}
    nodes: list[dict[str, Any]] = []
    for number, cells in records:
        code, parent = cells.get("code", ""), cells.get("parent", "")
        bad = False
        if not code:
            errors.append(RowError(number, "designer.category.excel.no_code"))
            bad = True
        elif not CODE.match(code) or len(code) > MAX_CODE:
            errors.append(RowError(number, "designer.category.excel.bad_code", {"code": code}))
            bad = True
        elif code in row_of:
            errors.append(RowError(number, "designer.category.excel.duplicate_code",
                                   {"code": code, "first": row_of[code]}))
            bad = True
        if not cells.get("label_en"):
            errors.append(RowError(number, "designer.category.excel.no_label", {"code": code}))
        retired = cells.get("retired", "").lower()
        if retired not in TRUE | FALSE:
            errors.append(RowError(number, "designer.category.excel.bad_retired", {"value": cells.get("retired")}))
        if parent and parent == code:
            errors.append(RowError(number, "designer.category.excel.own_parent", {"code": code}))
        if bad:
            continue
        row_of[code] = number
        label = {lang: cells[f"label_{lang}"] for lang in LANGUAGES if cells.get(f"label_{lang}")}
        node: dict[str, Any] = {"code": code, "label": label}
        if parent:
            node["parent"] = parent
        if retired in TRUE:
            node["retired"] = True
        nodes.append(node)
    for node in nodes:
        above = node.get("parent")
        if above and above != node["code"] and above not in row_of:
            errors.append(RowError(row_of[node["code"]], "designer.category.excel.unknown_parent",
                                   {"code": node["code"], "parent": above}))
    errors += _loops(nodes, row_of)
    missing = [str(n.get("code")) for n in current if n.get("code") and n.get("code") not in row_of]
    if missing:
        errors.append(RowError(None, "designer.category.excel.missing_codes", {"codes": ", ".join(missing)}))
    if errors:
        errors.sort(key=lambda e: (e.row is not None, e.row or 0))
        raise CategoryImportError(errors)
    return nodes


def _loops(nodes: list[dict[str, Any]], row_of: dict[str, int]) -> list[RowError]:
    parent_of = {n["code"]: n.get("parent") for n in nodes}
    errors: list[RowError] = []
    for code in parent_of:
        seen = {code}
        step = parent_of.get(code)
        if step == code:  # reported as own_parent
            continue
        while step and step in parent_of:
            if step == code:
                errors.append(RowError(row_of[code], "designer.category.excel.loop", {"code": code}))
                break
            if step in seen:
                break
            seen.add(step)
            step = parent_of.get(step)
    return errors


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
