"""The agent desktop's work area and the contact record of the current call.

:class:`WorkArea` is the shell's tab machinery (open, render, close — the same views, checks and audit as
the main work area) under the desktop frame, with a fixed first tab for the call. :class:`ContactPanel`
shows the call's contact record (``contact_record_form``) from the moment the call is answered; the agent
completes it during the call and wrap-up and files it: the end time is set and the record saved through
``platform.records`` (validation errors appear on the fields).

The form (:class:`ContactForm`) is built when a call's record is shown and lives until the record is filed or
closed and the call is finished: then the desktop releases it (:meth:`ContactPanel.release`, the elements
deleted; the next call builds it again). While it lives, another record (the next call's, offered before this
one was filed: this one moves to a tab) only fills it again, and saving does not build it again. It is built
lighter than the generic form (NiceGUI costs ≈ 4 KB of server memory per element and ≈ 0.9 KB per select
option): each section is one grid (no card, no wrapper per field), the Save button sits in the panel's header
(whose title already names the record), and a category select holds only its chosen codes until it is opened
(:class:`LazyCategory`: the tree's codes are loaded when it opens, dropped when it closes).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from nicegui import app, run, ui

from helpline.data.base import utcnow
from helpline.metadata.kinds import EntityField, FieldRef, Screen
from helpline.security.actor import Actor, PermissionDenied
from helpline.services.records import Record, RecordNotFound

from .. import gc_tuning
from ..i18n import label, t
from ..shell import Shell
from .base import ViewContext
from .desk_status import Words
from .display import category_options, show
from .form_view import FormView
from .widgets import FieldWidget, make_widget

CONTACT_SCREEN = "contact_record_form"
CALL_TAB = "desk:call"
SECTION_STYLE = "border: 1px solid rgba(0,0,0,.12)"
FIELDS_PER_TURN = 4
"""A contact record form's first build gives the event loop back after this many fields (≈ 1–2 ms each)."""


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


class LazyCategory:
    """A category select holding only the options of its chosen codes (what its chips show): the tree's codes
    are loaded when the select opens and dropped again when it closes. A desktop keeps its contact record form
    for every later call, and the option dicts of the category trees were the form's largest part."""

    def __init__(self, ctx: ViewContext, field: EntityField, element: Any) -> None:
        self.tree = ctx.platform.metadata.categories.get(field.category or "")
        self.language, self.element, self.multiple = ctx.language, element, field.multiple
        self.open = False
        element.on("popup-show", self.load)
        element.on("focus", self.focused)  # with only the chosen codes (often none) the browser opens no list
        element.on("popup-hide", self.drop)
        self.drop()

    def options(self, value: Any) -> dict[str, str]:
        """Every code offered (and the chosen ones, also retired), as the generic form offers them."""
        return category_options(self.tree, current=value, language=self.language)

    def chosen(self, value: Any) -> dict[str, str]:
        codes = [c for c in (value if isinstance(value, list) else [value]) if c not in (None, "")]
        offered = self.options(value) if codes else {}
        return {c: offered.get(c, str(c)) for c in codes}

    def set_value(self, value: Any) -> None:
        """A record's value: its options first (a multi-select shows only values among its options)."""
        if value is None:
            value = [] if self.multiple else None
        self.element.set_options(self.options(value) if self.open else self.chosen(value), value=value)

    def load(self) -> None:
        self.open = True
        self.element.set_options(self.options(self.element.value), value=self.element.value)

    def focused(self) -> None:
        if not self.open:
            self.load()
            self.element.run_method("showPopup")

    def drop(self) -> None:
        self.open = False
        self.element.set_options(self.chosen(self.element.value), value=self.element.value)


def light(screen: Screen) -> bool:
    """Whether :class:`ContactForm` builds ``screen`` light (no tabs, no related lists); its Save button is then
    in the panel's header."""
    return not screen.related and not any(s.tab for s in screen.layout)


