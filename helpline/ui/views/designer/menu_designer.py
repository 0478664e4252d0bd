"""The menu designer: the menu tree, its items (name, label per language, what each opens, icon, required
permission), their order (drag and drop, or up / down / indent / outdent), and "who sees it".

The tree operations are the pure functions of :mod:`helpline.services.designer.menu_ops`; every edit saves
the menu's draft through the frame, which checks it live (HL-E205 unknown screen, HL-E206 unknown query,
HL-E209 unknown permission, ... shown under the widget that causes them). "Who sees it" asks, on the
author's draft preview, which roles' holders the shell's drawer would show the item to, and lets the author
grant the item to a role right there (that edits the role's draft; both are published together). Renaming
or removing an item carries the roles' direct grants along, in their drafts.
"""

from __future__ import annotations

import weakref
from typing import Any

from nicegui import run, ui

from helpline.metadata.kinds import LANGUAGES, Menu, MenuItem
from helpline.metadata.kinds.menu import PAGES
from helpline.metadata.metaset import MetadataSet
from helpline.metadata.permissions import PERMISSIONS
from helpline.security.actor import PermissionDenied
from helpline.services.designer import menu_ops as ops

from ...i18n import current_language, label, t, translate
from .editor import Editor, register
from .frame import DesignerFrame
from .widgets import label_inputs, labels_of

TARGET_KINDS = ("group", "screen", "query", "page", "url")
_STATE: weakref.WeakKeyDictionary[DesignerFrame, dict[str, Any]] = weakref.WeakKeyDictionary()
"""Per frame: the selected item and the last preview (the editor object is rebuilt on every rerender)."""


def _state(frame: DesignerFrame) -> dict[str, Any]:
    return _STATE.setdefault(frame, {"selected": None, "mset": None, "drag": None})


def labels_of_exact(value: Any, language: str) -> str:
    """A label's text in exactly ``language`` ("" when it has none; a plain string is English)."""
    if isinstance(value, str):
        return value if language == "en" else ""
    return str(value.get(language) or "") if isinstance(value, dict) else ""


def grant_source(refs: list[str], menu: Menu | None, menu_name: str, item: str) -> str | None:
    """Which of a role's menu grants shows it ``menu_name.item``: the item itself, an item above it, the
    whole menu or ``*``; None when none does."""
    if "*" in refs:
        return "*"
    if menu_name in refs:
        return menu_name
    current: str | None = item
    seen: set[str] = set()
    while current is not None and current not in seen:
        if f"{menu_name}.{current}" in refs:
            return f"{menu_name}.{current}"
        seen.add(current)
        node = menu.item(current) if menu is not None else None
        current = node.parent if node is not None else None
    return None


