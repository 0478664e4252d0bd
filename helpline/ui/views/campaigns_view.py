"""The campaigns page (``/page/campaigns``, permission ``campaigns.manage``): start a campaign on its list (a file
for an import that reads one), the runs with their live monitor (progress, numbers per state, contact rate,
attempts per outcome, agents, abandoned calls; pause, resume, stop), the questionnaire's results per question as
charts with the Excel export, and the do-not-call list's import. Everything is read and checked by
:mod:`helpline.services.campaigns`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from nicegui import events, run, ui

from helpline.data.base import to_centre
from helpline.security.actor import PermissionDenied
from helpline.services.campaigns import CampaignError, CampaignService, ListError, results, results_workbook

from ..i18n import t
from .base import ViewContext
from .desk_campaign import markers_as_classes

STATUSES = ("ready", "dialling", "done", "gave_up", "dnc")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def chart_options(entry: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """An echarts bar chart of one question's answers counted per value."""
    keys = list(entry["counts"])
    return {"grid": {"left": 40, "right": 10, "top": 10, "bottom": 30},
            "xAxis": {"type": "category", "data": [labels.get(k, k) for k in keys]},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [{"type": "bar", "data": [entry["counts"][k] for k in keys]}]}


async def _io(function: Any, *args: Any) -> Any:
    """A blocking service call off the event loop (None only while the app shuts down)."""
    return await run.io_bound(function, *args)


def _upload_path(data: bytes, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="hl_campaign_"))
    path = folder / ("".join(c if c.isalnum() or c in "._-" else "_" for c in Path(name).name) or "list.csv")
    path.write_bytes(data)
    return path


