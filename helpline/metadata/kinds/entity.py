"""The ``entity`` kind: a business record type (customer, work order, ...) and its fields.

Entities become peewee models at run time (see ``helpline.data.entities``); their tables are migrated
additively. A field can be retired: it stays in the table and on old records but leaves screens.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, get_args

from pydantic import Field as PField
from pydantic import model_validator

from .common import Label, MetaObject, Name, Strict

_FIELDS_BY_NAME: dict[int, tuple[list[Any], dict[str, Any], tuple[Any, ...]]] = {}
"""``Entity.field``'s and ``active_fields``' lookup tables by the id of the entity's ``fields`` list (the
list itself is kept with its tables, so an id cannot be reused while cached; a pydantic private attribute costs
more to read than the linear search it would replace)."""

FieldType = Literal[
    "text", "long_text", "int", "decimal", "bool", "date", "datetime",
    "phone", "email", "category", "link", "json", "secret",
]
ORDERABLE_TYPES = frozenset(
    {"text", "int", "decimal", "bool", "date", "datetime", "phone", "email", "category", "link"})
TEXT_TYPES = frozenset({"text", "long_text", "phone", "email"})
NUMBER_TYPES = frozenset({"int", "decimal"})
SHOWN_TYPES = frozenset(set(get_args(FieldType)) - {"secret"})
"""Types whose values lists, exports, titles and query columns may show (a ``secret`` is stored hashed: a form
shows at most whether one is set, and it can be set anew)."""


class Validation(Strict):
    """Checks a value must pass, enforced in forms and again on the server."""

    min: Decimal | None = None
    max: Decimal | None = None
    min_length: int | None = PField(default=None, ge=0)
    max_length: int | None = PField(default=None, ge=1)
    regex: str | None = None
    rule: str | None = None
    """A rule-language condition (place of use ``validation``) over ``value`` and ``record.*``."""
    message: Label | None = None


class EntityField(Strict):
    """One field of an entity."""

    name: Name
    type: FieldType
    label: Label
    help: Label | None = None
    required: bool = False
    unique: bool = False
    indexed: bool = False
    default: Any = None
    validation: Validation | None = None
    category: Name | None = None
    """For ``category`` fields: the category tree the codes come from."""
    multiple: bool = False
    """For ``category`` fields: several codes (stored as a list)."""
    link: Name | None = None
    """For ``link`` fields: the linked entity."""
    link_key: Name | None = None
    """For ``link`` fields: the linked entity's unique field stored here (default: its id)."""
    level: Name | None = None
    """For ``link`` fields to a tree of records (``region``): only records of this level — a code of the linked
    entity's ``level`` category field (``city``: cities, not counties)."""
    series: str | None = None
    """A numbering series (``WO{yyyyMMdd}{seq:5}``, see :mod:`helpline.metadata.series`): the server gives a new
    record the next number when it is created without a value (text fields)."""
    retired: bool = False
    text_search: bool = False
    """Index the field for text search (``text``, ``long_text``, ``phone`` and ``email`` fields; docs/search.md):
    Chinese segmented, names by single characters and pairs, numbers by any part."""

    @model_validator(mode="after")
    def _type_specific(self) -> EntityField:
        if self.type == "category" and not self.category:
            raise ValueError(f"field '{self.name}' of type category needs 'category: <tree name>'")
        if self.type == "link" and not self.link:
            raise ValueError(f"field '{self.name}' of type link needs 'link: <entity name>'")
        if self.category and self.type != "category":
            raise ValueError(f"'category' is only for fields of type category (field '{self.name}')")
        if self.link and self.type != "link":
            raise ValueError(f"'link' is only for fields of type link (field '{self.name}')")
        if self.level and self.type != "link":
            raise ValueError(f"'level' is only for fields of type link (field '{self.name}')")
        if self.multiple and self.type != "category":
            raise ValueError(f"'multiple' is only for fields of type category (field '{self.name}')")
        if self.text_search and self.type not in TEXT_TYPES:
            raise ValueError(f"'text_search' is only for text, long_text, phone and email fields (field "
                             f"'{self.name}' is {self.type})")
        if self.type == "secret" and (self.unique or self.indexed or self.default is not None):
            raise ValueError(f"secret field '{self.name}' is stored hashed: it cannot be unique, indexed or have "
                             "a default")
        return self

    @property
    def max_length(self) -> int:
        """Column width for text-like fields."""
        if self.validation and self.validation.max_length:
            return self.validation.max_length
        return _WIDTHS.get(self.type, 255)


_WIDTHS = {"phone": 32, "email": 254, "category": 64}
"""Column widths of the text-like types other than ``text`` (255)."""


class Entity(MetaObject):
    """A business record type."""

    kind: Literal["entity"]
    label: Label
    fields: list[EntityField] = PField(min_length=1)
    title_field: Name | None = None
    """The field that names a record in links, tabs and the audit log."""
    search_fields: list[Name] = []
    """Fields the quick search of lists looks in."""
    indexes: list[list[Name]] = []
    """Composite indexes, each a list of field names."""
    audit_reads: bool = False
    """Log every read of a record (customer data)."""

    def field(self, name: str) -> EntityField | None:
        return self._lookup()[1].get(name)

    def _lookup(self) -> tuple[list[Any], dict[str, Any], tuple[Any, ...]]:
        """(fields, fields by name, active fields), built once per ``fields`` list (an import asks 30 a row)."""
        fields = self.fields
        cached = _FIELDS_BY_NAME.get(id(fields))
        if cached is None or cached[0] is not fields:
            if len(_FIELDS_BY_NAME) > 512:
                _FIELDS_BY_NAME.clear()
            cached = _FIELDS_BY_NAME[id(fields)] = (fields, {f.name: f for f in reversed(fields)},
                                                    tuple(f for f in fields if not f.retired))
        return cached

    def any_field(self, name: str) -> EntityField | None:
        """A declared field or one of the system columns every record has (id, created_at, ...)."""
        return self.field(name) or SYSTEM_FIELDS.get(name)

    @property
    def active_fields(self) -> list[EntityField]:
        """The fields not retired (a new list each time: callers may keep or change it)."""
        return list(self._lookup()[2])


SYSTEM_FIELDS: dict[str, EntityField] = {
    "id": EntityField(name="id", type="int", label=Label(en="ID", zh_CN="编号")),
    "created_at": EntityField(name="created_at", type="datetime", label=Label(en="Created", zh_CN="创建时间")),
    "created_by": EntityField(name="created_by", type="text", label=Label(en="Created by", zh_CN="创建人")),
    "updated_at": EntityField(name="updated_at", type="datetime", label=Label(en="Updated", zh_CN="修改时间")),
    "updated_by": EntityField(name="updated_by", type="text", label=Label(en="Updated by", zh_CN="修改人")),
}
"""The system columns, as fields: lists, queries and rules may use them; forms show them read-only."""
