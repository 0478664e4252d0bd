"""The ``query`` kind: a query screen's inputs, the logic between them, and its result layout.

Each input compares one field with what the user enters. ``logic`` relates the inputs in the rule
language (``tier and (region or lifecycle)``); an optional input left empty drops out. Without ``logic``
every input is joined with ``and``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field as PField
from pydantic import model_validator

from .common import Label, MetaObject, Name, Strict

Operator = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "starts_with", "between", "is_empty"]
Widget = Literal["auto", "text", "number", "date_range", "date", "category", "select", "bool"]


class QueryInput(Strict):
    name: Name
    field: Name
    op: Operator = "eq"
    widget: Widget = "auto"
    label: Label | None = None
    required: bool = False
    default: Any = None


class Pivot(Strict):
    """A 2-D result: ``rows`` × ``columns`` with a measure in each cell."""

    rows: Name
    columns: Name
    measure: Literal["count", "sum", "avg"] = "count"
    of: Name | None = None
    """The numeric field summed or averaged (not for count)."""

    @model_validator(mode="after")
    def _measure_field(self) -> Pivot:
        if self.measure != "count" and not self.of:
            raise ValueError(f"measure '{self.measure}' needs 'of: <numeric field>'")
        return self


class Chart(Strict):
    type: Literal["bar", "line", "pie"] = "bar"


class Query(MetaObject):
    kind: Literal["query"]
    entity: Name
    title: Label
    inputs: list[QueryInput] = []
    logic: str | None = None
    columns: list[Name] = []
    """Result columns of a 1-D result."""
    pivot: Pivot | None = None
    sort: list[str] = []
    page_size: int = PField(default=50, ge=1, le=500)
    chart: Chart | None = None
    form: Name | None = None
    """The form screen a result row opens."""

    @model_validator(mode="after")
    def _result_shape(self) -> Query:
        if bool(self.columns) == bool(self.pivot):
            raise ValueError("a query has either 'columns' (a list) or 'pivot' (a 2-D table), exactly one")
        return self

    def input(self, name: str) -> QueryInput | None:
        return next((i for i in self.inputs if i.name == name), None)
