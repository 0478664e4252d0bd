"""The knowledge statistics page (``/page/knowledge_stats``, permission ``knowledge.stats``): views, searches,
searches with no result (what agents looked for and did not find), helpful votes and the top articles of each
week over a period, from ``helpline.services.knowledge.stats`` (the permission is checked there too); the
keywords learned from searches since the period's start, each added to its article by an editor's click
(``helpline.services.knowledge.learned``); and, for
users who publish bulletins, each bulletin's reach, reads and acknowledgements (``BulletinService.statistics``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from nicegui import run, ui

from helpline.data.base import centre_midnight, centre_today
from helpline.security.actor import PermissionDenied
from helpline.services.knowledge.learned import Suggestion, accept, suggestions
from helpline.services.knowledge.stats import usage

from ..i18n import translate
from .base import ViewContext

TOTALS = ("views", "searches", "no_result", "helpful", "not_helpful")


def knowledge_stats_view(ctx: ViewContext) -> None:
    def t(key: str, **params: Any) -> str:
        return translate(ctx.language, key, **params)

    ui.label(t("knowledge.stats.title")).classes("text-h6")
    today = centre_today()
    with ui.row().classes("items-center gap-2"):
        start = ui.input(t("knowledge.stats.from"), value=(today - timedelta(days=27)).isoformat()) \
            .props("dense outlined type=date").mark("kbs-from")
        end = ui.input(t("knowledge.stats.to"), value=today.isoformat()).props("dense outlined type=date") \
            .mark("kbs-to")
        ui.button(t("knowledge.stats.show"), icon="refresh", on_click=lambda: show()).props("dense") \
            .mark("kbs-show")
    body = ui.column().classes("w-full gap-3").mark("kbs-body")

    async def show() -> None:
        body.clear()
        try:
            figures: dict[str, Any] = await run.io_bound(usage, ctx.platform, ctx.actor,
                                                         date.fromisoformat(start.value),
                                                         date.fromisoformat(end.value)) or {}
        except PermissionDenied:
            with body:
                ui.label(t("errors.forbidden")).classes("text-negative")
            return
        except ValueError as exc:
            with body:
                ui.label(str(exc)).classes("text-negative").mark("kbs-error")
            return
        with body:
            with ui.row().classes("gap-6"):
                for key in TOTALS:
                    with ui.column().classes("items-center gap-0"):
                        ui.label(str(figures["totals"][key])).classes("text-h5").mark(f"kbs-{key}")
                        ui.label(t(f"knowledge.stats.{key}")).classes("text-caption")
            ui.label(t("knowledge.stats.searched")).classes("text-subtitle1")
            ui.table(columns=[{"name": "text", "field": "text", "label": t("knowledge.stats.text"), "align": "left"},
                              {"name": "count", "field": "count", "label": t("knowledge.stats.count")}],
                     rows=figures["top_searches"], row_key="text").props("dense flat").classes("w-full") \
                .mark("kbs-searched")
            ui.label(t("knowledge.stats.missing")).classes("text-subtitle1")
            ui.table(columns=[{"name": "text", "field": "text", "label": t("knowledge.stats.text"), "align": "left"},
                              {"name": "count", "field": "count", "label": t("knowledge.stats.count")}],
                     rows=figures["no_result"], row_key="text").props("dense flat").classes("w-full") \
                .mark("kbs-missing")
            ui.label(t("knowledge.stats.articles")).classes("text-subtitle1")
            ui.table(columns=[{"name": c, "field": c, "label": t(f"knowledge.stats.col.{c}"),
                               "align": "left" if c == "title" else "right"}
                              for c in ("id", "title", "views", "helpful", "not_helpful")],
                     rows=figures["articles"], row_key="id").props("dense flat").classes("w-full") \
                .mark("kbs-articles")
            ui.label(t("knowledge.stats.weeks")).classes("text-subtitle1")
            for week in figures["weeks"]:
                ui.label(week["week"] + ": " + ", ".join(f"{a['title']} ({a['views']})" for a in week["articles"])) \
                    .mark("kbs-week")
        learned = await run.io_bound(suggestions, ctx.platform, ctx.actor,
                                     centre_midnight(date.fromisoformat(start.value)))
        with body:
            learned_section(ctx, learned or [], t, show)
        rows = await run.io_bound(bulletin_rows, ctx) if ctx.actor.has("bulletins.publish") else None
        if rows is None:
            return
        with body:
            ui.label(t("knowledge.stats.bulletins")).classes("text-subtitle1")
            ui.table(columns=[{"name": c, "field": c, "label": t(f"knowledge.stats.col.{c}"),
                               "align": "left" if c == "title" else "right"}
                              for c in ("title", "reach", "read", "acknowledged")],
                     rows=rows, row_key="id").props("dense flat").classes("w-full").mark("kbs-bulletins")

    ui.timer(0, show, once=True)


def learned_section(ctx: ViewContext, learned: list[Suggestion], t: Callable[..., str],
                    refresh: Callable[[], Awaitable[None]]) -> None:
    """The learned keywords (what different agents searched before opening an article), each word a button
    that adds it to the article's keywords for a user who may edit articles (``knowledge.learned.accept``)."""
    ui.label(t("knowledge.stats.learned")).classes("text-subtitle1")
    if not learned:
        ui.label(t("knowledge.stats.learned_none")).classes("text-caption").mark("kbs-learned-none")
        return
    editor = ctx.actor.can("knowledge_article", "update")

    async def add(article_id: int, word: str) -> None:
        try:
            await run.io_bound(accept, ctx.platform, ctx.actor, article_id, [word])
        except (PermissionDenied, ValueError) as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify(t("knowledge.stats.learned_added", word=word), type="positive")
        await refresh()

    for suggestion in learned:
        with ui.row().classes("items-center gap-2").mark(f"kbs-learned-{suggestion.article_id}"):
            ui.label(suggestion.title)
            for word, users in suggestion.words:
                chip = ui.button(f"{word} · {users}", icon="add" if editor else None).props("dense outline no-caps")
                chip.mark(f"kbs-learn-{suggestion.article_id}-{word}")
                if editor:
                    chip.on_click(lambda a=suggestion.article_id, w=word: add(a, w))
                else:
                    chip.props("disable")


def bulletin_rows(ctx: ViewContext) -> list[dict[str, Any]]:
    """The newest bulletins with how many users each reaches, has read and has acknowledged."""
    service = ctx.platform.bulletins
    counts = service.statistics(ctx.actor)
    return [{"id": b.id, "title": b.title + (" ★" if b.must_read else ""), "reach": counts[b.id][0],
             "read": counts[b.id][1], "acknowledged": counts[b.id][2]}
            for b in service.published(ctx.actor) if b.id in counts]
