"""A category tree as an Excel workbook, and back: what the category designer downloads and uploads.

The sheet has one row per code in display order, under a header row: ``code``, ``parent``, one
``label_<language>`` column per language (``label_en`` is required) and ``retired`` (``yes`` or empty).
Texts are written as text cells, never formulas (:func:`helpline.services.excel.workbook_bytes`).

:func:`read_tree` checks the whole file before anything is taken: every bad row is reported with its row
number (bad code name, duplicate code, unknown parent, empty label, a parent chain that loops, a bad
``retired`` value), and so is every code of the current tree that the file leaves out (codes are never
lost: records may hold them; retire a code instead). With any problem the import is refused as a whole
(:class:`CategoryImportError`) and the tree is not changed.

Folded into the import machinery (issue 18 item 5): this module no longer opens workbooks itself. The file is
read by the import engine's source reader (:func:`helpline.services.imports.sources.read_xlsx`: the same
refusals of an old ``.xls``, a password-protected workbook, merged cells or a file that is no workbook, and the
same streaming cell parser), and the check is a dry run of the import engine's kind: :func:`check_tree` gives an
:class:`~helpline.services.imports.ImportReport` (rows, codes new / changed / unchanged, rejected rows) whose
problems are the engine's per-row :class:`~helpline.services.imports.rows.RowProblem` (row, column as headed,
value, message), and whose rejected rows make the engine's error workbook
(:func:`helpline.services.imports.report.error_workbook`, offered by the designer when a file is refused; its
error columns are ignored when the file comes back). What stays here is what only a tree has: the fixed
columns, code names, parents and loops, and codes that may not disappear. Records are not written: the nodes
go into the designer's draft, published as any draft.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from helpline.config import shipped
from helpline.metadata.kinds import LANGUAGES
from helpline.metadata.kinds.imports import ImportSource
from helpline.services.excel import workbook_bytes
from helpline.services.imports.report import ERROR_COLUMNS, ImportReport
from helpline.services.imports.rows import RowProblem
from helpline.services.imports.sources import OLE_MAGIC, ZIP_MAGIC, NoHeaderRow, SourceError, read_xlsx

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
COLUMN_OF = {"no_code": "code", "bad_code": "code", "duplicate_code": "code", "no_label": "label_en",
             "bad_retired": "retired", "own_parent": "parent", "unknown_parent": "parent", "loop": "parent"}
"""The column a row problem is about (the report names it as headed in the file)."""


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
    """The file was refused; ``errors`` lists every problem found, ``report`` is the dry run's report (None when
    the file could not be read at all)."""

    def __init__(self, errors: list[RowError], report: ImportReport | None = None) -> None:
        self.errors = errors
        self.report = report
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
    report, nodes, errors = check_tree(content, current)
    if errors:
        raise CategoryImportError(errors, report)
    return nodes


def check_tree(content: bytes, current: list[dict[str, Any]] | None = None, name: str = "category.xlsx"
               ) -> tuple[ImportReport | None, list[dict[str, Any]], list[RowError]]:
    """The dry run of a tree's workbook: the report (None when the file cannot be read), the nodes, the
    problems (none: the nodes may be taken)."""
    if len(content) > MAX_BYTES:
        return None, [], [RowError(None, "designer.category.excel.too_big", {"mb": MAX_BYTES // 1_000_000})]
    if not content.startswith((ZIP_MAGIC, OLE_MAGIC)):
        return None, [], [RowError(None, "designer.category.excel.not_xlsx")]
    with tempfile.TemporaryDirectory(prefix="hl-category-") as folder:
        path = Path(folder) / "tree.xlsx"
        path.write_bytes(content)
        try:
            table = read_xlsx(path, ImportSource(type="xlsx"), name)
        except NoHeaderRow:
            return None, [], [RowError(None, "designer.category.excel.empty")]
        except SourceError as exc:
            return None, [], [RowError(None, "designer.category.excel.unreadable", {"message": str(exc)})]
        try:
            report = ImportReport(definition="category_tree", dry_run=True, headers=table.headers)
            columns, errors = _columns(tuple(table.headers) if any(table.headers) else None)
            if errors:
                return report, [], errors
            records: list[tuple[int, dict[str, str], list[Any]]] = []
            for number, values in table.rows:
                cells = {name: _text(values[i]) if i < len(values) else "" for name, i in columns.items()}
                if not any(cells.values()):
                    continue
                if len(records) >= MAX_ROWS:
                    return report, [], [RowError(number, "designer.category.excel.too_many", {"max": MAX_ROWS})]
                records.append((number, cells, list(values)))
        finally:
            table.close()
    nodes, errors = _nodes([(n, c) for n, c, _ in records], current or [])
    _report(report, records, nodes, errors, columns, current or [])
    return report, nodes, errors


def _report(report: ImportReport, records: list[tuple[int, dict[str, str], list[Any]]], nodes: list[dict[str, Any]],
            errors: list[RowError], columns: dict[str, int], current: list[dict[str, Any]]) -> None:
    """Fill the dry run's counts, per-row problems and rejected rows (as the import engine's report has them)."""
    header_of = {name: report.headers[i] for name, i in columns.items()}
    cells_of = {number: cells for number, _, cells in records}
    by_row: dict[int, list[str]] = {}
    for error in errors:
        if error.row is None or error.row not in cells_of:
            report.error = "; ".join(filter(None, [report.error, message(error)]))
            continue
        what = error.key.rsplit(".", 1)[-1]
        column = COLUMN_OF.get(what, "code")
        index = columns.get(column)
        value = cells_of[error.row][index] if index is not None and index < len(cells_of[error.row]) else None
        report.problems.append(RowProblem(error.row, header_of.get(column, column), value, message(error)))
        by_row.setdefault(error.row, []).append(message(error))
    report.rejected_rows = [(n, cells_of[n], "; ".join(m)) for n, m in sorted(by_row.items())]
    report.rows, report.rejected = len(records), len(by_row)
    before = {str(n.get("code")): n for n in current if n.get("code")}
    for node in nodes if not errors else []:
        old = before.get(node["code"])
        if old is None:
            report.inserted += 1
        elif {k: old.get(k) for k in node} == node and set(old) <= set(node) | {"code"}:
            report.unchanged += 1
        else:
            report.updated += 1
    report.status = "refused" if errors else "dry_run"


@cache
def _english() -> dict[str, str]:
    data = yaml.safe_load((shipped("locale") / "en" / "designer_category.yaml").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in (data or {}).items()}


def message(error: RowError) -> str:
    """The English text of a problem for the report and the error workbook (the designer's page shows it in the
    user's language from the same locale key)."""
    text = _english().get(error.key, error.key)
    try:
        return text.format(**error.params)
    except (KeyError, IndexError, ValueError):
        return text


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
        if match is None and _text(raw) in ERROR_COLUMNS:  # the error workbook's own columns
            continue
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


def _nodes(records: list[tuple[int, dict[str, str]]], current: list[dict[str, Any]]
           ) -> tuple[list[dict[str, Any]], list[RowError]]:
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
    errors.sort(key=lambda e: (e.row is not None, e.row or 0))
    return nodes, errors


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
