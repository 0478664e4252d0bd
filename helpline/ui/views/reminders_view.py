"""The reminder campaigns page (``/page/reminders``, permission ``campaigns.manage``): load a list of customers
as an agentless reminder campaign (refused rows shown with the reason), start, pause and "dial now", and see
each campaign's customers per state, its attempts with their outcomes and the unreached for agents to call.
Everything is decided by ``helpline.services.reminders`` and dialled by ``telephony.outbound.reminders``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import run, ui

from helpline.security.actor import PermissionDenied
from helpline.services import reminders
from telephony.outbound.reminders import dial_now

from ..i18n import t
from .base import ViewContext


def _states(summary: dict[str, Any]) -> str:
    return ", ".join(f"{t('reminders.outcome.' + k)} {v}" for k, v in sorted(summary.get("targets", {}).items()))


def _columns(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "field": n, "label": t(f"reminders.col.{n}"), "align": "left"} for n in names]


def reminders_view(ctx: ViewContext) -> None:
    ctx.actor.require_permission(reminders.PERMISSION)
    actor = ctx.actor
    ui.label(t("reminders.title")).classes("text-h6")
    with ui.expansion(t("reminders.new"), icon="add", value=True).classes("w-full").mark("reminders-new"):
        with ui.row().classes("items-end gap-2"):
            name = ui.input(t("reminders.name")).classes("reminders-name").mark("reminders-name")
            window = ui.input(t("reminders.window"), value="08:00-21:00").props("dense") \
                .classes("reminders-window").mark("reminders-window")
            retry = ui.number(t("reminders.retry_days"), value=3, min=0, max=60, format="%d").props("dense")
            attempts = ui.number(t("reminders.max_attempts"), value=3, min=1, max=20, format="%d").props("dense")
        listing = ui.textarea(t("reminders.list")).classes("w-full reminders-list").props("rows=6") \
            .mark("reminders-list")
        ui.button(t("reminders.create"), icon="upload", on_click=lambda: create()).classes("reminders-create") \
            .mark("reminders-create")
        rejected = ui.column().classes("gap-0").mark("reminders-rejected")
    table = ui.table(columns=_columns("id", "name", "status", "total", "states"), rows=[], row_key="id",
                     selection="single").classes("w-full").props("flat dense bordered wrap-cells") \
        .mark("reminders-table")
    with ui.row().classes("items-center gap-2"):
        ui.button(t("reminders.start"), icon="play_arrow", on_click=lambda: act(reminders.start)) \
            .props("dense").classes("reminders-start").mark("reminders-start")
        ui.button(t("reminders.dial_now"), icon="phone_forwarded", on_click=lambda: dial()) \
            .props("dense").classes("reminders-dial").mark("reminders-dial")
        ui.button(t("reminders.pause"), icon="pause", on_click=lambda: act(reminders.pause)).props("dense flat")
        ui.button(t("reminders.refresh"), icon="refresh", on_click=lambda: load()).props("dense flat")
    ui.label(t("reminders.outcomes")).classes("text-subtitle2 q-mt-md")
    outcomes = ui.table(columns=_columns("started", "phone", "outcome", "detail"), rows=[], row_key="id") \
        .classes("w-full").props("flat dense bordered wrap-cells").mark("reminders-outcomes")
    with ui.row().classes("items-center gap-2 q-mt-md"):
        ui.label(t("reminders.escalated")).classes("text-subtitle2")
        ui.button(t("reminders.export"), icon="download", on_click=lambda: export()).props("dense flat") \
            .mark("reminders-export")
    escalated = ui.table(columns=_columns("phone", "name", "amount", "attempts", "outcome"), rows=[],
                         row_key="phone").classes("w-full").props("flat dense bordered").mark("reminders-escalated")

    def chosen() -> int | None:
        return int(table.selected[0]["id"]) if table.selected else None

    async def load() -> None:
        found = await run.io_bound(reminders.list_campaigns, actor) or []
        table.rows = [{"id": c["id"], "name": c["name"], "status": t(f"reminders.status.{c['status']}"),
                       "total": c["summary"]["total"], "states": _states(c["summary"])} for c in found]
        if table.selected:
            table.selected = [r for r in table.rows if r["id"] == table.selected[0]["id"]]
        elif table.rows:
            table.selected = [table.rows[0]]
        table.update()
        await show()

    async def show() -> None:
        campaign = chosen()
        rows = (await run.io_bound(reminders.outcomes, actor, campaign) or []) if campaign else []
        outcomes.rows = [{"id": r["id"], "started": f"{r['started_at']:%Y-%m-%d %H:%M:%S}", "phone": r["phone"],
                          "outcome": t(f"reminders.outcome.{r['outcome']}"), "detail": r["detail"] or ""}
                         for r in rows]
        outcomes.update()
        unreached = (await run.io_bound(reminders.escalations, actor, campaign) or []) if campaign else []
        escalated.rows = [{**r, "outcome": t(f"reminders.outcome.{r['last_outcome']}") if r["last_outcome"] else ""}
                          for r in unreached]
        escalated.update()

    async def create() -> None:
        rows = reminders.parse_list(listing.value or "")
        try:
            campaign = await run.io_bound(
                lambda: reminders.create_campaign(actor, name.value or "", rows, window=window.value or "",
                                                  retry_days=int(retry.value or 0),
                                                  max_attempts=int(attempts.value or 1)))
        except (reminders.ReminderError, PermissionDenied) as exc:
            ui.notify(str(exc), type="negative")
            return
        if campaign is None:
            return
        made = await run.io_bound(reminders.campaign, campaign)
        refused = (made or {}).get("rejected") or []
        rejected.clear()
        with rejected:
            for r in refused:
                ui.label(t("reminders.rejected", row=r["row"], phone=r["phone"], reason=r["reason"])) \
                    .classes("text-negative text-caption")
        ui.notify(t("reminders.created", id=campaign, count=len(rows) - len(refused), rejected=len(refused)),
                  type="positive")
        table.selected = [{"id": campaign}]
        await load()

    async def act(action: Callable[..., None]) -> None:
        campaign = chosen()
        if campaign is None:
            ui.notify(t("reminders.choose"), type="warning")
            return
        try:
            await run.io_bound(action, actor, campaign)
        except (reminders.ReminderError, PermissionDenied) as exc:
            ui.notify(str(exc), type="negative")
        await load()

    async def dial() -> None:
        campaign = chosen()
        if campaign is None:
            ui.notify(t("reminders.choose"), type="warning")
            return
        try:
            counts = await run.io_bound(dial_now, ctx.platform, actor, campaign)
        except (reminders.ReminderError, PermissionDenied) as exc:
            ui.notify(str(exc), type="negative")
            return
        if counts is not None:
            ui.notify(t("reminders.dialled", dialled=counts["dialled"], refused=counts["refused"]), type="positive")
        await load()

    async def export() -> None:
        campaign = chosen()
        if campaign is None:
            ui.notify(t("reminders.choose"), type="warning")
            return
        try:
            data = await run.io_bound(reminders.escalations_workbook, actor, campaign)
        except (reminders.ReminderError, PermissionDenied) as exc:
            ui.notify(str(exc), type="negative")
            return
        if data is not None:
            ui.download(data, f"reminder-{campaign}-unreached.xlsx")

    table.on("selection", lambda _: show())
    ui.timer(0, load, once=True)
