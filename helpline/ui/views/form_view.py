"""A generated form: create, view and edit a record with the sections and tabs of its screen metadata,
field widgets by type, checks in the browser and again on the server (errors shown on the fields),
optimistic concurrency (a record changed since the form loaded is merged on the server: only a field changed both
here and meanwhile is a conflict, see ``RecordService.update``'s ``base``), delete, and the related lists (a
customer's contact records and work orders). A record a process governs shows its state, actions and timeline
(:mod:`.process_panel`); its state field is read-only."""

from __future__ import annotations

from functools import partial
from typing import Any

from nicegui import run, ui

from helpline.data.query import Page
from helpline.metadata.kinds import FieldRef, RelatedList, Screen, Section
from helpline.security.actor import PermissionDenied
from helpline.services.records import Record, RecordNotFound, StaleRecord, ValidationFailed
from helpline.services.values import default_value
from helpline.services.workflow import TransitionRefused
from helpline.services.workflow.process_view import ProcessView, process_view

from ..i18n import label, t
from .base import ViewContext
from .display import show
from .list_view import format_rows
from .process_panel import ProcessPanel
from .widgets import FieldWidget, make_widget


def error_text(err: Any) -> str:
    """A service field error in the user's language."""
    key = getattr(err, "key", "errors.rule")
    params = getattr(err, "params", {})
    special = {"errors.unique": "form.invalid.unique", "errors.max": "form.invalid.max",
               "errors.min": "form.invalid.min", "errors.max_length": "form.invalid.max_length",
               "errors.min_length": "form.invalid.min_length", "errors.regex": "form.invalid.regex"}
    text = t(special.get(key, key), value="", field="", **{k: v for k, v in params.items() if k != "field"})
    return text if text != key else err.text()


