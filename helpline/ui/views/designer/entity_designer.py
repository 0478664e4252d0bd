"""The entity designer: an entity's label and fields — add a field (type, label per language, help,
required, unique, indexed, default, validation, category tree, linked entity), change labels and help,
retire a field.

Publishing migrates the table additively (a new column, a new index). A published field has a column with
data in it, so the designer does not offer to delete, rename or retype it: it says why and offers to
retire it instead (the server refuses such a change anyway, ``DestructiveChangeRefused``). Retiring a field
that screens place offers to take it off those screens too (drafts of the screens, published together).
Pure data operations live in :mod:`helpline.services.designer.entity_ops`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from weakref import WeakKeyDictionary

from nicegui import run, ui

from helpline.metadata.kinds import Entity
from helpline.metadata.kinds.entity import NUMBER_TYPES, TEXT_TYPES
from helpline.security.actor import PermissionDenied
from helpline.services.designer import entity_ops as ops

from ...i18n import t
from ..display import category_options
from .editor import Editor, register
from .frame import DesignerFrame
from .widgets import label_inputs, labels_of

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_EXPANDED: WeakKeyDictionary[DesignerFrame, set[str]] = WeakKeyDictionary()
"""Per designer frame: the fields whose panel is open (kept across re-renders)."""


@register
class EntityDesigner(Editor):
    kind = "entity"
    icon = "table_chart"

    @classmethod
    def template(cls, name: str) -> dict[str, Any]:
        caption = name.replace("_", " ").capitalize()
        return {"kind": "entity", "name": name, "label": {"en": caption}, "title_field": "name",
                "fields": [{"name": "name", "type": "text", "label": {"en": "Name", "zh_CN": "名称"},
                            "required": True}]}

    # ------------------------------------------------------------------------------------ layout
    def render(self) -> None:
        self.live: Entity | None = self.frame.ctx.platform.metadata.entities.get(self.frame.name)
        self.expanded = _EXPANDED.setdefault(self.frame, set())
        ui.label(t("designer.entity.intro")).classes("text-caption text-grey-8")
        ui.label(t("designer.entity.label")).classes("text-subtitle2")
        label_inputs(self.frame, self.data, (), "label", marker="entity-label")
        ui.label(t("designer.entity.fields")).classes("text-subtitle1 q-mt-sm")
        self.frame.error_slot("fields", exact=True)
        with ui.column().classes("w-full gap-1").mark("entity-fields"):
            for i, field in enumerate(self.data.get("fields") or []):
                if isinstance(field, dict):
                    self.field_panel(i, field)
        self.add_row()

    def add_row(self) -> None:
        metadata = self.frame.ctx.platform.metadata
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(t("designer.entity.new_field")).classes("text-subtitle2")
            with ui.row().classes("w-full items-end gap-2"):
                name = ui.input(t("designer.entity.name")).props("dense").classes("w-48").mark("entity-new-name")
                type_ = ui.select({k: t(f"designer.entity.type.{k}") for k in ops.FIELD_TYPES}, value="text",
                                  label=t("designer.entity.type")).props("dense").classes("w-40") \
                    .mark("entity-new-type")
                tree = ui.select(sorted(metadata.categories), label=t("designer.entity.category"),
                                 with_input=True).props("dense").classes("w-48").mark("entity-new-category")
                link = ui.select(sorted(metadata.entities), label=t("designer.entity.link")) \
                    .props("dense").classes("w-48").mark("entity-new-link")
                tree.bind_visibility_from(type_, "value", backward=lambda v: v == "category")
                link.bind_visibility_from(type_, "value", backward=lambda v: v == "link")

                async def add() -> None:
                    new = (name.value or "").strip()
                    if not NAME.match(new):
                        ui.notify(t("designer.entity.bad_name"), type="warning")
                        return
                    if ops.field_index(self.data, new) is not None:
                        ui.notify(t("designer.entity.exists", field=new), type="warning")
                        return
                    ops.add_field(self.data, new, str(type_.value), category=tree.value, link=link.value)
                    self.expanded.add(new)
                    await self.frame.changed()
                    self.frame.rerender()

                ui.button(t("designer.entity.add"), icon="add", on_click=add).props("dense").mark("entity-add")

    def field_panel(self, i: int, f: dict[str, Any]) -> None:
        name = str(f.get("name") or "")
        is_published = ops.published(self.live, name)
        caption = f"{name} · {f.get('type')} · {labels_of(f.get('label'), self.frame.ctx.language)}"
        if f.get("retired"):
            caption += f" · {t('designer.entity.retired')}"
        errors = bool(self.frame.problems.at("fields", i))
        panel = ui.expansion(caption, value=name in self.expanded or errors) \
            .props("dense header-class=text-body2").classes("w-full border rounded").mark(f"entity-field-{name}")
        panel.on_value_change(lambda e, n=name: self.expanded.add(n) if e.value else self.expanded.discard(n))
        if f.get("retired"):
            panel.classes("text-grey-6")
        m = f"entity-field-{name}"
        with panel, ui.column().classes("w-full gap-1 q-pa-sm"):
            self.identity_row(i, f, is_published, m)
            ui.label(t("designer.entity.field_label")).classes("text-caption")
            label_inputs(self.frame, f, ("fields", i), "label", marker=f"{m}-label")
            ui.label(t("designer.entity.help")).classes("text-caption")
            label_inputs(self.frame, f, ("fields", i), "help", marker=f"{m}-help")
            with ui.row().classes("items-center gap-4"):
                self.flag(f, "required", m)
                self.flag(f, "indexed", m)
                if not is_published:  # a unique index on a published column may fail on existing duplicates
                    self.flag(f, "unique", m)
                elif f.get("unique"):
                    ui.label(t("designer.entity.unique")).classes("text-caption")
            self.default_box(i, f, m)
            self.validation_box(i, f, m)
            self.frame.error_slot("fields", i, exact=True)

    def identity_row(self, i: int, f: dict[str, Any], is_published: bool, m: str) -> None:
        name, type_ = str(f.get("name") or ""), str(f.get("type") or "")
        metadata = self.frame.ctx.platform.metadata
        with ui.row().classes("w-full items-end gap-2"):
            name_input = ui.input(t("designer.entity.name"), value=name).props("dense").classes("w-48") \
                .mark(f"{m}-name")
            type_select = ui.select({k: t(f"designer.entity.type.{k}") for k in ops.FIELD_TYPES}, value=type_,
                                    label=t("designer.entity.type")).props("dense").classes("w-40") \
                .mark(f"{m}-type")
            if is_published:
                name_input.props("readonly")
                type_select.props("disable")
            else:
                name_input.on("blur", lambda _=None: self.rename(f, name_input.value))
                type_select.on_value_change(lambda e: self.retype(f, str(e.value)))
            if type_ == "category":
                tree = ui.select(sorted(metadata.categories), value=f.get("category") or None, with_input=True,
                                 label=t("designer.entity.category")).props("dense").classes("w-48") \
                    .mark(f"{m}-category")
                tree.on_value_change(lambda e: self.set(f, "category", e.value, rerender=True))
                multiple = ui.checkbox(t("designer.entity.multiple"), value=bool(f.get("multiple"))) \
                    .mark(f"{m}-multiple")
                if is_published:  # a list of codes is stored as JSON: another column type
                    multiple.props("disable")
                else:
                    multiple.on_value_change(lambda e: self.set(f, "multiple", e.value, rerender=True))
            if type_ == "link":
                target = ui.select(sorted(metadata.entities), value=f.get("link") or None,
                                   label=t("designer.entity.link")).props("dense").classes("w-48").mark(f"{m}-link")
                if is_published:
                    target.props("disable")
                else:
                    target.on_value_change(lambda e: self.set(f, "link", e.value))
            ui.space()
            retired = ui.checkbox(t("designer.entity.retired"), value=bool(f.get("retired"))).mark(f"{m}-retired")
            retired.on_value_change(lambda e: self.set_retired(name, bool(e.value)))
            ui.button(icon="delete", on_click=lambda: self.delete(name)).props("flat dense color=negative") \
                .mark(f"{m}-delete").tooltip(t("designer.entity.delete"))
        if is_published:
            ui.label(t("designer.entity.published_fixed")).classes("text-caption text-grey-7").mark(f"{m}-fixed")
        self.frame.error_slot("fields", i, "name")
        self.frame.error_slot("fields", i, "type")
        self.frame.error_slot("fields", i, "category")
        self.frame.error_slot("fields", i, "link")

    def flag(self, f: dict[str, Any], key: str, m: str) -> None:
        box = ui.checkbox(t(f"designer.entity.{key}"), value=bool(f.get(key))).mark(f"{m}-{key}")
        box.on_value_change(lambda e: self.set(f, key, bool(e.value)))

    def default_box(self, i: int, f: dict[str, Any], m: str) -> None:
        type_ = str(f.get("type") or "")
        with ui.column().classes("w-full gap-0").mark(f"{m}-default-box"):
            if type_ == "category":
                tree = self.frame.ctx.platform.metadata.categories.get(str(f.get("category") or ""))
                current = f.get("default")
                options = category_options(tree, current, language=self.frame.ctx.language)
                if isinstance(current, str) and current not in options:
                    options[current] = current
                if isinstance(current, list):
                    options.update({str(c): str(c) for c in current if c not in options})
                box = ui.select(options, value=current if current not in ("", None) else
                                ([] if f.get("multiple") else None), multiple=bool(f.get("multiple")),
                                clearable=True, with_input=True, label=t("designer.entity.default")) \
                    .props("dense").classes("w-full").mark(f"{m}-default")
                box.on_value_change(lambda e: self.set(f, "default", e.value or None))
            elif type_ not in ("link", "json"):
                text = ui.input(t("designer.entity.default"), value=ops.default_text(f.get("default")),
                                placeholder=t(f"designer.entity.default_hint.{type_}")) \
                    .props("dense").classes("w-full").mark(f"{m}-default")

                async def on_blur(_: Any = None) -> None:
                    value = ops.coerce_default(type_, text.value or "", multiple=bool(f.get("multiple")))
                    if value == f.get("default"):
                        return
                    await self.set(f, "default", value)

                text.on("blur", on_blur)
            self.frame.error_slot("fields", i, "default")

    def validation_box(self, i: int, f: dict[str, Any], m: str) -> None:
        type_ = str(f.get("type") or "")
        keys = ops.NUMBER_OPTIONS if type_ in NUMBER_TYPES else ops.TEXT_OPTIONS if type_ in TEXT_TYPES else ()
        validation = f.get("validation") or {}
        with ui.row().classes("w-full items-end gap-2"):
            for key in (*keys, "rule"):
                value = validation.get(key)
                box = ui.input(t(f"designer.entity.validation.{key}"), value="" if value is None else str(value)) \
                    .props("dense").classes("grow" if key in ("regex", "rule") else "w-28").mark(f"{m}-{key}")
                box.on("blur", self.validation_setter(f, key, box))
        self.frame.error_slot("fields", i, "validation")

    def validation_setter(self, f: dict[str, Any], key: str, box: ui.input) -> Callable[..., Awaitable[None]]:
        async def on_blur(_: Any = None) -> None:
            before = dict(f.get("validation") or {})
            ops.set_validation(f, key, box.value or "")
            if dict(f.get("validation") or {}) != before:
                await self.frame.changed()
        return on_blur

    # ------------------------------------------------------------------------------------ changes
    async def set(self, f: dict[str, Any], key: str, value: Any, *, rerender: bool = False) -> None:
        if f.get(key) == value or (not f.get(key) and not value and value != 0):
            return
        ops.set_option(f, key, value)
        await self.frame.changed()
        if rerender:
            self.frame.rerender()

    async def rename(self, f: dict[str, Any], new: str | None) -> None:
        new = (new or "").strip()
        old = f.get("name")
        if new == old or not new:
            return
        f["name"] = new
        if old in self.expanded:
            self.expanded.add(new)
        await self.frame.changed()
        self.frame.rerender()

    async def retype(self, f: dict[str, Any], type_: str) -> None:
        if f.get("type") == type_:
            return
        f["type"] = type_
        for key, wanted in (("category", "category"), ("multiple", "category"), ("link", "link"),
                            ("link_key", "link")):
            if type_ != wanted:
                f.pop(key, None)
        if type_ == "category":
            f.setdefault("category", "")
        if type_ == "link":
            f.setdefault("link", "")
        f.pop("default", None)  # a default of the old type would not fit
        f.pop("validation", None)
        await self.frame.changed()
        self.frame.rerender()

    async def delete(self, name: str) -> None:
        if ops.published(self.live, name):
            self.refuse(name)
            return
        if ops.remove_field(self.data, name):
            await self.frame.changed()
            self.frame.rerender()

    def refuse(self, name: str) -> None:
        """Explain why a published field cannot be deleted and offer to retire it."""
        with self.frame.form, ui.dialog() as dialog, ui.card().classes("max-w-xl").mark("entity-refusal"):
            ui.label(t("designer.entity.refuse_title", field=name)).classes("text-h6")
            ui.label(t("designer.entity.refuse_delete", field=name, entity=self.frame.name)) \
                .classes("text-negative").mark("entity-refusal-text")

            async def retire_instead() -> None:
                dialog.close()
                await self.set_retired(name, True)

            with ui.row().classes("gap-2"):
                ui.button(t("designer.entity.retire_instead"), icon="archive", on_click=retire_instead) \
                    .mark("entity-retire-instead")
                ui.button(t("app.close"), on_click=dialog.close).props("flat")
        dialog.open()

    async def set_retired(self, name: str, retired: bool) -> None:
        if not ops.retire(self.data, name, retired):
            return
        await self.frame.changed()
        self.frame.rerender()
        if retired:
            await self.offer_cleanup(name)

    async def offer_cleanup(self, name: str) -> None:
        """After retiring: list where the field is used and offer to take it off the screens."""
        found = await run.io_bound(self.frame.preview)
        if found is None:
            return
        usages = ops.field_usages(found[0], self.frame.name, name)
        if not usages:
            return
        screens = sorted({u.name for u in usages if u.kind == "screen"})
        # in the frame's form, which outlives this editor's widgets (the form was just re-rendered)
        with self.frame.form, ui.dialog() as dialog, ui.card().classes("max-w-xl").mark("entity-usages"):
            ui.label(t("designer.entity.used_title", field=name)).classes("text-h6")
            for usage in usages:
                ui.label(usage.describe()).classes("font-mono text-caption")
            if len(screens) < len(usages):
                ui.label(t("designer.entity.used_elsewhere")).classes("text-caption text-grey-8")

            async def clean() -> None:
                dialog.close()
                changed = await run.io_bound(self.take_off_screens, name, screens)
                ui.notify(t("designer.entity.taken_off", screens=", ".join(changed or []) or "-"), type="info")
                await self.frame.recheck()

            with ui.row().classes("gap-2"):
                if screens:
                    ui.button(t("designer.entity.take_off"), icon="playlist_remove", on_click=clean) \
                        .mark("entity-take-off")
                ui.button(t("app.close"), on_click=dialog.close).props("flat")
        dialog.open()

    def take_off_screens(self, field: str, screens: list[str]) -> list[str]:
        """Draft each screen without the retired field (on a worker thread; the drafts service checks the
        designer permission); returns the screens changed."""
        service, actor = self.frame.service, self.frame.ctx.actor
        changed = []
        for screen in screens:
            try:
                draft = service.open(actor, "screen", screen)
                if draft.data is not None and ops.remove_from_screen(draft.data, self.frame.name, field):
                    service.save(actor, "screen", screen, draft.data, draft.base_revision)
                    changed.append(screen)
            except PermissionDenied:
                break
        return changed