def campaigns_view(ctx: ViewContext) -> None:
    ctx.actor.require_permission("campaigns.manage")
    service = CampaignService(ctx.platform)
    language = ctx.language
    state: dict[str, Any] = {"file": None, "run": None}
    ui.label(t("page.campaigns")).classes("text-h6")

    # -- start ----------------------------------------------------------------------------------------
    names = {c.name: c.display_name(language) for c in service.campaigns()}
    with ui.row().classes("items-end gap-2"):
        chosen = ui.select(names, value=next(iter(names), None), label=t("campaigns.page.campaign")) \
            .classes("w-64").mark("campaigns-choose")

        async def got_file(e: events.UploadEventArguments) -> None:
            data, name = await e.file.read(), e.file.name
            state["file"] = await _io(_upload_path, data, name)

        ui.upload(label=t("campaigns.page.list_file"), auto_upload=True, on_upload=got_file) \
            .props("dense flat accept=.csv,.xlsx").classes("w-64").mark("campaigns-file")
        ui.button(t("campaigns.page.start"), icon="play_arrow", on_click=lambda: start()).mark("campaigns-start")
    started = ui.label("").classes("text-grey-8").mark("campaigns-started")
    markers_as_classes(chosen.parent_slot.parent if chosen.parent_slot else chosen)

    # -- runs and the monitor ---------------------------------------------------------------------------
    columns = [{"name": k, "field": k, "label": t(f"campaigns.page.col.{k}"), "align": "left"}
               for k in ("id", "campaign", "status", "loaded", "created_by", "created_at")]
    table = ui.table(columns=columns, rows=[], row_key="id", selection="single").classes("w-full") \
        .props("flat dense bordered").mark("campaigns-runs")
    monitor = ui.column().classes("w-full gap-1").mark("campaigns-monitor")
    stats = ui.column().classes("w-full gap-2").mark("campaigns-stats")

    # -- do-not-call ------------------------------------------------------------------------------------
    ui.label(t("campaigns.page.dnc")).classes("text-subtitle1 q-mt-md")
    dnc_result = ui.label("").classes("text-grey-8").mark("campaigns-dnc-result")

    async def got_dnc(e: events.UploadEventArguments) -> None:
        data, name = await e.file.read(), e.file.name
        path = await _io(_upload_path, data, name)
        try:
            counts = await _io(service.import_dnc, ctx.actor, path)
        except (CampaignError, PermissionDenied) as exc:
            ui.notify(str(exc) or t("errors.forbidden"), type="negative")
            return
        dnc_result.text = t("campaigns.page.dnc_result", **counts)

    ui.upload(label=t("campaigns.page.dnc_file"), auto_upload=True, on_upload=got_dnc) \
        .props("dense flat accept=.csv,.xlsx").classes("w-64").mark("campaigns-dnc-file")

    async def load() -> None:
        runs = await _io(service.runs) or []
        table.rows = [{"id": r["id"], "campaign": names.get(r["campaign"], r["campaign"]),
                       "status": t(f"campaigns.page.status.{r['status']}"),
                       "loaded": (r["counts"] or {}).get("loaded", ""), "created_by": r["created_by"],
                       "created_at": to_centre(r["created_at"]).isoformat(sep=" ", timespec="minutes")} for r in runs]
        table.update()
        if state["run"] is None and runs:
            state["run"] = runs[0]["id"]
        await show()

    async def start() -> None:
        if not chosen.value:
            return
        try:
            run_id, counts = await _io(service.start, ctx.actor, chosen.value, state["file"])
        except (CampaignError, ListError) as exc:
            ui.notify(str(exc), type="negative")
            return
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        state["run"] = run_id
        started.text = t("campaigns.page.loaded", **{k: v for k, v in counts.as_dict().items() if k != "problems"})
        await load()

    async def act(what: str) -> None:
        run_id = state["run"]
        if run_id is None:
            return
        function = {"pause": service.pause, "resume": service.resume, "stop": service.stop}[what]
        try:
            await _io(function, ctx.actor, run_id)
        except (CampaignError, PermissionDenied) as exc:
            ui.notify(str(exc) or t("errors.forbidden"), type="negative")
        await load()

    async def show() -> None:
        run_id = state["run"]
        if run_id is None:
            return
        figures = await _io(service.monitor, run_id)
        answers = await _io(results, ctx.platform, figures["campaign"], run_id)
        monitor.clear()
        with monitor:
            ui.label(t("campaigns.page.monitor", id=run_id, campaign=names.get(figures["campaign"], ""),
                       status=t(f"campaigns.page.status.{figures['status']}"))).classes("text-subtitle1")
            ui.linear_progress(value=round(figures["progress"], 3), show_value=False).props("size=12px") \
                .mark("campaigns-progress")
            ui.label(t("campaigns.page.figures", done=round(figures["progress"] * 100), numbers=figures["numbers"],
                       rate=round(figures["contact_rate"] * 100), abandoned=figures["abandoned"],
                       agents=", ".join(figures["agents"]) or "—")).mark("campaigns-figures")
            ui.label(" · ".join(f"{t('campaigns.page.state.' + k)} {figures['statuses'].get(k, 0)}"
                                for k in STATUSES)).classes("text-grey-8")
            ui.label(" · ".join(f"{t('campaigns.page.outcome.' + k)} {n}" for k, n in
                                sorted(figures["outcomes"].items()))).classes("text-grey-8") \
                .mark("campaigns-outcomes")
            with ui.row().classes("gap-2"):
                ui.button(t("campaigns.page.pause"), icon="pause", on_click=lambda: act("pause")).props("dense flat")
                ui.button(t("campaigns.page.resume"), icon="play_arrow", on_click=lambda: act("resume")) \
                    .props("dense flat")
                ui.button(t("campaigns.page.stop"), icon="stop", color="negative", on_click=lambda: act("stop")) \
                    .props("dense flat")
                ui.button(t("campaigns.page.excel"), icon="download", on_click=lambda: export(figures["campaign"])) \
                    .props("dense flat").mark("campaigns-excel")
        stats.clear()
        campaign = service.campaign(figures["campaign"])
        with stats, ui.row().classes("w-full gap-4"):
            for q in campaign.questions:
                entry = answers[q.name]
                with ui.card().classes("w-80 q-pa-sm").props("flat bordered"):
                    ui.label(f"{q.label.get(language)} ({entry['answered']})").classes("text-subtitle2")
                    if "counts" in entry:
                        labels = {c.code: c.label.get(language) if c.label else c.code for c in q.choices}
                        labels.update({"yes": t("campaigns.yes"), "no": t("campaigns.no")})
                        ui.echart(chart_options(entry, labels)).classes("w-full h-48").mark(f"campaigns-chart-{q.name}")
                    elif "mean" in entry:
                        ui.label(t("campaigns.page.mean", mean=entry["mean"] if entry["mean"] is not None else "—"))
                    else:
                        for text in entry["last"]:
                            ui.label(text).classes("text-caption")
        markers_as_classes(stats)

    async def export(name: str) -> None:
        try:
            data = await _io(results_workbook, ctx.platform, ctx.actor, name, state["run"], language)
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        ui.download.content(data, f"{name}.xlsx", media_type=XLSX)

    def selected(_: Any) -> None:
        if table.selected:
            state["run"] = int(table.selected[0]["id"])
            ui.timer(0, show, once=True)

    table.on("selection", selected)
    ui.timer(0, load, once=True)
    ui.timer(5.0, show)
