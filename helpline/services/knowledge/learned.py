"""Learned keywords: the words agents searched before opening an article, suggested as its keywords for review.

Callers word a fault as they see it (墙上钻洞, 一直转圈圈), authors as the procedure names it (打孔, 加载界面); no
dictionary holds every such pair, but the usage log does (``hl_kb_event``): a search followed by the same user
opening an article — or voting it helpful — within :data:`WINDOW` says that the search's words were meant for that
article. :func:`suggestions` reads that from the log: for each article, the words of those searches
(:func:`helpline.data.text_questions.question_words`: no question words, pairs or lone characters) that the
article's title and keywords do not hold yet, that carry meaning in general Chinese (jieba's idf,
:data:`MIN_GENERAL`) and that at least :data:`MIN_USERS` different users searched (one agent's typing is no
evidence). A view followed by a *not helpful* vote teaches nothing. Nothing changes by itself: an editor reviews
the suggestions (permission ``knowledge.stats`` to read the log) and :func:`accept` adds the chosen words to the
article's keywords through the record service — the text index is updated in the save's transaction and the
change audited like any edit, so the next agent's search finds the article by them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from helpline.data.base import utcnow
from helpline.data.database import session
from helpline.data.knowledge import KbEvent
from helpline.data.text_index import synonym_groups
from helpline.data.text_questions import question_words
from helpline.data.text_tokens import normalise
from helpline.data.text_weights import general_weight
from helpline.security.actor import Actor
from helpline.security.audit import audit

from .stats import PERMISSION

if TYPE_CHECKING:
    from ..platform import Platform

ENTITY = "knowledge_article"
WINDOW = timedelta(minutes=10)
"""A search teaches the article its user opens (or votes helpful) at most this long after it."""
MIN_USERS = 2
"""Different users who searched a word before opening the article, at least."""
MIN_GENERAL = 0.5
"""A word weighing less in general Chinese (:func:`general_weight`: 问题, 起来, 个人) is never suggested."""
MAX_WORDS = 8
"""Words suggested per article, the most searched first."""
MAX_KEYWORDS = 200
"""Characters of an article's keywords after accepting (the field is a line of text)."""
MAX_EVENTS = 200_000
"""Log entries read per call at most (the newest of the period)."""


@dataclass
class Suggestion:
    article_id: int
    title: str
    keywords: str
    words: list[tuple[str, int]] = field(default_factory=list)
    """(word, different users who searched it before opening the article), most users first."""


Event = tuple[str, datetime, str, int | None, str | None, bool | None]
"""A log entry: user, time, kind, article, search text, helpful."""


def _pairs(events: list[Event], synonyms: list[list[str]]) -> dict[int, dict[str, set[str]]]:
    """article → word → users, from the log's entries ordered by user and time."""
    taught: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    last: tuple[str, datetime, list[str]] | None = None  # user, time, words of their last search
    opened: dict[tuple[str, int], list[str]] = {}  # (user, article) → words of the search that led there
    for user, at, kind, article, text, helpful in events:
        if last is not None and last[0] != user:
            last = None
        if kind == "search":
            last = (user, at, question_words(text or "", synonyms))
        elif kind in ("view", "vote") and article is not None and last is not None and at - last[1] <= WINDOW:
            if kind == "vote" and helpful is False:
                opened.pop((user, int(article)), None)
            else:
                opened[(user, int(article))] = last[2]
    for (user, article), words in opened.items():
        for word in words:
            taught[article][word].add(user)
    return taught


def suggestions(platform: Platform, actor: Actor, since: datetime, until: datetime | None = None, *,
                min_users: int = MIN_USERS) -> list[Suggestion]:
    """Keywords the searches of ``since`` to ``until`` (UTC) suggest, per article (most evidence first)."""
    actor.require_permission(PERMISSION)
    until = until or utcnow() + timedelta(days=1)
    if until <= since:
        raise ValueError(f"the period ends ({until}) before it starts ({since})")
    synonyms = synonym_groups(platform.metadata)
    model = platform.models[ENTITY]
    with session():
        query = (KbEvent.select(KbEvent.username, KbEvent.at, KbEvent.kind, KbEvent.article_id, KbEvent.text,
                                KbEvent.helpful)
                 .where((KbEvent.at >= since) & (KbEvent.at < until))
                 .order_by(KbEvent.id.desc()).limit(MAX_EVENTS).tuples())
        events: list[Event] = sorted(((str(u), at, str(k), a, t, h) for u, at, k, a, t, h in query.iterator()),
                                     key=lambda e: (e[0], e[1]))
        taught = _pairs(events, synonyms)
        fields = model._meta.fields
        rows = {int(i): (str(t or ""), str(k or "")) for i, t, k in
                model.select(fields["id"], fields["title"], fields["keywords"])
                .where(fields["id"].in_(list(taught))).tuples().iterator()} if taught else {}
        audit(actor, "read", entity="hl_kb_event", detail={"learned": f"{since}..{until}"})
    found: list[Suggestion] = []
    for article, words in taught.items():
        if article not in rows:
            continue
        title, keywords = rows[article]
        held = normalise(f"{title} {keywords}")
        kept = sorted(((w, len(users)) for w, users in words.items()
                       if len(users) >= min_users and w not in held and general_weight(w) >= MIN_GENERAL),
                      key=lambda wu: (-wu[1], wu[0]))[:MAX_WORDS]
        if kept:
            found.append(Suggestion(article, title or str(article), keywords, kept))
    found.sort(key=lambda s: (-s.words[0][1], s.article_id))
    return found


def accept(platform: Platform, actor: Actor, article_id: int, words: list[str]) -> str:
    """Add ``words`` to the article's keywords (those it lacks; the record service checks the right to edit it,
    updates the index and audits); the keywords after it."""
    record = platform.records.get(actor, ENTITY, article_id)
    current = str(record.values.get("keywords") or "")
    have = set(current.split())
    added = [w for w in dict.fromkeys(w.strip() for w in words) if w and w not in have and " " not in w]
    if not added:
        return current
    keywords = " ".join([*current.split(), *added])
    if len(keywords) > MAX_KEYWORDS:
        raise ValueError(f"the keywords would be {len(keywords)} characters long; an article's keywords take at "
                         f"most {MAX_KEYWORDS}")
    platform.records.update(actor, ENTITY, article_id, {"keywords": keywords})
    return keywords
