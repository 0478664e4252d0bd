"""The bulletins page (``/page/bulletins``, every signed-in user): the bulletins sent to the user and valid now,
must-read ones not yet acknowledged first, each opened (a read receipt) or acknowledged; a search over them
through the one text search. With ``bulletins.publish``: the publishing form (roles, departments, regions,
validity window, must-read) and every bulletin with its receipts — who read, who acknowledged, who has not read.
Everything is decided by ``platform.bulletins`` (``helpline/services/bulletins.py``); this page only shows it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nicegui import run, ui

from helpline.data.query import MAX_SEARCH_LENGTH
from helpline.security.actor import PermissionDenied
from helpline.services.bulletins import PUBLISH, Bulletin, BulletinError
from helpline.services.notices.texts import word
from helpline.services.records import ValidationFailed
from helpline.services.search import SearchInputError

from ..i18n import t
from .base import ViewContext


def when(value: datetime | None) -> str:
    """A stored (UTC) time in the centre's time zone, or empty."""
    return word({"utc": value.isoformat()}, "en") if value is not None else ""


def error_text(exc: Exception) -> str:
    """A refusal of the bulletin or note services in the user's words."""
    key = getattr(exc, "key", None)
    if key:
        params = dict(getattr(exc, "params", {}) or {})
        if "kind" in params:
            params["kind"] = t(f"bulletins.kind.{params['kind']}")
        return t(key, **params)
    if isinstance(exc, ValidationFailed):
        return "; ".join(f"{t('bulletins.field.' + k) if k != '*' else ''}: {t(e.key, **e.params)}"
                         for k, e in exc.errors.items())
    if isinstance(exc, PermissionDenied):
        return t("errors.forbidden")
    return str(exc)


def bulletin_card(b: Bulletin, on_ack: Any = None, on_open: Any = None) -> None:
    """One bulletin: title (must-read marked), time, text; an acknowledge button while it is pending."""
    classes = "w-full q-pa-sm bulletin" + (" bulletin-pending" if b.pending else "")
    with ui.card().classes(classes).props("flat bordered").mark(f"bulletin-{b.id}"):
        with ui.row().classes("w-full items-center gap-2"):
            if b.must_read:
                ui.badge(t("bulletins.must_read"), color="negative")
            ui.label(b.title).classes("text-subtitle1 text-weight-bold" if b.read_at is None else "text-subtitle1")
            ui.space()
            ui.label(f"{when(b.starts_at)} · {b.author}").classes("text-caption text-grey-7")
        body = ui.label(b.body).classes("whitespace-pre-wrap")
        if on_open is not None and b.read_at is None and not b.must_read:
            body.on("click", lambda: on_open(b.id))
        with ui.row().classes("items-center gap-2"):
            if b.pending and on_ack is not None:
                ui.button(t("bulletins.acknowledge"), icon="task_alt", color="negative",
                          on_click=lambda: on_ack(b.id)).props("dense no-caps").mark("bulletin-ack")
            elif b.acknowledged_at is not None:
                ui.label(t("bulletins.acknowledged_at", time=when(b.acknowledged_at))).classes("text-caption")
            elif on_open is not None and b.read_at is None:
                ui.button(t("bulletins.mark_read"), icon="done", on_click=lambda: on_open(b.id)) \
                    .props("dense flat no-caps").mark("bulletin-read")


