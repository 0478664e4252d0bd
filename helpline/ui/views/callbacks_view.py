"""The call-back queue page (``/page/callbacks``, permission ``supervisor.callbacks``): the tasks made from IVR
call-back requests, voice messages and work orders, the most urgent first, with their due time (overdue ones
marked), attempts and outcome; filters by status, overdue, tier, queue and agent; a task's attempt history, its
voice message, and cancelling a task (with a note). Everything is read and checked by
``helpline.services.callbacks``."""

from __future__ import annotations

from typing import Any

from nicegui import run, ui

from helpline.data.base import to_centre
from helpline.security.actor import PermissionDenied
from helpline.services import callbacks as service

from ..i18n import t
from .base import ViewContext

COLUMNS = ("id", "due", "number", "customer", "tier", "queue", "source", "attempts", "status", "agent", "note")


def when(value: Any) -> str:
    return to_centre(value).isoformat(sep=" ", timespec="minutes") if value is not None else "—"


def task_row(task: dict[str, Any]) -> dict[str, Any]:
    status = t(f"callbacks.outcome.{task['outcome']}") if task["outcome"] else t(f"callbacks.status.{task['status']}")
    return {"id": task["id"], "due": when(task["due_at"]) + (f" · {t('callbacks.overdue')}" if task["overdue"] else ""),
            "number": task["number"], "customer": task["customer_name"] or "", "tier": task["tier"],
            "queue": task["queue"], "source": t(f"callbacks.source.{task['source']}"),
            "attempts": f"{task['attempts']}/{task['max_attempts']}", "status": status, "agent": task["agent"] or "",
            "note": task["note"], "overdue": task["overdue"], "recording": bool(task["recording"])}


def callbacks_view(ctx: ViewContext) -> None:
    ctx.actor.require_permission("supervisor.callbacks")
    ui.label(t("callbacks.title")).classes("text-h6")
    with ui.row().classes("items-end gap-2"):
        status = ui.select({"open": t("callbacks.status.open"), "closed": t("callbacks.status.closed"),
                            "": t("callbacks.all")}, value="open", label=t("callbacks.filter.status")) \
            .classes("w-32").mark("callbacks-status")
        overdue = ui.checkbox(t("callbacks.filter.overdue")).mark("callbacks-overdue")
        tier = ui.input(t("callbacks.filter.tier")).classes("w-28").props("dense clearable")
        queue = ui.input(t("callbacks.filter.queue")).classes("w-28").props("dense clearable")
        agent = ui.input(t("callbacks.filter.agent")).classes("w-28").props("dense clearable")
        ui.button(t("callbacks.search"), icon="search", on_click=lambda: load()).props("dense").mark("callbacks-search")
    summary = ui.label("").classes("text-grey-8").mark("callbacks-summary")
    columns = [{"name": k, "field": k, "label": t(f"callbacks.col.{k}"), "align": "left"} for k in COLUMNS]
    table = ui.table(columns=columns, rows=[], row_key="id", selection="single").classes("w-full") \
        .props("flat dense bordered wrap-cells").mark("callbacks-table")
    table.add_slot("body-cell-due", '''<q-td :props="props"><span :class="props.row.overdue ? 'text-negative
        text-weight-bold' : ''">{{ props.value }}</span></q-td>''')
    with ui.row().classes("items-center gap-2"):
        note = ui.input(t("callbacks.cancel_note")).classes("w-64").props("dense").mark("callbacks-cancel-note")
        ui.button(t("callbacks.cancel"), icon="block", on_click=lambda: cancel()).props("dense flat") \
            .mark("callbacks-cancel")
    detail = ui.column().classes("w-full gap-1").mark("callbacks-detail")

    async def load() -> None:
        try:
            tasks = await run.io_bound(lambda: service.list_tasks(
                ctx.actor, status=status.value or None, overdue=bool(overdue.value), tier=tier.value or None,
                queue=queue.value or None, agent=agent.value or None))
            late = await run.io_bound(service.overdue_count)
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        table.rows = [task_row(x) for x in tasks or []]
        table.update()
        summary.text = t("callbacks.summary", count=len(table.rows), overdue=sum((late or {}).values()))

    async def show() -> None:
        detail.clear()
        if not table.selected:
            return
        task_id = int(table.selected[0]["id"])
        history = await run.io_bound(service.attempts, task_id) or []
        with detail:
            ui.label(t("callbacks.history", id=task_id)).classes("text-subtitle2")
            for a in history:
                outcome = t(f"callbacks.outcome.{a['outcome']}") if a["outcome"] else t("callbacks.status.working")
                ui.label(f"{when(a['started_at'])} · {a['agent']} ({a['username']}) · {outcome}"
                         + (f" · {a['note']}" if a["note"] else "")).mark("callbacks-attempt")
            if not history:
                ui.label(t("callbacks.no_attempts")).classes("text-grey-7")
            if table.selected[0].get("recording"):
                ui.audio(f"/callbacks/{task_id}/message").mark("callbacks-message")

    async def cancel() -> None:
        if not table.selected:
            ui.notify(t("callbacks.choose"), type="warning")
            return
        try:
            await run.io_bound(service.cancel, ctx.actor, int(table.selected[0]["id"]), note.value or "")
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        except service.CallbackError as exc:
            ui.notify(str(exc), type="warning")
            return
        note.value = ""
        router = ctx.platform.router
        if router is not None:  # the router lets it go now, not at the next sync
            from telephony.callbacks import CallbackQueue

            await run.io_bound(CallbackQueue(ctx.platform, router).sync)
        await load()

    table.on("selection", lambda _: show())
    ui.timer(0, load, once=True)
