"""The departments page (``departments.manage``): the department tree on the left (the ``department``
category, edited on the categories page), and for the chosen department its members, its head and the regions it
serves (:mod:`helpline.services.workflow.departments`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import run, ui

from helpline.security.actor import PermissionDenied
from helpline.services.workflow import Department, DepartmentError, DepartmentService

from .. import inbox_counts
from ..i18n import label, t
from .base import ViewContext


def departments_view(ctx: ViewContext) -> None:
    ctx.actor.require_permission("departments.manage")
    DepartmentsView(ctx)


class DepartmentsView:
    def __init__(self, ctx: ViewContext) -> None:
        self.ctx = ctx
        self.service = DepartmentService(ctx.platform)
        self.departments: list[Department] = []
        self.chosen: str | None = None
        self.users: list[str] = []
        self.regions: dict[str, str] = {}
        ui.label(t("departments.title")).classes("text-h6")
        ui.label(t("departments.hint")).classes("text-caption text-grey-8")
        with ui.row().classes("w-full no-wrap items-start gap-4"):
            self.tree_box = ui.column().classes("gap-0").style("min-width: 260px; max-width: 320px") \
                .mark("departments-tree")
            self.detail = ui.column().classes("col gap-2").mark("department-detail")
        ui.timer(0, self.load, once=True)

    async def load(self) -> None:
        loaded = await run.io_bound(self._read)
        if loaded is None:
            return
        self.departments, (self.users, self.regions) = loaded
        if self.chosen is None and self.departments:
            self.chosen = self.departments[0].code
        self.render()

    def _read(self) -> tuple[list[Department], tuple[list[str], dict[str, str]]]:
        return self.service.tree(), self.service.choices(self.ctx.language)

    def render(self) -> None:
        self.tree_box.clear()
        with self.tree_box:
            for d in self.departments:
                caption = label(d.label, d.code) + (f" ({len(d.members)})" if d.members else "")
                color = "color=primary" if d.code == self.chosen else "color=grey-9"
                ui.button(caption, on_click=lambda c=d.code: self.choose(c)) \
                    .props(f"flat dense no-caps align=left {color}") \
                    .classes("w-full").style(f"padding-left: {8 + 16 * d.depth}px") \
                    .mark(f"department-{d.code}")
        self.render_detail()

    def choose(self, code: str) -> None:
        self.chosen = code
        self.render()

    def render_detail(self) -> None:
        self.detail.clear()
        d = next((x for x in self.departments if x.code == self.chosen), None)
        with self.detail:
            if d is None:
                ui.label(t("departments.choose")).classes("text-grey-7")
                return
            ui.label(label(d.label, d.code)).classes("text-subtitle1 text-primary")
            with ui.card().classes("w-full").props("flat bordered"):
                ui.label(t("departments.members")).classes("text-subtitle2")
                if not d.members:
                    ui.label(t("departments.none")).classes("text-grey-7")
                for username, head in d.members:
                    with ui.row().classes("w-full items-center gap-2").mark(f"member-{username}"):
                        ui.label(username).classes("text-body1")
                        if head:
                            ui.badge(t("departments.head"), color="primary").mark(f"head-{username}")
                        ui.space()
                        if not head:
                            ui.button(t("departments.make_head"), on_click=lambda u=username: self.act(
                                lambda: self.service.set_head(self.ctx.actor, d.code, u), [u])) \
                                .props("flat dense no-caps").mark(f"make-head-{username}")
                        ui.button(t("departments.remove"), on_click=lambda u=username: self.act(
                            lambda: self.service.remove_member(self.ctx.actor, d.code, u), [u])) \
                            .props("flat dense no-caps color=negative").mark(f"remove-{username}")
                with ui.row().classes("w-full items-center gap-2"):
                    user = ui.select([u for u in self.users if u not in dict(d.members)], label=t("departments.user"),
                                     with_input=True).classes("w-56").props("dense").mark("member-user")
                    head_box = ui.checkbox(t("departments.head")).mark("member-head")
                    ui.button(t("departments.add"), icon="person_add", on_click=lambda: self.act(
                        lambda: self.service.add_member(self.ctx.actor, d.code, str(user.value or ""),
                                                        bool(head_box.value)), [str(user.value or "")])) \
                        .props("dense no-caps").mark("member-add")
            with ui.card().classes("w-full").props("flat bordered"):
                ui.label(t("departments.regions")).classes("text-subtitle2")
                regions = ui.select(self.regions, value=list(d.regions), multiple=True, with_input=True,
                                    label=t("departments.regions")).classes("w-full").props("use-chips dense") \
                    .mark("department-regions")
                ui.button(t("departments.save_regions"), icon="save", on_click=lambda: self.act(
                    lambda: self.service.set_regions(self.ctx.actor, d.code, list(regions.value or [])), [])) \
                    .props("dense no-caps").mark("regions-save")

    async def act(self, change: Callable[[], Any], users: list[str]) -> None:
        try:
            await run.io_bound(change)
        except DepartmentError as exc:
            text = t(exc.key, **exc.params)
            ui.notify(text if text != exc.key else str(exc), type="negative")
            return
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        ui.notify(t("departments.saved"), type="positive")
        members = [u for x in self.departments if x.code == self.chosen for u, _ in x.members]
        inbox_counts.changed([*users, *members])  # their department boxes changed
        await self.load()

