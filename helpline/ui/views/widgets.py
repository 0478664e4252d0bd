"""A form widget for each field type, with the entity metadata's checks run in the browser as one types
(the server checks again on save and its errors are shown on the same fields)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from nicegui import ui

from helpline.metadata.kinds import EntityField
from helpline.services.values import EMAIL, PHONE, normalise_phone

from ..i18n import label, t
from .base import ViewContext
from .display import category_options

Check = Callable[[Any], bool]
LINK_OPTIONS_LIMIT = 500


def browser_checks(field: EntityField) -> dict[str, Check]:
    """Checks shown under the field while typing (message → passes)."""
    checks: dict[str, Check] = {}
    name = label(field.label, field.name)
    if field.required:
        checks[t("errors.required", field=name)] = lambda v: v not in (None, "", [])
    v = field.validation
    if field.type == "phone":
        checks[t("errors.phone")] = lambda x: not x or bool(PHONE.match(normalise_phone(str(x))))
    if field.type == "email":
        checks[t("errors.email")] = lambda x: not x or bool(EMAIL.match(str(x).strip()))
    if v is not None:
        if v.min_length:
            n = v.min_length
            checks[t("form.invalid.min_length", min=n)] = lambda x: not x or len(str(x)) >= n
        if v.max_length:
            m = v.max_length
            checks[t("form.invalid.max_length", max=m)] = lambda x: not x or len(str(x)) <= m
        if v.regex:
            pattern = re.compile(v.regex)
            checks[t("form.invalid.regex")] = lambda x: not x or bool(pattern.fullmatch(str(x)))
        if v.min is not None:
            lo = float(v.min)
            checks[t("form.invalid.min", min=v.min)] = lambda x: x in (None, "") or float(x) >= lo
        if v.max is not None:
            hi = float(v.max)
            checks[t("form.invalid.max", max=v.max)] = lambda x: x in (None, "") or float(x) <= hi
    return checks


class FieldWidget:
    """One field on a form: its element, its value as the service expects it, and its error."""

    def __init__(self, field: EntityField, element: Any, get: Callable[[], Any]):
        self.field = field
        self.element = element
        self._get = get

    @property
    def value(self) -> Any:
        return self._get()

    def set_value(self, value: Any) -> None:
        if self.field.type == "json" and value is not None:
            value = json.dumps(value, ensure_ascii=False, indent=1)
        if self.field.type in ("date", "datetime") and value is not None:
            value = value.isoformat()[: 10 if self.field.type == "date" else 16]
        self.element.value = [] if (value is None and self.field.multiple) else value

    def show_error(self, message: str | None) -> None:
        if hasattr(self.element, "error"):
            self.element.error = message
        elif message:
            ui.notify(f"{label(self.field.label, self.field.name)}: {message}", type="negative")

    def valid(self) -> bool:
        validate = getattr(self.element, "validate", None)
        return bool(validate()) if callable(validate) else True


def make_widget(ctx: ViewContext, field: EntityField, *, readonly: bool = False, hint: str | None = None,
                caption: str | None = None) -> FieldWidget:
    """The widget for ``field`` (placed in the current NiceGUI container)."""
    text = caption or label(field.label, field.name)
    checks = browser_checks(field)
    t_ = field.type
    element: Any
    if t_ == "long_text":
        element = ui.textarea(text, validation=checks).props("autogrow")
    elif t_ in ("int", "decimal"):
        element = ui.number(text, validation=checks, precision=0 if t_ == "int" else None)
    elif t_ == "bool":
        element = ui.checkbox(text)
    elif t_ in ("date", "datetime"):
        element = ui.input(text, validation=checks).props(f"type={'date' if t_ == 'date' else 'datetime-local'} "
                                                          "stack-label")
    elif t_ == "category":
        tree = ctx.platform.metadata.categories.get(field.category or "")
        element = ui.select(category_options(tree), label=text, multiple=field.multiple, with_input=True,
                            clearable=True, validation=checks).props("use-chips" if field.multiple else "")
    elif t_ == "link":
        element = _link_select(ctx, field, text, checks)
    elif t_ == "json":
        element = ui.textarea(text).props("autogrow")
    else:
        element = ui.input(text, validation=checks)
        if t_ == "phone":
            element.props("type=tel")
        elif t_ == "email":
            element.props("type=email")
    if hint or field.help:
        element.tooltip(hint or label(field.help))
    if readonly:
        element.props("readonly" if t_ not in ("bool", "category", "link") else "disable")
    element.classes("w-full")

    def get() -> Any:
        value = element.value
        if t_ == "json" and isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else None
            except ValueError:
                return value
        if t_ == "int" and isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    return FieldWidget(field, element, get)


def _link_select(ctx: ViewContext, field: EntityField, text: str, checks: dict[str, Check]) -> Any:
    """A picker of linked records: all of them when there are few, else searched as one types."""
    target = ctx.platform.metadata.entities.get(field.link or "")
    options = ctx.platform.records.link_options(ctx.actor, field, search=None, limit=LINK_OPTIONS_LIMIT)
    select = ui.select(options, label=text, with_input=True, clearable=True, validation=checks)
    if target is not None and len(options) >= LINK_OPTIONS_LIMIT:
        def search(e: Any) -> None:
            typed = str(e.args or "")
            if len(typed) < 2:
                return
            found = ctx.platform.records.link_options(ctx.actor, field, search=typed, limit=50)
            if select.value not in (None, "") and select.value not in found:
                found[select.value] = str(select.value)
            select.set_options(found, value=select.value)

        select.on("input-value", search, throttle=0.4)
    return select
