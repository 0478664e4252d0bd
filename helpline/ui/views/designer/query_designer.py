"""The query designer: a query screen's entity and title, its inputs (field, operator, widget,
required/optional, default, caption), the logic between them in the rule language with live checking,
the result (columns, or a 2-D table of rows × columns × measure), an optional chart, and "run" of the
draft with the designer's own permissions (:mod:`.query_preview`).

Every edit changes ``self.data`` (the query as in its YAML file) and saves the draft through the frame,
which checks it with the metadata and rule checkers: problems show under the widget they are about
(``HL-E203`` under an input's field, ``HL-R201`` under the logic) with the ids ``run.py check`` prints.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nicegui import ui

from helpline.metadata.kinds import LANGUAGES, Entity, EntityField
from helpline.services.designer.query_ops import (
    OPERATORS,
    WIDGETS,
    field_choices,
    parse_default,
    show_default,
)

from ...i18n import t
from ..display import category_options
from .editor import Editor, register
from .query_preview import PreviewPanel, result_section

if TYPE_CHECKING:
    pass

LOGIC_DELAY = 0.6
"""While the logic is typed, it is saved and checked at most this often (seconds)."""
INPUT_DEFAULTS: dict[str, Any] = {"op": "eq", "widget": "auto", "required": False}


def on_commit(widget: ui.element, handler: Callable[[], Awaitable[Any]]) -> None:
    """Run ``handler`` when the user leaves ``widget`` or presses Enter in it."""
    widget.on("blur", handler)
    widget.on("keydown.enter", handler)


def rename_atom(logic: str, old: str, new: str) -> str:
    """The logic with the input name ``old`` replaced by ``new`` (whole words outside strings, not after
    a dot: ``input.old`` stays a value reference)."""
    parts = re.split(r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')", logic)
    pattern = re.compile(rf"(?<![\w.]){re.escape(old)}(?!\w)")
    return "".join(p if i % 2 else pattern.sub(new, p) for i, p in enumerate(parts))


def set_or_drop(holder: dict[str, Any], key: str, value: Any, default: Any = None) -> None:
    """``holder[key] = value``, or no key at all when ``value`` is the default (keeps the YAML short)."""
    if value is None or value == default or value == "" or value == []:
        holder.pop(key, None)
    else:
        holder[key] = value


@register
class QueryEditor(Editor):
    kind = "query"
    icon = "manage_search"

    @classmethod
    def template(cls, name: str) -> dict[str, Any]:
        return {"kind": "query", "name": name, "entity": "customer", "title": {"en": name}, "inputs": [],
                "columns": ["name"]}

    # ------------------------------------------------------------------------------------ helpers
    @property
    def entity(self) -> Entity | None:
        return self.frame.ctx.platform.metadata.entities.get(str(self.data.get("entity") or ""))

    @property
    def language(self) -> str:
        return self.frame.ctx.language

    def field(self, name: Any) -> EntityField | None:
        entity = self.entity
        return entity.any_field(str(name)) if entity is not None and name else None

    def inputs(self) -> list[dict[str, Any]]:
        found = self.data.get("inputs")
        if not isinstance(found, list):
            found = self.data["inputs"] = []
        return found

    # ------------------------------------------------------------------------------------ form
    def render(self) -> None:
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(t("designer.query.general")).classes("text-subtitle1")
            self.render_general()
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(t("designer.query.inputs")).classes("text-subtitle1")
            self.render_inputs()
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(t("designer.query.logic")).classes("text-subtitle1")
            self.render_logic()
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(t("designer.query.result")).classes("text-subtitle1")
            result_section(self)
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(t("designer.query.run_title")).classes("text-subtitle1")
            PreviewPanel(self)

    def render_general(self) -> None:
        from .widgets import label_inputs

        metadata = self.frame.ctx.platform.metadata
        entities = {n: f"{e.label.get(self.language)} ({n})" for n, e in sorted(metadata.entities.items())}
        current = str(self.data.get("entity") or "")
        if current and current not in entities:
            entities[current] = current

        async def set_entity(e: Any) -> None:
            if e.value and e.value != self.data.get("entity"):
                self.data["entity"] = e.value
                await self.changed(rerender=True)

        with ui.row().classes("w-full items-start gap-3"):
            with ui.column().classes("gap-0"):
                ui.select(entities, label=t("designer.query.entity"), value=current or None, on_change=set_entity) \
                    .props("dense").classes("w-64").mark("designer-query-entity")
                self.frame.error_slot("entity")
            with ui.column().classes("gap-0"):
                forms = {n: n for n, s in sorted(metadata.screens.items()) if s.view == "form" and s.entity == current}
                form = self.data.get("form")
                if form and form not in forms:
                    forms[str(form)] = str(form)

                async def set_form(e: Any) -> None:
                    set_or_drop(self.data, "form", e.value)
                    await self.changed()

                ui.select(forms, label=t("designer.query.form"), value=form, clearable=True, on_change=set_form) \
                    .props("dense").classes("w-64").mark("designer-query-form")
                self.frame.error_slot("form")
        ui.label(t("designer.query.title")).classes("text-caption text-grey-8")
        label_inputs(self.frame, self.data, (), key="title", marker="designer-query-title")

    # ------------------------------------------------------------------------------------ inputs
    def render_inputs(self) -> None:
        inputs = self.inputs()
        if not inputs:
            ui.label(t("designer.query.no_inputs")).classes("text-caption text-grey-7")
        for i, inp in enumerate(inputs):
            self.render_input(i, inp)
        with ui.row().classes("items-end gap-2"):
            fields = field_choices(self.entity, language=self.language)
            new_field = ui.select(fields, label=t("designer.query.new_input_field"), with_input=True) \
                .props("dense").classes("w-64").mark("designer-query-new-field")

            async def add() -> None:
                chosen = new_field.value
                if not chosen:
                    ui.notify(t("designer.query.choose_field"), type="warning")
                    return
                taken = {str(x.get("name")) for x in inputs}
                name, n = str(chosen), 2
                while name in taken:
                    name, n = f"{chosen}_{n}", n + 1
                item: dict[str, Any] = {"name": name, "field": chosen}
                f = self.field(chosen)
                if f is not None and f.type == "category":
                    item.update(op="in", widget="category")
                inputs.append(item)
                await self.changed(rerender=True)

            ui.button(t("designer.query.add_input"), icon="add", on_click=add).props("outline dense") \
                .mark("designer-query-add-input")

    def render_input(self, i: int, inp: dict[str, Any]) -> None:
        path = ("inputs", i)
        f = self.field(inp.get("field"))
        with ui.card().classes("w-full q-pa-sm").props("flat bordered").mark(f"designer-query-input-{i}"):
            with ui.row().classes("w-full items-start gap-2"):
                self.name_input(i, inp)
                with ui.column().classes("gap-0"):
                    fields = field_choices(self.entity, language=self.language, keep=inp.get("field"))

                    async def set_field(e: Any) -> None:
                        if e.value and e.value != inp.get("field"):
                            inp["field"] = e.value
                            inp.pop("default", None)
                            await self.changed(rerender=True)

                    ui.select(fields, label=t("designer.query.field"), value=inp.get("field"), with_input=True,
                              on_change=set_field).props("dense").classes("w-56") \
                        .mark(f"designer-query-input-{i}-field")
                    self.frame.error_slot(*path, "field")
                self.choice(i, inp, "op", OPERATORS, "w-36")
                self.choice(i, inp, "widget", WIDGETS, "w-36")
                with ui.column().classes("gap-0"):
                    async def set_required(e: Any) -> None:
                        set_or_drop(inp, "required", bool(e.value), False)
                        await self.changed()

                    ui.checkbox(t("designer.query.required"), value=bool(inp.get("required")),
                                on_change=set_required).mark(f"designer-query-input-{i}-required")
                    self.frame.error_slot(*path, "required")
                self.default_input(i, inp, f)
                ui.space()
                self.move_buttons(i)
            with ui.expansion(t("designer.query.input_label")).props("dense").classes("w-full"):
                self.optional_label(inp, path)
            self.frame.error_slot(*path, exact=True)

    def name_input(self, i: int, inp: dict[str, Any]) -> None:
        with ui.column().classes("gap-0"):
            widget = ui.input(t("designer.query.name"), value=str(inp.get("name") or "")).props("dense") \
                .classes("w-36").mark(f"designer-query-input-{i}-name")

            async def commit() -> None:
                new = (widget.value or "").strip()
                old = str(inp.get("name") or "")
                if new == old:
                    return
                inp["name"] = new
                logic = self.data.get("logic")
                if isinstance(logic, str) and old and new:
                    self.data["logic"] = rename_atom(logic, old, new)
                await self.changed(rerender=isinstance(logic, str))

            on_commit(widget, commit)
            self.frame.error_slot("inputs", i, "name")

    def choice(self, i: int, inp: dict[str, Any], key: str, values: tuple[str, ...], width: str) -> None:
        with ui.column().classes("gap-0"):
            options = {v: t(f"designer.query.{key}.{v}") for v in values}
            current = inp.get(key, INPUT_DEFAULTS[key])
            if current not in options:
                options[str(current)] = str(current)

            async def set_value(e: Any) -> None:
                if e.value == inp.get(key, INPUT_DEFAULTS[key]):
                    return
                set_or_drop(inp, key, e.value, INPUT_DEFAULTS[key])
                await self.changed(rerender=key == "op")

            ui.select(options, label=t(f"designer.query.{key}"), value=current, on_change=set_value) \
                .props("dense").classes(width).mark(f"designer-query-input-{i}-{key}")
            self.frame.error_slot("inputs", i, key)

    def default_input(self, i: int, inp: dict[str, Any], f: EntityField | None) -> None:
        op = str(inp.get("op") or "eq")
        marker = f"designer-query-input-{i}-default"
        with ui.column().classes("gap-0"):
            if f is not None and f.type == "category" and op not in ("between", "is_empty"):
                tree = self.frame.ctx.platform.metadata.categories.get(f.category or "")
                multiple = op == "in"
                current = inp.get("default")
                options = category_options(tree, current, language=self.language)
                value: Any = (current if isinstance(current, list) else [current] if current else []) if multiple \
                    else (current if not isinstance(current, list) else (current[0] if current else None))

                async def set_codes(e: Any) -> None:
                    set_or_drop(inp, "default", e.value)
                    await self.changed()

                ui.select(options, label=t("designer.query.default"), value=value, multiple=multiple,
                          clearable=True, on_change=set_codes).props("dense use-chips" if multiple else "dense") \
                    .classes("w-56").mark(marker)
            else:
                hint = t("designer.query.default_list") if op in ("in", "between") else ""
                widget = ui.input(t("designer.query.default"), value=show_default(inp.get("default"))) \
                    .props(f'dense hint="{hint}"' if hint else "dense").classes("w-48").mark(marker)

                async def commit() -> None:
                    value = parse_default(f, op, widget.value or "")
                    if value == inp.get("default"):
                        return
                    set_or_drop(inp, "default", value)
                    await self.changed()

                on_commit(widget, commit)
            self.frame.error_slot("inputs", i, "default")

    def move_buttons(self, i: int) -> None:
        inputs = self.inputs()
        inp = inputs[i]

        def where() -> int | None:  # by identity: the button may be from before another edit
            return next((k for k, x in enumerate(inputs) if x is inp), None)

        async def move(step: int) -> None:
            k = where()
            if k is not None and 0 <= k + step < len(inputs):
                inputs[k], inputs[k + step] = inputs[k + step], inputs[k]
                await self.changed(rerender=True)

        async def remove() -> None:
            k = where()
            if k is not None:
                inputs.pop(k)
                await self.changed(rerender=True)

        with ui.row().classes("gap-0"):
            ui.button(icon="arrow_upward", on_click=lambda: move(-1)).props("flat dense round") \
                .mark(f"designer-query-input-{i}-up").set_enabled(i > 0)
            ui.button(icon="arrow_downward", on_click=lambda: move(1)).props("flat dense round") \
                .mark(f"designer-query-input-{i}-down").set_enabled(i < len(inputs) - 1)
            ui.button(icon="delete", on_click=remove).props("flat dense round color=negative") \
                .mark(f"designer-query-input-{i}-delete")

    def optional_label(self, holder: dict[str, Any], path: tuple[str | int, ...]) -> None:
        """Per-language captions that may be left empty altogether (then the field's label is used)."""
        value = holder.get("label")
        texts: dict[str, str] = {"en": value} if isinstance(value, str) else dict(value or {})
        widgets: dict[str, ui.input] = {}

        async def commit() -> None:
            labels = {lang: (w.value or "").strip() for lang, w in widgets.items() if (w.value or "").strip()}
            current = holder.get("label")
            if labels == ({"en": current} if isinstance(current, str) else dict(current or {})):
                return
            set_or_drop(holder, "label", labels or None)
            await self.changed()

        with ui.row().classes("w-full no-wrap gap-2"):
            for language in LANGUAGES:
                widgets[language] = ui.input(t(f"designer.label.{language}"), value=texts.get(language, "")) \
                    .props("dense").classes("grow")
                on_commit(widgets[language], commit)
        self.frame.error_slot(*path, "label")

    # ------------------------------------------------------------------------------------ logic
    def render_logic(self) -> None:
        ui.label(t("designer.query.logic_help")).classes("text-caption text-grey-8")
        names = [str(x.get("name")) for x in self.inputs() if x.get("name")]
        logic = ui.textarea(t("designer.query.logic_input"), value=str(self.data.get("logic") or "")) \
            .props("dense autogrow outlined").classes("w-full font-mono").mark("designer-query-logic")

        async def commit() -> None:
            text = (logic.value or "").strip()
            if text == str(self.data.get("logic") or ""):
                return
            set_or_drop(self.data, "logic", text or None)
            await self.changed()

        # checked while typing: at most every LOGIC_DELAY seconds, and always after the last keystroke
        logic.on("update:model-value", commit, throttle=LOGIC_DELAY, leading_events=False)
        logic.on("blur", commit)
        self.frame.error_slot("logic")
        if names:
            with ui.row().classes("gap-1 items-center"):
                ui.label(t("designer.query.atoms")).classes("text-caption text-grey-8")
                for name in names:
                    def insert(n: str = name) -> None:
                        current = (logic.value or "").rstrip()
                        logic.value = f"{current} and {n}" if current else n

                    ui.chip(name, on_click=insert).props("dense clickable outline").classes("font-mono")
