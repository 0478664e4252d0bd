"""Map a source's headers to fields and turn one source row into field values with its problems.

Headers are matched to columns by the column's ``headers``, the field's name and its labels, compared without
case and spaces. Each row then goes through: dates (text such as ``2024/3/5`` or ``2024年3月5日``, and Excel
serial numbers), code tables, the transforms, the cleansing rules and finally the entity's own validation (the
record service's :func:`clean_values`), so a row is stored exactly as a form would store it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from helpline.metadata.import_checks import header_key
from helpline.metadata.kinds import Entity, EntityField
from helpline.metadata.kinds.imports import Import
from helpline.rules import compile_expression
from helpline.rules.uses import IMPORT

from .sources import SourceError
from .words import languages_of


class BadValue(ValueError):
    """A cell that cannot be read as its field's type; ``key`` and ``params`` word it (:mod:`.words`)."""

    def __init__(self, message: str, key: str = "", **params: Any) -> None:
        super().__init__(message)
        self.key, self.params = key, params


@dataclass(frozen=True)
class RowProblem:
    """One problem of one row: the file's row number, the column as headed in the file, the value, the message
    (English; :func:`.words.message` words ``key`` with ``params`` in the reader's language)."""

    row: int
    column: str
    value: Any
    message: str
    severity: str = "error"
    """``error`` (the row is rejected) or ``warning`` (it is loaded)."""
    key: str = ""
    """A locale key of the message (empty in problems stored before keys were kept: the message is shown)."""
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    def text(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        shown = "" if self.value in (None, "") else f" ('{self.value}')"
        return f"{where}{shown}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        plain = isinstance(self.value, str | int | float | bool) or self.value is None
        value = self.value if plain else str(self.value)
        params = {k: v if isinstance(v, str | int | float | bool | dict) or v is None else str(v)
                  for k, v in self.params.items()}
        return {"row": self.row, "column": self.column, "value": value, "message": self.message,
                "severity": self.severity, "key": self.key, "params": params}


@dataclass
class Mapping:
    """Which source column fills which field."""

    index: dict[str, int]
    """field → position in the row."""
    header: dict[str, str]
    """field → the header as written in the file (or the field's name for a computed column)."""
    ignored: list[str] = field(default_factory=list)


def map_headers(definition: Import, entity: Entity, headers: list[str]) -> Mapping:
    """The mapping of ``headers``; :class:`SourceError` when a required column is missing or two headers of the
    file fill the same field."""
    if not headers:  # a source with no rows at all (nothing changed since the last sync)
        return Mapping({}, {c.field: c.field for c in definition.columns})
    where = {header_key(h): i for i, h in reversed(list(enumerate(headers))) if h}
    index: dict[str, int] = {}
    shown: dict[str, str] = {}
    missing: list[str] = []
    for col in definition.columns:
        f = entity.field(col.field)
        names = [*col.headers, col.field]
        if f is not None and f.label is not None:
            names += [f.label.en, f.label.zh_CN or ""]
        hits = sorted({where[header_key(n)] for n in names if n and header_key(n) in where})
        if len(hits) > 1:
            both = " and ".join(repr(headers[i]) for i in hits)
            raise SourceError(f"columns {both} of the file both fill field '{col.field}'; remove one",
                              "imports.refused.same_field", columns=both, field=col.field)
        if hits:
            index[col.field], shown[col.field] = hits[0], headers[hits[0]]
        elif col.required:
            missing.append(f"'{col.headers[0] if col.headers else col.field}' ({col.field})")
        else:
            shown[col.field] = col.field
    if missing:
        given = ", ".join(h for h in headers if h)
        raise SourceError(f"the file lacks the required column(s) {', '.join(missing)}; its headers are: "
                          f"{given or 'none'}", "imports.refused.missing_columns", columns=", ".join(missing),
                          headers=given or "—")
    used = set(index.values())
    return Mapping(index, shown, [h for i, h in enumerate(headers) if h and i not in used])


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%Y-%m-%d %H:%M:%S",
                "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S")


def as_date(value: Any, f: EntityField) -> Any:
    """A date or datetime from a cell: a date, an Excel serial number or text; ValueError saying the forms."""
    if value is None or value == "" or isinstance(value, datetime | date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        if not 1 <= value < 2958466:
            raise BadValue(f"{value} is not an Excel date serial number", "imports.problem.serial", value=value)
        moment = from_excel(value)
        return moment if f.type == "datetime" else moment.date()
    text = str(value).strip()
    if text.isdigit() and len(text) <= 5:  # a serial number read as text
        return as_date(int(text), f)
    if len(text) == 10 and text[4] == text[7] == "-":  # 2024-03-05, the common form: without strptime
        try:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day) if f.type == "datetime" else day
        except ValueError:
            pass
    for fmt in DATE_FORMATS:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return moment if f.type == "datetime" else moment.date()
    raise BadValue("not a date: write it as 2024-03-05, 2024/3/5 or 2024年3月5日 (or an Excel date)",
                   "imports.problem.date")


