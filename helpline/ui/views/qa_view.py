"""The evaluation page (``/page/qa_evaluate``, permission ``qa.evaluate``): the queue of sampled calls; for the
chosen call the recording player (seek, speed), the IVR trail and transfers as markers that seek the player, the
contact records and work orders beside it, and the scorecard to fill in. Everything it reads and stores goes
through :mod:`helpline.services.qa_desk` and :mod:`helpline.services.qa` (docs/quality.md); the player fetches
``/recordings/<call>``, which audits every listen."""

from __future__ import annotations

from typing import Any

from nicegui import run, ui

from helpline.metadata.kinds.routing import Routing
from helpline.metadata.kinds.scorecard import Scorecard
from helpline.security.actor import PermissionDenied
from helpline.services import qa, qa_desk

from ..i18n import label, t
from .base import ViewContext

SPEEDS = {0.75: "0.75×", 1.0: "1×", 1.25: "1.25×", 1.5: "1.5×", 2.0: "2×"}


def _cards(ctx: ViewContext) -> dict[str, Scorecard]:
    return {n: c for n, c in ctx.platform.metadata.objects.get("scorecard", {}).items() if isinstance(c, Scorecard)}


def qa_evaluate_view(ctx: ViewContext) -> None:
    ui.label(t("qa.title")).classes("text-h6")
    cards = _cards(ctx)
    queues = {q.name: label(q.label, q.name) for r in ctx.platform.metadata.objects.get("routing", {}).values()
              if isinstance(r, Routing) for q in r.queues}
    state: dict[str, Any] = {"call": None}
    with ui.row().classes("items-end gap-2 wrap"):
        pick = ui.select({}, label=t("qa.queue"), with_input=True).props("dense").classes("w-96").mark("qa-queue")
        card_pick = ui.select({n: label(c.label, n) for n, c in cards.items()}, label=t("qa.scorecard"),
                              value=next(iter(cards), None)).props("dense").classes("w-48").mark("qa-card")
        skipped = ui.label("").classes("text-caption text-grey-7").mark("qa-skipped")
    with ui.row().classes("w-full no-wrap items-start gap-4"):
        left = ui.column().classes("w-1/3").mark("qa-call")
        middle = ui.column().classes("w-1/4").mark("qa-records")
        right = ui.column().classes("grow").mark("qa-sheet")

    async def load_queue() -> None:
        try:
            rows: list[dict[str, Any]] = await run.io_bound(qa_desk.queue_rows, ctx.actor) or []
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        queued = [r for r in rows if r["status"] == "queued"]
        pick.options = {r["call_id"]: t("qa.queue_row", call=r["call_id"], agent=r["agent"],
                                        rule=t(f"qa.rule.{r['rule']}")) for r in queued}
        pick.update()
        skipped.text = t("qa.skipped", n=len(rows) - len(queued)) if len(rows) > len(queued) else ""
        if ctx.params.get("call") and state["call"] is None:
            pick.value = int(ctx.params["call"])

    async def open_call(call_id: int | None) -> None:
        if not call_id:
            return
        try:
            info: dict[str, Any] = await run.io_bound(qa_desk.call_context, ctx.platform, ctx.actor,
                                                      int(call_id)) or {}
        except (PermissionDenied, LookupError) as exc:
            ui.notify(str(exc), type="negative")
            return
        state["call"] = info
        show_call(info)
        show_records(info)
        show_sheet()

    def show_call(info: dict[str, Any]) -> None:
        left.clear()
        with left:
            ui.label(t("qa.call", call=info["id"], agent=info["agent"] or "",
                       queue=queues.get(info["queue"] or "", info["queue"] or ""),
                       when=info["started_at"].isoformat(sep=" ", timespec="seconds"))).classes("text-subtitle2")
            if not info["recording"]:
                ui.label(t("qa.no_recording")).classes("text-negative")
                return
            audio = ui.audio(f"/recordings/{info['id']}").classes("w-full").mark("qa-audio")

            def seek(delta: float | None = None, to: float | None = None) -> None:
                js = (f"a.currentTime = {float(to)};" if to is not None
                      else f"a.currentTime = Math.max(0, a.currentTime + {float(delta or 0)});")
                ui.run_javascript(f"const a = getElement({audio.id}).$el; {js}")

            with ui.row().classes("items-center gap-1"):
                ui.button(icon="replay_10", on_click=lambda: seek(-10)).props("flat dense").mark("qa-back")
                ui.button(icon="forward_10", on_click=lambda: seek(10)).props("flat dense").mark("qa-forward")
                speed = ui.select(SPEEDS, value=1.0, label=t("qa.speed")).props("dense").classes("w-24") \
                    .mark("qa-speed")
                speed.on_value_change(lambda e: ui.run_javascript(
                    f"getElement({audio.id}).$el.playbackRate = {float(e.value)};"))
            ui.label(t("qa.timeline")).classes("text-caption q-mt-sm")
            with ui.column().classes("gap-0").mark("qa-markers"):
                for m in info["markers"]:
                    icon = {"ivr": "account_tree", "transfer": "swap_calls"}.get(m["kind"], "call_split")
                    text = f"{m['at_s']:.0f}s · {m['label']}"
                    b = ui.button(text, icon=icon).props("flat dense no-caps align=left").classes(
                        "text-negative" if m["kind"] == "transfer" else "")
                    if m["rec_s"] is not None:
                        b.on_click(lambda _, s=m["rec_s"]: seek(to=s))
                    else:
                        b.props("disable")

    def show_records(info: dict[str, Any]) -> None:
        middle.clear()
        with middle:
            ui.label(t("qa.contacts")).classes("text-subtitle2")
            for c in info["contacts"]:
                with ui.card().classes("w-full q-pa-sm"):
                    ui.label(f"{c['serial_no']} · {c['started_at']:%H:%M}").classes("text-caption")
                    kinds = [*(c.get("consultation_types") or []), *(c.get("acceptance_types") or []),
                             *(c.get("complaint_types") or [])]
                    if kinds:
                        ui.label(", ".join(kinds))
                    if c.get("satisfaction"):
                        ui.label(f"{t('qa.satisfaction')}: {c['satisfaction']}")
                    if c.get("remarks"):
                        ui.label(str(c["remarks"])).classes("text-caption")
            if not info["contacts"]:
                ui.label(t("qa.no_contacts")).classes("text-caption")
            ui.label(t("qa.orders")).classes("text-subtitle2 q-mt-md")
            for o in info["orders"]:
                ui.label(f"{o['order_no']} · {o['title']} · {o['status'] or ''}").classes("text-caption")
            if not info["orders"]:
                ui.label(t("qa.no_orders")).classes("text-caption")

    def show_sheet() -> None:
        right.clear()
        card = cards.get(card_pick.value or "")
        if card is None or state["call"] is None:
            return
        inputs: dict[str, tuple[Any, Any, Any]] = {}
        with right:
            for section in card.sections:
                ui.label(f"{label(section.label, section.name)} ({section.weight:g}%)").classes("text-subtitle2")
                for item in section.items:
                    key = f"{section.name}.{item.name}"
                    with ui.row().classes("items-center no-wrap gap-2 w-full"):
                        flag = " ⚠" if item.fatal else ""
                        ui.label(f"{label(item.label, item.name)}{flag}").classes("w-56 text-body2")
                        options: dict[Any, str] = {i: str(i) for i in range(item.max, -1, -1)}
                        if item.na:
                            options["na"] = t("qa.na")
                        score = ui.select(options, value=item.max).props("dense").classes("w-20") \
                            .mark(f"qa-score-{key}")
                        comment = ui.input(t("qa.comment")).props("dense").classes("grow").mark(f"qa-comment-{key}")
                        inputs[key] = (item, score, comment)
            tree = ctx.platform.metadata.categories.get(card.errors or "")
            errors = ui.select({n.code: label(n.label, n.code) for n in (tree.nodes if tree else [])}, multiple=True,
                               label=t("qa.errors")).props("dense use-chips").classes("w-full").mark("qa-errors")
            summary = ui.textarea(t("qa.summary")).props("dense autogrow").classes("w-full").mark("qa-summary")
            calibration = ui.input(t("qa.calibration")).props("dense").classes("w-48").mark("qa-calibration")
            result = ui.label("").mark("qa-result")

            async def submit() -> None:
                answers = {k: ({"na": True} if s.value == "na" else {"score": s.value, "comment": c.value or ""})
                           for k, (_, s, c) in inputs.items()}
                try:
                    ev = await run.io_bound(qa.submit, ctx.platform, ctx.actor, int(state["call"]["id"]), card.name,
                                            answers, errors=list(errors.value or []), comment=summary.value or "",
                                            calibration=calibration.value or None)
                except qa.EvaluationError as exc:
                    result.text = "; ".join(exc.problems)
                    result.classes(replace="text-negative")
                    return
                except PermissionDenied:
                    ui.notify(t("errors.forbidden"), type="negative")
                    return
                result.text = t("qa.saved", id=ev)
                result.classes(replace="text-positive")
                ui.notify(t("qa.saved", id=ev), type="positive")
                await load_queue()

            ui.button(t("qa.submit"), icon="fact_check", on_click=submit).props("color=primary").mark("qa-submit")

    pick.on_value_change(lambda e: open_call(e.value))
    card_pick.on_value_change(lambda _: show_sheet())
    ui.timer(0, load_queue, once=True)
