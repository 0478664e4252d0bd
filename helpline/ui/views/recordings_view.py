"""The recordings page (``/page/recordings``) for quality assurance: find recorded calls by agent, day, customer
and queue, and play them. The search is :func:`helpline.services.recording_search.find_recordings`; the player
fetches ``/recordings/<call id>`` (:mod:`helpline.ui.media`), which checks ``supervisor.recordings`` and the
caller's row scope again and audits every listen."""

from __future__ import annotations

from datetime import date
from typing import Any

from nicegui import run, ui

from helpline.metadata.kinds import Routing
from helpline.security.actor import PermissionDenied
from helpline.services.recording_search import RecordingFilter, find_recordings

from ..i18n import label, t
from .base import ViewContext


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def recordings_view(ctx: ViewContext) -> None:
    ui.label(t("recordings.title")).classes("text-h6")
    routings = [r for r in ctx.platform.metadata.objects.get("routing", {}).values() if isinstance(r, Routing)]
    queues = {q.name: label(q.label, q.name) for r in routings for q in r.queues}
    with ui.row().classes("items-end gap-2 wrap"):
        agent = ui.input(t("recordings.agent")).props("dense clearable").classes("w-32").mark("rec-agent")
        since = ui.input(t("query.from")).props("dense type=date stack-label").mark("rec-since")
        until = ui.input(t("query.to")).props("dense type=date stack-label").mark("rec-until")
        customer = ui.input(t("recordings.customer_filter")).props("dense clearable").classes("w-48") \
            .mark("rec-customer")
        queue = ui.select({"": t("recordings.any_queue"), **queues}, label=t("recordings.queue"), value="") \
            .props("dense").classes("w-40").mark("rec-queue")
        ui.button(t("app.search"), icon="search", on_click=lambda: load()).mark("rec-search")
    columns = [{"name": k, "field": k, "label": t(f"recordings.{k}"), "align": "left"}
               for k in ("id", "started_at", "agent", "queue", "customer", "talk_s")]
    table = ui.table(columns=columns, rows=[], row_key="id").classes("w-full cursor-pointer") \
        .props(f'flat dense bordered no-data-label="{t("recordings.none")}"').mark("rec-table")
    player = ui.column().classes("w-full").mark("rec-player")

    def fetch() -> list[dict[str, Any]]:
        wanted = RecordingFilter(agent=agent.value or None, since=_day(since.value), until=_day(until.value),
                                 customer=customer.value or None, queue=queue.value or None)
        found = find_recordings(ctx.actor, ctx.platform, wanted)
        return [{**r, "started_at": r["started_at"].isoformat(sep=" ", timespec="seconds") if r["started_at"] else "",
                 "queue": queues.get(r["queue"] or "", r["queue"] or ""), "customer": r["customer"] or "",
                 "talk_s": f"{r['talk_s']:.0f}s" if r["talk_s"] is not None else ""} for r in found]

    async def load() -> None:
        try:
            rows = await run.io_bound(fetch)
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        table.rows = rows or []
        table.update()

    def play(event: Any) -> None:
        row = event.args[1] if isinstance(event.args, list) else event.args
        call_id = int(row["id"])
        player.clear()
        with player:
            ui.label(t("recordings.playing", call=call_id, agent=row.get("agent") or "", when=row.get("started_at")))\
                .classes("text-caption")
            ui.audio(f"/recordings/{call_id}", autoplay=True).classes("w-full").mark("rec-audio")

    table.on("row-click", play)
    ui.timer(0, load, once=True)
