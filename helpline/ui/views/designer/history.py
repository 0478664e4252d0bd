"""The History tab of a designer: every revision of the object (who, when, why), a readable diff between
any two of them, and roll back to any revision (as a new revision, audited)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import run, ui

from helpline.data.migrate import DestructiveChangeRefused
from helpline.diagnostics import ProblemsError
from helpline.security.actor import PermissionDenied

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
        if not self.table.selected:
            ui.notify(t("designer.history.choose_revision"), type="warning")
            return
        chosen = int(self.table.selected[0]["id"])
        frame = self.frame
        try:
            revision = await run.io_bound(frame.service.rollback, frame.ctx.actor, frame.kind, frame.name, chosen)
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        except (ProblemsError, DestructiveChangeRefused, ValueError) as exc:
            ui.notify(str(exc) if not isinstance(exc, ProblemsError) else
                      "; ".join(f"{p.id} {p.message}" for p in exc.problems), type="negative", multi_line=True)
            return
        ui.notify(t("designer.history.rolled_back", old=chosen, revision=revision), type="positive")
        await frame.reload()
