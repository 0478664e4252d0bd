"""The role designer: what a role may see and do, as a permission matrix.

- Menus: every menu and item with a tick (a ticked item grants the items below it; ``*`` grants all).
- Entities: create / read / update / delete per entity, the row scope (a rule, checked live: HL-R... under
  the input) and field masks.
- Functions: the catalogue of :data:`~helpline.metadata.permissions.PERMISSIONS` grouped (administration,
  data, agent functions, supervisor actions, quality), with what roles it extends already give.
- View as: :mod:`.view_as` on the author's draft.

The pure helpers below turn the role's data (as in the YAML file, shorthand ``crud`` grants included) into
the form's values and back, keeping the file's shape (shorthand where it suffices, catalogue order).
"""

from __future__ import annotations

import weakref
from typing import Any, get_args

from nicegui import ui

from helpline.metadata.kinds import Menu
from helpline.metadata.kinds.role import Mask
from helpline.metadata.metaset import MetadataSet
from helpline.metadata.permissions import PERMISSIONS

from ...i18n import label, t
from .editor import Editor, register
from .frame import DesignerFrame
from .view_as import ViewAsPanel
from .widgets import label_inputs

ACTIONS = ("create", "read", "update", "delete")
MASKS: tuple[str, ...] = get_args(Mask)
GROUPS = ("admin", "data", "agent", "supervisor", "qa", "other")
_GROUP_OF_PREFIX = {"designer": "admin", "audit": "admin", "users": "admin", "categories": "admin", "ivr": "admin",
                    "export": "data", "import": "data", "desktop": "agent", "agent": "agent",
                    "supervisor": "supervisor", "routing": "supervisor", "qa": "qa"}


_STATE: weakref.WeakKeyDictionary[DesignerFrame, dict[str, Any]] = weakref.WeakKeyDictionary()
"""Per frame: the open tab (the form is rebuilt after structural changes)."""


# ----------------------------------------------------------------------------------------- pure helpers
def _tab_name(value: Any) -> str:
    return value if isinstance(value, str) else str(getattr(value, "props", {}).get("name", "menus"))


def permission_group(permission: str) -> str:
    """The matrix group of a permission, by its prefix (later issues' permissions fall in by prefix)."""
    return _GROUP_OF_PREFIX.get(permission.split(".")[0], "other")


def grant_of(data: dict[str, Any], entity: str) -> dict[str, Any]:
    """The role's grant on ``entity`` as a full mapping (``"cru"`` → create/read/update True, delete False)."""
    value = (data.get("entities") or {}).get(entity)
    if isinstance(value, str):
        return {a: a[0] in value for a in ACTIONS}
    if isinstance(value, dict):
        grant = {a: bool(value.get(a, False)) for a in ACTIONS}
        for key in ("scope", "masks"):
            if value.get(key):
                grant[key] = value[key]
        for key, extra in value.items():
            grant.setdefault(key, extra)
        return grant
    return {a: False for a in ACTIONS}


def put_grant(data: dict[str, Any], entity: str, grant: dict[str, Any]) -> None:
    """Store ``grant``: letters (``cru``) when it has no scope or masks, a mapping otherwise, nothing at all
    when it grants nothing."""
    entities = data.get("entities")
    if not isinstance(entities, dict):
        entities = data["entities"] = {}
    extra = {k: v for k, v in grant.items() if k not in ACTIONS and v not in (None, "", {})}
    if not extra:
        letters = "".join(a[0] for a in ACTIONS if grant.get(a))
        if letters:
            entities[entity] = letters
        else:
            entities.pop(entity, None)
        return
    entities[entity] = {**{a: True for a in ACTIONS if grant.get(a)}, **extra}


def menu_refs(mset: MetadataSet) -> list[str]:
    """Every grantable menu reference in tree order: each menu, then its items."""
    refs: list[str] = []
    for menu in sorted(mset.menus.values(), key=lambda m: (m.order, m.name)):
        refs.append(menu.name)
        refs.extend(f"{menu.name}.{i.name}" for i in menu.items)
    return refs


