"""The screen designer: for a form (or the desktop's customer panel) its sections and tabs, which fields in
which order, columns per row, read-only fields, spans and hints; for a list its columns, default sort,
filters, page size and the form a row opens. Beside the editor a live preview renders the screen with the
runtime's own views from the author's draft metadata (:mod:`.screen_preview`), so a field just added in an
entity draft can be placed and seen before anything is published.

Pure data operations live in :mod:`helpline.services.designer.screen_ops`.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from nicegui import run, ui

from helpline.metadata.kinds import Entity
from helpline.metadata.kinds.entity import SYSTEM_FIELDS
from helpline.metadata.kinds.screen import ScreenAction
from helpline.metadata.metaset import MetadataSet
from helpline.services.designer import screen_ops as ops

from ...i18n import t
from .editor import Editor, register
from .frame import DesignerFrame
from .screen_preview import render_preview
from .widgets import label_inputs, labels_of

ACTIONS: tuple[str, ...] = ScreenAction.__args__  # type: ignore[attr-defined]
_PREVIEWS: WeakKeyDictionary[DesignerFrame, MetadataSet] = WeakKeyDictionary()
"""Per designer frame: the last draft metadata (its entities offer the fields to place)."""


@register
class ScreenDesigner(Editor):
    kind = "screen"
    icon = "web"

    @classmethod
    def template(cls, name: str) -> dict[str, Any]:
        return ops.template(name)

    # ------------------------------------------------------------------------------------ layout
    def render(self) -> None:
        self.mset = _PREVIEWS.get(self.frame) or self.frame.ctx.platform.metadata
        self.entity: Entity | None = self.mset.entities.get(str(self.data.get("entity") or ""))
        self.pickers: list[tuple[ui.select, str]] = []
        # the preview goes below the editor when both would be cramped (its labels were cut to "Custom…")
        with ui.row().classes("w-full gap-3 items-start"):
            with ui.column().classes("grow basis-0 min-w-[24rem] gap-2").mark("screen-editor"):
                self.header()
                if self.data.get("view") == "list":
                    self.list_editor()
                else:
                    self.form_editor()
            with ui.card().classes("grow basis-0 min-w-[36rem]").props("flat bordered").mark("screen-preview"):
                with ui.row().classes("w-full items-center"):
                    ui.label(t("designer.screen.preview")).classes("text-subtitle1")
                    ui.space()
                    ui.button(icon="refresh", on_click=self.refresh).props("flat dense") \
                        .mark("screen-preview-refresh").tooltip(t("designer.screen.preview_refresh"))
                ui.label(t("designer.screen.preview_help")).classes("text-caption text-grey-7")
                self.preview_box = ui.column().classes("w-full")
        ui.timer(0, self.refresh, once=True)

    def header(self) -> None:
        ui.label(t("designer.screen.title")).classes("text-subtitle2")
        label_inputs(self.frame, self.data, (), "title", marker="screen-title")
        with ui.row().classes("w-full items-end gap-2"):
            entity = ui.select(sorted(self.mset.entities), value=self.data.get("entity"),
                               label=t("designer.screen.entity")).props("dense").classes("w-48") \
                .mark("screen-entity")
            entity.on_value_change(lambda e: self.set_top("entity", e.value, rerender=True))
            view = ui.select({v: t(f"designer.screen.view.{v}") for v in ("form", "list", "desktop")},
                             value=self.data.get("view"), label=t("designer.screen.view")).props("dense") \
                .classes("w-36").mark("screen-view")
            view.on_value_change(lambda e: self.switch_view(str(e.value)))
            actions = ui.select({a: t(f"designer.screen.action.{a}") for a in ACTIONS}, multiple=True,
                                value=list(self.data.get("actions") or []), label=t("designer.screen.actions")) \
                .props("dense use-chips").classes("grow").mark("screen-actions")
            actions.on_value_change(lambda e: self.set_top("actions", [a for a in ACTIONS if a in e.value]))
        for key in ("entity", "view", "actions"):
            self.frame.error_slot(key)
        self.frame.error_slot(exact=True)

    def caption(self, name: str) -> str:
        field = self.entity.any_field(name) if self.entity else None
        shown = field.label.get(self.frame.ctx.language) if field else ""
        return f"{shown} ({name})" if shown else name

    def field_options(self, exclude: list[str], *, system: bool = False) -> dict[str, str]:
        fields = ops.unplaced(self.entity, exclude)
        options = {f.name: self.caption(f.name) for f in fields}
        if system:
            options.update({n: self.caption(n) for n in SYSTEM_FIELDS if n not in exclude})
        return options

    def picker(self, label_key: str, marker: str, kind: str) -> ui.select:
        """A select of fields to add (options refreshed from the draft metadata)."""
        select = ui.select({}, label=t(label_key), with_input=True).props("dense").classes("w-56").mark(marker)
        self.pickers.append((select, kind))
        return select

    # ------------------------------------------------------------------------------------ form
    def form_editor(self) -> None:
        layout = self.data.setdefault("layout", [])
        titles = {i: labels_of(s.get("title"), self.frame.ctx.language) or str(i + 1) for i, s in enumerate(layout)}
        for i, section in enumerate(layout):
            self.section_card(i, section, titles)
        self.frame.error_slot("layout", exact=True)
        ui.button(t("designer.screen.add_section"), icon="add", on_click=self.add_section) \
            .props("outline dense").mark("screen-add-section")

    def section_card(self, i: int, section: dict[str, Any], titles: dict[int, str]) -> None:
        m = f"screen-section-{i}"
        with ui.card().classes("w-full gap-1").props("flat bordered").mark(m):
            with ui.row().classes("w-full items-center gap-1"):
                ui.label(t("designer.screen.section", number=i + 1)).classes("text-subtitle2")
                ui.space()
                columns = ui.select({n: str(n) for n in range(1, 5)}, value=int(section.get("columns") or 2),
                                    label=t("designer.screen.columns")).props("dense").classes("w-28") \
                    .mark(f"{m}-columns")
                columns.on_value_change(lambda e: self.set_in(section, "columns", int(e.value)))
                ui.button(icon="arrow_upward", on_click=lambda: self.move_section(i, -1)).props("flat dense") \
                    .mark(f"{m}-up")
                ui.button(icon="arrow_downward", on_click=lambda: self.move_section(i, 1)).props("flat dense") \
                    .mark(f"{m}-down")
                ui.button(icon="delete", on_click=lambda: self.remove_section(i)) \
                    .props("flat dense color=negative").mark(f"{m}-remove")
            label_inputs(self.frame, section, ("layout", i), "title", marker=f"{m}-title")
            ui.label(t("designer.screen.tab")).classes("text-caption")
            label_inputs(self.frame, section, ("layout", i), "tab", marker=f"{m}-tab")
            self.frame.error_slot("layout", i, "columns")
            entries = section.setdefault("fields", [])
            for j in range(len(entries)):
                self.entry_row(i, j, entries, titles)
            self.frame.error_slot("layout", i, "fields", exact=True)
            add = self.picker("designer.screen.add_field", f"{m}-add", "form")
            add.on_value_change(lambda e: self.add_to_section(i, e.value))

    def entry_row(self, i: int, j: int, entries: list[Any], titles: dict[int, str]) -> None:
        entry = entries[j]
        name = ops.entry_field(entry)
        options = ops.entry_options(entry)
        m = f"screen-field-{name}"
        with ui.column().classes("w-full gap-0 q-pl-sm border-l-2").mark(m):
            with ui.row().classes("w-full items-center gap-1 no-wrap"):
                ui.label(self.caption(name)).classes("grow text-body2")
                ui.button(icon="arrow_upward", on_click=lambda: self.move_entry(entries, j, -1)) \
                    .props("flat dense size=sm").mark(f"{m}-up")
                ui.button(icon="arrow_downward", on_click=lambda: self.move_entry(entries, j, 1)) \
                    .props("flat dense size=sm").mark(f"{m}-down")
                ui.button(icon="close", on_click=lambda: self.remove_entry(entries, j)) \
                    .props("flat dense size=sm color=negative").mark(f"{m}-remove")
            with ui.row().classes("w-full items-end gap-2"):
                section = ui.select(titles, value=i, label=t("designer.screen.in_section")).props("dense") \
                    .classes("w-36").mark(f"{m}-section")
                section.on_value_change(lambda e: self.move_to(name, int(e.value)))
                span = ui.select({n: str(n) for n in range(1, 5)}, value=int(options.get("span") or 1),
                                 label=t("designer.screen.span")).props("dense").classes("w-20").mark(f"{m}-span")
                span.on_value_change(lambda e: self.set_entry(entries, j, "span", int(e.value)))
                readonly = ui.checkbox(t("designer.screen.readonly"), value=bool(options.get("readonly"))) \
                    .mark(f"{m}-readonly")
                readonly.on_value_change(lambda e: self.set_entry(entries, j, "readonly", bool(e.value)))
                self.override_inputs(entries, j, "hint", f"{m}-hint")
            self.frame.error_slot("layout", i, "fields", j)

    def override_inputs(self, entries: list[Any], j: int, key: str, marker: str) -> None:
        """Per-language inputs of an entry's ``label`` or ``hint`` override (empty: none)."""
        current = ops.entry_options(entries[j]).get(key)
        texts = {"en": current} if isinstance(current, str) else dict(current or {})
        boxes: dict[str, ui.input] = {}
        for language in ("en", "zh_CN"):
            boxes[language] = ui.input(t(f"designer.screen.{key}.{language}"), value=texts.get(language, "")) \
                .props("dense").classes("w-36").mark(f"{marker}-{language}")

        async def on_blur(_: Any = None) -> None:
            value = {lang: (b.value or "").strip() for lang, b in boxes.items() if (b.value or "").strip()}
            if value == texts:
                return
            texts.clear()
            texts.update(value)
            await self.set_entry(entries, j, key, dict(value) or None)

        for box in boxes.values():
            box.on("blur", on_blur)

    # ------------------------------------------------------------------------------------ list
    def list_editor(self) -> None:
        columns = self.data.setdefault("columns", [])
        ui.label(t("designer.screen.list_columns")).classes("text-subtitle2")
        for j, entry in enumerate(columns):
            self.column_row(columns, j, entry)
        self.frame.error_slot("columns", exact=True)
        add = self.picker("designer.screen.add_column", "screen-add-column", "columns")
        add.on_value_change(lambda e: self.add_column(e.value))
        ui.label(t("designer.screen.sort")).classes("text-subtitle2 q-mt-sm")
        pairs = ops.sort_entries(self.data)
        for k, (name, descending) in enumerate(pairs):
            with ui.row().classes("items-center gap-2").mark(f"screen-sort-{k}"):
                ui.label(self.caption(name)).classes("w-56").mark(f"screen-sort-{k}-field")
                desc = ui.checkbox(t("designer.screen.descending"), value=descending).mark(f"screen-sort-{k}-desc")
                desc.on_value_change(lambda e, k=k: self.set_sort(k, descending=bool(e.value)))
                ui.button(icon="close", on_click=lambda k=k: self.set_sort(k, remove=True)) \
                    .props("flat dense size=sm color=negative").mark(f"screen-sort-{k}-remove")
        add_sort = self.picker("designer.screen.add_sort", "screen-add-sort", "sort")
        add_sort.on_value_change(lambda e: self.set_sort(len(pairs), field=e.value))
        self.frame.error_slot("sort")
        ui.label(t("designer.screen.filters")).classes("text-subtitle2 q-mt-sm")
        filters = ui.select({}, multiple=True, value=list(self.data.get("filters") or []),
                            label=t("designer.screen.filters")).props("dense use-chips").classes("w-full") \
            .mark("screen-filters")
        self.pickers.append((filters, "filters"))
        filters.on_value_change(lambda e: self.set_top("filters", list(e.value or [])))
        self.frame.error_slot("filters")
        with ui.row().classes("w-full items-end gap-2"):
            size = ui.number(t("designer.screen.page_size"), value=int(self.data.get("page_size") or 50),
                             min=1, max=500, precision=0).props("dense").classes("w-32").mark("screen-page-size")
            size.on("blur", lambda _=None: self.set_top("page_size", int(size.value or 50)))
            forms = {s.name: s.name for s in self.mset.screens.values()
                     if s.view == "form" and s.entity == self.data.get("entity")}
            if self.data.get("form"):
                forms.setdefault(str(self.data["form"]), str(self.data["form"]))
            form = ui.select(forms, value=self.data.get("form"), clearable=True, label=t("designer.screen.form")) \
                .props("dense").classes("w-56").mark("screen-form")
            form.on_value_change(lambda e: self.set_top("form", e.value))
        self.frame.error_slot("page_size")
        self.frame.error_slot("form")

    def column_row(self, columns: list[Any], j: int, entry: Any) -> None:
        name = ops.entry_field(entry)
        options = ops.entry_options(entry)
        m = f"screen-column-{name}"
        with ui.row().classes("w-full items-end gap-1").mark(m):
            ui.label(self.caption(name)).classes("w-48 text-body2")
            width = ui.input(t("designer.screen.width"), value=str(options.get("width") or "")) \
                .props("dense").classes("w-20").mark(f"{m}-width")
            width.on("blur", lambda _=None: self.set_entry(columns, j, "width", ops_int(width.value)))
            sortable = ui.checkbox(t("designer.screen.sortable"), value=options.get("sortable", True) is not False) \
                .mark(f"{m}-sortable")
            sortable.on_value_change(lambda e: self.set_entry(columns, j, "sortable", bool(e.value)))
            self.override_inputs(columns, j, "label", f"{m}-label")
            ui.button(icon="arrow_upward", on_click=lambda: self.move_entry(columns, j, -1)) \
                .props("flat dense size=sm").mark(f"{m}-up")
            ui.button(icon="arrow_downward", on_click=lambda: self.move_entry(columns, j, 1)) \
                .props("flat dense size=sm").mark(f"{m}-down")
            ui.button(icon="close", on_click=lambda: self.remove_entry(columns, j)) \
                .props("flat dense size=sm color=negative").mark(f"{m}-remove")
        self.frame.error_slot("columns", j)

    # ------------------------------------------------------------------------------------ preview
    async def refresh(self) -> None:
        """Reload the draft metadata: the fields offered to place, and the preview."""
        found = await run.io_bound(self.frame.preview)
        if found is None or self.preview_box.is_deleted:
            return
        self.mset = found[0]
        _PREVIEWS[self.frame] = self.mset
        self.entity = self.mset.entities.get(str(self.data.get("entity") or ""))
        placed = ops.placed_fields(self.data) if self.data.get("view") != "list" else \
            [ops.entry_field(c) for c in self.data.get("columns") or []]
        sorted_on = [f for f, _ in ops.sort_entries(self.data)]
        for select, kind in self.pickers:
            if kind == "form":
                select.set_options(self.field_options(placed))
            elif kind == "columns":
                select.set_options(self.field_options(placed, system=True))
            elif kind == "sort":
                select.set_options(self.field_options(sorted_on, system=True))
            else:  # filters: every field, the chosen ones kept
                chosen = list(select.value or [])
                options = self.field_options([])
                options.update({c: self.caption(c) for c in chosen if c not in options})
                select.set_options(options, value=chosen)
        self.preview_box.clear()
        with self.preview_box:
            render_preview(self.frame.ctx, self.mset, self.frame.name)

    # ------------------------------------------------------------------------------------ changes
    async def commit(self, *, rerender: bool = False) -> None:
        await self.frame.changed()
        if rerender:
            self.frame.rerender()
        else:
            await self.refresh()

    async def set_top(self, key: str, value: Any, *, rerender: bool = False) -> None:
        if self.data.get(key) == value:
            return
        ops_set(self.data, key, value)
        await self.commit(rerender=rerender)

    async def set_in(self, holder: dict[str, Any], key: str, value: Any) -> None:
        if holder.get(key) == value:
            return
        holder[key] = value
        await self.commit()

    async def switch_view(self, view: str) -> None:
        if self.data.get("view") != view:
            ops.switch_view(self.data, view)
            await self.commit(rerender=True)

    async def set_entry(self, entries: list[Any], j: int, key: str, value: Any) -> None:
        if ops.entry_options(entries[j]).get(key) == value:
            return
        ops.set_entry_option(entries, j, key, value)
        await self.commit()

    async def move_entry(self, entries: list[Any], j: int, delta: int) -> None:
        if ops.move(entries, j, delta):
            await self.commit(rerender=True)

    async def remove_entry(self, entries: list[Any], j: int) -> None:
        del entries[j]
        await self.commit(rerender=True)

    async def move_to(self, name: str, section: int) -> None:
        if ops.move_to_section(self.data, name, section):
            await self.commit(rerender=True)

    async def add_to_section(self, i: int, name: Any) -> None:
        if name:
            ops.add_to_section(self.data, i, str(name))
            await self.commit(rerender=True)

    async def add_section(self) -> None:
        self.data.setdefault("layout", []).append(ops.new_section(t("designer.screen.new_section")))
        await self.commit(rerender=True)

    async def move_section(self, i: int, delta: int) -> None:
        if ops.move(self.data.get("layout") or [], i, delta):
            await self.commit(rerender=True)

    async def remove_section(self, i: int) -> None:
        del self.data["layout"][i]
        await self.commit(rerender=True)

    async def add_column(self, name: Any) -> None:
        if name:
            self.data.setdefault("columns", []).append(str(name))
            await self.commit(rerender=True)

    async def set_sort(self, k: int, *, field: Any = None, descending: bool | None = None,
                       remove: bool = False) -> None:
        pairs = ops.sort_entries(self.data)
        if remove and k < len(pairs):
            del pairs[k]
        elif field and k >= len(pairs):
            pairs.append((str(field), False))
        elif descending is not None and k < len(pairs):
            pairs[k] = (pairs[k][0], descending)
        else:
            return
        ops.set_sort(self.data, pairs)
        await self.commit(rerender=True)


def ops_set(holder: dict[str, Any], key: str, value: Any) -> None:
    """Set a top-level property, dropping it when empty."""
    if value in (None, "", []):
        holder.pop(key, None)
    else:
        holder[key] = value


def ops_int(text: Any) -> int | None:
    """A whole number typed into an input (empty or not a number: none)."""
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None
