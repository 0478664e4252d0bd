"""The History tab of a designer: every revision of the object (who, when, why), a readable diff between
any two of them, and roll back to any revision (as a new revision, audited) after a confirmation that names
the objects still referring to what the rollback removes and offers to roll them back together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import run, ui

from helpline.data.migrate import DestructiveChangeRefused
from helpline.diagnostics import ProblemsError
from helpline.security.actor import PermissionDenied
from helpline.services.workflow.engine import StatesStillHeld

from ...i18n import t

if TYPE_CHECKING:
    from .frame import DesignerFrame

COLUMNS = ("id", "at", "author", "origin", "comment")


class HistoryPanel:
    def __init__(self, frame: DesignerFrame) -> None:
        self.frame = frame
        columns = [{"name": k, "field": k, "label": t(f"designer.history.{k}"), "align": "left"} for k in COLUMNS]
        self.table = ui.table(columns=columns, rows=[], row_key="id", selection="single",
                              pagination={"rowsPerPage": 10}).classes("w-full").props("flat dense") \
            .mark("designer-history")
        with ui.row().classes("items-end gap-2"):
            self.old = ui.select({}, label=t("designer.history.from")).props("dense").classes("w-40") \
                .mark("designer-diff-from")
            self.new = ui.select({}, label=t("designer.history.to")).props("dense").classes("w-40") \
                .mark("designer-diff-to")
            ui.button(t("designer.history.compare"), icon="difference", on_click=self.compare) \
                .props("outline dense").mark("designer-diff")
            ui.button(t("designer.history.rollback"), icon="history", on_click=self.roll_back) \
                .props("outline dense").mark("designer-rollback")
        self.diff = ui.code("", language="diff").classes("w-full").mark("designer-diff-text")
        ui.timer(0, self.refresh, once=True)

    async def refresh(self) -> None:
        store, kind, name = self.frame.ctx.platform.store, self.frame.kind, self.frame.name
        revisions = await run.io_bound(store.history, kind, name) or []
        rows: list[dict[str, Any]] = [
            {"id": r.id, "at": r.created_at.isoformat(sep=" ", timespec="seconds") if r.created_at else "",
             "author": r.author, "origin": r.origin, "comment": r.comment or ("(removed)" if r.content is None else "")}
            for r in revisions]
        self.table.rows = rows
        self.table.update()
        options = {r["id"]: f"{r['id']} · {r['author']}" for r in rows}
        self.old.set_options(options, value=rows[1]["id"] if len(rows) > 1 else None)
        self.new.set_options(options, value=rows[0]["id"] if rows else None)

    async def compare(self) -> None:
        if self.old.value is None or self.new.value is None:
            ui.notify(t("designer.history.choose_two"), type="warning")
            return
        text = await run.io_bound(self.frame.ctx.platform.store.diff, int(self.old.value), int(self.new.value))
        self.diff.content = text or t("designer.history.same")

    async def roll_back(self) -> None:
        """Ask first: what the rollback does, which objects still refer to what it removes and the revision
        each would be rolled back to together; then roll back (all together) or not at all."""
        if not self.table.selected:
            ui.notify(t("designer.history.choose_revision"), type="warning")
            return
        chosen = int(self.table.selected[0]["id"])
        frame = self.frame
        try:
            plan = await run.io_bound(frame.service.plan_rollback, frame.ctx.actor, frame.kind, frame.name, chosen)
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        except ValueError as exc:
            ui.notify(str(exc), type="negative")
            return
        assert plan is not None
        with ui.dialog() as dialog, ui.card().classes("min-w-[36rem] max-w-[60rem]").mark("designer-rollback-confirm"):
            ui.label(t("designer.history.confirm_title", kind=t(f"designer.kind.{frame.kind}"), name=frame.name,
                       revision=chosen)) \
                .classes("text-h6")
            ui.label(t("designer.history.confirm_text"))
            if plan.referrers:
                ui.label(t("designer.history.referrers")).classes("text-subtitle2")
                for ref in plan.referrers:
                    fate = t("designer.history.referrer_back", revision=ref.revision) if ref.revision is not None \
                        else t("designer.history.referrer_stuck")
                    with ui.column().classes("gap-0 pl-2").mark("designer-rollback-referrer"):
                        ui.label(f"{t(f'designer.kind.{ref.kind}')} · {ref.name}: {fate}").classes("font-medium")
                        for problem in ref.problems:
                            ui.label(f"{problem.id} {problem.message}").classes("text-caption text-negative")
            if plan.blocking:
                ui.label(t("designer.history.blocked")).classes("text-subtitle2 text-negative")
                for problem in plan.blocking:
                    ui.label(f"{problem.id} {problem.message}").classes("text-caption text-negative")

            async def confirm() -> None:
                dialog.close()
                await self._do_roll_back(chosen, plan.together)

            with ui.row().classes("gap-2"):
                label = t("designer.history.confirm_together", count=len(plan.together) + 1) if plan.together \
                    else t("designer.history.confirm")
                button = ui.button(label, icon="history", on_click=confirm).mark("designer-rollback-ok")
                if not plan.possible:
                    button.disable()
                ui.button(t("app.cancel"), on_click=dialog.close).props("flat").mark("designer-rollback-cancel")
        dialog.open()

    async def _do_roll_back(self, chosen: int, together: list[tuple[str, str, int]]) -> None:
        frame = self.frame
        try:
            revision = await run.io_bound(frame.service.rollback, frame.ctx.actor, frame.kind, frame.name, chosen,
                                          together)
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        except (ProblemsError, DestructiveChangeRefused, StatesStillHeld, ValueError) as exc:
            ui.notify(str(exc) if not isinstance(exc, ProblemsError) else
                      "; ".join(f"{p.id} {p.message}" for p in exc.problems), type="negative", multi_line=True)
            return
        ui.notify(t("designer.history.rolled_back", old=chosen, revision=revision), type="positive")
        await frame.reload()
