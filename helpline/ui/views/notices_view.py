"""The notices page (``/page/notices``, every signed-in user): the user's notices, newest first, worded in their
language; mark some or all read; a click opens the record a notice is about. And the failed deliveries
section of the scheduled-jobs page (administrators: what could not be sent, why, and "retry now")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import run, ui

from helpline.security.actor import PermissionDenied
from helpline.services import notices
from helpline.services.notices import centre, outbox
from helpline.services.notices.centre import NoticeView
from helpline.services.notices.texts import word

from ..i18n import catalogue, current_language, t
from .base import ViewContext


def _when(value: Any) -> str:
    return word({"utc": value.isoformat()}, "en") if value is not None else ""


def _kind(kind: str) -> str:
    """A notice kind in the user's words (its code for a kind the locale does not name)."""
    key = f"notices.kind.{kind}"
    return catalogue(current_language()).get(key) or catalogue("en").get(key) or kind


def _row(n: NoticeView) -> dict[str, Any]:
    return {"id": n.id, "created": _when(n.created_at), "title": n.title, "body": n.body,
            "read": _when(n.read_at) if n.read_at else t("notices.unread"), "unread": n.read_at is None,
            "entity": n.entity or "", "record_id": n.record_id}


def notices_view(ctx: ViewContext) -> None:
    username, language = ctx.actor.username, ctx.language
    ui.label(t("notices.title")).classes("text-h6")
    with ui.row().classes("items-center gap-2"):
        unread_only = ui.switch(t("notices.unread_only")).mark("notices-unread-only")
        ui.button(t("notices.mark_read"), icon="done", on_click=lambda: mark(selected=True)).props("dense") \
            .mark("notices-mark-read")
        ui.button(t("notices.mark_all_read"), icon="done_all", on_click=lambda: mark(selected=False)) \
            .props("dense flat").mark("notices-mark-all-read")
    columns = [{"name": k, "field": k, "label": t(f"notices.col.{k}"), "align": "left"}
               for k in ("created", "title", "body", "read")]
    table = ui.table(columns=columns, rows=[], row_key="id", selection="multiple").classes("w-full") \
        .props("flat dense bordered wrap-cells").classes("notices-table").mark("notices-table")
    table.add_slot("body-cell-title", r'''
        <q-td :props="props" :class="props.row.unread ? 'text-weight-bold' : ''">
          <a v-if="props.row.record_id" href="#" class="text-primary"
             @click.prevent="$parent.$emit('open_notice', props.row)">{{ props.row.title }}</a>
          <span v-else>{{ props.row.title }}</span>
        </q-td>''')
    empty = ui.label(t("notices.none")).classes("text-grey-7").mark("notices-none")

    async def load() -> None:
        found = await run.io_bound(notices.notices, username, language, unread_only=bool(unread_only.value))
        if found is None:
            return
        table.rows = [_row(n) for n in found]
        table.selected = [r for r in table.selected if any(r["id"] == x["id"] for x in table.rows)]
        table.update()
        empty.set_visibility(not table.rows)

    async def mark(selected: bool) -> None:
        ids = [int(r["id"]) for r in table.selected] if selected else None
        if selected and not ids:
            return
        count = await run.io_bound(notices.mark_read, username, ids)
        ui.notify(t("notices.marked", count=count or 0), type="positive")
        table.selected = []
        await load()

    async def open_notice(row: dict[str, Any]) -> None:
        if row.get("unread"):
            await run.io_bound(notices.mark_read, username, [int(row["id"])])
        form = next((s.name for s in ctx.platform.metadata.screens.values()
                     if s.view == "form" and s.entity == row.get("entity")), None)
        if form and row.get("record_id"):
            ctx.open("record", form, record_id=int(row["record_id"]))
        await load()

    table.on("open_notice", lambda e: open_notice(e.args))
    unread_only.on_value_change(lambda _: load())
    ui.timer(0, load, once=True)


def failed_deliveries_section(ctx: ViewContext) -> None:
    """Deliveries given up, with their last error and "retry now" (permission ``jobs.manage``)."""
    ui.label(t("notices.failed.title")).classes("text-subtitle2 q-mt-md")
    columns = [{"name": k, "field": k, "label": t(f"notices.failed.col.{k}"), "align": "left"}
               for k in ("id", "user", "kind", "channel", "address", "attempts", "error")]
    table = ui.table(columns=columns, rows=[], row_key="id", selection="single").classes("w-full") \
        .props("flat dense bordered wrap-cells").mark("failed-deliveries")
    empty = ui.label(t("notices.failed.none")).classes("text-grey-7")
    button = ui.button(t("notices.failed.retry"), icon="send", on_click=lambda: retry()).props("dense") \
        .mark("failed-retry")

    async def load() -> None:
        found = await run.io_bound(outbox.failed)
        table.rows = [{"id": f.id, "user": f.username, "kind": _kind(f.kind), "channel": f.channel,
                       "address": f.address, "attempts": f.attempts, "error": f.last_error} for f in found or []]
        table.update()
        empty.set_visibility(not table.rows)

    async def retry() -> None:
        if not table.selected:
            ui.notify(t("notices.failed.choose"), type="warning")
            return
        row_id = int(table.selected[0]["id"])
        button.disable()
        try:
            status = await run.io_bound(outbox.retry, ctx.actor, row_id)
        except (PermissionDenied, LookupError) as exc:
            ui.notify(str(exc), type="negative")
            return
        finally:
            button.enable()
        ui.notify(t("notices.failed.retried", id=row_id, status=t(f"notices.status.{status or 'none'}")),
                  type="positive" if status == "sent" else "warning")
        table.selected = []
        await load()

    ui.timer(0, load, once=True)


def contact_card(ctx: ViewContext, username: str | None = None, on_saved: Callable[[], Any] | None = None
                 ) -> None:
    """A card with the e-mail address and mobile number ``username``'s notices also go to (default: the
    user's own, on the profile page; an administrator's for another user on the users page)."""
    username = username or ctx.actor.username
    email, phone = centre.contact(username)
    with ui.card().props("flat bordered").classes("q-mt-md"):
        ui.label(t("notices.contact.title") if username == ctx.actor.username
                 else t("notices.contact.title_of", user=username)).classes("text-subtitle1")
        email_in = ui.input(t("notices.contact.email"), value=email).props("dense").mark("notice-email")
        phone_in = ui.input(t("notices.contact.phone"), value=phone).props("dense").mark("notice-phone")

        def save() -> None:
            try:
                centre.set_contact(username, email_in.value or "", phone_in.value or "", ctx.actor)
            except centre.ContactRejected as exc:
                ui.notify(t(exc.key), type="negative")
                return
            except (PermissionDenied, LookupError) as exc:
                ui.notify(str(exc), type="negative")
                return
            ui.notify(t("notices.contact.saved"), type="positive")
            if on_saved is not None:
                on_saved()

        ui.button(t("notices.contact.save"), on_click=save).props("dense").mark("notice-contact-save")


def contact_dialog(ctx: ViewContext, username: str) -> None:
    """The users page's dialog: where ``username``'s notices also go (permission ``users.manage``)."""
    with ui.dialog() as dialog:
        contact_card(ctx, username, on_saved=dialog.close)
    dialog.open()
