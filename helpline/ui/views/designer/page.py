"""The ``/designer`` page: pick a kind and an object (or make a new one), edit it in its designer.

The left column lists the kinds, the objects of the chosen kind (live ones, and new ones only in the
author's drafts, marked) and the author's drafts across kinds; the right side holds the
:class:`~.frame.DesignerFrame` of the chosen object. ``/designer/<kind>/<name>`` opens one object
directly. The page needs the ``designer`` permission (checked when the page opens and again by every
service call behind it).
"""

from __future__ import annotations

import re
from typing import Any

from nicegui import run, ui

from helpline.metadata.kinds import KINDS
from helpline.security.actor import PermissionDenied
from helpline.services.designer.drafts import PERMISSION, DraftService

from ...i18n import label, t
from ..base import ViewContext
from .editor import EDITORS
from .frame import DesignerFrame
from .registry import EDITORS as _REGISTERED  # noqa: F401 - registers the designers

DESIGNED = ("menu", "entity", "screen", "query", "category", "role", "ivr", "routing", "workflow", "sla", "calendar")
"""The kinds in the order the page lists them."""
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class DesignerPage:
    def __init__(self, ctx: ViewContext, kind: str | None = None, name: str | None = None) -> None:
        ctx.actor.require_permission(PERMISSION)
        self.ctx = ctx
        self.service = DraftService(ctx.platform)
        self.kind = kind if kind in KINDS else "menu"
        self.frame: DesignerFrame | None = None
        with ui.row().classes("w-full no-wrap gap-3 items-start hl-designer"):
            with ui.column().classes("w-64 shrink-0 gap-1"):
                ui.label(t("page.designer")).classes("text-h6")
                self.kind_select = ui.select({k: t(f"designer.kind.{k}") for k in DESIGNED if k in KINDS},
                                             value=self.kind, on_change=lambda e: self.choose_kind(e.value)) \
                    .props("dense").classes("w-full").mark("designer-kind")
                self.objects = ui.column().classes("w-full gap-0").mark("designer-objects")
                with ui.row().classes("w-full no-wrap items-end gap-1"):
                    self.new_name = ui.input(t("designer.new_name")).props("dense").classes("grow") \
                        .mark("designer-new-name")
                    ui.button(icon="add", on_click=self.create).props("dense").mark("designer-new") \
                        .tooltip(t("designer.new"))
                ui.separator()
                ui.label(t("designer.my_drafts")).classes("text-subtitle2")
                self.drafts = ui.column().classes("w-full gap-0").mark("designer-my-drafts")
            self.main = ui.column().classes("grow min-w-0")
        self.list_objects()
        if name:
            self.open(self.kind, name)
        ui.timer(0, self.list_drafts, once=True)

    def choose_kind(self, kind: str) -> None:
        self.kind = kind
        self.list_objects()

    def list_objects(self) -> None:
        live = self.ctx.platform.metadata.objects.get(self.kind, {})
        self.objects.clear()
        with self.objects:
            for name, obj in sorted(live.items()):
                caption = f"{label(obj.label, name)} ({name})" if obj.label else name
                ui.button(caption, on_click=lambda n=name: self.open(self.kind, n)) \
                    .props("flat dense no-caps align=left").classes(f"w-full designer-object-{name}")

    async def list_drafts(self) -> None:
        drafts = await run.io_bound(self.service.drafts, self.ctx.actor) or []
        self.drafts.clear()
        with self.drafts:
            if not drafts:
                ui.label(t("designer.no_drafts")).classes("text-caption text-grey-7")
            for d in drafts:
                ui.button(f"{t(f'designer.kind.{d.kind}')} · {d.name}" + (" ✕" if d.removed else ""),
                          on_click=lambda k=d.kind, n=d.name: self.open(k, n)) \
                    .props("flat dense no-caps align=left").classes("w-full")

    def open(self, kind: str, name: str) -> None:
        if kind != self.kind:
            self.kind = kind
            self.kind_select.value = kind
        self.main.clear()
        with self.main:
            self.frame = DesignerFrame(self.ctx, kind, name, on_saved=self.saved)

    def saved(self) -> None:
        self.list_objects()
        with self.main:  # not inside the element that triggered the save: it may have been rebuilt
            ui.timer(0, self.list_drafts, once=True)

    async def create(self) -> None:
        """A new object of the chosen kind from its designer's template, kept as a draft."""
        name = (self.new_name.value or "").strip()
        if not NAME.match(name):
            ui.notify(t("designer.bad_name"), type="warning")
            return
        if name in self.ctx.platform.metadata.objects.get(self.kind, {}):
            ui.notify(t("designer.exists", name=name), type="warning")
            return
        editor = EDITORS.get(self.kind)
        data: dict[str, Any] = editor.template(name) if editor else {"kind": self.kind, "name": name}
        try:
            await run.io_bound(self.service.save, self.ctx.actor, self.kind, name, data, None)
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        self.new_name.value = ""
        self.open(self.kind, name)
        await self.list_drafts()


def designer_view(ctx: ViewContext) -> None:
    DesignerPage(ctx, ctx.params.get("object_kind"), ctx.params.get("object_name"))
