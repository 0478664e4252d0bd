"""The reports page (``/page/reports``): choose a report, fill its inputs, see the table and the chart, drill down
from a row to the calls behind it, export to Excel, schedule it daily or weekly. Everything it computes is in
:mod:`helpline.services.reports` and :mod:`helpline.services.report_schedules`."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from nicegui import run, ui

from helpline.data.base import centre_today
from helpline.metadata.kinds.report import Report
from helpline.security.actor import PermissionDenied
from helpline.services.report_schedules import add_schedule
from helpline.services.reports import (
    PERCENT,
    ReportInputError,
    ReportResult,
    dimension_texts,
    drill_calls,
    report_xlsx,
    run_report,
)

from ..i18n import label, t
from .base import ViewContext
from .list_view import XLSX


def shown(measure: str, value: Any) -> str:
    """A measure as the table shows it (per cent, seconds, counts; yes/no for ``met``)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("reports.yes") if value else t("reports.no")
    if measure in PERCENT:
        return f"{value * 100:.1f}%"
    return f"{value:g}" if isinstance(value, float) else str(value)


def dimension_text(texts: dict[str, dict[str, Any]], dimension: str, value: Any) -> str:
    """A dimension's value as shown: a tier by its label in the user's language, others as they come."""
    found = texts.get(dimension, {}).get(str(value))
    return label(found, str(value)) if found is not None else str(value)


def chart_options(report: Report, result: ReportResult, texts: dict[str, dict[str, Any]] | None = None
                  ) -> dict[str, Any] | None:
    """ECharts options: the first dimension on the x axis, a second as series, the chart's measure."""
    if report.chart is None or report.chart.type == "none" or not result.rows or not report.dimensions:
        return None
    if texts:  # the chart shows the labels
        result = replace(result, rows=[{k: dimension_text(texts, k, v) if k in texts else v for k, v in r.items()}
                                       for r in result.rows])
    measure = report.chart.measure or report.measures[0]
    x_dim = report.dimensions[0]
    xs = list(dict.fromkeys(str(r[x_dim]) for r in result.rows))
    series_dim = report.dimensions[1] if len(report.dimensions) > 1 else None
    groups = list(dict.fromkeys(str(r[series_dim]) for r in result.rows)) if series_dim else [measure]
    scale = 100 if measure in PERCENT else 1
    kind = {"stacked_bar": "bar"}.get(report.chart.type, report.chart.type)
    if kind == "pie":
        return {"tooltip": {}, "series": [{"type": "pie", "data": [
            {"name": str(r[x_dim]), "value": (r[measure] or 0) * scale} for r in result.rows]}]}
    series = []
    for g in groups:
        values = {str(r[x_dim]): r[measure] for r in result.rows if not series_dim or str(r[series_dim]) == g}
        series.append({"name": g, "type": kind, "data": [None if values.get(x) is None else values[x] * scale
                                                        for x in xs],
                       **({"stack": "all"} if report.chart.type == "stacked_bar" else {})})
    return {"tooltip": {"trigger": "axis"}, "legend": {}, "xAxis": {"type": "category", "data": xs},
            "yAxis": {"type": "value"}, "series": series}


