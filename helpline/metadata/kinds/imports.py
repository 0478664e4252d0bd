"""The ``import`` kind: how rows from a file, a database or an HTTP interface become records of one entity.

A definition names its target ``entity``, its ``source`` (``xlsx``, ``csv`` in UTF-8 or GBK, a ``sql`` query
over a database URL, an ``http`` JSON interface, or a source an extension declares in ``IMPORT_SOURCES``),
the ``columns`` (each a target field, the headers it is found under in any language, an optional
``transform`` written in the rule language — place of use ``import``, names ``value`` and ``row.<field>`` —
and an optional code table mapping the source's codes to category codes), ``cleansing`` rules (reject the
row, fix a field, or warn), the ``key`` that finds an existing record and the ``mode``: ``insert``,
``update`` or ``upsert``. Rows are never deleted unless ``delete_missing`` says so *and* the run is
confirmed.

```yaml
kind: import
name: customers_xlsx
entity: customer
source: {type: xlsx}
key: customer_no
mode: upsert
columns:
  - {field: customer_no, headers: [客户编号, Customer no.], required: true}
  - {field: phone, headers: [联系电话, Phone], transform: 'digits(value)'}
  - {field: value_tier, headers: [客户等级, Tier], codes: boss_tiers}
code_tables:
  boss_tiers: {'01': ordinary, '02': silver}
cleansing:
  - {when: 'len(row.phone) < 7', action: reject, message: 'phone number too short'}
```
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .common import Code, Label, MetaObject, Name, Strict

SOURCE_TYPES = ("xlsx", "csv", "sql", "http")


class ImportSource(Strict):
    """Where the rows come from."""

    type: str = "xlsx"
    """``xlsx``, ``csv``, ``sql``, ``http`` or ``<extension>.<source>`` (a function of ``IMPORT_SOURCES``)."""
    sheet: str | None = None
    """(xlsx) The sheet's name; unset: the first sheet."""
    header_row: int = Field(default=1, ge=1)
    """(xlsx, csv) The row that holds the headers; data starts below it."""
    encoding: Literal["auto", "utf-8", "gbk"] = "auto"
    """(csv) ``auto``: UTF-8 (with or without a BOM), else GBK."""
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    url: str | None = None
    """(sql) A database URL (``sqlite:///boss.db``, ``postgresql://...``); (http) the interface's address."""
    query: str | None = None
    """(sql) A SELECT whose column names are the headers."""
    items: str | None = None
    """(http) The dotted path of the list of rows inside the JSON answer (``data.customers``); unset: the
    answer itself is the list."""
    timeout: float = Field(default=30.0, gt=0)
    """(http) Seconds to wait for the answer."""
    params: dict[str, Any] = {}
    """(http, extension sources) Parameters passed as they are written."""

    @model_validator(mode="after")
    def _complete(self) -> ImportSource:
        if self.type == "sql" and not (self.url and self.query):
            raise ValueError("a sql source needs 'url' (a database URL) and 'query' (a SELECT)")
        if self.type == "sql" and not self.query.lstrip().lower().startswith(("select", "with")):  # type: ignore[union-attr]
            raise ValueError("a sql source's 'query' must be a SELECT (an import only reads its source)")
        if self.type == "http" and not (self.url or "").startswith(("http://", "https://")):
            raise ValueError("an http source needs 'url' starting with http:// or https://")
        if self.type not in SOURCE_TYPES and "." not in self.type:
            raise ValueError(f"source type '{self.type}' is not one of {', '.join(SOURCE_TYPES)} nor "
                             f"'<extension>.<source>'")
        return self


class ImportColumn(Strict):
    """One target field and where its value comes from."""

    field: Name
    headers: list[str] = []
    """The headers it is found under (any language, compared without case and spaces); the field's name
    and its labels are always tried too. Empty and with a ``transform``: a computed field."""
    required: bool = False
    """The file must have this column (else nothing is loaded) and each row a value in it."""
    transform: str | None = None
    """A rule-language expression giving the value to store (place of use ``import``): ``value`` is this
    column's value, ``row.<field>`` any mapped column's (``digits(value)``, ``row.city + row.district``)."""
    codes: Name | None = None
    """A table of ``code_tables`` mapping the source's codes to the field's category codes."""


class Cleansing(Strict):
    """A cleansing rule, checked on each row after the transforms."""

    when: str
    """A condition over ``row.<field>`` (place of use ``import``)."""
    action: Literal["reject", "fix", "warn"]
    field: Name | None = None
    """(fix) The field to set; (reject, warn) the field the problem is reported on."""
    value: str | None = None
    """(fix) A rule-language expression giving the new value."""
    message: Label | None = None

    @model_validator(mode="after")
    def _fix_says_what(self) -> Cleansing:
        if self.action == "fix" and not (self.field and self.value):
            raise ValueError("a 'fix' rule needs 'field' and 'value' (an expression)")
        return self


class Import(MetaObject):
    kind: Literal["import"]
    entity: Name
    source: ImportSource = ImportSource()
    columns: list[ImportColumn] = Field(min_length=1)
    key: Name | None = None
    """The field that identifies an existing record (a unique field of the entity, mapped by a column);
    required for ``update`` and ``upsert``."""
    mode: Literal["insert", "update", "upsert"] = "upsert"
    delete_missing: bool = False
    """Delete the records whose key the source no longer has — only when a run is also confirmed."""
    code_tables: dict[Name, dict[str, Code]] = {}
    cleansing: list[Cleansing] = []
    batch_size: int = Field(default=1000, ge=1, le=50_000)
    """Rows committed together; a crashed run resumes after the last committed batch."""

    @model_validator(mode="after")
    def _keyed(self) -> Import:
        if self.mode != "insert" and not self.key:
            raise ValueError(f"mode '{self.mode}' needs 'key' (the field that finds an existing record)")
        if self.delete_missing and self.mode == "insert":
            raise ValueError("'delete_missing' needs mode 'upsert' or 'update' (and a key)")
        return self

    def column(self, field: str) -> ImportColumn | None:
        return next((c for c in self.columns if c.field == field), None)
