"""The ``screen`` kind: form, list and desktop views of an entity."""

from __future__ import annotations

from typing import Literal

from pydantic import Field as PField
from pydantic import model_validator

from .common import Label, MetaObject, Name, Strict

ScreenAction = Literal["create", "save", "delete", "export", "open", "refresh", "print"]


class FieldRef(Strict):
    """A field placed on a form, with per-screen overrides."""

    field: Name
    readonly: bool = False
    label: Label | None = None
    hint: Label | None = None
    span: int = PField(default=1, ge=1, le=4)


class Section(Strict):
    """A group of fields on a form; sections with a ``tab`` are shown as tabs."""

    title: Label
    tab: Label | None = None
    columns: int = PField(default=2, ge=1, le=4)
    fields: list[Name | FieldRef] = PField(min_length=1)

    def refs(self) -> list[FieldRef]:
        return [f if isinstance(f, FieldRef) else FieldRef(field=f) for f in self.fields]


class Column(Strict):
    field: Name
    label: Label | None = None
    width: int | None = None
    sortable: bool = True


class RelatedList(Strict):
    """Records of another entity that link to this one (a customer's work orders)."""

    entity: Name
    via: Name
    """The link field on ``entity`` pointing at this screen's entity."""
    title: Label
    columns: list[Name] = PField(min_length=1)
    sort: list[str] = []
    limit: int = PField(default=10, ge=1, le=100)


class Screen(MetaObject):
    kind: Literal["screen"]
    entity: Name
    view: Literal["form", "list", "desktop"]
    title: Label
    layout: list[Section] = []
    columns: list[Name | Column] = []
    sort: list[str] = []
    """Default sort, field names with ``-`` for descending."""
    filters: list[Name] = []
    """Fields offered as per-column filters."""
    page_size: int = PField(default=50, ge=1, le=500)
    actions: list[ScreenAction] = []
    related: list[RelatedList] = []
    form: Name | None = None
    """For lists: the form screen a row click opens."""

    @model_validator(mode="after")
    def _view_content(self) -> Screen:
        if self.view in ("form", "desktop") and not self.layout:
            raise ValueError(f"a {self.view} screen needs 'layout' with at least one section")
        if self.view == "list" and not self.columns:
            raise ValueError("a list screen needs 'columns'")
        return self

    def column_refs(self) -> list[Column]:
        return [c if isinstance(c, Column) else Column(field=c) for c in self.columns]

    def field_names(self) -> list[str]:
        names = [r.field for s in self.layout for r in s.refs()]
        names += [c.field for c in self.column_refs()]
        return names
