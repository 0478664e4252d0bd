""""View as this role": what a user holding only one role would see, computed on the author's draft
metadata (:meth:`~.frame.DesignerFrame.preview`) — the menu tree as the shell's drawer would render it, the
screens, queries and pages they may open, their entity rights (with row scopes and field masks) and their
function permissions.

Nobody is signed in as anybody: :func:`~helpline.services.designer.menu_ops.role_actor` builds an unsaved
stand-in that only answers permission questions, and the preview itself needs the designer permission
(checked on the server by the draft service).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nicegui import run, ui

from helpline.metadata.kinds.menu import PAGES
from helpline.metadata.metaset import MetadataSet
from helpline.security.actor import PermissionDenied
from helpline.services.access import can_open
from helpline.services.designer.menu_ops import role_actor, visible_tree

from ...i18n import t

if TYPE_CHECKING:
    from .frame import DesignerFrame


@dataclass
class MenuLine:
    depth: int
    menu: str
    item: str
    caption: str
    icon: str
    target: str
    """``screen: customer_list``, ``page: home``, ... or "" for a group."""


@dataclass
class EntityRights:
    entity: str
    caption: str
    actions: list[str]
    """The granted actions among create, read, update, delete."""
    scopes: list[str] | None
    """Row-scope rules (None: every row)."""
    masks: dict[str, str]


@dataclass
class RoleView:
    role: str
    menu: list[MenuLine] = field(default_factory=list)
    screens: list[tuple[str, str]] = field(default_factory=list)
    queries: list[tuple[str, str]] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    entities: list[EntityRights] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)


def _text(value: object, language: str, fallback: str) -> str:
    getter = getattr(value, "get", None)
    return str(getter(language)) if callable(getter) else fallback


def role_view(metadata: MetadataSet, role: str, language: str = "en") -> RoleView:
    """What a holder of ``role`` alone sees on ``metadata`` (the role and those it extends)."""
    actor = role_actor(metadata, role)
    view = RoleView(role)
    for depth, menu, item in visible_tree(actor, metadata):
        kind, name = item.target
        view.menu.append(MenuLine(depth, menu.name, item.name, _text(item.label, language, item.name),
                                  item.icon or ("folder" if kind == "group" else "chevron_right"),
                                  "" if kind == "group" else f"{kind}: {name}"))
    view.screens = [(n, _text(s.title, language, n)) for n, s in sorted(metadata.screens.items())
                    if can_open(actor, metadata, "screen", n)]
    view.queries = [(n, _text(q.title, language, n)) for n, q in sorted(metadata.queries.items())
                    if can_open(actor, metadata, "query", n)]
    view.pages = [p for p in PAGES if can_open(actor, metadata, "page", p)]
    for name, entity in sorted(metadata.entities.items()):
        actions = [a for a in ("create", "read", "update", "delete") if actor.can(name, a)]  # type: ignore[arg-type]
        if actions:
            view.entities.append(EntityRights(name, _text(entity.label, language, name), actions,
                                              actor.scopes(name), actor.masks(name)))
    named = {p for r in metadata.roles.values() for p in r.permissions}
    view.permissions = sorted(p for p in named if actor.has(p))
    return view


def render_role_view(view: RoleView) -> None:
    """The view as cards: the drawer's menu tree, what may be opened, entity rights, permissions."""
    with ui.row().classes("w-full gap-3 items-start"):
        with ui.card().classes("w-72").props("flat bordered").mark("view-as-menu"):
            ui.label(t("designer.role.view_as.menu")).classes("text-subtitle2")
            if not view.menu:
                ui.label(t("designer.role.view_as.no_menu")).classes("text-grey-7")
            for line in view.menu:
                with ui.row().classes("items-center no-wrap gap-1").style(f"padding-left: {line.depth * 16}px") \
                        .mark(f"view-as-item-{line.menu}-{line.item}"):
                    ui.icon(line.icon).classes("text-grey-7")
                    ui.label(line.caption)
                    if line.target:
                        ui.label(line.target).classes("text-caption text-grey-6")
        with ui.card().classes("w-72").props("flat bordered").mark("view-as-opens"):
            ui.label(t("designer.role.view_as.screens")).classes("text-subtitle2")
            for name, caption in view.screens:
                ui.label(f"{caption} ({name})").classes("text-body2").mark(f"view-as-screen-{name}")
            ui.label(t("designer.role.view_as.queries")).classes("text-subtitle2 q-mt-sm")
            for name, caption in view.queries:
                ui.label(f"{caption} ({name})").classes("text-body2").mark(f"view-as-query-{name}")
            ui.label(t("designer.role.view_as.pages")).classes("text-subtitle2 q-mt-sm")
            for page in view.pages:
                ui.label(f"{t(f'page.{page}')} ({page})").classes("text-body2").mark(f"view-as-page-{page}")
        with ui.card().classes("grow min-w-[20rem]").props("flat bordered").mark("view-as-entities"):
            ui.label(t("designer.role.view_as.entities")).classes("text-subtitle2")
            for rights in view.entities:
                with ui.column().classes("gap-0 q-mb-xs").mark(f"view-as-entity-{rights.entity}"):
                    actions = ", ".join(t(f"designer.role.action.{a}") for a in rights.actions)
                    ui.label(f"{rights.caption} ({rights.entity}): {actions}").classes("text-body2")
                    scope = (t("designer.role.view_as.all_rows") if rights.scopes is None
                             else " · ".join(rights.scopes) or t("designer.role.view_as.all_rows"))
                    ui.label(t("designer.role.view_as.rows", scope=scope)).classes("text-caption text-grey-7")
                    if rights.masks:
                        masks = ", ".join(f"{f}: {m}" for f, m in sorted(rights.masks.items()))
                        ui.label(t("designer.role.view_as.masked", masks=masks)).classes("text-caption text-grey-7")
            ui.label(t("designer.role.view_as.permissions")).classes("text-subtitle2 q-mt-sm")
            ui.label(", ".join(view.permissions) or "—").classes("text-body2").mark("view-as-permissions")


class ViewAsPanel:
    """A button that shows :func:`role_view` of the frame's role on the author's draft metadata."""

    def __init__(self, frame: DesignerFrame, role: str) -> None:
        self.frame, self.role = frame, role
        ui.label(t("designer.role.view_as.help")).classes("text-caption text-grey-8")
        ui.button(t("designer.role.view_as.show"), icon="visibility", on_click=self.show) \
            .props("outline dense no-caps").mark("role-view-as")
        self.body = ui.column().classes("w-full gap-2").mark("view-as")

    async def show(self) -> None:
        language = self.frame.ctx.language
        try:
            previewed = await run.io_bound(self.frame.preview)
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        if previewed is None or self.body.is_deleted:
            return
        mset = previewed[0]
        self.body.clear()
        with self.body:
            if self.role not in mset.roles:
                ui.label(t("designer.role.view_as.broken")).classes("text-warning").mark("view-as-broken")
                return
            render_role_view(role_view(mset, self.role, language))
