"""The performance page (``/page/performance``, permission ``supervisor``): the monthly agent scorecard with overall
and team ranks, exported to Excel (:mod:`telephony.workforce.performance`, docs/staff.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from nicegui import run, ui

from helpline.data.base import centre_today
from helpline.security.actor import PermissionDenied
from telephony.workforce import performance

from ..i18n import t
from .base import ViewContext


def performance_view(ctx: ViewContext) -> None:
    ui.label(t("perf.title")).classes("text-h6")
    state: dict[str, Any] = {"rows": []}
    with ui.row().classes("items-end gap-2"):
        month = ui.input(t("perf.month"), value=centre_today().strftime("%Y-%m")) \
            .props("dense type=month stack-label").mark("perf-month")
        ui.button(t("app.search"), icon="search", on_click=lambda: load()).mark("perf-load")
        ui.button(t("perf.export"), icon="download", on_click=lambda: export()).props("flat").mark("perf-export")
    columns = [{"name": c, "field": c, "label": t(f"perf.{c}"), "align": "left"} for c in performance.COLUMNS]
    table = ui.table(columns=columns, rows=[], row_key="username").props("flat dense bordered").classes("w-full") \
        .mark("perf-table")

    def chosen() -> date:
        return date.fromisoformat(f"{month.value}-01")

    async def load() -> None:
        try:
            rows = await run.io_bound(performance.monthly, ctx.platform, ctx.actor, chosen()) or []
        except (PermissionDenied, LookupError, ValueError) as exc:
            ui.notify(str(exc), type="negative")
            return
        state["rows"] = rows
        table.rows = [{**r, "adherence": "" if r["adherence"] is None else f"{r['adherence']:.1%}",
                       "qa": "" if r["qa"] is None else r["qa"], "aht_s": "" if r["aht_s"] is None else r["aht_s"]}
                      for r in rows]
        table.update()

    def export() -> None:
        ui.download(performance.workbook(state["rows"], chosen()), f"scorecard-{month.value}.xlsx")

    ui.timer(0, load, once=True)