@register
class MenuDesigner(Editor):
    """See the module docstring."""

    kind = "menu"
    icon = "menu"
    who: ui.column | None = None
    tree: ui.column
    detail: ui.column

    @classmethod
    def template(cls, name: str) -> dict[str, Any]:
        return {"kind": "menu", "name": name, "label": {"en": name}, "items": []}

    # ------------------------------------------------------------------------------------------- layout
    @property
    def state(self) -> dict[str, Any]:
        return _state(self.frame)

    @property
    def mset(self) -> MetadataSet:
        found = self.state.get("mset")
        return found if isinstance(found, MetadataSet) else self.frame.ctx.platform.metadata

    def render(self) -> None:
        frame, data = self.frame, self.data
        ops.items_of(data)
        selected = self.state.get("selected")
        if selected is not None and not any(i.get("name") == selected for i in ops.items_of(data)):
            self.state["selected"] = None
        with ui.row().classes("w-full items-end gap-2"):
            with ui.column().classes("grow gap-0"):
                label_inputs(frame, data, (), marker="menu-label")
            order = ui.number(t("designer.menu.order"), value=data.get("order", 100), format="%d") \
                .props("dense").classes("w-28").mark("menu-order")
            order.on("blur", lambda: self.set_order(order.value))
        frame.error_slot("order")
        with ui.row().classes("w-full gap-4 items-start"):
            with ui.card().classes("w-[28rem] shrink-0").props("flat bordered"):
                with ui.row().classes("w-full items-center gap-1"):
                    ui.label(t("designer.menu.tree")).classes("text-subtitle1")
                    ui.space()
                    ui.button(t("designer.menu.add"), icon="add", on_click=lambda: self.add(None)) \
                        .props("dense flat no-caps").mark("menu-add")
                    ui.button(t("designer.menu.add_child"), icon="subdirectory_arrow_right",
                              on_click=self.add_child).props("dense flat no-caps").mark("menu-add-child")
                frame.error_slot("items", exact=True)
                self.tree = ui.column().classes("w-full gap-0").mark("menu-tree")
                self.build_tree()
            self.detail = ui.column().classes("grow min-w-[22rem] gap-1")
            with self.detail:
                self.build_detail()

    def build_tree(self) -> None:
        self.tree.clear()
        language = current_language()
        with self.tree:
            rows = ops.tree_order(self.data)
            if not rows:
                ui.label(t("designer.menu.empty")).classes("text-grey-7")
            for depth, item in rows:
                self.tree_row(depth, item, language)
            drop = ui.label(t("designer.menu.drop_end")).classes("w-full text-caption text-grey-6 q-pa-xs") \
                .mark("menu-drop-end")
            drop.on("dragover.prevent", lambda: None)
            drop.on("drop", lambda: self.dropped(None))

    def tree_row(self, depth: int, item: dict[str, Any], language: str) -> None:
        name = str(item.get("name"))
        kind, target = ops.target_of(item)
        index = ops.index_of(self.data, name)
        problems = self.frame.problems.at("items", index)
        chosen = name == self.state.get("selected")
        row = ui.row().classes("w-full no-wrap items-center gap-1 rounded cursor-pointer"
                               + (" bg-blue-1" if chosen else "")) \
            .style(f"padding-left: {depth * 18}px").props("draggable=true").mark(f"menu-row-{name}")
        row.on("dragstart", lambda n=name: self.state.__setitem__("drag", n))
        row.on("dragover.prevent", lambda: None)
        row.on("drop", lambda n=name: self.dropped(n))
        with row:
            ui.icon(item.get("icon") or ("folder" if kind == "group" else "chevron_right")).classes("text-grey-7")
            caption = labels_of(item.get("label"), language) or name
            ui.button(caption, on_click=lambda n=name: self.select(n)) \
                .props("flat dense no-caps align=left").classes("grow min-w-0").mark(f"menu-item-{name}")
            if kind != "group":
                ui.label(f"{kind}: {target}").classes("text-caption text-grey-7 ellipsis")
            if problems:
                ui.icon("error", color="negative").tooltip("; ".join(f"{p.id} {p.message}" for p in problems)) \
                    .mark(f"menu-row-error-{name}")
            for icon, action, marker in (("arrow_upward", "up", "menu-up"), ("arrow_downward", "down", "menu-down"),
                                         ("format_indent_increase", "indent", "menu-indent"),
                                         ("format_indent_decrease", "outdent", "menu-outdent"),
                                         ("delete", "remove", "menu-remove")):
                ui.button(icon=icon, on_click=lambda a=action, n=name: self.structure(a, n)) \
                    .props("flat dense round size=sm").mark(f"{marker}-{name}") \
                    .tooltip(t(f"designer.menu.{action}"))

    def build_detail(self) -> None:
        name = self.state.get("selected")
        if name is None:
            ui.label(t("designer.menu.choose")).classes("text-grey-7")
            return
        frame, index = self.frame, ops.index_of(self.data, name)
        item = ops.items_of(self.data)[index]
        path = ("items", index)
        ui.label(t("designer.menu.item", name=name)).classes("text-subtitle1")
        frame.error_slot(*path, exact=True)
        name_input = ui.input(t("designer.menu.name"), value=name).props("dense").classes("w-full") \
            .mark("menu-item-name")
        name_input.on("blur", lambda: self.rename(name, (name_input.value or "").strip()))
        frame.error_slot(*path, "name")
        self.item_labels(item, path)
        kind, target = ops.target_of(item)
        with ui.row().classes("w-full no-wrap items-start gap-2"):
            ui.select({k: t(f"designer.menu.target.{k}") for k in TARGET_KINDS}, value=kind,
                      label=t("designer.menu.opens"),
                      on_change=lambda e: self.set_target(name, str(e.value), "")) \
                .props("dense").classes("w-36").mark("menu-item-kind")
            if kind == "url":
                url = ui.input(t("designer.menu.target.url"), value=target).props("dense").classes("grow") \
                    .mark("menu-item-target")
                url.on("blur", lambda: self.set_target(name, "url", (url.value or "").strip()))
            elif kind != "group":
                ui.select(self.target_options(kind, target), value=target or None, with_input=True,
                          label=t(f"designer.menu.target.{kind}"),
                          on_change=lambda e: self.set_target(name, kind, str(e.value or ""))) \
                    .props("dense").classes("grow").mark("menu-item-target")
        for key in ops.TARGETS:
            frame.error_slot(*path, key)
        with ui.row().classes("w-full no-wrap items-center gap-2"):
            ui.icon(item.get("icon") or "chevron_right", size="md").classes("text-grey-8")
            icon = ui.input(t("designer.menu.icon"), value=item.get("icon") or "").props("dense").classes("grow") \
                .mark("menu-item-icon")
            icon.on("blur", lambda: self.set_value(name, "icon", (icon.value or "").strip()))
        ui.label(t("designer.menu.icon_help")).classes("text-caption text-grey-7")
        frame.error_slot(*path, "icon")
        permission = item.get("permission") or ""
        options = {"": t("designer.menu.no_permission"), **{p: f"{p} — {d}" for p, d in PERMISSIONS.items()}}
        if permission not in options:
            options[permission] = permission
        ui.select(options, value=permission, label=t("designer.menu.permission"), with_input=True,
                  on_change=lambda e: self.set_value(name, "permission", str(e.value or ""))) \
            .props("dense").classes("w-full").mark("menu-item-permission")
        frame.error_slot(*path, "permission")
        ui.separator()
        ui.label(t("designer.menu.who_sees")).classes("text-subtitle1")
        ui.label(t("designer.menu.who_sees_help")).classes("text-caption text-grey-7")
        self.who = ui.column().classes("w-full gap-0").mark("menu-who")
        ui.timer(0, self.refresh_who, once=True)

    def item_labels(self, item: dict[str, Any], path: tuple[str | int, ...]) -> None:
        """The item's label per language (saved on blur; the tree's caption follows)."""
        name = str(item.get("name"))
        with ui.row().classes("w-full no-wrap gap-2"):
            for language in LANGUAGES:
                box = ui.input(t(f"designer.label.{language}"), value=labels_of_exact(item.get("label"), language)) \
                    .props("dense").classes("grow").mark(f"menu-item-label-{language}")
                box.on("blur", lambda b=box, lang=language: self.set_label(name, lang, b.value or ""))
        self.frame.error_slot(*path, "label")

    def target_options(self, kind: str, current: str) -> dict[str, str]:
        mset = self.mset
        if kind == "screen":
            options = {n: f"{label(s.title, n)} ({n})" for n, s in sorted(mset.screens.items())}
        elif kind == "query":
            options = {n: f"{label(q.title, n)} ({n})" for n, q in sorted(mset.queries.items())}
        else:
            options = {p: f"{t(f'page.{p}')} ({p})" for p in sorted(PAGES)}
        if current and current not in options:
            options[current] = current
        return options

    # ------------------------------------------------------------------------------------------- who sees
    async def refresh_who(self) -> None:
        name = self.state.get("selected")
        if name is None or self.who is None or self.who.is_deleted:
            return
        try:
            previewed = await run.io_bound(self.frame.preview)
        except PermissionDenied:
            return
        if previewed is None:
            return
        mset = previewed[0]
        self.state["mset"] = mset
        if self.who.is_deleted:
            return
        menu_name = str(self.data.get("name"))
        menu = mset.menus.get(menu_name)
        item = menu.item(name) if menu is not None else None
        self.who.clear()
        with self.who:
            if menu is None or item is None:
                ui.label(t("designer.menu.who_unknown")).classes("text-warning").mark("menu-who-sees")
                return
            seeing = [r for r in sorted(mset.roles) if ops.item_visible(ops.role_actor(mset, r), mset, menu, item)]
            ui.label(t("designer.menu.seen_by", roles=", ".join(seeing) if seeing else "—")) \
                .classes("text-weight-medium").mark("menu-who-sees")
            for role_name, role in sorted(mset.roles.items()):
                self.role_row(mset, menu, item, role_name, label(role.label, role_name), list(role.menus),
                              role_name in seeing)

    def role_row(self, mset: MetadataSet, menu: Menu, item: MenuItem, role_name: str, caption: str,
                 refs: list[str], sees: bool) -> None:
        ref = f"{menu.name}.{item.name}"
        source = grant_source(refs, menu, menu.name, item.name)
        with ui.row().classes("w-full items-center no-wrap gap-2"):
            box = ui.checkbox(caption, value=source is not None).mark(f"menu-grant-{role_name}")
            if source is not None and source != ref:
                box.disable()
                ui.label(t("designer.menu.granted_via", ref=source)).classes("text-caption text-grey-7")
            else:
                box.on_value_change(lambda e, r=role_name: self.grant(r, ref, bool(e.value)))
            ui.space()
            ui.icon("visibility" if sees else "visibility_off", color="positive" if sees else "grey") \
                .mark(f"menu-sees-{role_name}").tooltip(t("designer.menu.sees" if sees else "designer.menu.hidden"))
            if source is not None and not sees:
                ui.label(self.why_hidden(mset, menu, item, role_name)).classes("text-caption text-grey-7")

    def why_hidden(self, mset: MetadataSet, menu: Menu, item: MenuItem, role: str) -> str:
        actor = ops.role_actor(mset, role)
        if item.permission and not actor.has(item.permission):
            return t("designer.menu.lacks_permission", permission=item.permission)
        kind, name = item.target
        if kind == "group":
            return t("designer.menu.empty_group")
        return t("designer.menu.cannot_open", kind=kind, name=name)

    async def grant(self, role: str, ref: str, on: bool) -> None:
        """Grant (or revoke) the item in the role's draft."""
        await self.edit_roles({ref: ref} if on else {ref: None}, only=role, add=on)
        await self.frame.recheck()
        await self.refresh_who()

    async def edit_roles(self, changes: dict[str, str | None], *, only: str | None = None, add: bool = False
                         ) -> list[str]:
        """Change menu grants in roles' drafts: each ``old -> new`` ref (None: drop it); with ``add``, add the
        ref to ``only``. Returns the roles changed."""
        service, actor = self.frame.service, self.frame.ctx.actor
        roles = [only] if only is not None else sorted(self.mset.roles)
        changed: list[str] = []
        for role in roles:
            try:
                draftable = await run.io_bound(service.open, actor, "role", role)
            except PermissionDenied:
                ui.notify(t("errors.forbidden"), type="negative")
                return changed
            data = draftable.data if draftable is not None else None
            if draftable is None or data is None:
                continue
            refs = [str(r) for r in data.get("menus") or []]
            if add:
                new_refs = refs + [r for r in changes if r not in refs]
            else:
                new_refs = []
                for r in refs:
                    if r in changes:
                        replacement = changes[r]
                        if replacement is not None and replacement not in new_refs:
                            new_refs.append(replacement)
                    else:
                        new_refs.append(r)
            if new_refs == refs:
                continue
            data["menus"] = new_refs
            await run.io_bound(service.save, actor, "role", role, data, draftable.base_revision)
            changed.append(role)
        return changed

    # ------------------------------------------------------------------------------------------- editing
    def select(self, name: str) -> None:
        self.state["selected"] = name
        self.frame.rerender()

    async def save(self, *, structural: bool = True) -> None:
        # in the form's own slot: the widget whose event started this may be gone by the time the save
        # ends (another edit rerendered the form), and the frame creates elements after saving
        with self.frame.form:
            await self.frame.changed()
        current = self.frame.editor if isinstance(self.frame.editor, MenuDesigner) else self
        if structural or current.tree.is_deleted:
            self.frame.rerender()
        else:
            current.build_tree()
            await current.refresh_who()

    async def set_order(self, value: Any) -> None:
        try:
            order = int(value)
        except (TypeError, ValueError):
            return
        if self.data.get("order", 100) == order:
            return
        self.data["order"] = order
        await self.save(structural=False)

    async def add(self, parent: str | None) -> None:
        labels = {language: translate(language, "designer.menu.new_item") for language in LANGUAGES}
        name = ops.add_item(self.data, labels["en"], parent=parent)
        ops.item_of(self.data, name)["label"] = labels
        self.state["selected"] = name
        await self.save()

    async def add_child(self) -> None:
        selected = self.state.get("selected")
        if selected is None:
            await self.add(None)
            return
        if ops.target_of(ops.item_of(self.data, selected))[0] != "group":
            ui.notify(t("designer.menu.error.not_a_group", name=selected), type="warning")
            return
        await self.add(selected)

    async def structure(self, action: str, name: str) -> None:
        try:
            if action == "up":
                done = ops.move(self.data, name, -1)
            elif action == "down":
                done = ops.move(self.data, name, +1)
            elif action == "indent":
                done = bool(ops.indent(self.data, name))
            elif action == "outdent":
                done = ops.outdent(self.data, name)
            else:
                removed = ops.remove(self.data, str(name))
                if self.state.get("selected") in removed:
                    self.state["selected"] = None
                menu_name = str(self.data.get("name"))
                await self.edit_roles({f"{menu_name}.{r}": None for r in removed})
                done = True
        except ops.MenuOpError as exc:
            ui.notify(t(f"designer.menu.error.{exc.code}", name=name), type="warning")
            return
        if done:
            await self.save()

    async def dropped(self, onto: str | None) -> None:
        """Drop of the dragged item: onto a group (into it, last), onto an item (before it, same parent), or
        onto the end of the tree (top level, last)."""
        dragged = self.state.get("drag")
        self.state["drag"] = None
        if dragged is None or dragged == onto:
            return
        try:
            if onto is None:
                ops.move_to(self.data, dragged, parent=None)
            else:
                target = ops.item_of(self.data, onto)
                if ops.target_of(target)[0] == "group":
                    ops.move_to(self.data, dragged, parent=onto)
                else:
                    ops.move_to(self.data, dragged, parent=target.get("parent"), before=onto)
        except ops.MenuOpError as exc:
            ui.notify(t(f"designer.menu.error.{exc.code}", name=dragged), type="warning")
            return
        await self.save()

    async def rename(self, old: str, new: str) -> None:
        if not new or new == old:
            return
        try:
            ops.rename_item(self.data, old, new)
        except ops.MenuOpError as exc:
            ui.notify(t(f"designer.menu.error.{exc.code}", name=new), type="warning")
            return
        self.state["selected"] = new
        menu_name = str(self.data.get("name"))
        await self.edit_roles({f"{menu_name}.{old}": f"{menu_name}.{new}"})
        await self.save()

    async def set_target(self, name: str, kind: str, value: str) -> None:
        item = ops.item_of(self.data, name)
        if ops.target_of(item) == (kind, value):
            return
        kind_changed = ops.target_of(item)[0] != kind
        ops.set_target(self.data, name, kind, value)
        await self.save(structural=kind_changed)

    async def set_label(self, name: str, language: str, text: str) -> None:
        item = ops.item_of(self.data, name)
        if labels_of_exact(item.get("label"), language) == text.strip():
            return
        ops.set_label(self.data, name, language, text)
        await self.save(structural=False)

    async def set_value(self, name: str, key: str, value: str) -> None:
        item = ops.item_of(self.data, name)
        if (item.get(key) or "") == value:
            return
        ops.set_value(self.data, name, key, value)
        await self.save(structural=key == "icon")