class ContactForm(FormView):
    """The contact record form on a record the desk already read (``open_contact_record``), built once: a later
    record of the same shape (same masked fields) only gets its values, and a save keeps the elements.

    A screen without tabs and related lists (``contact_record_form``) is built lighter than
    :meth:`FormView.render` builds it (see the module's docstring); another screen gets the generic form."""

    def __init__(self, ctx: ViewContext, screen: Screen, record: Record, titles: dict[str, str] | None = None) -> None:
        super().__init__(ctx, screen, record.id)
        self.record, self.version = record, int(record.values["version"])
        self.titles: dict[str, str] = titles or {}
        """Link field → the title of the record it links (:func:`link_titles`), shown instead of its key."""
        self.fields: dict[str, FieldWidget] = {}
        """Every field's widget, read-only ones too (``self.widgets``: the editable ones)."""
        self.lazy: dict[str, LazyCategory] = {}
        """The category selects that load their options when opened."""
        self.title: ui.label | None = None
        self.masked: frozenset[str] = frozenset()

    @property
    def light(self) -> bool:
        return light(self.screen)

    async def load(self) -> None:
        """The first render: a light form is built a few fields per loop turn (:meth:`build_in_turns`)."""
        record = self.record
        if record is not None and self.light and not self.fields:
            await self.build_in_turns(record)
        else:
            self.render()

    def show_record(self, record: Record) -> None:
        """Show another record (the next call's) or the same one again."""
        self.record, self.record_id, self.version = record, record.id, int(record.values["version"])
        if self.fields:  # else the first render (its timer is due) shows it
            self.render()

    def render(self) -> None:
        record = self.record
        if record is None or not self.light:
            super().render()
            self.collect_fields()
            return
        if not self.fields or record.masked != self.masked:
            self.build(record)
            return
        self.fill(record)

    # ------------------------------------------------------------------------------------ light form
    def build(self, record: Record) -> None:
        """The form's elements: per section one grid with the field widgets (its title is the grid's caption)."""
        for _ in self.build_steps(record):
            pass

    async def build_in_turns(self, record: Record) -> None:
        """:meth:`build`, giving the event loop back every :data:`FIELDS_PER_TURN` fields: a desktop server builds
        a form for every answered call (≈ 20 ms of the loop, the largest single step during calls), and another
        desktop's screen-pop ready meanwhile goes out between two steps instead of after the whole form (issue 22).
        A form released or given another record meanwhile stops; the other record is then shown whole."""
        for _ in self.build_steps(record):
            await asyncio.sleep(0)
            if self.container.is_deleted or self.record is not record:
                break
        else:
            return
        if not self.container.is_deleted and self.record is not None:
            self.build(self.record)

    def build_steps(self, record: Record) -> Iterator[None]:
        """Build the form, pausing (``yield``) after every :data:`FIELDS_PER_TURN` fields."""
        self.container.clear()
        self.widgets.clear()
        self.lazy.clear()
        self.fields.clear()
        values = record.values
        if self.entity.title_field:
            self.ctx.retitle(str(values.get(self.entity.title_field) or record.id))
        built = 0
        for section in self.screen.layout:
            with self.container:
                grid = ui.grid(columns=section.columns) \
                    .classes("w-full gap-x-4 gap-y-1 q-pa-sm rounded-borders desk-section").style(SECTION_STYLE)
                grid._props["data-caption"] = label(section.title)  # drawn as its first row (desk_pop.DESK_STYLE)
            for ref in section.refs():
                if built and built % FIELDS_PER_TURN == 0:
                    yield
                    if self.container.is_deleted:
                        return
                with grid:
                    self.build_field(ref, values, section.columns)
                built += 1
        self.collect_fields()

    def build_field(self, ref: FieldRef, values: dict[str, Any], columns: int) -> None:
        """One field's widget, straight in the section's grid (:meth:`FormView.render_field` without its wrapper)."""
        field = self.entity.any_field(ref.field)
        if field is None or self.record is None:
            return
        masked = ref.field in self.record.masked
        system = self.entity.field(ref.field) is None
        readonly = ref.readonly or not self.editable or masked or system
        widget = make_widget(self.ctx, field, readonly=readonly, hint=label(ref.hint) if ref.hint else None,
                             caption=label(ref.label) if ref.label else None)
        element = widget.element
        if min(ref.span, columns, 4) > 1:
            element.style(f"grid-column: span {min(ref.span, columns, 4)}")
        value = values.get(ref.field)
        if masked or system:
            shown = show(field, value, self.ctx.platform.metadata, language=self.ctx.language)
            element.value = shown if field.type != "bool" else value
        else:
            if field.type == "category":
                self.lazy[ref.field] = LazyCategory(self.ctx, field, element)
            if value is not None:  # an empty new form shows no errors until one types or saves
                if field.type == "link" and value not in (element.options or {}):
                    element.set_options({value: self.titles.get(ref.field, str(value))}, value=value)
                self.set_field(ref.field, widget, value)
        element.classes(f"field-{ref.field}").mark(f"field-{ref.field}")
        if not readonly:
            self.widgets[ref.field] = widget

    def set_field(self, name: str, widget: FieldWidget, value: Any) -> None:
        lazy = self.lazy.get(name)
        if lazy is not None:
            lazy.set_value(value)
        else:
            widget.set_value(value)

    # ------------------------------------------------------------------------------------ filling
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
            elif value is None and name not in self.lazy:
                element.value = empty_value(element, field.multiple)
            else:
                if field.type == "link" and (element.options or {}).get(value) != self.titles.get(name, str(value)):
                    element.set_options({value: self.titles.get(name, str(value))}, value=value)
                self.set_field(name, widget, value)
            if name in self.widgets and hasattr(element, "error"):
                element.error = None  # a new record shows no errors until one types or saves


