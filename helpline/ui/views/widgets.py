"""A form widget for each field type, with the entity metadata's checks run in the browser as one types
(the server checks again on save and its errors are shown on the same fields)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from nicegui import ui

from helpline.data.base import from_centre, to_centre
from helpline.metadata.kinds import EntityField
from helpline.services.values import EMAIL, PHONE, normalise_phone

from ..i18n import label, t
from .base import ViewContext
from .display import category_options

Check = Callable[[Any], bool]
LINK_SEARCH_LIMIT = 50
LINK_OPEN_LIMIT = 200
"""Options shown when a link picker opens (all of a small table such as regions); typing searches."""


def browser_checks(field: EntityField) -> dict[str, Check]:
    """Checks shown under the field while typing (message → passes)."""
    checks: dict[str, Check] = {}
    name = label(field.label, field.name)
    if field.required and field.type != "secret":  # a stored secret is kept when none is typed
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
        if self.field.type == "secret":  # the record says only whether one is set; the input stays empty
            self.element.props(f'hint="{t("form.secret.set" if value else "form.secret.not_set")}"')
            return
        if self.field.type == "json" and value is not None:
            value = json.dumps(value, ensure_ascii=False, indent=1)
        if self.field.type == "datetime" and isinstance(value, datetime):  # stored in UTC, typed in the centre's time
            value = to_centre(value)
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
        options = category_options(tree, language=ctx.language)
        element = ui.select(options, label=text, multiple=field.multiple, with_input=True, clearable=True,
                            validation=checks).props("use-chips" if field.multiple else "")
    elif t_ == "link":
        element = link_select(ctx, field, text, checks=checks)
    elif t_ == "json":
        element = ui.textarea(text).props("autogrow")
    elif t_ == "secret":
        element = ui.input(text, validation=checks, password=True).props(
            f'autocomplete=new-password hint="{t("form.secret.not_set")}"')
    else:
        element = ui.input(text, validation=checks)
        if t_ == "phone":
            element.props("type=tel")
            from .desk_dialpad import dial_button

            dial_button(ctx, element, field.name)  # click-to-dial (agents, while telephony runs)
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
        if t_ == "datetime" and isinstance(value, str) and value.strip():
            try:
                return from_centre(datetime.fromisoformat(value.strip()))  # the centre's wall clock, stored in UTC
            except ValueError:
                return value  # the service names the error
        return value

    return FieldWidget(field, element, get)


def link_select(ctx: ViewContext, field: EntityField, caption: str, *, value: Any = None,
                checks: dict[str, Check] | None = None) -> Any:
    """A picker of linked records that loads its first options when it gets the focus (or opens), then
    searches as one types, keeping the options whose label has the text (a field's ``level`` limits them):
    a list or form with several link fields holds no option lists until someone uses one."""
    select = ui.select({} if value in (None, "") else {value: str(value)}, label=caption, value=value,
                       with_input=True, clearable=True, validation=checks or {})
    loaded = {"done": False}

    def load(search: str | None) -> None:
        limit = LINK_SEARCH_LIMIT if search else LINK_OPEN_LIMIT
        found = ctx.platform.records.link_options(ctx.actor, field, search=search or None, limit=limit)
        if select.value not in (None, "") and select.value not in found:  # keep the chosen record's title
            shown = select.options if isinstance(select.options, dict) else {}
            found[select.value] = shown.get(select.value, str(select.value))
        select.set_options(found, value=select.value)

    def first_open() -> None:
        if not loaded["done"]:
            loaded["done"] = True
            load(None)
            select.run_method("showPopup")  # with no options yet the browser never opened the list

    select.on("focus", first_open)  # a select with an input and no options opens no popup: load on focus
    select.on("popup-show", first_open)
    select.on("input-value", lambda e: load(str(e.args or "")), throttle=0.4)
    if value not in (None, ""):  # show the linked record's title, not its key
        titles = ctx.platform.records.titles(ctx.actor, field.link or "", field.link_key or "id", [value])
        if value in titles:
            select.set_options({value: titles[value]}, value=value)
    return select
