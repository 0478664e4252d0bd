"""The knowledge base page (``/page/knowledge``) and the article reader it shares with the desktop's panel.

Search as you type (debounced: :data:`DEBOUNCE_S` after the last key), results with the matched words marked,
the article beside them: its Markdown as sanitised HTML (``helpline.services.knowledge.markdown``), charts with
``ui.echart``, attachments, related articles and "was this helpful". Editors also see the versions with a diff
and add attachments. Everything is decided by ``platform.knowledge`` (docs/knowledge.md)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import background_tasks, events, run, ui

from helpline.data.query import MAX_SEARCH_LENGTH
from helpline.security.actor import PermissionDenied
from helpline.services.knowledge import ArticleUnavailable
from helpline.services.knowledge.attachments import AttachmentError
from helpline.services.knowledge.service import Article, ArticleHit
from helpline.services.records import RecordNotFound
from helpline.services.search import SearchInputError

from ..i18n import translate
from .base import ViewContext

DEBOUNCE_S = 0.2
"""Search as you type waits this long after the last key before it searches."""


class Searcher:
    """A search box that searches ``DEBOUNCE_S`` after the last key, and the list of hits under it."""

    def __init__(self, ctx: ViewContext, source: str, on_open: Callable[[int], Awaitable[None]],
                 marker: str = "kb") -> None:
        self.ctx, self.source, self.on_open, self.marker = ctx, source, on_open, marker
        self.pending: asyncio.Task[None] | None = None
        self.box = ui.input(placeholder=self.t("knowledge.search")) \
            .props(f"dense outlined clearable maxlength={MAX_SEARCH_LENGTH}") \
            .classes("w-full").mark(f"{marker}-search")
        self.box.on_value_change(lambda e: self.typed(e.value))
        self.results = ui.column().classes("w-full gap-1").mark(f"{marker}-results")

    def t(self, key: str, **params: Any) -> str:
        return translate(self.ctx.language, key, **params)

    def typed(self, text: str | None) -> None:
        if self.pending is not None and not self.pending.done():
            self.pending.cancel()
        self.pending = background_tasks.create(self.later(text or ""), name="knowledge search")

    async def later(self, text: str) -> None:
        await asyncio.sleep(DEBOUNCE_S)
        await self.search(text)

    async def search(self, text: str) -> None:
        self.results.clear()
        if not text.strip():
            return
        try:
            hits: list[ArticleHit] = await run.io_bound(self.ctx.platform.knowledge.search, self.ctx.actor, text,
                                                        source=self.source) or []
        except SearchInputError:
            with self.results:
                ui.label(self.t("app.search_too_long", max=MAX_SEARCH_LENGTH)).classes("text-negative") \
                    .mark(f"{self.marker}-too-long")
            return
        except PermissionDenied:
            with self.results:
                ui.label(self.t("errors.forbidden")).classes("text-negative")
            return
        with self.results:
            if not hits:
                ui.label(self.t("knowledge.no_result", text=text)).classes("text-grey-7").mark(f"{self.marker}-none")
            for hit in hits:
                with ui.column().classes("w-full gap-0 cursor-pointer q-pa-xs kb-hit") \
                        .on("click", lambda _, i=hit.id: self.on_open(i)).mark(f"{self.marker}-hit-{hit.id}"):
                    ui.label(hit.title).classes("text-body1 text-primary")
                    pieces = hit.snippets.get("body") or hit.snippets.get("keywords") or []
                    if pieces:
                        with ui.row().classes("gap-0 text-caption text-grey-8"):
                            for piece, matched in pieces:
                                ui.label(piece).classes("bg-yellow-3" if matched else "")


class Reader:
    """One article shown: content, attachments, related articles, votes (and, for editors, versions)."""

    def __init__(self, ctx: ViewContext, source: str, marker: str = "kb") -> None:
        self.ctx, self.source, self.marker = ctx, source, marker
        self.article: Article | None = None
        self.area = ui.column().classes("w-full gap-2").mark(f"{marker}-article")

    def t(self, key: str, **params: Any) -> str:
        return translate(self.ctx.language, key, **params)

    async def show(self, article_id: int) -> None:
        try:
            article: Article | None = await run.io_bound(self.ctx.platform.knowledge.open, self.ctx.actor, article_id,
                                                  source=self.source)
        except (ArticleUnavailable, RecordNotFound, PermissionDenied) as exc:
            self.area.clear()
            with self.area:
                ui.label(self.t("knowledge.unavailable", message=self.reason(exc))).classes("text-negative") \
                    .mark(f"{self.marker}-unavailable")
            return
        if article is None:
            return
        self.article = article
        self.render()

    def reason(self, exc: Exception) -> str:
        """Why an article cannot be shown, in the user's language."""
        if isinstance(exc, ArticleUnavailable) and exc.key:
            return self.t(exc.key, **exc.params)
        if isinstance(exc, PermissionDenied):
            return self.t("errors.forbidden")
        return self.t("errors.not_found")

    def render(self) -> None:
        article = self.article
        assert article is not None
        values = article.values
        self.area.clear()
        with self.area:
            ui.label(str(values.get("title") or "")).classes("text-h6").mark(f"{self.marker}-title")
            meta = [self.t("knowledge.views", n=values.get("views") or 0)]
            if values.get("valid_to"):
                meta.append(self.t("knowledge.expires", date=str(values["valid_to"])[:10]))
            if self.ctx.platform.knowledge.is_editor(self.ctx.actor):
                meta.append(self.t("knowledge.status", status=values.get("status") or ""))
            ui.label(" · ".join(meta)).classes("text-caption text-grey-7")
            for part in article.parts:
                if part.kind == "html":  # sanitised by nh3 on the server (knowledge.markdown): safe as HTML
                    ui.html(part.html, sanitize=False).classes("kb-content").mark(f"{self.marker}-content")
                elif part.kind == "chart" and part.chart is not None:
                    ui.echart(part.chart).classes("w-full h-64").mark(f"{self.marker}-chart")
                else:
                    ui.label(part.error).classes("text-negative")
            if article.attachments:
                ui.label(self.t("knowledge.attachments")).classes("text-subtitle2")
                for a in article.attachments:
                    ui.link(f"{a['name']} ({a['size']:,} B)", f"/knowledge/file/{a['id']}", new_tab=True)
            if article.related:
                ui.label(self.t("knowledge.related")).classes("text-subtitle2")
                for other, title in article.related:
                    ui.button(title, on_click=lambda _, o=other: self.show(o)).props("flat dense no-caps") \
                        .mark(f"{self.marker}-related-{other}")
            with ui.row().classes("items-center gap-2"):
                ui.label(self.t("knowledge.helpful_question"))
                for helpful, icon in ((True, "thumb_up"), (False, "thumb_down")):
                    chosen = article.my_vote is helpful
                    ui.button(self.t("knowledge.yes" if helpful else "knowledge.no"), icon=icon,
                              on_click=lambda _, h=helpful: self.vote(h)) \
                        .props(f"dense no-caps {'' if chosen else 'outline'}") \
                        .mark(f"{self.marker}-{'helpful' if helpful else 'not-helpful'}")
                self.votes = ui.label(self.t("knowledge.votes", up=values.get("helpful") or 0,
                                             down=values.get("not_helpful") or 0)).classes("text-caption") \
                    .mark(f"{self.marker}-votes")
            if self.ctx.platform.knowledge.is_editor(self.ctx.actor):
                self.editor_tools(article)

    async def vote(self, helpful: bool) -> None:
        if self.article is None:
            return
        try:
            counts = await run.io_bound(self.ctx.platform.knowledge.vote, self.ctx.actor, self.article.id, helpful,
                                        source=self.source)
        except (ArticleUnavailable, RecordNotFound, PermissionDenied) as exc:
            ui.notify(self.t("knowledge.unavailable", message=self.reason(exc)), type="negative")
            return
        self.article.my_vote = helpful
        self.article.values.update(counts or {})
        self.render()  # the clicked button is gone with the old content: notify from the reader's area
        with self.area:
            ui.notify(self.t("knowledge.thanks"), type="positive")

    def editor_tools(self, article: Article) -> None:
        with ui.expansion(self.t("knowledge.editing"), icon="edit_note").classes("w-full") \
                .mark(f"{self.marker}-editing"):
            ui.button(self.t("knowledge.open_form"), icon="edit",
                      on_click=lambda: self.ctx.open("record", "knowledge_article_form", record_id=article.id)) \
                .props("dense flat no-caps")
            ui.upload(label=self.t("knowledge.upload"), auto_upload=True, on_upload=self.upload) \
                .props("dense flat").classes("w-full").mark(f"{self.marker}-upload")
            ui.label(self.t("knowledge.attach_hint", id="N")).classes("text-caption text-grey-7")
            self.diff_area = ui.column().classes("w-full")
            background_tasks.create(self.load_versions(article.id), name="knowledge versions")

    async def load_versions(self, article_id: int) -> None:
        try:
            versions = await run.io_bound(self.ctx.platform.knowledge.versions, self.ctx.actor, article_id) or []
        except (RecordNotFound, PermissionDenied):
            return
        with contextlib.suppress(RuntimeError), self.diff_area:  # the reader was cleared meanwhile
            ui.label(self.t("knowledge.versions", n=len(versions))).classes("text-subtitle2")
            for v in versions:
                ui.button(self.t("knowledge.version_diff", n=v["number"], who=v["published_by"]),
                          on_click=lambda _, n=v["number"]: self.show_diff(article_id, n)) \
                    .props("flat dense no-caps").mark(f"{self.marker}-diff-{v['number']}")
            self.diff_text = ui.code("", language="diff").classes("w-full").mark(f"{self.marker}-diff")
            self.diff_text.set_visibility(False)

    async def show_diff(self, article_id: int, number: int) -> None:
        lines = await run.io_bound(self.ctx.platform.knowledge.diff, self.ctx.actor, article_id, number) or []
        self.diff_text.content = "\n".join(lines) or self.t("knowledge.no_change")
        self.diff_text.set_visibility(True)

    async def upload(self, e: events.UploadEventArguments) -> None:
        if self.article is None:
            return
        content = await e.file.read()
        try:
            row: dict[str, Any] | None = await run.io_bound(
                self.ctx.platform.knowledge.attach, self.ctx.actor, self.article.id, e.file.name, content)
        except AttachmentError as exc:
            ui.notify(self.t(exc.key, **exc.params) if exc.key else str(exc), type="negative", multi_line=True)
            return
        except PermissionDenied as exc:
            ui.notify(str(exc), type="negative", multi_line=True)
            return
        if row is None:
            return
        ui.notify(self.t("knowledge.attached", name=row["name"], id=row["id"]), type="positive")
        await self.show(self.article.id)


def knowledge_view(ctx: ViewContext) -> None:
    """The ``knowledge`` page: search on the left, the article on the right."""
    ui.label(translate(ctx.language, "knowledge.title")).classes("text-h6")
    if not ctx.actor.can("knowledge_article", "read"):
        ui.label(translate(ctx.language, "errors.forbidden")).classes("text-negative")
        return
    with ui.row().classes("w-full no-wrap items-start gap-4"):
        left = ui.column().classes("w-1/3 gap-1")
        right = ui.column().classes("w-2/3")
    with right:
        reader = Reader(ctx, "page")
    with left:
        searcher = Searcher(ctx, "page", reader.show)
    start = str(ctx.params.get("q") or "")
    if start:
        searcher.box.value = start
    article = ctx.params.get("article")
    if article:  # /knowledge/<id>: an editor's preview of any article, a reader's of a published one
        ui.timer(0, lambda: reader.show(int(article)), once=True)
