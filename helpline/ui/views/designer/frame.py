"""The frame around every designer: one object's draft, live checking, publish, YAML and history.

:class:`DesignerFrame` opens the author's draft of an object (else the live revision) and shows the kind's
form (:data:`.editor.EDITORS`) in a "Design" tab, the object's YAML in a "YAML" tab (editable, for anything
the form does not cover) and its revisions in a "History" tab (:mod:`.history`). Each edit saves the draft
on a worker thread and checks the live set with all the author's drafts applied; problems show beside the
field that causes them (:meth:`DesignerFrame.error_slot`) and in a list with the ids ``run.py check``
prints. Publish makes revisions of all the author's drafts with a comment; a conflict (someone published
the object meanwhile) shows both differences and lets the author keep the draft on top or drop it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import yaml
from nicegui import run, ui

from helpline.data.migrate import DestructiveChangeRefused
from helpline.diagnostics import Problem, ProblemsError
from helpline.metadata.metaset import MetadataSet
from helpline.metadata.yamlpos import Path, dump, load_with_positions
from helpline.security.actor import PermissionDenied
from helpline.services.designer.drafts import Draftable, DraftService
from helpline.services.designer.locate import ProblemIndex
from helpline.services.metadata_store import RevisionConflict
from helpline.services.workflow.engine import StatesStillHeld

from ...i18n import t
from ..base import ViewContext
from .editor import EDITORS, Editor
from .history import HistoryPanel

T = TypeVar("T")


async def io(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on a worker thread (NiceGUI's ``run.io_bound`` answers None only while shutting down)."""
    result = await run.io_bound(fn, *args)
    if result is None:
        raise RuntimeError("the server is shutting down")
    return result


def problem_row(p: Problem, *, location: bool = False) -> None:
    """One problem: id, (location,) message and hint."""
    colour = "text-negative" if p.severity == "error" else "text-warning"
    with ui.row().classes("gap-2 no-wrap items-baseline hl-designer-problem"):
        ui.label(p.id).classes(f"font-mono text-weight-bold {colour}")
        if location:
            ui.label(p.location).classes("font-mono text-caption text-grey-8")
        ui.label(p.message).classes(colour)
    if p.hint:
        ui.label(p.hint).classes("text-caption text-grey-7 q-ml-lg")


