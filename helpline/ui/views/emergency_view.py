"""Declaring an emergency, on the bulletins page (permissions ``supervisor`` and ``bulletins.publish``): the
region, a title and the text callers and agents get. ``helpline.services.emergency.declare`` puts up the IVR's
outage notice, the must-read bulletin to agents and the emergency dispatch work order at once; the work order
opens in a tab to be dispatched (docs/operations.md, emergencies)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import run, ui

from helpline.security.actor import PermissionDenied
from helpline.services.bulletins import BulletinError
from helpline.services.emergency import declare
from helpline.services.records import ValidationFailed

from ..i18n import t
from .base import ViewContext
from .bulletins_view import error_text


def emergency_section(ctx: ViewContext, reload: Callable[[], Awaitable[None]]) -> None:
    ui.label(t("emergency.title")).classes("text-subtitle1 q-mt-md")
    with ui.card().classes("w-full q-pa-sm gap-2").props("flat bordered").mark("emergency-form"):
        ui.label(t("emergency.hint")).classes("text-caption text-grey-7")
        region = ui.select({}, label=t("emergency.region"), with_input=True).props("dense outlined") \
            .classes("w-64").mark("emergency-region")
        title = ui.input(t("bulletins.field.title")).classes("w-full").mark("emergency-title")
        notice = ui.textarea(t("emergency.notice")).classes("w-full").mark("emergency-notice")
        ui.button(t("emergency.declare"), icon="crisis_alert", color="negative", on_click=lambda: go()) \
            .props("no-caps").mark("emergency-declare")

    async def fill() -> None:  # the regions are read off the event loop
        choices = await run.io_bound(ctx.platform.bulletins.choices, ctx.language)
        region.set_options((choices or {}).get("region", {}))

    ui.timer(0, fill, once=True)

    async def go() -> None:
        if not region.value:
            ui.notify(t("emergency.choose_region"), type="warning")
            return
        try:
            made = await run.io_bound(lambda: declare(ctx.platform, ctx.actor, str(region.value), title.value or "",
                                                      notice.value or ""))
        except (BulletinError, ValidationFailed, PermissionDenied) as exc:
            ui.notify(error_text(exc), type="negative")
            return
        if made is None:
            return
        ui.notify(t("emergency.declared"), type="positive")
        form = next((s.name for s in ctx.platform.metadata.screens.values()
                     if s.view == "form" and s.entity == "work_order"), None)
        if form:
            ctx.open("record", form, record_id=made.work_order_id)
        await reload()
