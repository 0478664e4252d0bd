"""The roster page (``/page/roster``, permission ``users.manage``): make next week's roster for a team from the
forecast, see the requirement against the schedule and the agents' shifts, publish it; decide leave requests.
Everything runs in :mod:`telephony.workforce.plan` (docs/staff.md)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from nicegui import run, ui

from helpline.data.base import centre_today
from helpline.data.database import session
from helpline.data.staff import LeaveRequest
from helpline.metadata.kinds.roster import Roster
from helpline.security.actor import PermissionDenied
from telephony.workforce import plan
from telephony.workforce.roster import RosterInfeasible

from ..i18n import label, t
from .base import ViewContext


def _next_monday(today: date | None = None) -> date:
    d = today or centre_today()
    return d + timedelta(days=7 - d.weekday())


def _leave_rows() -> list[dict[str, Any]]:
    with session():
        return [{"id": r.id, "username": r.username, "day": r.day.isoformat(), "reason": r.reason,
                 "status": r.status} for r in LeaveRequest.select().where(LeaveRequest.day >= centre_today())
                .order_by(LeaveRequest.day).limit(200)]


def roster_view(ctx: ViewContext) -> None:
    ui.label(t("roster.title")).classes("text-h6")
    rosters = {n: label(r.label, n) for n, r in ctx.platform.metadata.objects.get("roster", {}).items()
               if isinstance(r, Roster)}
    state: dict[str, Any] = {"plan": None}
    with ui.row().classes("items-end gap-2 wrap"):
        which = ui.select(rosters, value=next(iter(rosters), None), label=t("roster.roster")).props("dense") \
            .classes("w-48").mark("roster-which")
        start = ui.input(t("roster.start"), value=_next_monday().isoformat()).props("dense type=date stack-label") \
            .mark("roster-start")
        days = ui.number(t("roster.days"), value=7, min=1, max=42, step=1).props("dense").classes("w-24") \
            .mark("roster-days")
        ui.button(t("roster.make"), icon="auto_fix_high", on_click=lambda: make()).mark("roster-make")
        publish_btn = ui.button(t("roster.publish"), icon="publish", on_click=lambda: publish()) \
            .props("color=positive").mark("roster-publish")
        publish_btn.disable()
    summary = ui.column().classes("w-full gap-1").mark("roster-summary")
    grid = ui.column().classes("w-full").mark("roster-grid")

    async def make() -> None:
        try:
            first = date.fromisoformat(start.value)
        except (TypeError, ValueError):
            ui.notify(t("roster.bad_date"), type="negative")
            return
        summary.clear()
        grid.clear()
        with summary:
            ui.spinner()
        try:
            made: plan.Plan | None = await run.io_bound(plan.make_roster, ctx.platform, ctx.actor, which.value, first,
                                                 int(days.value or 7), time_limit_s=20.0)
        except RosterInfeasible as exc:
            summary.clear()
            with summary:
                ui.label(t("roster.infeasible", rules="; ".join(exc.rules))).classes("text-negative") \
                    .mark("roster-error")
            return
        except (PermissionDenied, LookupError, ValueError, TimeoutError) as exc:
            summary.clear()
            with summary:
                ui.label(str(exc)).classes("text-negative").mark("roster-error")
            return
        if made is None:
            return
        state["plan"] = made
        publish_btn.enable()
        show(made)

    def show(made: plan.Plan) -> None:
        summary.clear()
        with summary:
            ui.label(t("roster.made", status=made.status, shifts=made.shifts, under=f"{made.under_agent_hours:,.1f}",
                       over=f"{made.over_agent_hours:,.1f}", seconds=f"{made.seconds:.1f}")).mark("roster-made")
            for note in dict.fromkeys(made.notes):
                ui.label(note).classes("text-caption text-warning").mark("roster-note")
        rows = plan.run_grid(made.run)
        day_keys = [(made.start + timedelta(days=i)).isoformat() for i in range(made.days)]
        cols = [{"name": "agent", "field": "agent", "label": t("roster.agent"), "align": "left"}] + [
            {"name": d, "field": d, "label": d[5:], "align": "center"} for d in day_keys]
        need = {"agent": t("roster.required"), **{d: f"{sum(made.required[i]) / 2:g}h" for i, d in enumerate(day_keys)}}
        have = {"agent": t("roster.scheduled"), **{d: f"{rows['scheduled'].get(d, 0):g}h" for d in day_keys}}
        grid.clear()
        with grid:
            ui.table(columns=cols, rows=[need, have, *rows["agents"]], row_key="agent").props(
                "flat dense bordered separator=cell").classes("w-full").mark("roster-table")

    async def publish() -> None:
        made = state["plan"]
        if made is None:
            return
        try:
            n = await run.io_bound(plan.publish, ctx.platform, ctx.actor, made.run)
        except (PermissionDenied, LookupError) as exc:
            ui.notify(str(exc), type="negative")
            return
        publish_btn.disable()
        ui.notify(t("roster.published", shifts=n), type="positive")

    ui.label(t("roster.leave")).classes("text-subtitle1 q-mt-md")
    leave_table = ui.table(columns=[{"name": k, "field": k, "label": t(f"roster.leave_{k}"), "align": "left"}
                                    for k in ("username", "day", "reason", "status")],
                           rows=[], row_key="id", selection="single").props("flat dense bordered") \
        .classes("w-full").mark("roster-leave")

    async def decide(approve: bool) -> None:
        for row in leave_table.selected:
            await run.io_bound(plan.decide_leave, ctx.actor, int(row["id"]), approve)
        leave_table.rows = await run.io_bound(_leave_rows) or []
        leave_table.update()

    with ui.row():
        ui.button(t("roster.approve"), on_click=lambda: decide(True)).props("flat dense").mark("roster-approve")
        ui.button(t("roster.refuse"), on_click=lambda: decide(False)).props("flat dense").mark("roster-refuse")

    async def load_leave() -> None:
        leave_table.rows = await run.io_bound(_leave_rows) or []
        leave_table.update()

    ui.timer(0, load_leave, once=True)