def set_menu_ref(data: dict[str, Any], ref: str, on: bool, known: list[str]) -> None:
    """Grant or revoke one menu reference, keeping ``*`` first, known refs in tree order and unknown ones
    (reported by the checker) after them."""
    refs = [str(r) for r in data.get("menus") or []]
    chosen = set(refs) | {ref} if on else set(refs) - {ref}
    ordered = (["*"] if "*" in chosen else []) + [r for r in known if r in chosen]
    ordered += [r for r in refs if r in chosen and r not in ordered]
    data["menus"] = ordered


def set_permission(data: dict[str, Any], permission: str, on: bool) -> None:
    """Grant or revoke a function permission, keeping catalogue order (unknown ones stay, at the end)."""
    current = [str(p) for p in data.get("permissions") or []]
    chosen = set(current) | {permission} if on else set(current) - {permission}
    ordered = [p for p in PERMISSIONS if p in chosen]
    ordered += [p for p in current if p in chosen and p not in ordered]
    data["permissions"] = ordered


def inherited(mset: MetadataSet, data: dict[str, Any]) -> dict[str, str]:
    """Permissions the roles this role extends give, each with the role that gives it."""
    found: dict[str, str] = {}
    pending = [str(r) for r in data.get("extends") or []]
    seen = {str(data.get("name"))}
    while pending:
        name = pending.pop(0)
        role = mset.roles.get(name)
        if role is None or name in seen:
            continue
        seen.add(name)
        for p in role.permissions:
            found.setdefault(p, name)
        pending.extend(role.extends)
    return found


