"""Finding recorded calls for quality assurance: by agent, day, customer and queue.

Needs ``supervisor.recordings`` (the permission that plays them: :func:`helpline.services.recordings.
recording_file` serves and audits every listen). A user who reads customers through a row scope finds only
the calls of customers within it (and calls without a customer), as playing them requires; the customer is
named by its title as the user may see it (masked for QA: ``张*``), and the customer filter goes through the
records' quick search, which never searches a field masked for the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from helpline.data.base import centre_midnight
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.query import ListQuery
from helpline.security.actor import Actor

from .recordings import CUSTOMER

if TYPE_CHECKING:
    from .platform import Platform

PERMISSION = "supervisor.recordings"
MAX_ROWS = 200
MAX_CUSTOMERS = 500
"""How many customers a customer filter may match (a broader one is narrowed to the first ones)."""


@dataclass(frozen=True)
class RecordingFilter:
    """What to look for; every part is optional (``since``/``until`` are days, both included)."""

    agent: str | None = None
    since: date | None = None
    until: date | None = None
    customer: str | None = None
    """A customer no., name or other quick-search text (within the user's scope and masks)."""
    queue: str | None = None


def _customer_ids(actor: Actor, platform: Platform, text: str) -> list[int]:
    if not actor.can(CUSTOMER, "read"):
        return []
    page = platform.records.list_page(actor, ListQuery(entity=CUSTOMER, search=text, page_size=MAX_CUSTOMERS,
                                                       count_cap=MAX_CUSTOMERS), purpose="lookup")
    return [int(r["id"]) for r in page.rows]


def find_recordings(actor: Actor, platform: Platform, wanted: RecordingFilter, limit: int = MAX_ROWS
                    ) -> list[dict[str, Any]]:
    """The recorded calls matching ``wanted``, newest first: ``id``, ``started_at``, ``agent``, ``queue``,
    ``customer_id``, ``customer`` (the title the user may see, or None), ``talk_s``, ``recording``."""
    actor.require_permission(PERMISSION)
    query = Call.select(Call.id, Call.started_at, Call.agent, Call.queue, Call.customer_id, Call.talk_s,
                        Call.call_recording).where(Call.call_recording.is_null(False), Call.call_recording != "")
    if wanted.agent:
        query = query.where(Call.agent == wanted.agent.strip())
    if wanted.queue:
        query = query.where(Call.queue == wanted.queue)
    if wanted.since:
        query = query.where(Call.started_at >= centre_midnight(wanted.since))  # the centre's days
    if wanted.until:
        query = query.where(Call.started_at < centre_midnight(wanted.until + timedelta(days=1)))
    if wanted.customer and wanted.customer.strip():
        ids = _customer_ids(actor, platform, wanted.customer.strip())
        if not ids:
            return []
        query = query.where(Call.customer_id.in_(ids))
    scoped = actor.can(CUSTOMER, "read") and actor.scopes(CUSTOMER) is not None and not actor.is_system
    with session():
        rows: list[dict[str, Any]] = list(query.order_by(Call.started_at.desc(), Call.id.desc())  # type: ignore[arg-type]
                                          .limit(limit * 3 if scoped else limit).dicts())
    customer_ids = [r["customer_id"] for r in rows if r["customer_id"] is not None]
    titles = platform.records.titles(actor, CUSTOMER, "id", customer_ids) if customer_ids else {}
    if scoped:  # the calls of customers outside the scope cannot be played: not offered either
        rows = [r for r in rows if r["customer_id"] is None or r["customer_id"] in titles]
    return [{"id": r["id"], "started_at": r["started_at"], "agent": r["agent"], "queue": r["queue"],
             "customer_id": r["customer_id"], "customer": titles.get(r["customer_id"]), "talk_s": r["talk_s"],
             "recording": r["call_recording"]} for r in rows[:limit]]