def reports_view(ctx: ViewContext) -> None:
    reports = {n: r for n, r in sorted(ctx.platform.metadata.objects.get("report", {}).items())
               if isinstance(r, Report)}
    ui.label(t("reports.title")).classes("text-h6")
    if not reports:
        ui.label(t("reports.none")).classes("text-grey-7")
        return
    yesterday = centre_today() - timedelta(days=1)
    state: dict[str, Any] = {"page": 1, "values": {}}
    with ui.row().classes("items-end gap-2 wrap"):
        choice = ui.select({n: label(r.title, n) for n, r in reports.items()}, label=t("reports.report"),
                           value=next(iter(reports))).props("dense").classes("w-64").mark("report-choice")
        since = ui.input(t("query.from"), value=yesterday.isoformat()).props("dense type=date stack-label") \
            .mark("report-from")
        until = ui.input(t("query.to"), value=yesterday.isoformat()).props("dense type=date stack-label") \
            .mark("report-to")
        extra = ui.row().classes("items-end gap-2")
        ui.button(t("reports.run"), icon="play_arrow", on_click=lambda: load(1)).mark("report-run")
        ui.button(t("list.export"), icon="download", on_click=lambda: export()).props("outline").mark("report-export")
        every = ui.select({"daily": t("reports.daily"), "weekly": t("reports.weekly")}, value="weekly",
                          label=t("reports.every")).props("dense").classes("w-28").mark("report-every")
        ui.button(t("reports.schedule"), icon="schedule_send", on_click=lambda: schedule()).props("outline") \
            .mark("report-schedule")
    inputs: dict[str, Any] = {}
    message = ui.label("").classes("text-grey-8").mark("report-message")
    chart_box = ui.column().classes("w-full").mark("report-chart")
    table_box = ui.column().classes("w-full").mark("report-table")
    drill_box = ui.column().classes("w-full").mark("report-drill")

    def build_inputs() -> None:
        extra.clear()
        inputs.clear()
        with extra:
            for inp in reports[choice.value].inputs:
                if inp.dimension == "day" and inp.op == "between":
                    continue
                inputs[inp.name] = ui.input(label(inp.label, inp.name)).props("dense clearable").classes("w-32") \
                    .mark(f"report-input-{inp.name}")

    choice.on_value_change(lambda _: build_inputs())
    build_inputs()

    def values() -> dict[str, Any]:
        report = reports[choice.value]
        out: dict[str, Any] = {}
        period = next((i.name for i in report.inputs if i.dimension == "day" and i.op == "between"), "period")
        out[period] = [since.value, until.value]
        for name, field in inputs.items():
            text = (field.value or "").strip()
            inp = report.input(name)
            if text and inp is not None:
                out[name] = [p.strip() for p in text.split(",") if p.strip()] if inp.op == "in" else text
        return out

    async def load(page: int) -> None:
        report = reports[choice.value]
        state["values"] = wanted = values()
        try:
            result = await run.io_bound(run_report, ctx.platform.metadata, ctx.actor, report.name, wanted, page=page)
        except ReportInputError as exc:
            message.text = "; ".join(exc.errors.values())
            return
        if result is None:  # the server is stopping
            return
        state["page"] = result.page
        show(report, result)

    def show(report: Report, result: ReportResult) -> None:
        notes = [t("reports.rows", count=result.total_rows, start=result.start.isoformat(), end=result.end.isoformat())]
        if "reports.paged" in result.messages:
            notes.append(t("reports.paged", page=result.page, size=result.page_size))
        if "reports.nothing" in result.messages:
            notes = [t("reports.nothing")]
        message.text = " ".join(notes)
        chart_box.clear()
        texts = {d: dimension_texts(ctx.platform.metadata, d) for d in result.dimensions}
        texts = {d: found for d, found in texts.items() if found}
        options = chart_options(report, result, texts)
        if options is not None:
            with chart_box:
                ui.echart(options).classes("w-full h-72")
        table_box.clear()
        drill_box.clear()
        names = [*result.dimensions, *result.measures]
        columns = [{"name": n, "field": n, "label": t(f"reports.m.{n}"), "align": "left"} for n in names]
        rows = [{**{d: dimension_text(texts, d, r[d]) for d in result.dimensions},
                 **{m: shown(m, r[m]) for m in result.measures},
                 "_key": i} for i, r in enumerate(result.rows)]
        if result.totals:
            rows.append({**{d: t("reports.total") if i == 0 else "" for i, d in enumerate(result.dimensions)},
                         **{m: shown(m, result.totals.get(m)) for m in result.measures}, "_key": -1})
        with table_box:
            table = ui.table(columns=columns, rows=rows, row_key="_key").classes("w-full cursor-pointer") \
                .props("flat dense bordered").mark("report-rows")
            if report.source == "calls":
                table.on("rowClick", lambda e: drill(report, result.rows[e.args[1]["_key"]]
                                                     if e.args[1]["_key"] >= 0 else {}))
            if "reports.paged" in result.messages:
                with ui.row():
                    ui.button(t("reports.previous"), on_click=lambda: load(state["page"] - 1)).props("flat") \
                        .mark("report-prev")
                    ui.button(t("reports.next"), on_click=lambda: load(state["page"] + 1)).props("flat") \
                        .mark("report-next")

    async def drill(report: Report, row: dict[str, Any]) -> None:
        keys = {d: row[d] for d in report.dimensions if d in row}
        calls = await run.io_bound(drill_calls, ctx.platform.metadata, ctx.actor, report.name, state["values"], keys)
        if calls is None:
            return
        drill_box.clear()
        with drill_box:
            ui.label(t("reports.drill", count=len(calls))).classes("text-subtitle1").mark("report-drill-title")
            cols = ["id", "started_at", "caller_number", "tier", "queue", "agent", "routed", "wait_s", "talk_s"]
            ui.table(columns=[{"name": c, "field": c, "label": t(f"reports.call.{c}"), "align": "left"} for c in cols],
                     rows=[{c: (str(r[c])[:19] if c == "started_at" else r[c]) for c in cols} for r in calls],
                     row_key="id").classes("w-full").props("flat dense bordered").mark("report-drill-rows")

    async def export() -> None:
        report = reports[choice.value]
        wanted = values()
        try:
            result = await run.io_bound(run_report, ctx.platform.metadata, ctx.actor, report.name, wanted,
                                        page_size=1_000_000)
        except ReportInputError as exc:
            message.text = "; ".join(exc.errors.values())
            return
        if result is None:
            return
        headers = {n: t(f"reports.m.{n}") for n in [*result.dimensions, *result.measures]}
        texts = {d: {code: label(text, code) for code, text in dimension_texts(ctx.platform.metadata, d).items()}
                 for d in result.dimensions}
        data = await run.io_bound(report_xlsx, result, label(report.title, report.name), headers,
                                  {d: found for d, found in texts.items() if found}, t("reports.total"))
        if data is None:
            return
        ui.download.content(data, f"{report.name}-{result.start}-{result.end}.xlsx", media_type=XLSX)

    async def schedule() -> None:
        report = reports[choice.value]
        fixed = {k: v for k, v in values().items() if report.input(k) and report.input(k).dimension != "day"}  # type: ignore[union-attr]
        try:
            await run.io_bound(add_schedule, ctx.platform, ctx.actor, report.name, every.value,
                               [ctx.actor.username], fixed)
        except (ValueError, PermissionDenied) as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify(t("reports.scheduled", every=t(f"reports.{every.value}")), type="positive")