# ----------------------------------------------------------------------------------------- the designer
@register
class RoleDesigner(Editor):
    """See the module docstring."""

    kind = "role"
    icon = "admin_panel_settings"

    @classmethod
    def template(cls, name: str) -> dict[str, Any]:
        return {"kind": "role", "name": name, "label": {"en": name}, "menus": [], "entities": {}, "permissions": []}

    @property
    def mset(self) -> MetadataSet:
        return self.frame.ctx.platform.metadata

    def render(self) -> None:
        frame, data = self.frame, self.data
        label_inputs(frame, data, (), marker="role-label")
        others = {n: f"{label(r.label, n)} ({n})" for n, r in sorted(self.mset.roles.items()) if n != data.get("name")}
        extends = [str(e) for e in data.get("extends") or []]
        others.update({e: e for e in extends if e not in others})
        ui.select(others, value=extends, multiple=True, label=t("designer.role.extends"),
                  on_change=lambda e: self.set_extends(list(e.value or []))) \
            .props("dense use-chips").classes("w-full").mark("role-extends")
        frame.error_slot("extends")
        state = _STATE.setdefault(frame, {"tab": "menus"})
        with ui.tabs(on_change=lambda e: state.__setitem__("tab", _tab_name(e.value))) \
                .props("dense align=left no-caps").classes("w-full") as tabs:
            menus_tab = ui.tab("menus", t("designer.role.menus")).mark("role-tab-menus")
            entities_tab = ui.tab("entities", t("designer.role.entities")).mark("role-tab-entities")
            functions_tab = ui.tab("functions", t("designer.role.functions")).mark("role-tab-functions")
            view_tab = ui.tab("view_as", t("designer.role.tab_view_as")).mark("role-tab-view-as")
        with ui.tab_panels(tabs, value=state["tab"]).classes("w-full"):
            with ui.tab_panel(menus_tab):
                self.build_menus()
            with ui.tab_panel(entities_tab):
                self.build_entities()
            with ui.tab_panel(functions_tab):
                self.build_functions()
            with ui.tab_panel(view_tab):
                ViewAsPanel(frame, str(data.get("name")))

    # ------------------------------------------------------------------------------------------- menus
    def build_menus(self) -> None:
        refs = [str(r) for r in self.data.get("menus") or []]
        ui.label(t("designer.role.menus_help")).classes("text-caption text-grey-8")
        ui.checkbox(t("designer.role.all_menus"), value="*" in refs,
                    on_change=lambda e: self.set_menu("*", bool(e.value))).mark("role-menu-*")
        known = menu_refs(self.mset)
        for menu in sorted(self.mset.menus.values(), key=lambda m: (m.order, m.name)):
            self.menu_tree(menu, refs)
        for i, ref in enumerate(refs):
            if ref != "*" and ref not in known:
                with ui.row().classes("items-center gap-2"):
                    ui.label(ref).classes("font-mono")
                    ui.button(icon="delete", on_click=lambda r=ref: self.set_menu(r, False)) \
                        .props("flat dense round size=sm").mark(f"role-menu-remove-{ref}")
                self.frame.error_slot("menus", i)

    def menu_tree(self, menu: Menu, refs: list[str]) -> None:
        whole = "*" in refs or menu.name in refs
        box = ui.checkbox(f"{label(menu.label, menu.name)} ({menu.name})", value=whole,
                          on_change=lambda e: self.set_menu(menu.name, bool(e.value))) \
            .classes("text-weight-medium").mark(f"role-menu-{menu.name}")
        if "*" in refs:
            box.disable()

        def walk(parent: str | None, depth: int, granted_above: bool, seen: set[str]) -> None:
            for item in menu.children(parent):
                if item.name in seen:
                    continue
                ref = f"{menu.name}.{item.name}"
                direct = ref in refs
                with ui.row().classes("items-center no-wrap gap-1").style(f"padding-left: {16 + depth * 18}px"):
                    item_box = ui.checkbox(f"{label(item.label, item.name)}", value=direct or granted_above,
                                           on_change=lambda e, r=ref: self.set_menu(r, bool(e.value))) \
                        .props("dense").mark(f"role-menu-{ref}")
                    if granted_above:
                        item_box.disable()
                    kind, name = item.target
                    if kind != "group":
                        ui.label(f"{kind}: {name}").classes("text-caption text-grey-6")
                    if item.permission:
                        ui.label(t("designer.role.needs", permission=item.permission)) \
                            .classes("text-caption text-orange-8")
                walk(item.name, depth + 1, granted_above or direct, seen | {item.name})

        walk(None, 0, whole, set())

    async def set_menu(self, ref: str, on: bool) -> None:
        set_menu_ref(self.data, ref, on, menu_refs(self.mset))
        await self.save()

    # ------------------------------------------------------------------------------------------- entities
    def build_entities(self) -> None:
        entities = sorted(set(self.mset.entities) | set((self.data.get("entities") or {}).keys()))
        ui.label(t("designer.role.entities_help")).classes("text-caption text-grey-8")
        for entity in entities:
            self.entity_row(entity)

    def entity_row(self, entity: str) -> None:
        grant = grant_of(self.data, entity)
        meta = self.mset.entities.get(entity)
        with ui.card().classes("w-full q-pa-sm").props("flat bordered").mark(f"role-entity-{entity}"):
            with ui.row().classes("w-full items-center no-wrap gap-3"):
                caption = label(meta.label, entity) if meta is not None else entity
                ui.label(f"{caption} ({entity})").classes("w-48 text-weight-medium")
                for action in ACTIONS:
                    ui.checkbox(t(f"designer.role.action.{action}"), value=bool(grant.get(action)),
                                on_change=lambda e, a=action: self.set_right(entity, a, bool(e.value))) \
                        .props("dense").mark(f"role-{entity}-{action}")
            self.frame.error_slot("entities", entity, exact=True)
            scope = ui.input(t("designer.role.scope"), value=str(grant.get("scope") or ""),
                             placeholder="record.city in user.regions").props("dense").classes("w-full font-mono") \
                .mark(f"role-scope-{entity}")
            scope.on("blur", lambda: self.set_scope(entity, (scope.value or "").strip()))
            self.frame.error_slot("entities", entity, "scope")
            self.masks_row(entity, grant, [f.name for f in meta.fields] if meta is not None else [])

    def masks_row(self, entity: str, grant: dict[str, Any], fields: list[str]) -> None:
        masks: dict[str, str] = dict(grant.get("masks") or {})
        with ui.row().classes("w-full items-center gap-2"):
            ui.label(t("designer.role.masks")).classes("text-caption")
            for field, mask in masks.items():
                ui.chip(f"{field}: {mask}", removable=True, color="grey-3",
                        on_value_change=lambda e, f=field: None if e.value else self.set_mask(entity, f, None)) \
                    .props("dense").mark(f"role-mask-{entity}-{field}")
            field_select = ui.select([f for f in fields if f not in masks], label=t("designer.role.mask_field"),
                                     with_input=True).props("dense").classes("w-40") \
                .mark(f"role-mask-field-{entity}")
            kind_select = ui.select(list(MASKS), value="hidden", label=t("designer.role.mask_kind")) \
                .props("dense").classes("w-28").mark(f"role-mask-kind-{entity}")
            ui.button(icon="add", on_click=lambda: self.set_mask(entity, field_select.value, kind_select.value)) \
                .props("dense flat round").mark(f"role-mask-add-{entity}").tooltip(t("designer.role.mask_add"))
        self.frame.error_slot("entities", entity, "masks")

    async def set_right(self, entity: str, action: str, on: bool) -> None:
        grant = grant_of(self.data, entity)
        grant[action] = on
        put_grant(self.data, entity, grant)
        await self.save(structural=False)

    async def set_scope(self, entity: str, scope: str) -> None:
        grant = grant_of(self.data, entity)
        if str(grant.get("scope") or "") == scope:
            return
        grant["scope"] = scope or None
        put_grant(self.data, entity, grant)
        await self.save(structural=False)

    async def set_mask(self, entity: str, field: Any, mask: Any) -> None:
        if not field:
            return
        grant = grant_of(self.data, entity)
        masks = dict(grant.get("masks") or {})
        if mask:
            masks[str(field)] = str(mask)
        else:
            masks.pop(str(field), None)
        grant["masks"] = masks
        put_grant(self.data, entity, grant)
        await self.save()

    # ------------------------------------------------------------------------------------------- functions
    def build_functions(self) -> None:
        granted = [str(p) for p in self.data.get("permissions") or []]
        given = inherited(self.mset, self.data)
        ui.label(t("designer.role.functions_help")).classes("text-caption text-grey-8")
        for group in GROUPS:
            members = [p for p in PERMISSIONS if permission_group(p) == group]
            if not members:
                continue
            ui.label(t(f"designer.role.group.{group}")).classes("text-subtitle2 q-mt-sm")
            with ui.grid(columns=2).classes("w-full gap-x-4 gap-y-0"):
                for permission in members:
                    with ui.row().classes("items-center no-wrap gap-1"):
                        box = ui.checkbox(permission, value=permission in granted or permission in given,
                                          on_change=lambda e, p=permission: self.set_function(p, bool(e.value))) \
                            .props("dense").mark(f"role-perm-{permission}")
                        if permission in given and permission not in granted:
                            box.disable()
                            ui.label(t("designer.role.from", role=given[permission])) \
                                .classes("text-caption text-grey-6")
                        ui.label(self.describe(permission)).classes("text-caption text-grey-7 ellipsis")
        for i, permission in enumerate(granted):
            if permission not in PERMISSIONS:
                with ui.row().classes("items-center gap-2 q-mt-sm"):
                    ui.label(permission).classes("font-mono")
                    ui.button(icon="delete", on_click=lambda p=permission: self.set_function(p, False)) \
                        .props("flat dense round size=sm").mark(f"role-perm-remove-{permission}")
                self.frame.error_slot("permissions", i)

    @staticmethod
    def describe(permission: str) -> str:
        key = f"designer.role.perm.{permission}"
        text = t(key)
        return PERMISSIONS.get(permission, "") if text == key else text

    async def set_function(self, permission: str, on: bool) -> None:
        set_permission(self.data, permission, on)
        await self.save(structural=False)

    # ------------------------------------------------------------------------------------------- header
    async def set_extends(self, roles: list[str]) -> None:
        if roles:
            self.data["extends"] = roles
        else:
            self.data.pop("extends", None)
        await self.save()

    async def save(self, *, structural: bool = True) -> None:
        """Save the draft (in the form's own slot: the widget that started this may be gone by then); the
        whole form is rebuilt after structural changes (menus, masks, extends)."""
        with self.frame.form:
            await self.frame.changed()
        if structural:
            self.frame.rerender()
