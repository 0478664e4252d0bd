"""The knowledge base (``platform.knowledge``): what agents find and read, versions, attachments and votes.

- **Who sees what.** Reading needs the ``knowledge_article`` read right; the role's row scope applies (the
  agent's: published articles, province-wide or of the agent's cities). On top of it, *readers* — users who may
  not edit articles — get only articles that are ``published`` and within their validity dates (``valid_from``
  ≤ today ≤ ``valid_to``): a draft, an article in review, a retired or an expired one is never found nor
  opened by them (:class:`ArticleUnavailable`). Editors open any article in their scope (a preview); their
  search, like everyone's, lists only what agents would find.
- **Search** runs on the one text-search service (``platform.search``); every search is logged with its text and
  number of hits (``hl_kb_event``; 0 hits is what agents looked for and did not find), every opening as a view
  (and the article's ``views`` counter), every vote.
- **Versions.** Each publication keeps the article as published (``hl_kb_version``, written by a listener of the
  workflow engine in the transition's transaction); :meth:`KnowledgeService.diff` compares two versions, or the
  last one with the article as it is now, line by line (difflib).
- **Attachments** (:mod:`.attachments`): stored on disk under ``HELPLINE_KNOWLEDGE_DIR`` (default
  ``var/knowledge``) with their SHA-256, type and size checked.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peewee import fn

from helpline.data.base import centre_today, utcnow
from helpline.data.database import db, is_postgres, session, write_transaction
from helpline.data.knowledge import KbAttachment, KbEvent, KbVersion, KbVote
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

from ..records import RecordNotFound
from ..search import Pieces
from . import attachments as files
from .markdown import Part, render

if TYPE_CHECKING:
    from ..platform import Platform
    from ..workflow.engine import TransitionEvent

ENTITY = "knowledge_article"
PUBLISHED = "published"
SEARCH_WIDTH = 5
"""A search asks the text index for this many times the hits it shows (drafts and expired ones are dropped)."""
MAX_LOGGED_TEXT = 200


class ArticleUnavailable(RecordNotFound):
    """Not published, not yet effective or expired: a reader cannot open it (the message says which, in English;
    ``key`` and ``params`` are the locale key of the reason, ``knowledge.reason.*``, for a page)."""

    def __init__(self, message: str, key: str = "", **params: object) -> None:
        super().__init__(message)
        self.key, self.params = key, params


@dataclass
class ArticleHit:
    id: int
    title: str
    category: str
    score: float
    snippets: dict[str, Pieces] = field(default_factory=dict)


@dataclass
class Article:
    id: int
    values: dict[str, Any]
    parts: list[Part]
    related: list[tuple[int, str]]
    attachments: list[dict[str, Any]]
    my_vote: bool | None
    versions: int


def _today(today: date | None) -> date:
    return today or centre_today()


def _as_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def unavailable_reason(values: dict[str, Any], today: date) -> str | None:
    """Why a reader may not see the article today (None: they may)."""
    found = unavailable_key(values, today)
    return found[2] if found is not None else None


def unavailable_key(values: dict[str, Any], today: date) -> tuple[str, dict[str, str], str] | None:
    """(locale key, its parameters, the English text) of why a reader may not see the article today."""
    if values.get("status") != PUBLISHED:
        return ("knowledge.reason.not_published", {},
                f"the article is not published (it is {values.get('status') or 'a draft'})")
    start, end = _as_date(values.get("valid_from")), _as_date(values.get("valid_to"))
    if start is not None and today < start:
        return ("knowledge.reason.not_yet", {"date": start.isoformat()},
                f"the article takes effect on {start.isoformat()}")
    if end is not None and today > end:
        return "knowledge.reason.expired", {"date": end.isoformat()}, f"the article expired on {end.isoformat()}"
    return None


def related_ids(text: Any) -> list[int]:
    out: list[int] = []
    for word in str(text or "").replace(",", " ").replace("，", " ").split():
        if word.lstrip("#").isdigit() and int(word.lstrip("#")) not in out:
            out.append(int(word.lstrip("#")))
    return out[:20]


class KnowledgeService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.files_dir = Path(os.environ.get("HELPLINE_KNOWLEDGE_DIR", "var/knowledge"))
        """Where attachments are stored (tests point it at their own folder)."""
        platform.workflows.listeners.append(self.on_transition)

    # -- who may ---------------------------------------------------------------------------------------
    @staticmethod
    def is_editor(actor: Actor) -> bool:
        return actor.can(ENTITY, "update")

    def _visible(self, actor: Actor, values: dict[str, Any], today: date | None) -> str | None:
        return None if self.is_editor(actor) else unavailable_reason(values, _today(today))

    @staticmethod
    def _refused(message: str, values: dict[str, Any], today: date | None) -> ArticleUnavailable:
        found = unavailable_key(values, _today(today))
        return ArticleUnavailable(message, *(found[:1] if found else ()), **(found[1] if found else {}))

    # -- search ----------------------------------------------------------------------------------------
    def search(self, actor: Actor, text: str, *, limit: int = 10, source: str = "page",
               today: date | None = None) -> list[ArticleHit]:
        """Published articles within their dates that ``actor`` may read, best first; the search is logged."""
        day = _today(today)
        hits = self.platform.search.search(actor, ENTITY, text, limit=min(200, limit * SEARCH_WIDTH))
        found = [ArticleHit(h.id, h.title, str(h.values.get("category") or ""), h.score, h.snippets)
                 for h in hits if unavailable_reason(h.values, day) is None][:limit]
        if text.strip():
            with session(), write_transaction():
                if is_postgres():  # a usage statistic: not worth a wait for the disk on every keystroke's search
                    db.execute_sql("SET LOCAL synchronous_commit = off")
                KbEvent.create(username=actor.username, kind="search", text=text.strip()[:MAX_LOGGED_TEXT],
                               hits=len(found), source=source[:16])
        return found

    # -- reading ---------------------------------------------------------------------------------------
    def open(self, actor: Actor, article_id: int, *, source: str = "page", today: date | None = None,
             count: bool = True) -> Article:
        """The article rendered for ``actor``; a view is logged and counted (unless ``count`` is False)."""
        record = self.platform.records.get(actor, ENTITY, article_id)
        values = record.values
        why = self._visible(actor, values, today)
        if why is not None:
            raise self._refused(f"knowledge article {article_id} cannot be shown: {why}", values, today)
        count = count and unavailable_reason(values, _today(today)) is None  # an editor's preview is no use
        model = self.platform.models[ENTITY]
        with session(), write_transaction():
            if count:
                views = model._meta.fields["views"]
                model.update({views: fn.COALESCE(views, 0) + 1}).where(model.id == article_id).execute()
                KbEvent.create(username=actor.username, kind="view", article_id=article_id, source=source[:16])
            vote = KbVote.get_or_none((KbVote.article_id == article_id) & (KbVote.username == actor.username))
            attached = [_attachment(a) for a in
                        KbAttachment.select().where(KbAttachment.article_id == article_id).order_by(KbAttachment.id)]
            versions = KbVersion.select().where(KbVersion.article_id == article_id).count()
        related = self._related(actor, related_ids(values.get("related")), article_id, today)
        if count:
            values = {**values, "views": int(values.get("views") or 0) + 1}
        return Article(article_id, values, render(str(values.get("body") or "")), related, attached,
                       None if vote is None else bool(vote.helpful), versions)

    def _related(self, actor: Actor, ids: list[int], own: int, today: date | None) -> list[tuple[int, str]]:
        out = []
        for other in ids:
            if other == own:
                continue
            try:
                values = self.platform.records.get(actor, ENTITY, other).values
            except (RecordNotFound, PermissionDenied):
                continue
            if self._visible(actor, values, today) is None:
                out.append((other, str(values.get("title") or other)))
        return out

    # -- votes -----------------------------------------------------------------------------------------
    def vote(self, actor: Actor, article_id: int, helpful: bool, *, source: str = "page",
             today: date | None = None) -> dict[str, int]:
        """"Was this helpful": one vote per user and article (a second one changes it); the counts after it."""
        values = self.platform.records.get(actor, ENTITY, article_id).values
        why = self._visible(actor, values, today)
        if why is not None:
            raise self._refused(f"knowledge article {article_id} cannot be voted on: {why}", values, today)
        model = self.platform.models[ENTITY]
        with session(), write_transaction():
            old = KbVote.get_or_none((KbVote.article_id == article_id) & (KbVote.username == actor.username))
            if old is None or bool(old.helpful) != helpful:
                up = model._meta.fields["helpful" if helpful else "not_helpful"]
                changes: dict[Any, Any] = {up: fn.COALESCE(up, 0) + 1}
                if old is not None:
                    down = model._meta.fields["not_helpful" if helpful else "helpful"]
                    changes[down] = fn.COALESCE(down, 1) - 1
                    KbVote.update(helpful=helpful, at=utcnow()).where(KbVote.id == old.id).execute()
                else:
                    KbVote.create(article_id=article_id, username=actor.username, helpful=helpful)
                model.update(changes).where(model.id == article_id).execute()
                KbEvent.create(username=actor.username, kind="vote", article_id=article_id, helpful=helpful,
                               source=source[:16])
            row = model.get_by_id(article_id)
            return {k: int(getattr(row, k) or 0) for k in ("helpful", "not_helpful")}

    # -- versions --------------------------------------------------------------------------------------
    def on_transition(self, event: TransitionEvent) -> None:
        """The workflow engine's listener: a publication keeps the article as published (in its transaction)."""
        if event.workflow.entity != ENTITY or event.step.to_state != PUBLISHED:
            return
        record = event.record
        last = (KbVersion.select(fn.MAX(KbVersion.number)).where(KbVersion.article_id == record["id"]).scalar()
                or 0)
        KbVersion.create(article_id=record["id"], number=last + 1, title=str(record.get("title") or "")[:500],
                         body=str(record.get("body") or ""), keywords=str(record.get("keywords") or "")[:500],
                         published_by=event.actor.username)

    def versions(self, actor: Actor, article_id: int) -> list[dict[str, Any]]:
        self._editor_of(actor, article_id)
        with session():
            return [{"number": v.number, "title": v.title, "published_by": v.published_by,
                     "published_at": v.published_at}
                    for v in KbVersion.select().where(KbVersion.article_id == article_id).order_by(KbVersion.number)]

    def diff(self, actor: Actor, article_id: int, old: int, new: int | None = None) -> list[str]:
        """Unified diff (title and body) from version ``old`` to version ``new`` (None: the article now)."""
        current = self._editor_of(actor, article_id)

        def text_of(number: int | None) -> list[str]:
            if number is None:
                return [f"# {current.get('title') or ''}", *str(current.get("body") or "").splitlines()]
            with session():
                v = KbVersion.get_or_none((KbVersion.article_id == article_id) & (KbVersion.number == number))
            if v is None:
                raise RecordNotFound(f"knowledge article {article_id} has no version {number}")
            return [f"# {v.title}", *v.body.splitlines()]

        a, b = text_of(old), text_of(new)
        return list(difflib.unified_diff(a, b, f"v{old}", f"v{new}" if new is not None else "now", lineterm=""))

    def _editor_of(self, actor: Actor, article_id: int) -> dict[str, Any]:
        if not self.is_editor(actor):
            raise PermissionDenied(f"user '{actor.username}' may not edit knowledge articles")
        return self.platform.records.get(actor, ENTITY, article_id).values

    # -- expiry ----------------------------------------------------------------------------------------
    def retire_expired(self, today: date | None = None) -> dict[str, int]:
        """The ``knowledge_expiry`` job (daily): published articles past their expiry date are retired through
        the publishing process (readers never saw them after that date anyway; now the lists agree)."""
        model = self.platform.models[ENTITY]
        day = _today(today)
        status, valid_to = model._meta.fields["status"], model._meta.fields["valid_to"]
        with session():
            found = model.select(model.id).where((status == PUBLISHED) & valid_to.is_null(False) & (valid_to < day))
            due = [int(i) for (i,) in found.tuples().iterator()]
        system = Actor.system()
        for article_id in due:
            self.platform.workflows.take(system, ENTITY, article_id, "retire", comment=f"expired before {day}")
        return {"retired": len(due)}

    # -- attachments -----------------------------------------------------------------------------------
    def attach(self, actor: Actor, article_id: int, name: str, content: bytes) -> dict[str, Any]:
        """Store a file of the article (type, size and count checked, limits named); returns its row."""
        self._editor_of(actor, article_id)
        with session():
            existing = KbAttachment.select().where(KbAttachment.article_id == article_id).count()
        kind = files.check_file(name, content, existing)
        sha = files.store(self.files_dir, content)
        with session(), write_transaction():
            row = KbAttachment.create(article_id=article_id, name=name.strip()[:files.MAX_NAME], content_type=kind,
                                      size=len(content), sha256=sha, created_by=actor.username)
            audit(actor, "attach", entity=ENTITY, record_id=article_id,
                  detail={"attachment": row.id, "name": row.name, "size": len(content), "sha256": sha})
        return _attachment(row)

    def attachment_file(self, actor: Actor, attachment_id: int, *, today: date | None = None
                        ) -> tuple[str, str, bytes]:
        """(name, content type, content) of an attachment the actor may read (its article visible to them),
        its checksum verified."""
        with session():
            row = KbAttachment.get_or_none(KbAttachment.id == attachment_id)
        if row is None:
            raise RecordNotFound(f"no attachment {attachment_id}")
        values = self.platform.records.get(actor, ENTITY, int(row.article_id)).values
        why = self._visible(actor, values, today)
        if why is not None:
            raise self._refused(f"attachment {attachment_id} cannot be shown: {why}", values, today)
        return row.name, row.content_type, files.read_checked(self.files_dir, row.sha256)


def _attachment(row: KbAttachment) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "content_type": row.content_type, "size": row.size,
            "sha256": row.sha256, "image": str(row.content_type).startswith("image/")}
