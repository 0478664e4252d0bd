"""Notes (便笺): the notes page (``/page/notes``) and the same panel in a dialog that the desktop's toolbar opens
(the notes button, key F8). The user's own notes and their teams', newest first; a search through the one text
search; a new note, personal or shared with one of the user's teams; change or delete one's own.
``platform.notes`` decides who reads what (``helpline/services/notes.py``): another user's personal note never
reaches this page.
"""

from __future__ import annotations

from typing import Any

from nicegui import run, ui

from helpline.data.query import MAX_SEARCH_LENGTH
from helpline.services.notes import Note, NoteError
from helpline.services.records import ValidationFailed
from helpline.services.search import SearchInputError

from ..i18n import label, t
from .base import ViewContext
from .bulletins_view import error_text, when


class NotesPanel:
    """Search, list, write and delete notes (on a page or in the desktop's dialog)."""

    def __init__(self, ctx: ViewContext) -> None:
        self.ctx = ctx
        self.service = ctx.platform.notes
        self.editing: int | None = None
        tree = ctx.platform.metadata.categories.get("department")
        self.team_names = {n.code: label(n.label, n.code) for n in (tree.nodes if tree else [])}
        with ui.column().classes("w-full gap-2 notes-panel").mark("notes-panel"):
            with ui.row().classes("w-full items-center gap-2"):
                self.query = ui.input(t("notes.search")) \
                    .props(f"dense outlined clearable maxlength={MAX_SEARCH_LENGTH}").classes("w-64") \
                    .mark("notes-search")
                self.query.on("keydown.enter", self.load)
                ui.button(t("app.search"), icon="search", on_click=self.load).props("dense")
                ui.button(t("notes.new"), icon="note_add", on_click=self.new).props("dense flat").mark("notes-new")
            with ui.card().classes("w-full q-pa-sm gap-1").props("flat bordered"):
                self.title = ui.input(t("notes.field.title")).classes("w-full").mark("note-title")
                self.body = ui.textarea(t("notes.field.body")).classes("w-full").props("autogrow").mark("note-body")
                with ui.row().classes("items-center gap-2"):
                    self.team = ui.select({"": t("notes.personal")}, value="", label=t("notes.field.team")) \
                        .props("dense outlined").classes("w-56").mark("note-team")
                    ui.button(t("notes.save"), icon="save", on_click=self.save).props("dense").mark("note-save")
                    self.delete_button = ui.button(t("notes.delete"), icon="delete", color="negative",
                                                   on_click=self.delete).props("dense flat").mark("note-delete")
                    self.delete_button.set_visibility(False)
            self.list = ui.column().classes("w-full gap-1").mark("notes-list")
        ui.timer(0, self.load, once=True)

    def new(self) -> None:
        self.editing = None
        self.title.value = self.body.value = ""
        self.team.value = ""
        self.delete_button.set_visibility(False)

    def edit(self, note: Note) -> None:
        self.editing = note.id if note.owner == self.ctx.actor.username else None
        self.title.value, self.body.value = note.title, note.body
        self.team.value = note.team or ""
        self.delete_button.set_visibility(self.editing is not None)

    async def load(self) -> None:
        if len(self.team.options) == 1:  # the user's teams, read off the event loop
            teams = await run.io_bound(self.service.teams, self.ctx.actor) or []
            self.team.set_options({"": t("notes.personal"), **{c: self.team_names.get(c, c) for c in teams}},
                                  value=self.team.value)
        text = (self.query.value or "").strip()
        try:
            if text:
                hits = await run.io_bound(self.service.search, self.ctx.actor, text, limit=50)
                notes = await run.io_bound(self.service.notes, self.ctx.actor)
                by_id = {n.id: n for n in notes or []}
                found = [by_id[h.id] for h in hits or [] if h.id in by_id]
            else:
                found = await run.io_bound(self.service.notes, self.ctx.actor) or []
        except SearchInputError:
            ui.notify(t("app.search_too_long", max=MAX_SEARCH_LENGTH), type="warning")
            return
        self.list.clear()
        with self.list:
            if not found:
                ui.label(t("notes.none")).classes("text-grey-7").mark("notes-none")
            for note in found:
                self.row(note)

    def row(self, note: Note) -> None:
        shared = t("notes.shared_with", team=self.team_names.get(note.team or "", note.team)) if note.team else ""
        who = "" if note.owner == self.ctx.actor.username else note.owner
        with ui.card().classes("w-full q-pa-xs cursor-pointer note").props("flat bordered").mark(f"note-{note.id}") \
                .on("click", lambda n=note: self.edit(n)):
            with ui.row().classes("w-full items-center gap-2"):
                ui.label(note.title).classes("text-weight-bold")
                ui.space()
                ui.label(" · ".join(x for x in (shared, who, when(note.updated_at)) if x)).classes("text-caption")
            if note.body:
                ui.label(note.body[:300]).classes("text-caption whitespace-pre-wrap")

    async def save(self) -> None:
        try:
            await run.io_bound(lambda: self.service.save(self.ctx.actor, self.title.value or "", self.body.value or "",
                                                         team=self.team.value or None, note_id=self.editing))
        except (NoteError, ValidationFailed) as exc:
            ui.notify(error_text(exc), type="negative")
            return
        ui.notify(t("notes.saved"), type="positive")
        self.new()
        await self.load()

    async def delete(self) -> None:
        if self.editing is None:
            return
        try:
            await run.io_bound(self.service.delete, self.ctx.actor, self.editing)
        except NoteError as exc:
            ui.notify(error_text(exc), type="negative")
            return
        self.new()
        await self.load()


def notes_view(ctx: ViewContext) -> None:
    ui.label(t("notes.title")).classes("text-h6")
    NotesPanel(ctx)


def notes_dialog(ctx: ViewContext) -> Any:
    """The notes panel in a dialog, opened at once (the desktop's notes button and its key)."""
    with ui.dialog() as dialog, ui.card().classes("w-[40rem]").mark("notes-dialog"):
        with ui.row().classes("w-full items-center"):
            ui.label(t("notes.title")).classes("text-h6")
            ui.space()
            ui.button(icon="close", on_click=dialog.close).props("flat dense")
        NotesPanel(ctx)
    dialog.on("hide", dialog.delete)
    dialog.open()
    return dialog
