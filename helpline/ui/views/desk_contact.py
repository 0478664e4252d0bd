"""The agent desktop's work area and the contact record of the current call.

:class:`WorkArea` is the shell's tab machinery (open, render, close — the same views, checks and audit as
the main work area) under the desktop frame, with a fixed first tab for the call. :class:`ContactPanel`
shows the call's contact record (``contact_record_form``) from the moment the call is answered; the agent
completes it during the call and wrap-up and files it: the end time is set and the record saved through
``platform.records`` (validation errors appear on the fields).

The form is built once per desktop (:class:`ContactForm`) and filled again with each call's record, and
saving it does not build it again: a call costs the changed values, not ~60 new elements.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from nicegui import ui

from helpline.metadata.kinds import Screen
from helpline.security.actor import Actor
from helpline.services.records import Record

from ..i18n import label
from ..shell import Shell
from .base import ViewContext
from .desk_status import Words
from .display import show
from .form_view import FormView
from .widgets import FieldWidget

CONTACT_SCREEN = "contact_record_form"
CALL_TAB = "desk:call"


class WorkArea(Shell):
    """The desktop's tabs: the call tab, then screens, records and queries opened from the desktop (no second
    header and menu: the page has them)."""

    def __init__(self, actor: Actor, call_title: str) -> None:  # the shell's frame is built by the page
        self.actor = actor
        self.tabs_by_key = {}
        self.tabs = ui.tabs().classes("w-full").props("align=left dense inline-label outside-arrows") \
            .mark("desk-work-tabs")
        with self.tabs:
            self.call_tab = ui.tab(CALL_TAB, label=call_title, icon="call").props("no-caps")
        self.panels = ui.tab_panels(self.tabs, value=self.call_tab).classes("w-full").props("keep-alive")
        with self.panels:
            self.call_panel = ui.tab_panel(self.call_tab).classes("q-pa-sm")

    def close(self, key: str) -> None:
        super().close(key)
        if not self.tabs_by_key:
            self.tabs.value = self.call_tab

    def show_call(self) -> None:
        self.tabs.value = self.call_tab


class ContactForm(FormView):
    """The contact record form on a record the desk already read (``open_contact_record``), built once: a later
    record of the same shape (same masked fields) only gets its values, and a save keeps the elements."""

    def __init__(self, ctx: ViewContext, screen: Screen, record: Record) -> None:
        super().__init__(ctx, screen, record.id)
        self.record, self.version = record, int(record.values["version"])
        self.fields: dict[str, FieldWidget] = {}
        """Every field's widget, read-only ones too (``self.widgets``: the editable ones)."""
        self.title: ui.label | None = None
        self.masked: frozenset[str] = frozenset()

    async def load(self) -> None:
        self.render()

    def show_record(self, record: Record) -> None:
        """Show another record (the next call's) or the same one again."""
        self.record, self.record_id, self.version = record, record.id, int(record.values["version"])
        if self.fields:  # else the first render (its timer is due) shows it
            self.render()

    def render(self) -> None:
        record = self.record
        if record is None or self.screen.related or not self.fields or record.masked != self.masked:
            super().render()
            self.collect_fields()
            return
        self.fill(record)

    def collect_fields(self) -> None:
        """Find the widgets the form just built (each carries the class ``field-<name>``) and its title."""
        self.fields.clear()
        self.title = None
        self.masked = self.record.masked if self.record is not None else frozenset()
        for element in self.container.descendants():
            if self.title is None and isinstance(element, ui.label) and "text-h6" in element.classes:
                self.title = element
            name = next((c[6:] for c in element.classes if c.startswith("field-")), None)
            field = self.entity.any_field(name) if name else None
            if name and field is not None:
                self.fields[name] = self.widgets.get(name) or FieldWidget(field, element, partial(getattr, element,
                                                                                               "value"))

    def fill(self, record: Record) -> None:
        """The record's values into the built widgets, as :meth:`FormView.render_field` sets them."""
        values, metadata = record.values, self.ctx.platform.metadata
        if self.title is not None and self.entity.title_field:
            self.title.text = f"{label(self.screen.title, self.screen.name)}: " \
                              f"{values.get(self.entity.title_field) or record.id}"
        for name, widget in self.fields.items():
            field, element = widget.field, widget.element
            value = values.get(name)
            if name in record.masked or self.entity.field(name) is None:
                element.value = show(field, value, metadata, language=self.ctx.language) \
                    if field.type != "bool" else value
            elif value is None:
                element.value = empty_value(element, field.multiple)
            else:
                if field.type == "link" and value not in (element.options or {}):
                    element.set_options({value: str(value)}, value=value)
                widget.set_value(value)
            if name in self.widgets and hasattr(element, "error"):
                element.error = None  # a new record shows no errors until one types or saves


def empty_value(element: Any, multiple: bool) -> Any:
    """What a widget holds before anything is set (as a freshly built form has it)."""
    if isinstance(element, ui.input):  # also ui.textarea
        return ""
    if isinstance(element, ui.checkbox):
        return False
    return [] if multiple else None


class ContactPanel:
    def __init__(self, ctx: ViewContext, container: ui.element) -> None:
        self.ctx, self.container = ctx, container
        self.t = Words(ctx.language)
        self.form: ContactForm | None = None
        self.record_id: int | None = None
        self.serial: str | None = None
        self.filed = False
        self.over = False

    def clear(self) -> None:
        """No contact record (a new call is offered): the form is hidden, kept for the next record."""
        self.container.set_visibility(False)
        self.record_id, self.serial, self.filed, self.over = None, None, False, False

    def show(self, record: Record, *, over: bool) -> None:
        """Show the contact record of the call (again: only the call's state changes)."""
        if self.record_id == record.id:
            self.set_over(over)
            return
        self.record_id, self.serial = record.id, str(record.values["serial_no"])
        self.filed = record.values.get("ended_at") is not None
        if self.form is None:
            screen = self.ctx.platform.metadata.screens[CONTACT_SCREEN]
            with self.container:
                with ui.row().classes("w-full items-center gap-3"):
                    ui.icon("edit_note", color="primary", size="sm")
                    self.title = ui.label("").classes("text-subtitle1 text-primary")
                    self.state = ui.label("").classes("text-caption").mark("desk-contact-state")
                    ui.space()
                    self.file_button = ui.button(self.t("desk.contact.file"), icon="task", on_click=self.file) \
                        .props("dense no-caps").classes("desk-file").mark("desk-file")
                self.form = ContactForm(self.ctx, screen, record)
        else:
            self.form.show_record(record)
        self.title.text = self.t("desk.contact.title", serial=self.serial)
        self.container.set_visibility(True)
        self.set_over(over)

    def set_over(self, over: bool) -> None:
        """The call ended (wrap-up): the record can be filed."""
        self.over = over
        if self.record_id is None:
            return
        self.file_button.set_enabled(over)
        key = "desk.contact.filed" if self.filed else ("desk.contact.wrap_up" if over else "desk.contact.during_call")
        self.state.text = self.t(key)
        self.state.classes(replace="text-caption " + ("text-positive" if self.filed else "text-grey-7"))

    async def file(self) -> None:
        form = self.form
        if form is None or form.record is None or self.record_id is None:
            return
        ended = form.widgets.get("ended_at")
        if ended is not None and not ended.value:
            ended.set_value(datetime.now().replace(second=0, microsecond=0))
        version = form.version
        await form.save()
        if form.version != version and form.record_id == self.record_id:
            self.filed = True
            ui.notify(self.t("desk.contact.filed"), type="positive")
            self.set_over(self.over)
