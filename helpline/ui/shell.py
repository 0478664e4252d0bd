"""The frame every signed-in page has: a header (product, user, role, language, logout), the menu tree
of the user's roles in the left drawer, and the work area where screens, queries and pages open as tabs
that keep their state while one switches between them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import app, ui

from helpline.metadata.kinds import PAGES, Menu, MenuItem
from helpline.metadata.metaset import MetadataSet
from helpline.security.actor import Actor, PermissionDenied
from helpline.services import auth
from helpline.services.access import require_open
from helpline.services.designer.menu_ops import item_visible as menu_item_visible

from . import inbox_counts, live_menu
from .context import platform
from .i18n import LANGUAGES, current_language, label, speaking, t
from .live_notices import Bell
from .session import sign_out
from .views.admin_views import audit_view, category_view, home_view, profile_view, users_view
from .views.base import ViewContext
from .views.bulletins_view import bulletins_view
from .views.callbacks_view import callbacks_view
from .views.campaigns_view import campaigns_view
from .views.departments_view import departments_view
from .views.designer.page import designer_view
from .views.desktop import desktop_view
from .views.exams_view import exams_view
from .views.form_view import FormView
from .views.imports_view import imports_view
from .views.inbox_view import inbox_view
from .views.ivr_console import ivr_console_view
from .views.jobs_view import jobs_view
from .views.knowledge_stats_view import knowledge_stats_view
from .views.knowledge_view import knowledge_view
from .views.list_view import ListView
from .views.notes_view import notes_view
from .views.notices_view import notices_view
from .views.performance_view import performance_view
from .views.qa_view import qa_evaluate_view
from .views.query_view import QueryView
from .views.recordings_view import recordings_view
from .views.reminders_view import reminders_view
from .views.reports_view import reports_view
from .views.roster_view import roster_view
from .views.skills_view import skills_view
from .views.supervisor import supervisor_view
from .views.system_view import system_view

PAGE_VIEWS: dict[str, Callable[[ViewContext], None]] = {
    "home": home_view, "categories": category_view, "audit": audit_view, "users": users_view,
    "profile": profile_view, "ivr_console": ivr_console_view,
    "supervisor": supervisor_view, "desktop": desktop_view, "designer": designer_view, "jobs": jobs_view,
    "imports": imports_view,
    "departments": departments_view,
    **{page: inbox_view(box) for page, box in inbox_counts.PAGE_BOX.items()},
    "recordings": recordings_view, "reports": reports_view, "notices": notices_view, "qa_evaluate": qa_evaluate_view,
    "roster": roster_view, "skills": skills_view, "performance": performance_view,
    "exams": exams_view, "callbacks": callbacks_view,
    "knowledge": knowledge_view, "knowledge_stats": knowledge_stats_view,
    "bulletins": bulletins_view, "notes": notes_view,
    "system": system_view, "reminders": reminders_view, "campaigns": campaigns_view,
}
"""A view for each built-in page of ``helpline.metadata.kinds.menu.PAGES`` (the one table of pages)."""
if set(PAGE_VIEWS) != set(PAGES):
    raise RuntimeError(f"pages without a view: {sorted(set(PAGES) - set(PAGE_VIEWS))}; "
                       f"views without a page: {sorted(set(PAGE_VIEWS) - set(PAGES))} (helpline.metadata.kinds.menu)")


MENU_CSS = """
.hl-menu-item .q-btn__content { flex-wrap: nowrap; text-align: left; }
"""
"""A long menu caption wraps beside its icon (not below it)."""


def item_visible(actor: Actor, menu: Menu, item: MenuItem, metadata: MetadataSet | None = None) -> bool:
    """A menu item is shown when a role grants it, its permission is held and its target may be opened
    (on ``metadata``, default the live set: the designers pass their draft preview)."""
    return menu_item_visible(actor, metadata if metadata is not None else platform().metadata, menu, item)


class Shell:
    def __init__(self, actor: Actor):
        self.actor = actor
        self.language = current_language()
        self.tabs_by_key: dict[str, tuple[Any, Any]] = {}
        self.count_badges: dict[str, ui.badge] = {}
        """Inbox page → the badge with its live count in the menu (:mod:`.inbox_counts`)."""
        self.header()
        self.drawer()
        with ui.column().classes("w-full"):
            self.tabs = ui.tabs().classes("w-full").props("align=left dense inline-label outside-arrows")
            self.panels = ui.tab_panels(self.tabs).classes("w-full").props("keep-alive")

    def header(self) -> None:
        actor = self.actor
        with ui.header().classes("items-center bg-primary text-white"):
            ui.button(icon="menu", on_click=lambda: self.left.toggle()).props("flat color=white dense")
            ui.label(t("app.name")).classes("text-h6")
            ui.space()
            roles = [label(r.label, r.name) for n in actor.roles if (r := platform().metadata.roles.get(n))]
            ui.label(f"{actor.display_name or actor.username} · {', '.join(roles)}").classes("user-badge")
            lang = ui.select(LANGUAGES, value=self.language).props(
                "dense dark borderless options-dense").classes("w-24 language-switch").mark("language")
            lang.on_value_change(lambda e: self.set_language(e.value))
            self.bell = Bell(actor.username, lambda: self.open("page", "notices"))
            ui.button(icon="account_circle", on_click=lambda: self.open("page", "profile")).props(
                "flat color=white dense").tooltip(t("shell.profile"))
            ui.button(t("shell.logout"), icon="logout", on_click=self.logout).props("flat color=white dense") \
                .classes("logout").mark("logout")

    def drawer(self) -> None:
        ui.add_css(MENU_CSS)
        with ui.left_drawer(value=True, bordered=True).classes("bg-grey-1").props("width=240") as self.left:
            self.menu_box = ui.column().classes("w-full gap-0").mark("shell-menu")
        self.fill_menu()
        live_menu.follow(self)

    def fill_menu(self) -> None:
        self.menu_box.clear()
        self.count_badges.clear()
        with self.menu_box:
            ui.label(t("shell.menu")).classes("text-subtitle2 text-grey-8")
            for menu in sorted(platform().metadata.menus.values(), key=lambda m: m.order):
                for item in menu.children(None):
                    self.menu_item(menu, item)
        if self.count_badges:
            inbox_counts.follow(self)
            inbox_counts.changed([self.actor.username])

    def show_counts(self, counts: dict[str, tuple[int, bool]]) -> None:
        """The live inbox counts (box → (count, capped)) on the menu's inbox items; zero shows none."""
        for page, badge in self.count_badges.items():
            if badge.is_deleted:
                continue
            n, capped = counts.get(inbox_counts.PAGE_BOX[page], (0, False))
            text = f"{n}+" if capped else str(n)
            if badge.text != text:  # an unchanged count is not sent again
                badge.text = text
            if badge.visible != (n > 0):
                badge.set_visibility(n > 0)

    def refresh_menu(self) -> None:
        """Rebuild the drawer on the live metadata (a published change; see :mod:`.live_menu`)."""
        if self.menu_box.is_deleted:
            return
        self.actor = self.actor.bind(platform().metadata)
        with speaking(self.language), self.menu_box.client:
            self.fill_menu()

    def menu_item(self, menu: Menu, item: MenuItem) -> None:
        if not item_visible(self.actor, menu, item):
            return
        kind, name = item.target
        caption = label(item.label, item.name)
        if kind == "group":
            with ui.expansion(caption, icon=item.icon or "folder", value=True).classes("w-full").props("dense"):
                for child in menu.children(item.name):
                    self.menu_item(menu, child)
            return
        if kind == "url":
            ui.link(caption, name, new_tab=True).classes("q-px-md")
            return
        button = ui.button(caption, icon=item.icon or "chevron_right",
                           on_click=lambda k=kind, n=name: self.open(k, n)) \
            .props("flat align=left no-caps dense").classes(f"w-full hl-menu-item menu-{menu.name}-{item.name}")
        if kind == "page" and name in inbox_counts.PAGE_BOX:
            with button:
                ui.space()
                badge = ui.badge("0", color="negative" if name == "inbox_overdue" else "primary") \
                    .mark(f"count-{name}")
                badge.set_visibility(False)
                self.count_badges[name] = badge

    def context(self, key: str, params: dict[str, Any] | None = None) -> ViewContext:
        return ViewContext(platform=platform(), actor=self.actor, open=self.open, language=current_language(),
                           close=lambda: self.close(key), retitle=lambda title: self.retitle(key, title),
                           params=dict(params or {}))

    def open(self, kind: str, name: str, *, record_id: int | None = None, **params: Any) -> None:
        """Open (or focus) a view in a tab; refused targets give a notice (and an audit entry)."""
        metadata = platform().metadata
        key = f"{kind}:{name}" + (f":{record_id}" if kind == "record" else "")
        if key in self.tabs_by_key and not (kind == "record" and record_id is None):
            self.tabs.value = self.tabs_by_key[key][0]
            return
        access_kind = "screen" if kind == "record" else kind
        try:
            require_open(self.actor, metadata, access_kind, name)  # type: ignore[arg-type]
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        title = self.title(kind, name, record_id)
        if kind == "record" and record_id is None:
            key = f"{key}:new{len(self.tabs_by_key)}"
        with self.tabs:
            tab = ui.tab(key, label=title).props("no-caps")
        with self.panels, ui.tab_panel(tab) as panel:
            with ui.row().classes("w-full justify-end"):
                ui.button(icon="close", on_click=lambda k=key: self.close(k)).props("flat dense size=sm") \
                    .tooltip(t("shell.tab.close"))
            self.render(kind, name, record_id, self.context(key, params), params)
        self.tabs_by_key[key] = (tab, panel)
        self.tabs.value = tab

    def title(self, kind: str, name: str, record_id: int | None) -> str:
        metadata = platform().metadata
        if kind == "screen" and name in metadata.screens:
            return label(metadata.screens[name].title, name)
        if kind == "query" and name in metadata.queries:
            return label(metadata.queries[name].title, name)
        if kind == "record" and name in metadata.screens:
            entity = metadata.entities[metadata.screens[name].entity]
            return label(entity.label, entity.name) + (f" #{record_id}" if record_id else " +")
        return t(f"page.{name}")

    def render(self, kind: str, name: str, record_id: int | None, ctx: ViewContext, params: dict[str, Any]) -> None:
        metadata = platform().metadata
        if kind == "screen":
            screen = metadata.screens[name]
            if screen.view == "list":
                ListView(ctx, screen)
            else:
                FormView(ctx, screen, None, params.get("defaults"))
        elif kind == "record":
            FormView(ctx, metadata.screens[name], record_id, params.get("defaults"))
        elif kind == "query":
            QueryView(ctx, metadata.queries[name])
        elif kind == "page" and name in PAGE_VIEWS:
            PAGE_VIEWS[name](ctx)
        else:
            ui.label(t("page.unavailable")).classes("text-grey-7")

    def retitle(self, key: str, title: str) -> None:
        if key in self.tabs_by_key:
            self.tabs_by_key[key][0].props(f'label="{title}"')

    def close(self, key: str) -> None:
        tab, panel = self.tabs_by_key.pop(key, (None, None))
        if tab is None:
            return
        was_current = self.tabs.value in (tab, key)
        self.tabs.remove(tab)
        self.panels.remove(panel)
        if was_current and self.tabs_by_key:
            self.tabs.value = list(self.tabs_by_key.values())[-1][0]

    def set_language(self, language: str) -> None:
        app.storage.user["language"] = language
        auth.set_language(self.actor.username, language)
        ui.navigate.reload()

    def logout(self) -> None:
        auth.logout(self.actor.username)
        sign_out()
        ui.navigate.to("/login")