def _plain(value: Any) -> Any:
    """A cell as the rules see it: whole floats as int (a phone number 13800138000.0 read from a sheet)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


class RowConverter:
    """Turns rows of one source into field values for one definition (compiled once)."""

    def __init__(self, definition: Import, entity: Entity, mapping: Mapping) -> None:
        self.definition, self.entity, self.mapping = definition, entity, mapping
        value_use = IMPORT
        cond_use = replace(IMPORT, expect_bool=True)
        self.transforms = {c.field: compile_expression(c.transform, value_use)
                           for c in definition.columns if c.transform}
        self.rules = [(r, compile_expression(r.when, cond_use),
                       compile_expression(r.value, value_use) if r.value else None) for r in definition.cleansing]
        self.fields = {c.field: entity.field(c.field) for c in definition.columns}
        self.plan = self._plan()

    def _plan(self) -> list[tuple[str, int | None, Any, dict[str, str] | None, str, bool, bool, bool]]:
        """Per column, what :meth:`convert` does (worked out once, not for every row): (field, position in the
        row or None, transform, code table, code table's name, a date, text wanted, required)."""
        text_types = ("text", "phone", "email", "long_text", "link", "category")
        plan = []
        for col in self.definition.columns:
            if col.field not in self.mapping.index and col.field not in self.transforms:
                continue
            f = self.fields.get(col.field)
            plan.append((col.field, self.mapping.index.get(col.field), self.transforms.get(col.field),
                         self.definition.code_tables.get(col.codes, {}) if col.codes else None, col.codes or "",
                         f is not None and f.type in ("date", "datetime"), f is not None and f.type in text_types,
                         col.required))
        return plan

    def convert(self, number: int, cells: list[Any]) -> tuple[dict[str, Any], list[RowProblem]]:
        """The values of one row (before the entity's validation) and its problems."""
        problems: list[RowProblem] = []
        head = self.mapping.header
        width = len(cells)
        raw: dict[str, Any] = {}
        for name, i in self.mapping.index.items():  # :func:`_plain` of each cell, inline (20 calls a row)
            value: Any = cells[i] if i < width else None
            kind = type(value)
            if kind is str:
                value = value.strip()
            elif kind is float:
                if value.is_integer():
                    value = int(value)
            elif value is not None and kind is not int:  # a subclass of str or float, a date, a bool
                value = _plain(value)
            raw[name] = value
        values: dict[str, Any] = {}
        for name, _, transform, table, codes, is_date, wants_text, required in self.plan:
            value = raw.get(name)
            if transform is not None:
                try:
                    value = transform.evaluate({"value": value, "row": raw})
                except Exception as exc:
                    problems.append(RowProblem(number, head[name], raw.get(name), f"the transform failed: {exc}",
                                               key="imports.problem.transform", params={"error": str(exc)}))
                    continue
            if table is not None and value is not None and value != "":
                key = str(_plain(value))
                if key in table:
                    value = table[key]
                elif key not in table.values():
                    problems.append(RowProblem(number, head[name], value,
                                               f"code '{key}' is not in code table '{codes}'",
                                               key="imports.problem.code", params={"code": key, "table": codes}))
                    continue
            if is_date:
                try:
                    value = as_date(value, self.fields[name])  # type: ignore[arg-type]
                except ValueError as exc:
                    problems.append(RowProblem(number, head[name], value, str(exc), key=getattr(exc, "key", ""),
                                               params=getattr(exc, "params", {})))
                    continue
            if wants_text and isinstance(value, int | float) and not isinstance(value, bool):
                value = str(_plain(value))
            if required and (value is None or value == ""):
                problems.append(RowProblem(number, head[name], value, "a value is required",
                                           key="imports.problem.required"))
                continue
            values[name] = value
        if any(p.severity == "error" for p in problems):
            return values, problems
        for rule, when, fix in self.rules:
            message = rule.message.en if rule.message else f"cleansing rule '{rule.when}'"
            column = head.get(rule.field or "", rule.field or "")
            try:
                hit = when.test({"row": values, "value": None})
            except Exception as exc:
                problems.append(RowProblem(number, column, None, f"cleansing rule '{rule.when}' failed: {exc}",
                                           key="imports.problem.rule_failed", params={"rule": rule.when,
                                                                                     "error": str(exc)}))
                continue
            if not hit:
                continue
            said: dict[str, Any] = {"message": languages_of(rule.message)
                                    or {"key": "imports.problem.rule", "params": {"rule": rule.when}}}
            shown = values.get(rule.field or "")
            if rule.action == "reject":
                problems.append(RowProblem(number, column, shown, message, key="imports.problem.said", params=said))
            elif rule.action == "warn":
                problems.append(RowProblem(number, column, shown, message, "warning", "imports.problem.said", said))
            elif fix is not None and rule.field:
                values[rule.field] = fix.evaluate({"row": values, "value": shown})
                problems.append(RowProblem(number, column, shown, f"fixed: {message}", "warning",
                                           "imports.problem.fixed", said))
        return values, problems
