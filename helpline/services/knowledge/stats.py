"""Usage statistics of the knowledge base (permission ``knowledge.stats``), read from the usage log
``hl_kb_event``: views, searches, searches with no result (what agents looked for and did not find, most
frequent first), helpful and not-helpful votes, and the most viewed articles of each ISO week."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from helpline.data.base import centre_day_of, centre_midnight
from helpline.data.database import session
from helpline.data.knowledge import KbEvent
from helpline.security.actor import Actor
from helpline.security.audit import audit

if TYPE_CHECKING:
    from ..platform import Platform

PERMISSION = "knowledge.stats"
MAX_DAYS = 366
TOP = 10


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def usage(platform: Platform, actor: Actor, start: date, end: date) -> dict[str, Any]:
    """The figures of the days ``start`` to ``end`` (both included, the centre's days, at most a year)."""
    actor.require_permission(PERMISSION)
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    if (end - start).days >= MAX_DAYS:
        raise ValueError(f"a period of {(end - start).days + 1} days; the statistics cover at most {MAX_DAYS}")
    low, high = centre_midnight(start), centre_midnight(end + timedelta(days=1))
    totals: Counter[str] = Counter()
    missing: Counter[str] = Counter()
    searched: Counter[str] = Counter()
    weekly: dict[str, Counter[int]] = defaultdict(Counter)
    per_article: dict[int, Counter[str]] = defaultdict(Counter)
    with session():
        query = (KbEvent.select(KbEvent.at, KbEvent.kind, KbEvent.article_id, KbEvent.text, KbEvent.hits,
                                KbEvent.helpful)
                 .where((KbEvent.at >= low) & (KbEvent.at < high)).tuples())
        for at, kind, article, text, hits, helpful in query.iterator():
            if kind == "view":
                totals["views"] += 1
                weekly[week_of(centre_day_of(at))][int(article)] += 1
                per_article[int(article)]["views"] += 1
            elif kind == "search":
                totals["searches"] += 1
                searched[str(text)] += 1
                if not hits:
                    totals["no_result"] += 1
                    missing[str(text)] += 1
            elif kind == "vote":
                key = "helpful" if helpful else "not_helpful"
                totals[key] += 1
                per_article[int(article)][key] += 1
        audit(actor, "read", entity="hl_kb_event", detail={"stats": f"{start}..{end}"})
    model = platform.models["knowledge_article"]
    ids = set(per_article) | {a for c in weekly.values() for a in c}
    with session():
        found = model.select(model.id, model._meta.fields["title"]).where(model.id.in_(list(ids))).tuples()
        titles: dict[int, str] = {int(r[0]): str(r[1]) for r in found.iterator()} if ids else {}
    return {
        "totals": {k: totals[k] for k in ("views", "searches", "no_result", "helpful", "not_helpful")},
        "no_result": [{"text": t, "count": n} for t, n in missing.most_common(TOP * 5)],
        "top_searches": [{"text": t, "count": n} for t, n in searched.most_common(TOP)],
        "weeks": [{"week": w, "articles": [{"id": a, "title": titles.get(a, str(a)), "views": n}
                                           for a, n in weekly[w].most_common(TOP)]}
                  for w in sorted(weekly, reverse=True)],
        "articles": [{"id": a, "title": titles.get(a, str(a)), **{k: c[k] for k in ("views", "helpful", "not_helpful")}}
                     for a, c in sorted(per_article.items(), key=lambda kv: (-kv[1]["views"], kv[0]))][:TOP * 5],
    }
