"""The agent desktop's must-read bulletins: a strip above the work area listing the must-read bulletins the agent
has not acknowledged, each with its text and an acknowledge button. The desk service refuses ready while one is
pending (``MustReadFirst``, ``telephony/desk/service.py``); the desktop then reloads this strip, which is also
loaded when the desktop starts and after each acknowledgement. The study state opens the bulletins page too
(added to the knowledge panel's ``STUDY_PAGES``, after the knowledge base).
"""

from __future__ import annotations

from collections.abc import Callable

from nicegui import run, ui

from helpline.services.bulletins import BulletinError

from .base import ViewContext
from .bulletins_view import bulletin_card, error_text
from .desk_knowledge import STUDY_PAGES

if "bulletins" not in STUDY_PAGES:
    STUDY_PAGES.append("bulletins")  # the study state shows the bulletins beside the knowledge base


class MustReadStrip:
    def __init__(self, ctx: ViewContext, words: Callable[..., str]) -> None:
        self.ctx, self.t = ctx, words
        self.box = ui.column().classes("w-full gap-1 desk-must-read").mark("desk-must-read")
        self.box.set_visibility(False)
        ui.timer(0, self.load, once=True)

    async def load(self) -> None:
        pending = await run.io_bound(self.ctx.platform.bulletins.pending_must_read, self.ctx.actor)
        if self.box.is_deleted:
            return
        self.box.clear()
        with self.box:
            if pending:
                ui.label(self.t("bulletins.desk.pending", count=len(pending))).classes("text-negative text-weight-bold")
            for b in pending or []:
                bulletin_card(b, on_ack=self.acknowledge)
        self.box.set_visibility(bool(pending))

    async def acknowledge(self, bulletin_id: int) -> None:
        try:
            await run.io_bound(self.ctx.platform.bulletins.acknowledge, self.ctx.actor, bulletin_id)
        except BulletinError as exc:
            ui.notify(error_text(exc), type="negative")
        await self.load()