def bulletins_view(ctx: ViewContext) -> None:
    service = ctx.platform.bulletins
    ui.label(t("bulletins.title")).classes("text-h6")
    with ui.row().classes("items-center gap-2"):
        query = ui.input(t("bulletins.search")).props(f"dense outlined clearable maxlength={MAX_SEARCH_LENGTH}") \
            .classes("w-72") \
            .mark("bulletins-search")
        ui.button(t("app.search"), icon="search", on_click=lambda: load()).props("dense")
    mine = ui.column().classes("w-full gap-2").mark("bulletins-mine")

    async def load() -> None:
        text = (query.value or "").strip()
        try:
            found = await run.io_bound(service.bulletins_for, ctx.actor)
            if text:
                hits = await run.io_bound(service.search, ctx.actor, text, limit=50)
                order = [h.id for h in hits or []]
                found = sorted((b for b in found or [] if b.id in order), key=lambda b: order.index(b.id))
        except SearchInputError:
            ui.notify(t("app.search_too_long", max=MAX_SEARCH_LENGTH), type="warning")
            return
        mine.clear()
        with mine:
            if not found:
                ui.label(t("bulletins.none")).classes("text-grey-7").mark("bulletins-none")
            for b in found or []:
                bulletin_card(b, on_ack=acknowledge, on_open=opened)

    async def acknowledge(bulletin_id: int) -> None:
        await receipt(service.acknowledge, bulletin_id)
        ui.notify(t("bulletins.acknowledged"), type="positive")

    async def opened(bulletin_id: int) -> None:
        await receipt(service.open, bulletin_id)

    async def receipt(function: Any, bulletin_id: int) -> None:
        try:
            await run.io_bound(function, ctx.actor, bulletin_id)
        except BulletinError as exc:
            ui.notify(error_text(exc), type="negative")
        await load()

    query.on("keydown.enter", load)
    ui.timer(0, load, once=True)
    if ctx.actor.has(PUBLISH):
        ui.separator().classes("q-my-md")
        publish_section(ctx, load)
        if ctx.actor.has("supervisor"):
            from .emergency_view import emergency_section

            emergency_section(ctx, load)


