"""The desktop's knowledge panel (docs/knowledge.md): beside the call, search as you type, pre-filled when a call
comes (and on "from the call") with the call's category or the customer's business line
(``helpline.services.knowledge.desk``); an article opens in the panel, beside the call, and a pinned article
stays there for the next calls (an unpinned one is cleared when a new call comes).

The *study* status (or not ready for study) opens the pages of :data:`STUDY_PAGES` in the work area: the
knowledge base and the bulletins (another module may append its page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from helpline.services.knowledge.desk import call_keywords

from .base import ViewContext
from .knowledge_view import Reader, Searcher

STUDY_REASON = "study"
"""The not-ready reason (``not_ready_reason`` tree) that opens the study pages."""
STUDY_PAGES: list[str] = ["knowledge", "bulletins"]
"""Pages the study state opens on the desktop, the last one in front (a hook: a module may add its page)."""


class KnowledgePanel:
    def __init__(self, ctx: ViewContext, words: Callable[..., str]) -> None:
        self.ctx, self.t = ctx, words
        self.pinned = False
        self.card = ui.card().classes("w-full q-pa-sm gap-1").props("flat bordered").mark("desk-kb")
        with self.card:
            with ui.row().classes("w-full items-center no-wrap gap-1"):
                ui.icon("menu_book")
                ui.label(self.t("knowledge.panel")).classes("text-subtitle1")
                from_call = ui.button(icon="auto_awesome", on_click=self.from_call).props("flat dense round") \
                    .classes("q-ml-auto").mark("desk-kb-from-call")
                from_call.props["title"] = self.t("knowledge.from_call")  # the browser's tooltip: no element
                self.pin = ui.button(icon="push_pin", on_click=self.toggle_pin).props("flat dense round") \
                    .mark("desk-kb-pin")
                self.pin.props["title"] = self.t("knowledge.pin")
            self.searcher = Searcher(ctx, "desk", lambda i: self.reader.show(i), marker="desk-kb")
            self.reader = Reader(ctx, "desk", marker="desk-kb")
        self.contact: Callable[[], dict[str, Any]] | None = None
        self.customer: dict[str, Any] | None = None

    def toggle_pin(self) -> None:
        self.pinned = not self.pinned
        self.pin.props(f"color={'primary' if self.pinned else 'grey'} {'unelevated' if self.pinned else 'flat'}")
        self.pin.props["title"] = self.t("knowledge.unpin" if self.pinned else "knowledge.pin")

    def call_came(self, customer: dict[str, Any] | None) -> None:
        """A new call: the search pre-filled from it; an unpinned article cleared."""
        self.customer = customer
        if not self.pinned:
            self.reader.area.clear()
            self.reader.article = None
        self.from_call()

    def from_call(self) -> None:
        contact = self.contact() if self.contact is not None else {}
        text = call_keywords(self.ctx.platform.metadata, contact or {}, self.customer, self.ctx.language)
        if text:
            self.searcher.box.value = text


def study_pages(status: str | None, reason: str | None) -> list[str]:
    """The pages the agent's status opens on the desktop: the study status, or not ready for study."""
    studying = status == "study" or (status == "not_ready" and reason == STUDY_REASON)
    return list(STUDY_PAGES) if studying else []