class FormView:
    def __init__(self, ctx: ViewContext, screen: Screen, record_id: int | None = None,
                 defaults: dict[str, Any] | None = None):
        self.ctx = ctx
        self.screen = screen
        self.entity = ctx.platform.metadata.entities[screen.entity]
        self.record_id = record_id
        self.defaults = defaults or {}
        self.version: int | None = None
        self.widgets: dict[str, FieldWidget] = {}
        self.order: list[str] = []
        """The fields in layout order (untabbed sections first, then tab by tab)."""
        self.tab_of: dict[str, str] = {}
        """Field → the label of the tab holding it."""
        self.panels: ui.tab_panels | None = None
        self.badges: dict[str, ui.badge] = {}
        """Tab label → its error badge."""
        self.record: Record | None = None
        self.process: ProcessView | None = None
        """The record's process (state, actions, timeline), when one governs it."""
        self.container = ui.column().classes("w-full")
        ui.timer(0, self.load, once=True)

    @property
    def editable(self) -> bool:
        if self.record_id is None:
            return self.ctx.actor.can(self.entity.name, "create")
        return self.ctx.actor.can(self.entity.name, "update")

    async def load(self) -> None:
        if self.record_id is not None:
            try:
                self.record = await run.io_bound(self.ctx.platform.records.get, self.ctx.actor, self.entity.name,
                                                 self.record_id)
            except (RecordNotFound, PermissionDenied) as exc:
                self.container.clear()
                with self.container:
                    ui.label(t("errors.not_found") if isinstance(exc, RecordNotFound) else t("errors.forbidden")) \
                        .classes("text-negative")
                return
            if self.record is None:  # the app is shutting down
                return
            self.version = int(self.record.values["version"])
            self.process = await run.io_bound(self.read_process)
        self.render()

    def read_process(self) -> ProcessView | None:
        try:
            return process_view(self.ctx.platform.workflows, self.ctx.actor, self.entity.name, int(self.record_id or 0))
        except (TransitionRefused, RecordNotFound, PermissionDenied):
            return None

    def render(self) -> None:
        self.container.clear()
        values = self.record.values if self.record else self.defaults
        title = label(self.screen.title, self.screen.name)
        if self.record is not None and self.entity.title_field:
            title = f"{title}: {values.get(self.entity.title_field) or self.record.id}"
            self.ctx.retitle(str(values.get(self.entity.title_field) or self.record.id))
        elif self.record is None:
            title = t("form.new_title", entity=label(self.entity.label, self.entity.name))
        self.widgets.clear()
        self.order.clear()
        self.tab_of.clear()
        self.badges.clear()
        self.panels = None
        with self.container:
            with ui.row().classes("w-full items-center"):
                ui.label(title).classes("text-h6")
                ui.space()
                if self.editable:
                    ui.button(t("form.save"), icon="save", on_click=self.save).props("dense").classes("save-button") \
                        .mark("save")
                if self.record is not None and "delete" in self.screen.actions and \
                        self.ctx.actor.can(self.entity.name, "delete"):
                    ui.button(t("form.delete"), icon="delete", on_click=self.confirm_delete) \
                        .props("dense flat color=negative")
            panel = self.process_panel(values)
            if panel is not None:
                panel.bar()
            for section in [s for s in self.screen.layout if not s.tab]:
                self.render_section(section, values)
            groups: dict[str, list[Section]] = {}  # sections sharing a tab label share the tab
            for section in self.screen.layout:
                if section.tab:
                    groups.setdefault(label(section.tab), []).append(section)
            if groups:
                with ui.tabs().classes("w-full").props("align=left") as tabs:
                    tab_objs = {name: ui.tab(name) for name in groups}
                    for name, tab in tab_objs.items():
                        with tab:
                            self.badges[name] = ui.badge("", color="negative").props("floating") \
                                .classes("tab-error-badge").mark(f"tab-errors-{name.replace(' ', '_')}")
                            self.badges[name].set_visibility(False)
                with ui.tab_panels(tabs, value=next(iter(tab_objs.values()))).classes("w-full").props("keep-alive") \
                        .mark("form-tab-panels") as self.panels:
                    for name, sections in groups.items():
                        with ui.tab_panel(tab_objs[name]):
                            for section in sections:
                                for ref in section.refs():
                                    self.tab_of[ref.field] = name
                                self.render_section(section, values)
            if panel is not None:
                panel.timeline()
            if self.record is not None:
                for spec in self.screen.related:
                    self.render_related(spec)

    def process_panel(self, values: dict[str, Any]) -> ProcessPanel | None:
        if self.process is None or self.record is None:
            return None
        return ProcessPanel(self.ctx, self.entity, self.record.id, self.process, self.load, values)

    def render_section(self, section: Section, values: dict[str, Any]) -> None:
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(label(section.title)).classes("text-subtitle1 text-primary")
            with ui.grid(columns=section.columns).classes("w-full gap-x-4 gap-y-1"):
                for ref in section.refs():
                    self.render_field(ref, values)

    def render_field(self, ref: FieldRef, values: dict[str, Any]) -> None:
        field = self.entity.any_field(ref.field)
        if field is None:
            return
        self.order.append(ref.field)
        masked = self.record is not None and ref.field in self.record.masked
        system = self.entity.field(ref.field) is None
        governed = self.process is not None and ref.field == self.process.state_field  # moved by actions only
        readonly = ref.readonly or not self.editable or masked or system or governed
        numbered = bool(field.series) and self.record is None  # the server numbers a new record
        if numbered:
            field = field.model_copy(update={"required": False})
        with ui.element("div").style(f"grid-column: span {min(ref.span, 4)}"):
            widget = make_widget(self.ctx, field, readonly=readonly, hint=label(ref.hint) if ref.hint else None,
                                 caption=label(ref.label) if ref.label else None)
            if numbered:
                widget.element.props["hint"] = t("form.series.assigned")
            value = values.get(ref.field, default_value(field) if self.record is None else None)
            if masked or system:
                shown = show(field, value, self.ctx.platform.metadata, language=self.ctx.language)
                widget.element.value = shown if field.type != "bool" else value
            elif value is not None:  # an empty new form shows no errors until one types or saves
                if field.type == "link" and value not in (widget.element.options or {}):  # its title, not its key
                    titles = self.ctx.platform.records.titles(self.ctx.actor, field.link or "",
                                                              field.link_key or "id", [value])
                    widget.element.set_options({value: titles.get(value, str(value))}, value=value)
                widget.set_value(value)
            widget.element.classes(f"field-{ref.field}").mark(f"field-{ref.field}")
            if not readonly:
                self.widgets[ref.field] = widget

    def render_related(self, spec: RelatedList) -> None:
        other = self.ctx.platform.metadata.entities.get(spec.entity)
        if other is None or not self.ctx.actor.can(spec.entity, "read") or self.record is None:
            return
        record = self.record
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(label(spec.title)).classes("text-subtitle1 text-primary")
            columns = [{"name": c, "field": c, "align": "left",
                        "label": label(f.label if (f := other.any_field(c)) else None, c)} for c in spec.columns]
            table = ui.table(columns=columns, rows=[], row_key="id").classes("w-full") \
                .props(f'flat dense no-data-label="{t("form.no_related")}"')

            def fetch() -> tuple[Page, list[dict[str, Any]]]:
                page = self.ctx.platform.records.related(self.ctx.actor, self.entity.name, record, spec)
                return page, format_rows(self.ctx, other, spec.columns, page.rows)

            async def fill() -> None:
                fetched = await run.io_bound(fetch)
                if fetched is not None:
                    table.rows = fetched[1]
                    table.update()

            form = next((s.name for s in self.ctx.platform.metadata.screens.values()
                         if s.view == "form" and s.entity == spec.entity), None)
            if form:
                table.on("row-click", lambda e, f=form: self.ctx.open(
                    "record", f, record_id=int((e.args[1] if isinstance(e.args, list) else e.args)["id"])))
            ui.timer(0, fill, once=True)

    def collect(self) -> dict[str, Any] | None:
        """The editable fields' values (the service keeps only what changed), or None if a check fails (the
        tabs holding errors are marked and the first error is shown)."""
        results = {name: w.valid() for name, w in self.widgets.items()}  # every field shows its own error
        if not all(results.values()):
            self.show_errors([name for name, ok in results.items() if not ok])
            return None
        return {name: w.value for name, w in self.widgets.items()}

    def show_errors(self, names: list[str]) -> None:
        """Badge every tab holding one of the fields ``names`` with their count, and bring the first of them
        (in layout order) into view: its tab opened, its input focused."""
        counts: dict[str, int] = {}
        for name in names:
            if name in self.tab_of:
                counts[self.tab_of[name]] = counts.get(self.tab_of[name], 0) + 1
        for tab, badge in self.badges.items():
            badge.text = str(counts.get(tab, ""))
            badge.set_visibility(tab in counts)
            if tab in counts:
                badge.props["title"] = t("form.tab_errors", count=counts[tab])
                badge.update()
        first = next((name for name in self.order if name in names), None)
        if first is None:
            return
        if self.panels is not None and first in self.tab_of:
            self.panels.set_value(self.tab_of[first])
        widget = self.widgets.get(first)
        if widget is not None:  # after the tab panel has switched (an input in a hidden panel takes no focus)
            ui.run_javascript(f"setTimeout(() => {{ const e = document.getElementById('c{widget.element.id}'); "
                              "if (!e) return; e.scrollIntoView({block: 'center'}); "
                              "const i = e.matches('input, textarea') ? e : e.querySelector('input, textarea'); "
                              "if (i) i.focus({preventScroll: true}); }, 350)")

    async def save(self) -> None:
        values = self.collect()
        if values is None:
            ui.notify(t("errors.check_fields"), type="warning")
            return
        self.show_errors([])
        for w in self.widgets.values():
            w.show_error(None)
        try:
            if self.record is None:
                saved = await run.io_bound(self.ctx.platform.records.create, self.ctx.actor, self.entity.name, values)
            else:
                saved = await run.io_bound(partial(self.ctx.platform.records.update, base=self.record.values),
                                           self.ctx.actor, self.entity.name, self.record.id, values, self.version)
        except ValidationFailed as exc:
            for name, err in exc.errors.items():
                widget = self.widgets.get(name)
                if widget is not None:
                    widget.show_error(error_text(err))
                else:
                    ui.notify(f"{name}: {error_text(err)}", type="negative")
            self.show_errors([name for name in exc.errors if name in self.widgets])
            return
        except StaleRecord:
            ui.notify(t("form.version_conflict"), type="negative")
            return
        except (PermissionDenied, RecordNotFound):
            ui.notify(t("errors.forbidden"), type="negative")
            return
        if saved is None:
            return
        self.record = saved
        self.record_id = saved.id
        self.version = int(saved.values["version"])
        if self.process is not None or self.ctx.platform.workflows.governed(self.entity.name):
            self.process = await run.io_bound(self.read_process)  # a new record starts its process
        ui.notify(t("form.saved"), type="positive")
        self.render()

    async def confirm_delete(self) -> None:
        with ui.dialog() as dialog, ui.card():
            ui.label(t("form.delete_confirm"))
            with ui.row():
                ui.button(t("app.cancel"), on_click=lambda: dialog.submit(False)).props("flat")
                ui.button(t("form.delete"), on_click=lambda: dialog.submit(True)).props("color=negative")
        record = self.record
        if await dialog and record is not None:
            try:
                await run.io_bound(self.ctx.platform.records.delete, self.ctx.actor, self.entity.name, record.id)
            except (PermissionDenied, RecordNotFound):
                ui.notify(t("errors.forbidden"), type="negative")
                return
            ui.notify(t("form.deleted"), type="positive")
            self.ctx.close()
