"""The scheduled-jobs page (``/page/jobs``, permission ``jobs.manage``): every job of the process scheduler
with its schedule, next run and last result, the newest runs of a job, and "run now" (checked and audited
by ``helpline.services.scheduler``), and the notices that could not be sent (retry now)."""

from __future__ import annotations

import json
from typing import Any

from nicegui import run, ui

from helpline.security.actor import PermissionDenied
from helpline.services.scheduler import JobInfo, SchedulerError

from ..i18n import t
from .base import ViewContext
from .notices_view import failed_deliveries_section


def _when(value: Any) -> str:
    return value.isoformat(sep=" ", timespec="seconds") + " UTC" if value is not None else "—"


def _row(job: JobInfo) -> dict[str, Any]:
    result = job.last_error or (json.dumps(job.last_result, ensure_ascii=False, default=str)[:200]
                                if job.last_result is not None else "")
    status = t(f"jobs.status.{job.last_status}") if job.last_status else t("jobs.never")
    return {"name": job.name, "cron": job.cron, "description": job.description, "next": _when(job.next_run),
            "last": _when(job.last_started), "status": t("jobs.status.running") if job.running else status,
            "seconds": "" if job.last_seconds is None else f"{job.last_seconds:.2f}", "result": result}


def jobs_view(ctx: ViewContext) -> None:
    ctx.actor.require_permission("jobs.manage")
    ui.label(t("jobs.title")).classes("text-h6")
    scheduler = ctx.platform.scheduler
    if scheduler is None:
        ui.label(t("jobs.not_running")).classes("text-grey-7").mark("jobs-not-running")
        failed_deliveries_section(ctx)
        return
    columns = [{"name": k, "field": k, "label": t(f"jobs.col.{k}"), "align": "left"}
               for k in ("name", "cron", "next", "last", "status", "seconds", "result")]
    table = ui.table(columns=columns, rows=[], row_key="name", selection="single").classes("w-full") \
        .props("flat dense bordered wrap-cells").mark("jobs-table")
    with ui.row().classes("items-center gap-2"):
        run_button = ui.button(t("jobs.run_now"), icon="play_arrow", on_click=lambda: run_selected()) \
            .props("dense").mark("jobs-run-now")
        ui.button(t("jobs.refresh"), icon="refresh", on_click=lambda: load()).props("dense flat")
    ui.label(t("jobs.history")).classes("text-subtitle2 q-mt-md")
    history = ui.table(columns=[{"name": k, "field": k, "label": t(f"jobs.col.{k}"), "align": "left"}
                                for k in ("started", "status", "seconds", "trigger", "result")],
                       rows=[], row_key="started").classes("w-full").props("flat dense bordered wrap-cells") \
        .mark("jobs-history")

    async def load() -> None:
        table.rows = [_row(j) for j in await run.io_bound(scheduler.jobs) or []]
        table.update()
        await show_history()

    async def show_history() -> None:
        chosen = table.selected[0]["name"] if table.selected else None
        rows = (await run.io_bound(scheduler.history, chosen) or []) if chosen else []
        history.rows = [{"started": _when(r["started_at"]), "status": t(f"jobs.status.{r['status']}"),
                         "seconds": "" if r["seconds"] is None else f"{r['seconds']:.2f}", "trigger": r["trigger"],
                         "result": r["error"] or json.dumps(r["result"], ensure_ascii=False, default=str)[:200]}
                        for r in rows]
        history.update()

    async def run_selected() -> None:
        if not table.selected:
            ui.notify(t("jobs.choose"), type="warning")
            return
        name = table.selected[0]["name"]
        run_button.disable()
        try:
            done = await run.io_bound(scheduler.run_now, name, ctx.actor)
        except (PermissionDenied, SchedulerError) as exc:
            ui.notify(str(exc), type="negative")
            return
        finally:
            run_button.enable()
        if done is None:  # the client went away during the run
            return
        ui.notify(t("jobs.ran", name=name, status=t(f"jobs.status.{done.status}")),
                  type="positive" if done.status == "ok" else "warning")
        await load()

    table.on("selection", lambda _: show_history())
    ui.timer(0, load, once=True)
    failed_deliveries_section(ctx)
