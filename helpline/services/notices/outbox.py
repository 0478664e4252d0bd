"""The delivery pass over the outbox (``hl_notice_delivery``): the ``notice_delivery`` job, every 30 s.

Each due row is claimed with one conditional update (its status, attempts and due time as read; the claim
sets ``sending``, counts the attempt and moves the due time a lease ahead), so of two passes — two
processes, or a pass and an administrator's "retry now" — only one sends it. The message is worded in the
recipient's language and sent outside any transaction; then the row is ``sent``, or due again after a
back-off (30 s, 2 min, 10 min, 1 h, then hourly), or ``failed`` after ``HELPLINE_NOTICE_MAX_ATTEMPTS``.
A pass that dies while sending leaves the row ``sending``: it is due again when its lease runs out (the one
case where a message can go out twice — the channel took it and the process died before recording that).
The notice itself is never touched: the notice centre has it whatever the gateways do.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from helpline.data.base import utcnow
from helpline.data.database import session, write_transaction
from helpline.data.notices import Notice, NoticeDelivery
from helpline.data.system import User
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

from .centre import config
from .texts import render

log = logging.getLogger("helpline.notices")

BACKOFF_S = (30, 120, 600, 3600)
"""Seconds to wait after the 1st, 2nd, 3rd and later failed attempts."""
LEASE_S = 300
"""How long a claimed row is left to its pass before another may take it again (the pass died)."""
BATCH = 200
PASS_BUDGET_S = 20.0
"""A pass claims no new row after this long (the job runs every 30 s)."""


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed attempts."""
    return timedelta(seconds=BACKOFF_S[min(max(attempts, 1), len(BACKOFF_S)) - 1])


def _claim(row: NoticeDelivery, now: datetime) -> bool:
    n = (NoticeDelivery.update(status="sending", attempts=NoticeDelivery.attempts + 1,
                               next_attempt_at=now + timedelta(seconds=LEASE_S))
         .where((NoticeDelivery.id == row.id) & (NoticeDelivery.status == row.status)
                & (NoticeDelivery.attempts == row.attempts) & (NoticeDelivery.next_attempt_at == row.next_attempt_at))
         .execute())
    return bool(n == 1)


def _message(row: NoticeDelivery) -> tuple[str, str]:
    notice = Notice.get_or_none(Notice.id == row.notice_id)
    if notice is None:
        raise LookupError(f"notice {row.notice_id} no longer exists")
    user = User.get_or_none(User.username == notice.username)
    language = (user.language if user is not None else "") or "zh_CN"
    return render(notice.title_key, notice.params, language), render(notice.body_key, notice.params, language)


def deliver_one(row_id: int, now: datetime | None = None) -> str | None:
    """Claim and send delivery ``row_id`` if it is due; its new status, None when another pass has it or it
    is not due."""
    now = now or utcnow()
    with session():
        row = NoticeDelivery.get_or_none(NoticeDelivery.id == row_id)
        if (row is None or row.status not in ("pending", "sending") or row.next_attempt_at is None
                or row.next_attempt_at > now):
            return None
        with write_transaction():
            if not _claim(row, now):
                return None
        attempts = row.attempts + 1
        cfg = config()
        try:
            subject, body = _message(row)
            sender = cfg.sender(row.channel)
            if sender is None:
                raise LookupError(f"the channel '{row.channel}' is not set up in this process")
            sender(row.address, subject, body)
        except Exception as exc:  # every failure is kept on the row, the pass goes on
            error = f"{type(exc).__name__}: {exc}"[:1000]
            give_up = attempts >= cfg.max_attempts
            log.warning("notice delivery %d (%s to %s) attempt %d failed%s: %s", row.id, row.channel, row.address,
                        attempts, ", giving up" if give_up else "", error)
            status = "failed" if give_up else "pending"
            fields: dict[str, Any] = {"status": status, "last_error": error,
                                      "next_attempt_at": None if give_up else utcnow() + backoff(attempts)}
        else:
            status = "sent"
            fields = {"status": status, "sent_at": utcnow(), "next_attempt_at": None}
        with write_transaction():
            NoticeDelivery.update(**fields).where((NoticeDelivery.id == row.id)
                                                  & (NoticeDelivery.status == "sending")
                                                  & (NoticeDelivery.attempts == attempts)).execute()
        return status


def deliver_due(now: datetime | None = None, limit: int = BATCH, budget_s: float = PASS_BUDGET_S) -> dict[str, int]:
    """One pass: the due rows (oldest due first, up to ``limit``), claiming no new one after ``budget_s``
    seconds (a gateway that answers slowly must not hold the job for long: the rest waits for the next
    pass, unclaimed); counts of what happened."""
    started = time.monotonic()
    now = now or utcnow()
    with session():
        due = [r.id for r in NoticeDelivery.select(NoticeDelivery.id)
               .where(NoticeDelivery.status.in_(["pending", "sending"]) & (NoticeDelivery.next_attempt_at <= now))
               .order_by(NoticeDelivery.next_attempt_at, NoticeDelivery.id).limit(limit)]
    counts = {"due": len(due), "sent": 0, "retry": 0, "failed": 0, "skipped": 0, "left": 0}
    for index, row_id in enumerate(due):
        if time.monotonic() - started > budget_s:
            counts["left"] = len(due) - index
            break
        status = deliver_one(row_id, now)
        counts[{"sent": "sent", "pending": "retry", "failed": "failed"}.get(status or "", "skipped")] += 1
    return counts


# -- what administrators see and do ------------------------------------------------------------------------
@dataclass(frozen=True)
class FailedDelivery:
    id: int
    notice_id: int
    username: str
    kind: str
    channel: str
    address: str
    attempts: int
    last_error: str
    created_at: datetime


def failed(limit: int = 200) -> list[FailedDelivery]:
    """Deliveries given up, newest first."""
    with session():
        rows = (NoticeDelivery.select(NoticeDelivery, Notice.username, Notice.kind)
                .join(Notice, on=(Notice.id == NoticeDelivery.notice_id))
                .where(NoticeDelivery.status == "failed").order_by(NoticeDelivery.id.desc()).limit(limit).dicts())
        return [FailedDelivery(r["id"], r["notice_id"], r["username"], r["kind"], r["channel"], r["address"],
                               r["attempts"], r["last_error"], r["created_at"])
                for r in cast(list[dict[str, Any]], list(rows))]


def retry(actor: Actor, delivery_id: int) -> str | None:
    """Send a failed delivery again now (permission ``jobs.manage``; audited); its new status."""
    try:
        actor.require_permission("jobs.manage")
    except PermissionDenied:
        with session():
            audit(actor.username, "denied", entity="notice_delivery", record_id=str(delivery_id),
                  detail={"action": "retry_delivery"})
        raise
    now = utcnow()
    with session(), write_transaction():
        n = (NoticeDelivery.update(status="pending", attempts=0, next_attempt_at=now)
             .where((NoticeDelivery.id == delivery_id) & (NoticeDelivery.status == "failed")).execute())
        if n != 1:
            raise LookupError(f"delivery {delivery_id} is not a failed one (sent or being retried already)")
        audit(actor.username, "retry_delivery", entity="notice_delivery", record_id=str(delivery_id))
    return deliver_one(delivery_id, now)