def link_titles(ctx: ViewContext, record: Record) -> dict[str, str]:
    """The titles of the records the contact record links (its customer's name), as the agent may read them
    (blocking: read beside the record on a worker thread; the form showed the customer's key, ``31``)."""
    entity = ctx.platform.metadata.entities[record.entity]
    titles: dict[str, str] = {}
    for field in entity.active_fields:
        value = record.values.get(field.name)
        if field.type == "link" and value not in (None, "") and field.name not in record.masked:
            found = ctx.platform.records.titles(ctx.actor, field.link or "", field.link_key or "id", [value])
            if value in found:
                titles[field.name] = found[value]
    return titles


def empty_value(element: Any, multiple: bool) -> Any:
    """What a widget holds before anything is set (as a freshly built form has it)."""
    if isinstance(element, ui.input):  # also ui.textarea
        return ""
    if isinstance(element, ui.checkbox):
        return False
    return [] if multiple else None


UNFILED = "desk_unfiled_contacts"
"""The user's storage key: ids of the contact records shown on the desktop and neither filed nor dismissed
(a reloaded desktop opens them again in tabs)."""


def unfiled_ids() -> list[int]:
    try:
        return [int(i) for i in app.storage.user.get(UNFILED, [])]
    except (RuntimeError, AssertionError, TypeError, ValueError):
        return []


def keep_unfiled(record_id: int, keep: bool) -> None:
    """Remember (or forget) a contact record the agent has not filed or dismissed yet."""
    ids = [i for i in unfiled_ids() if i != record_id] + ([record_id] if keep else [])
    with contextlib.suppress(RuntimeError, AssertionError):  # outside a page (no user storage): nothing kept
        app.storage.user[UNFILED] = ids