class DesignerFrame:
    """See the module docstring. ``on_published`` is called after a publish or discard (the page
    refreshes its object lists)."""

    def __init__(self, ctx: ViewContext, kind: str, name: str, *,
                 on_saved: Callable[[], Any] | None = None) -> None:
        self.ctx = ctx
        self.service = DraftService(ctx.platform)
        self.kind, self.name = kind, name
        self.on_saved = on_saved
        self.draftable: Draftable = self.service.open(ctx.actor, kind, name)
        self.data: dict[str, Any] | None = self.draftable.data
        self.problems = ProblemIndex("", [])
        self.elsewhere: list[Problem] = []
        self._slots: list[tuple[Path, bool, ui.column]] = []
        self.editor: Editor | None = None
        self._save_lock = asyncio.Lock()
        """One save or check at a time, in the order asked: run side by side, an older check could finish last
        and show the problems of a draft already edited away (nothing would check again). That holds for every
        check, not only a save's: a refused publish checks again while the author edits on."""
        with ui.column().classes("w-full gap-2 hl-designer-frame"):
            with ui.row().classes("w-full items-center gap-2"):
                ui.label(f"{t(f'designer.kind.{kind}')} · {name}").classes("text-h6").mark("designer-title")
                self.status = ui.label("").classes("text-caption text-grey-8").mark("designer-status")
                self.draft_badge = ui.badge(t("designer.draft"), color="orange").mark("designer-draft")
                ui.space()
            # the problems card wraps below the editor when the two do not fit side by side (1366 px wide)
            with ui.row().classes("w-full gap-3 items-start"):
                with ui.column().classes("grow basis-0 min-w-[36rem]"):
                    with ui.tabs().props("dense align=left no-caps").classes("w-full") as tabs:
                        design_tab = ui.tab("design", t("designer.tab.design")).mark("designer-tab-design")
                        yaml_tab = ui.tab("yaml", t("designer.tab.yaml")).mark("designer-tab-yaml")
                        history_tab = ui.tab("history", t("designer.tab.history")).mark("designer-tab-history")
                    with ui.tab_panels(tabs, value=design_tab).classes("w-full"):
                        with ui.tab_panel(design_tab):
                            self.form = ui.column().classes("w-full gap-2")
                        with ui.tab_panel(yaml_tab):
                            self.build_yaml()
                        with ui.tab_panel(history_tab):
                            self.history = HistoryPanel(self)
                with ui.card().classes("w-96 shrink-0").props("flat bordered"):
                    self.build_side()
        self.rerender()
        self.show_status()
        ui.timer(0, self.recheck, once=True)

    # ------------------------------------------------------------------------------------ layout
    def build_yaml(self) -> None:
        ui.label(t("designer.yaml.help")).classes("text-caption text-grey-8")
        self.yaml = ui.codemirror(self.draftable.text or dump(self.data or {}), language="YAML",
                                  line_wrapping=True).classes("w-full h-96 border").mark("designer-yaml")
        ui.button(t("designer.yaml.apply"), icon="check", on_click=self.apply_yaml).props("outline dense") \
            .mark("designer-yaml-apply")

    def build_side(self) -> None:
        ui.label(t("designer.problems")).classes("text-subtitle1")
        self.problem_list = ui.column().classes("w-full gap-0").mark("designer-problems")
        ui.separator()
        self.drafts_label = ui.label("").classes("text-caption").mark("designer-drafts")
        self.comment = ui.input(t("designer.comment")).classes("w-full").mark("designer-comment")
        with ui.row().classes("gap-2"):
            ui.button(t("designer.publish"), icon="publish", on_click=self.publish).mark("designer-publish")
            ui.button(t("designer.discard"), icon="delete_sweep", on_click=self.discard).props("flat") \
                .mark("designer-discard")

    def rerender(self) -> None:
        """Rebuild the kind's form from ``self.data`` (after structural changes)."""
        self._slots = []
        self.form.clear()
        with self.form:
            editor_class = EDITORS.get(self.kind)
            if self.data is None:
                ui.label(t("designer.removed" if self.draftable.removed else "designer.missing")) \
                    .classes("text-grey-7")
            elif editor_class is None:
                ui.label(t("designer.yaml_only")).classes("text-grey-7")
            else:
                self.editor = editor_class(self)
                self.editor.render()
        self.fill_slots()

    def error_slot(self, *path: str | int, exact: bool = False) -> ui.column:
        """A place in the current container that lists the problems about the value at ``path`` (and, unless
        ``exact``, inside it); refreshed after every check."""
        slot = ui.column().classes("gap-0 hl-designer-field-errors")
        self._slots.append((tuple(path), exact, slot))
        self._fill(slot, tuple(path), exact)
        return slot

    def _fill(self, slot: ui.column, path: Path, exact: bool) -> None:
        slot.clear()
        found = self.problems.exactly(*path) if exact else self.problems.at(*path)
        with slot:
            for p in found:
                ui.label(f"{p.id} {p.message}").classes(
                    "text-caption " + ("text-negative" if p.severity == "error" else "text-warning")) \
                    .mark(f"designer-error-{p.id}")

    def fill_slots(self) -> None:
        for path, exact, slot in self._slots:
            if not slot.is_deleted:
                self._fill(slot, path, exact)

    def show_status(self) -> None:
        d = self.draftable
        if d.is_draft:
            self.status.text = t("designer.status.draft", base=d.base_revision or "-")
        elif d.base_revision is not None:
            self.status.text = t("designer.status.live", revision=d.base_revision)
        else:
            self.status.text = t("designer.status.new")
        self.draft_badge.set_visibility(d.is_draft)

    def show_problems(self) -> None:
        self.problem_list.clear()
        with self.problem_list:
            if not len(self.problems) and not self.elsewhere:
                ui.label(t("designer.no_problems")).classes("text-positive").mark("designer-ok")
            for _, p in self.problems.items:
                problem_row(p, location=True)
            if self.elsewhere:
                ui.label(t("designer.problems_elsewhere")).classes("text-caption text-grey-8 q-mt-sm")
                for p in self.elsewhere:
                    problem_row(p, location=True)
        self.fill_slots()

    # ------------------------------------------------------------------------------------ drafts
    async def changed(self) -> list[Problem]:
        """Save ``self.data`` as the author's draft and check it; returns the problems of this object.
        Runs in the frame's own context: the widget that called it may be rebuilt meanwhile."""
        with self.form:
            return await self._save(self.data)

    async def _save(self, content: dict[str, Any] | str | None) -> list[Problem]:
        async with self._save_lock:
            return await self._save_now(content)

    async def _save_now(self, content: dict[str, Any] | str | None) -> list[Problem]:
        actor, kind, name = self.ctx.actor, self.kind, self.name
        base = self.draftable.base_revision
        try:
            await run.io_bound(lambda: self.service.save(actor, kind, name, content, base, check=False))
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return []
        self.draftable = await io(self.service.open, actor, kind, name)
        if isinstance(content, str):
            self.data = self.draftable.data
        else:
            self.yaml.value = self.draftable.text
        self.show_status()
        await self._recheck_now()
        if self.on_saved:
            self.on_saved()
        return [p for _, p in self.problems.items]

    async def recheck(self) -> None:
        """Check the draft again and show its problems (after any save still running)."""
        async with self._save_lock:
            await self._recheck_now()

    async def _recheck_now(self) -> None:
        index, elsewhere = await io(self.service.problems_of, self.ctx.actor, self.kind, self.name)
        self.problems, self.elsewhere = index, elsewhere
        self.show_problems()
        count = await run.io_bound(self.service.count, self.ctx.actor) or 0
        self.drafts_label.text = t("designer.drafts_count", count=count)

    async def apply_yaml(self) -> None:
        """Take the YAML tab's text as the draft (a syntax error is reported and the draft kept)."""
        text = self.yaml.value or ""
        try:
            data = load_with_positions(text).data
        except yaml.YAMLError as exc:
            ui.notify(t("designer.yaml.invalid", error=str(exc).splitlines()[0]), type="negative")
            return
        if not isinstance(data, dict):
            ui.notify(t("designer.yaml.not_mapping"), type="negative")
            return
        await self._save(text)
        self.rerender()

    def preview(self) -> tuple[MetadataSet, list[Problem]]:
        """The metadata with the author's drafts applied (call on a worker thread)."""
        return self.service.preview(self.ctx.actor)

    async def reload(self) -> None:
        self.draftable = await io(self.service.open, self.ctx.actor, self.kind, self.name)
        self.data = self.draftable.data
        self.yaml.value = self.draftable.text
        self.show_status()
        self.rerender()
        await self.recheck()
        await self.history.refresh()
        if self.on_saved:
            self.on_saved()

    # ------------------------------------------------------------------------------------ publish
    async def publish(self) -> None:
        comment = (self.comment.value or "").strip()
        if not comment:
            ui.notify(t("designer.comment_needed"), type="warning")
            return
        actor = self.ctx.actor
        try:
            revisions = await run.io_bound(self.service.publish, actor, comment)
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        except RevisionConflict as exc:
            await self.show_conflict(exc)
            return
        except DestructiveChangeRefused as exc:
            ui.notify(str(exc), type="negative", multi_line=True, close_button=True)
            return
        except StatesStillHeld as exc:  # a workflow draft drops states records are in: say where they go
            from .workflow_held import show_held

            await show_held(self, exc)
            return
        except ProblemsError as exc:
            ui.notify("; ".join(f"{p.id} {p.message}" for p in exc.problems), type="negative", multi_line=True)
            await self.recheck()
            return
        if not revisions:
            ui.notify(t("designer.nothing_to_publish"), type="info")
            return
        self.comment.value = ""
        ui.notify(t("designer.published", revisions=", ".join(map(str, revisions))), type="positive")
        await self.reload()

    async def show_conflict(self, exc: RevisionConflict) -> None:
        mine = await run.io_bound(self.service.conflict_diff, self.ctx.actor, exc.kind, exc.name)
        with ui.dialog() as dialog, ui.card().classes("min-w-[48rem]").mark("designer-conflict"):
            ui.label(t("designer.conflict.title", kind=exc.kind, name=exc.name)).classes("text-h6")
            ui.label(str(exc)).classes("text-negative")
            ui.label(t("designer.conflict.theirs")).classes("text-subtitle2")
            ui.code(exc.diff or "-", language="diff").classes("w-full")
            ui.label(t("designer.conflict.mine")).classes("text-subtitle2")
            ui.code(mine or "-", language="diff").classes("w-full")

            async def keep_mine() -> None:
                await run.io_bound(self.service.rebase, self.ctx.actor, exc.kind, exc.name)
                dialog.close()
                ui.notify(t("designer.conflict.kept"), type="info")
                await self.reload()

            async def drop_mine() -> None:
                await run.io_bound(self.service.discard, self.ctx.actor, exc.kind, exc.name)
                dialog.close()
                await self.reload()

            with ui.row().classes("gap-2"):
                ui.button(t("designer.conflict.keep"), on_click=keep_mine).mark("designer-conflict-keep")
                ui.button(t("designer.conflict.drop"), on_click=drop_mine).props("outline") \
                    .mark("designer-conflict-drop")
                ui.button(t("app.close"), on_click=dialog.close).props("flat")
        dialog.open()

    async def discard(self) -> None:
        """Ask first (unpublished changes are lost), then drop the author's draft of this object."""
        with ui.dialog() as dialog, ui.card().mark("designer-discard-confirm"):
            ui.label(t("designer.discard_confirm", kind=t(f"designer.kind.{self.kind}"), name=self.name))

            async def confirm() -> None:
                dialog.close()
                async with self._save_lock:  # saves of earlier edits first:
                    await run.io_bound(self.service.discard, self.ctx.actor, self.kind, self.name)  # none after it
                ui.notify(t("designer.discarded"), type="info")
                await self.reload()

            with ui.row().classes("gap-2"):
                ui.button(t("designer.discard"), icon="delete_sweep", on_click=confirm).props("color=negative") \
                    .mark("designer-discard-ok")
                ui.button(t("app.cancel"), on_click=dialog.close).props("flat").mark("designer-discard-cancel")
        dialog.open()
