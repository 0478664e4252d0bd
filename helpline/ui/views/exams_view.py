"""The exams page (``/page/exams``): an agent takes an exam in the browser against its time limit (a countdown;
the paper is submitted when it runs out, and the server refuses it once the deadline has passed) and sees its
results. Grading and the time check are :mod:`helpline.services.exams` (docs/staff.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nicegui import run, ui

from helpline.services import exams

from ..i18n import t
from .base import ViewContext


def exams_view(ctx: ViewContext) -> None:
    ui.label(t("exams.title")).classes("text-h6")
    listing = ui.column().classes("w-full").mark("exams-list")
    paper = ui.column().classes("w-full").mark("exams-paper")
    history = ui.column().classes("w-full").mark("exams-results")

    async def show_list() -> None:
        found = await run.io_bound(exams.list_exams) or []
        listing.clear()
        with listing:
            for e in found:
                with ui.row().classes("items-center gap-2"):
                    ui.label(t("exams.row", name=e["name"], n=e["questions"], minutes=e["time_limit_s"] // 60))
                    ui.button(t("exams.start"), on_click=lambda _, i=e["id"]: take(i)).props("dense") \
                        .mark(f"exams-start-{e['id']}")
        rows = await run.io_bound(exams.results, ctx.actor.username) or []
        history.clear()
        with history:
            ui.label(t("exams.results")).classes("text-subtitle1")
            for r in rows:
                score = "" if r["score"] is None else f"{r['score']:g}"
                ui.label(f"{r['exam']} · {t('exams.status.' + r['status'])} {score}").mark("exams-result")

    async def take(exam_id: int) -> None:
        sheet: dict[str, Any] = await run.io_bound(exams.start, ctx.actor, exam_id) or {}
        inputs: dict[str, Any] = {}
        paper.clear()
        with paper:
            clock = ui.label("").classes("text-subtitle1 text-negative").mark("exams-clock")
            for n, q in enumerate(sheet["questions"], start=1):
                ui.label(f"{n}. {q['text']} ({q['points']:g})").classes("text-body1 q-mt-sm")
                options = {i: o for i, o in enumerate(q["options"])}
                key = str(q["id"])
                if q["kind"] == "single":
                    inputs[key] = ui.radio(options).mark(f"exams-q-{key}")
                elif q["kind"] == "multiple":
                    inputs[key] = ui.select(options, multiple=True).props("use-chips").classes("w-96") \
                        .mark(f"exams-q-{key}")
                elif q["kind"] == "truefalse":
                    inputs[key] = ui.radio({True: t("exams.true"), False: t("exams.false")}).props("inline") \
                        .mark(f"exams-q-{key}")
                else:
                    inputs[key] = ui.textarea().classes("w-full").mark(f"exams-q-{key}")
            result = ui.label("").mark("exams-outcome")

            async def hand_in() -> None:
                timer.cancel()
                answers = {k: w.value for k, w in inputs.items() if w.value not in (None, "", [])}
                try:
                    got: dict[str, Any] = await run.io_bound(exams.submit, ctx.actor, sheet["attempt"],
                                                             answers) or {}
                except exams.ExamError as exc:
                    result.text = str(exc)
                    result.classes(replace="text-negative")
                else:
                    result.text = t("exams.status." + got["status"]) + (
                        "" if got["score"] is None else f" {got['score']:g}")
                    result.classes(replace="text-positive" if got["passed"] else "")
                submit.disable()
                await show_list()

            def tick() -> None:
                left = (sheet["deadline"] - datetime.now(UTC).replace(tzinfo=None)).total_seconds()
                clock.text = t("exams.left", time=f"{max(0, int(left)) // 60:02d}:{max(0, int(left)) % 60:02d}")
                if left <= 0:
                    timer.cancel()
                    ui.timer(0, hand_in, once=True)

            submit = ui.button(t("exams.submit"), on_click=hand_in).props("color=primary").mark("exams-submit")
            timer = ui.timer(1.0, tick)
            tick()

    ui.timer(0, show_list, once=True)
