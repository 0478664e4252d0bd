"""The agent desktop's work area and the contact record of the current call.

:class:`WorkArea` is the shell's tab machinery (open, render, close — the same views, checks and audit as
the main work area) under the desktop frame, with a fixed first tab for the call. :class:`ContactPanel`
shows the call's contact record (``contact_record_form``) from the moment the call is answered; the agent
completes it during the call and wrap-up and files it: the end time is set and the record saved through
``platform.records`` (validation errors appear on the fields).
"""

from __future__ import annotations

from datetime import datetime

from nicegui import ui

from helpline.security.actor import Actor
from helpline.services.records import Record

from ..shell import Shell
from .base import ViewContext
from .desk_status import Words
from .form_view import FormView

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


class ContactPanel:
    def __init__(self, ctx: ViewContext, container: ui.element) -> None:
        self.ctx, self.container = ctx, container
        self.t = Words(ctx.language)
        self.form: FormView | None = None
        self.record_id: int | None = None
        self.serial: str | None = None
        self.filed = False
        self.over = False

    def clear(self) -> None:
        self.container.clear()
        self.form, self.record_id, self.serial, self.filed, self.over = None, None, None, False, False

    def show(self, record: Record, *, over: bool) -> None:
        """Show the contact record of the call (again: only the call's state changes)."""
        if self.record_id == record.id:
            self.set_over(over)
            return
        screen = self.ctx.platform.metadata.screens[CONTACT_SCREEN]
        self.record_id, self.serial = record.id, str(record.values["serial_no"])
        self.filed = record.values.get("ended_at") is not None
        self.container.clear()
        with self.container:
            with ui.row().classes("w-full items-center gap-3"):
                ui.icon("edit_note", color="primary", size="sm")
                ui.label(self.t("desk.contact.title", serial=self.serial)).classes("text-subtitle1 text-primary")
                self.state = ui.label("").classes("text-caption").mark("desk-contact-state")
                ui.space()
                self.file_button = ui.button(self.t("desk.contact.file"), icon="task", on_click=self.file) \
                    .props("dense no-caps").classes("desk-file").mark("desk-file")
            self.form = FormView(self.ctx, screen, record.id)
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
        if form is None or form.record is None:
            return
        ended = form.widgets.get("ended_at")
        if ended is not None and not ended.value:
            ended.set_value(datetime.now().replace(second=0, microsecond=0))
        version = form.version
        await form.save()
        if form.version != version:
            self.filed = True
            ui.notify(self.t("desk.contact.filed"), type="positive")
            self.set_over(self.over)