class ContactPanel:
    def __init__(self, ctx: ViewContext, container: ui.element) -> None:
        self.ctx, self.container = ctx, container
        self.t = Words(ctx.language)
        self.form: ContactForm | None = None
        self.record_id: int | None = None
        self.serial: str | None = None
        self.filed = False
        self.over = False
        self.on_done: Callable[[], None] | None = None
        """Called when the record was filed or closed (the desktop then releases what the call no longer needs)."""

    def clear(self) -> None:
        """No contact record (a new call is offered): the form is hidden, kept for the next record."""
        self.container.set_visibility(False)
        self.record_id, self.serial, self.filed, self.over = None, None, False, False

    def release(self) -> None:
        """The record is filed or closed and the call finished: delete the form and its header (the next record
        builds them again)."""
        self.clear()
        if self.form is not None:
            for element in list(self.container):
                gc_tuning.discard(element)
            self.form = None
            for name in ("title", "state", "file_button", "dismiss_button"):  # no reference to deleted elements
                vars(self).pop(name, None)

    def done(self) -> None:
        if self.on_done is not None:
            self.on_done()

    def show(self, record: Record, *, over: bool, titles: dict[str, str] | None = None) -> None:
        """Show the contact record of the call (again: only the call's state changes); ``titles``: its links'
        (:func:`link_titles`)."""
        if self.record_id == record.id:
            self.set_over(over)
            return
        self.record_id, self.serial = record.id, str(record.values["serial_no"])
        self.filed = record.values.get("ended_at") is not None
        keep_unfiled(record.id, not self.filed)
        if self.form is None:
            screen = self.ctx.platform.metadata.screens[CONTACT_SCREEN]
            with self.container:
                with ui.row().classes("w-full items-center gap-3"):
                    ui.icon("edit_note", color="primary", size="sm")
                    self.title = ui.label("").classes("text-subtitle1 text-primary")
                    self.state = ui.label("").classes("text-caption").mark("desk-contact-state")
                    if light(screen) and self.ctx.actor.can(screen.entity, "update"):
                        ui.button(t("form.save"), icon="save", on_click=self.save).props("dense flat no-caps") \
                            .classes("save-button ml-auto").mark("save")
                    else:
                        ui.space()
                    self.file_button = ui.button(self.t("desk.contact.file"), icon="task", on_click=self.file) \
                        .props("dense no-caps").classes("desk-file").mark("desk-file")
                    self.dismiss_button = ui.button(self.t("desk.contact.dismiss"), icon="close",
                                                    on_click=self.dismiss) \
                        .props("dense flat no-caps").classes("desk-dismiss").mark("desk-dismiss")
                self.form = ContactForm(self.ctx, screen, record, titles)
        else:
            self.form.titles = titles or {}
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
        self.dismiss_button.set_enabled(over)  # once the call is over: the record stays until filed or dismissed
        key = "desk.contact.filed" if self.filed else ("desk.contact.wrap_up" if over else "desk.contact.during_call")
        self.state.text = self.t(key)
        self.state.classes(replace="text-caption " + ("text-positive" if self.filed else "text-grey-7"))

    def values(self) -> dict[str, Any]:
        """The contact record as the agent has it now: its saved values under what the form holds."""
        form = self.form
        if form is None or form.record is None or self.record_id is None:
            return {}
        current = dict(form.record.values)
        current.update({name: w.value for name, w in form.widgets.items()})
        return current

    def dismiss(self) -> None:
        """The agent closes the contact record without filing it (it stays under Contact records)."""
        if self.record_id is None:
            return
        if not self.filed:
            ui.notify(self.t("desk.contact.dismissed", serial=self.serial or ""), type="info")
        keep_unfiled(self.record_id, False)
        self.clear()
        self.done()

    async def catch_up(self, form: ContactForm) -> None:
        """Before filing: fields written elsewhere since the form was filled (the dial-out writes the end time of
        an outbound call when the far end hangs up) go into the fields the agent left blank, what the agent
        entered stays, and the record is saved on the stored version (else filing an outbound call's record
        failed as "someone else changed this record")."""
        if form.record is None or self.record_id is None:
            return
        try:
            stored = await run.io_bound(self.ctx.platform.records.get, self.ctx.actor, form.entity.name,
                                        self.record_id)
        except (RecordNotFound, PermissionDenied):
            return  # the save says why
        if stored is None or form.record is None or int(stored.values["version"]) == form.version:
            return
        before = form.record.values
        for name, widget in form.widgets.items():
            value = stored.values.get(name)
            if value != before.get(name) and widget.value in (None, "", []):
                widget.set_value(value)
        form.record, form.version = stored, int(stored.values["version"])

    async def save(self) -> None:
        """Save the record as it is (during the call; filing also sets its end time)."""
        if self.form is not None and self.form.record is not None:
            await self.form.save()

    async def file(self) -> None:
        form = self.form
        if form is None or form.record is None or self.record_id is None:
            return
        await self.catch_up(form)
        ended = form.widgets.get("ended_at")
        if ended is not None and not ended.value:
            ended.set_value(utcnow().replace(second=0, microsecond=0))
        version = form.version
        await form.save()
        if form.version != version and form.record_id == self.record_id:
            self.filed = True
            keep_unfiled(self.record_id, False)
            ui.notify(self.t("desk.contact.filed"), type="positive")
            self.set_over(self.over)
            self.done()