def publish_section(ctx: ViewContext, reload: Any) -> None:
    """The publishing form and the list of every bulletin with its receipts (``bulletins.publish``)."""
    service = ctx.platform.bulletins
    options: dict[str, dict[str, str]] = {}
    ui.label(t("bulletins.publish.title")).classes("text-subtitle1")
    with ui.card().classes("w-full q-pa-sm gap-2").props("flat bordered").mark("bulletin-form"):
        title = ui.input(t("bulletins.field.title")).classes("w-full").mark("bulletin-title")
        body = ui.textarea(t("bulletins.field.body")).classes("w-full").mark("bulletin-body")
        with ui.row().classes("w-full gap-2"):
            pickers = {kind: ui.select({}, multiple=True, label=t(f"bulletins.kind.{kind}"),
                                       with_input=True).props("dense outlined use-chips").classes("w-64")
                       .mark(f"bulletin-{kind}s") for kind in ("role", "department", "region")}
        with ui.row().classes("items-center gap-2"):
            starts = ui.input(t("bulletins.field.starts_at"), placeholder="YYYY-MM-DD HH:MM").props("dense") \
                .mark("bulletin-starts")
            ends = ui.input(t("bulletins.field.ends_at"), placeholder="YYYY-MM-DD HH:MM").props("dense") \
                .mark("bulletin-ends")
            must = ui.checkbox(t("bulletins.must_read")).mark("bulletin-must-read")
            ui.button(t("bulletins.publish.go"), icon="campaign", on_click=lambda: publish()) \
                .props("no-caps").mark("bulletin-publish")
    table = ui.table(columns=[{"name": k, "field": k, "label": t(f"bulletins.col.{k}"), "align": "left"}
                              for k in ("title", "must_read", "starts_at", "ends_at", "audience", "read")],
                     rows=[], row_key="id", selection="single").classes("w-full") \
        .props("flat dense bordered wrap-cells").mark("bulletins-published")
    with ui.row().classes("gap-2"):
        ui.button(t("bulletins.receipts"), icon="fact_check", on_click=lambda: receipts()).props("dense") \
            .mark("bulletin-receipts")
        ui.button(t("bulletins.withdraw"), icon="event_busy", on_click=lambda: withdraw()).props("dense flat") \
            .mark("bulletin-withdraw")

    def moment(text: str) -> datetime | None:
        """A time typed as YYYY-MM-DD HH:MM in the centre's time zone, stored in UTC."""
        from helpline.data.base import from_centre

        text = (text or "").strip()
        return from_centre(datetime.fromisoformat(text)) if text else None

    async def load_published() -> None:
        if not options:  # the choices read the regions: off the event loop
            options.update(await run.io_bound(service.choices, ctx.language) or {})
            for kind, picker in pickers.items():
                picker.set_options(options.get(kind, {}))
        found = await run.io_bound(service.published, ctx.actor)
        figures = await run.io_bound(service.statistics, ctx.actor) or {}

        def read(b: Bulletin) -> str:
            reach, seen, acknowledged = figures.get(b.id, (0, 0, 0))
            return t("bulletins.col.read_of", read=seen, audience=reach) + (
                " · " + t("bulletins.col.acknowledged", count=acknowledged) if b.must_read else "")

        table.rows = [{"id": b.id, "title": b.title, "must_read": "✓" if b.must_read else "",
                       "starts_at": when(b.starts_at), "ends_at": when(b.ends_at),
                       "audience": ", ".join(options.get(k, {}).get(v, v) for k, v in b.targets), "read": read(b)}
                      for b in found or []]
        table.update()

    async def publish() -> None:
        try:
            window = (moment(starts.value), moment(ends.value))
        except ValueError:
            ui.notify(t("bulletins.error.time"), type="negative")
            return
        try:
            await run.io_bound(lambda: service.publish(
                ctx.actor, title.value or "", body.value or "", must_read=bool(must.value),
                roles=list(pickers["role"].value or []), departments=list(pickers["department"].value or []),
                regions=list(pickers["region"].value or []), starts_at=window[0], ends_at=window[1]))
        except (BulletinError, ValidationFailed, PermissionDenied) as exc:
            ui.notify(error_text(exc), type="negative")
            return
        ui.notify(t("bulletins.published"), type="positive")
        title.value = body.value = ""
        await load_published()
        await reload()

    async def withdraw() -> None:
        if not table.selected:
            ui.notify(t("bulletins.choose"), type="warning")
            return
        try:
            await run.io_bound(service.withdraw, ctx.actor, int(table.selected[0]["id"]))
        except (BulletinError, PermissionDenied) as exc:
            ui.notify(error_text(exc), type="negative")
            return
        ui.notify(t("bulletins.withdrawn"), type="positive")
        await load_published()
        await reload()

    async def receipts() -> None:
        if not table.selected:
            ui.notify(t("bulletins.choose"), type="warning")
            return
        row = table.selected[0]
        found = await run.io_bound(service.receipts, ctx.actor, int(row["id"]))
        if found is None:  # the client went away
            return
        with ui.dialog() as dialog, ui.card().classes("w-[36rem]").mark("bulletin-receipts-dialog"):
            ui.label(row["title"]).classes("text-h6")
            ui.label(t("bulletins.receipt.counts", audience=len(found.audience), read=len(found.read),
                       unread=len(found.unread))).mark("receipt-counts")
            rows = [{"user": u, "read_at": when(r), "acknowledged_at": when(a)} for u, r, a in found.read]
            ui.table(columns=[{"name": k, "field": k, "label": t(f"bulletins.receipt.{k}"), "align": "left"}
                              for k in ("user", "read_at", "acknowledged_at")], rows=rows, row_key="user") \
                .classes("w-full").props("flat dense bordered").mark("receipt-read")
            ui.label(t("bulletins.receipt.unread")).classes("text-subtitle2")
            ui.label(", ".join(found.unread) or t("bulletins.receipt.nobody")).mark("receipt-unread")
            ui.button(t("app.close"), on_click=dialog.close).props("flat")
        dialog.open()

    ui.timer(0, load_published, once=True)
