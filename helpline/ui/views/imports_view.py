"""The import page (``/page/imports``, permission ``import``): choose a definition, drop a file, see the automatic
mapping with the first 20 rows as they will be stored, dry-run every row (problems by row, column and value; the
rejected rows as an xlsx with an error column), import with a progress bar (rows/s, time left) and cancel, and the
result; recent runs can be resumed or undone. A failed run's error (and each run's in the list) is worded in the
page's language, its technical detail after it. The work is :class:`helpline.services.imports.ImportService`'s."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from nicegui import events, run, ui

from helpline.security.actor import PermissionDenied
from helpline.services.imports import ImportReport, ImportService, SourceError
from helpline.services.imports.changes import ImportRefused
from helpline.services.imports.report import error_workbook
from helpline.services.imports.words import failure_text, refusal
from helpline.services.imports.words import message as worded

from ..i18n import label, t
from .base import ViewContext

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = 200_000_000


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def imports_view(ctx: ViewContext) -> None:
    ctx.actor.require_permission("import")
    service = ImportService(ctx.platform)
    language = ctx.language
    state: dict[str, Any] = {"path": None, "name": None, "report": None, "progress": None, "cancel": None}
    ui.label(t("imports.title")).classes("text-h6")
    options = {d.name: d.display_name(ctx.language) for d in service.definitions()}
    chosen = ui.select(options, value=next(iter(options), None), label=t("imports.definition")) \
        .classes("w-96").mark("imports-definition")
    ui.upload(label=t("imports.drop"), auto_upload=True, max_file_size=MAX_BYTES, on_upload=lambda e: uploaded(e)) \
        .props('flat bordered accept=".xlsx,.csv,.txt"').classes("w-96").mark("imports-upload")
    message = ui.label("").classes("text-negative").mark("imports-message")
    mapping = ui.label("").classes("text-caption").mark("imports-mapping")
    preview = ui.table(columns=[], rows=[], row_key="_row").classes("w-full") \
        .props("flat dense bordered wrap-cells").mark("imports-preview")
    with ui.row().classes("items-center gap-2"):
        dry_button = ui.button(t("imports.dry_run"), icon="fact_check", on_click=lambda: dry_run()) \
            .props("dense").mark("imports-dry-run")
        go_button = ui.button(t("imports.run"), icon="upload", on_click=lambda: start()) \
            .props("dense color=primary").mark("imports-run")
        errors_button = ui.button(t("imports.errors"), icon="download", on_click=lambda: download()) \
            .props("dense flat").mark("imports-errors")
        cancel_button = ui.button(t("imports.cancel"), icon="stop", on_click=lambda: cancel()) \
            .props("dense flat color=negative").mark("imports-cancel")
    for b in (dry_button, go_button, errors_button, cancel_button):
        b.disable()
    bar = ui.linear_progress(value=0, show_value=False).classes("w-96").mark("imports-progress")
    speed = ui.label("").classes("text-caption").mark("imports-speed")
    summary = ui.label("").mark("imports-summary")
    problems = ui.table(columns=[{"name": k, "field": k, "label": t(f"imports.col.{k}"), "align": "left"}
                                for k in ("row", "column", "value", "message", "severity")],
                        rows=[], row_key="key", pagination=20).classes("w-full") \
        .props("flat dense bordered wrap-cells").mark("imports-problems")
    ui.label(t("imports.recent")).classes("text-subtitle2 q-mt-md")
    wrapped = {"style": "white-space: normal; min-width: 20em; max-width: 40em"}  # the other columns stay one line
    runs = ui.table(columns=[{"name": k, "field": k, "label": t(f"imports.col.{k}"), "align": "left",
                              **(wrapped if k == "error" else {})}
                             for k in ("id", "definition", "file_name", "status", "inserted", "updated", "unchanged",
                                       "rejected", "started_by", "started_at", "seconds", "error")],
                    rows=[], row_key="id", selection="single").classes("w-full") \
        .props("flat dense bordered").mark("imports-runs")
    with ui.row().classes("gap-2"):
        ui.button(t("imports.resume"), icon="play_arrow", on_click=lambda: resume()).props("dense flat") \
            .mark("imports-resume")
        ui.button(t("imports.undo"), icon="undo", on_click=lambda: undo()).props("dense flat") \
            .mark("imports-undo")

    def show_problems(report: ImportReport) -> None:
        problems.rows = [{"key": i, "row": p.row, "column": p.column, "value": _cell(p.value),
                          "message": worded(p, language),
                          "severity": t(f"imports.severity.{p.severity}")}
                         for i, p in enumerate(report.problems[:2000])]
        problems.update()
        summary.text = t("imports.summary", **report.counts(), seconds=f"{report.seconds:.1f}",
                         status=t(f"imports.status.{report.status}"))
        if report.rejected_rows:
            errors_button.enable()
        else:
            errors_button.disable()

    async def load_runs() -> None:
        rows = await run.io_bound(service.runs) or []
        runs.rows = [{**{k: _cell(v) for k, v in r.items() if k != "problems"},
                      "status": t(f"imports.status.{r['status']}"), "error": failure_text(r["error"], language)}
                     for r in rows]
        runs.update()

    async def uploaded(e: events.UploadEventArguments) -> None:
        content = await e.file.read()
        state["name"] = e.file.name
        state["path"] = await run.io_bound(service.store_upload, content, e.file.name)
        await show_preview()

    async def show_preview() -> None:
        message.text = ""
        try:
            report = await run.io_bound(service.preview, ctx.actor, chosen.value, state["path"], state["name"])
        except (SourceError, ImportRefused, PermissionDenied) as exc:
            message.text = refusal(exc, language)
            ui.notify(message.text, type="negative")
            dry_button.disable()
            go_button.disable()
            return
        if report is None:
            return
        mapping.text = t("imports.mapped", mapped=", ".join(f"{h} → {f}" for f, h in report.mapping.items()
                                                           if h != f or f in report.headers),
                         ignored=", ".join(report.ignored) or "—")
        fields = [f for f in report.mapping]
        entity = ctx.platform.metadata.entities.get(service.definition(chosen.value).entity)

        def heading(f: str) -> str:
            """The file's header of a mapped column; a column the file lacks by its field's label."""
            found = entity.field(f) if entity is not None and report.mapping[f] == f else None
            return label(found.label, f) if found is not None else report.mapping[f]
        preview.columns = [{"name": "_row", "field": "_row", "label": t("imports.col.row"), "align": "left"},
                           *({"name": f, "field": f, "label": heading(f), "align": "left"} for f in fields),
                           {"name": "_problems", "field": "_problems", "label": t("imports.col.message"),
                            "align": "left"}]
        preview.rows = [{**{k: _cell(v) for k, v in r.items() if k != "_problem_list"},
                         "_problems": "; ".join(f"{p.column}: {worded(p, language)}" if p.column else
                                                worded(p, language) for p in r.get("_problem_list", []))}
                        for r in report.preview]
        preview.update()
        dry_button.enable()
        go_button.enable()

    async def dry_run() -> None:
        dry_button.disable()
        try:
            report = await run.io_bound(service.dry_run, ctx.actor, chosen.value, state["path"], state["name"])
        except (SourceError, ImportRefused, PermissionDenied) as exc:
            message.text = refusal(exc, language)
            return
        finally:
            dry_button.enable()
        if report is not None:
            state["report"] = report
            show_problems(report)

    def download() -> None:
        report = state["report"]
        if report is not None and report.rejected_rows:
            name = f"{Path(state['name'] or 'import').stem}-rejected.xlsx"
            ui.download.content(error_workbook(report, language), name, media_type=XLSX)

    def track(done: int, total: int | None, report: ImportReport) -> None:  # on the worker thread
        state["progress"] = (done, total, time.perf_counter())

    def tick() -> None:
        found = state["progress"]
        if found is None or state.get("started") is None:
            return
        done, total, now = found
        elapsed = max(now - state["started"], 1e-6)
        rate = done / elapsed
        bar.value = done / total if total else 0
        left = (total - done) / rate if total and rate else 0
        speed.text = t("imports.speed", done=f"{done:,}", total=f"{total:,}" if total else "?", rate=f"{rate:,.0f}",
                       left=f"{left:,.0f}")

    timer = ui.timer(0.3, tick)

    async def go(work: Any) -> None:
        state["cancel"] = threading.Event()
        state["started"], state["progress"] = time.perf_counter(), None
        go_button.disable()
        cancel_button.enable()
        try:
            report = await run.io_bound(work, state["cancel"])
        except (SourceError, ImportRefused, PermissionDenied) as exc:
            message.text = refusal(exc, language)
            ui.notify(message.text, type="negative")
            return
        finally:
            cancel_button.disable()
            go_button.enable()
        if report is None:
            return
        tick()
        bar.value = 1 if report.status == "done" else bar.value
        state["report"] = report
        show_problems(report)
        if report.status == "failed":
            message.text = failure_text(report.error, language)
            ui.notify(message.text, type="negative", multi_line=True)
        else:
            message.text = ""
            ui.notify(summary.text, type="positive" if report.status == "done" and not report.rejected else "warning")
        await load_runs()

    async def start() -> None:
        await go(lambda stop: service.run(ctx.actor, chosen.value, state["path"], state["name"], progress=track,
                                          cancel=stop))

    def cancel() -> None:
        if state["cancel"] is not None:
            state["cancel"].set()

    async def resume() -> None:
        if runs.selected:
            run_id = int(runs.selected[0]["id"])
            await go(lambda stop: service.resume(ctx.actor, run_id, progress=track, cancel=stop))

    async def undo() -> None:
        if not runs.selected:
            return
        try:
            n = await run.io_bound(service.undo, ctx.actor, int(runs.selected[0]["id"]))
        except (ImportRefused, PermissionDenied) as exc:
            ui.notify(refusal(exc, language), type="negative")
            return
        ui.notify(t("imports.undone", count=n), type="positive")
        await load_runs()

    chosen.on_value_change(lambda _: show_preview() if state["path"] else None)
    ui.timer(0, load_runs, once=True)
    _ = timer
