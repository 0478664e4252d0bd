"""Agentless reminder campaigns (seed 004: the arrears reminder): the lists, their state and their outcomes.

```python
campaign = create_campaign(actor, "Arrears December", rows, flow="reminder", retry_days=3, max_attempts=3)
start(actor, campaign)                         # running: the dialler (telephony.outbound.reminders) picks it up
due_targets(campaign, now)                     # the customers to dial now
escalations(campaign)                          # the unreached, for agents to call (the export of who to call)
```

A list row is ``{phone, amount, due_date, customer_no?, name?, window?}``. Rows with an invalid number, a
duplicate number, an amount that is not a number >= 0, a due date that is not a date or a bad window are
refused one by one (the campaign keeps them in ``rejected`` with the reason); the rest are loaded. Every
attempt is written before it is dialled and completed after (:func:`begin_attempt`, :func:`end_attempt`):
an answered customer who confirms or goes to an agent is done; an unanswered one (no answer, busy,
failed) is tried again ``retry_days`` later, up to ``max_attempts``, then escalated to the agents' list.
Starting, pausing and the escalation export need the ``campaigns.manage`` permission and are audited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from helpline.data.base import utcnow
from helpline.data.database import session, write_transaction
from helpline.data.reminders import ReminderAttempt, ReminderCampaign, ReminderTarget
from helpline.security.actor import Actor
from helpline.security.audit import audit

PERMISSION = "campaigns.manage"
PHONE = re.compile(r"^\+?\d{7,15}$")
WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
DONE = frozenset({"confirmed", "to_agent", "answered"})
"""Outcomes after which a customer is not called again (they heard the notice)."""
RETRY = frozenset({"no_answer", "busy", "failed", "hung_up"})
"""Outcomes after which the customer is called again ``retry_days`` later (``hung_up``: before the notice ended)."""
OUTCOMES = DONE | RETRY | {"refused"}


def _dicts(query: Any) -> list[dict[str, Any]]:
    """A query's rows as plain dicts."""
    return [dict(r) for r in query.dicts()]


class ReminderError(ValueError):
    """A campaign cannot be made or changed as asked; the message says why."""


@dataclass(frozen=True)
class Target:
    """A customer to dial, as the dialler needs it."""

    id: int
    campaign: int
    phone: str
    amount: float
    due_date: date
    name: str | None
    window: str | None
    attempts: int


def clean_phone(value: Any) -> str | None:
    """The number with spaces and dashes removed, or None when it is not a dialable number."""
    text = re.sub(r"[\s()-]", "", str(value or ""))
    return text if PHONE.fullmatch(text) else None


def parse_window(text: str) -> tuple[time, time]:
    """``08:00-21:00`` → (08:00, 21:00); :class:`ReminderError` for anything else."""
    match = WINDOW.fullmatch(text.strip())
    if match is None:
        raise ReminderError(f"calling window {text!r} is not written HH:MM-HH:MM (e.g. 09:00-18:00)")
    start = time(int(match.group(1)), int(match.group(2)))
    end = time(int(match.group(3)), int(match.group(4)))
    if end <= start:
        raise ReminderError(f"calling window {text!r} ends before it starts")
    return start, end


def _row(i: int, raw: Mapping[str, Any], seen: set[str]) -> tuple[dict[str, Any] | None, str | None]:
    phone = clean_phone(raw.get("phone"))
    if phone is None:
        return None, f"invalid phone number {raw.get('phone')!r}"
    if phone in seen:
        return None, f"duplicate phone number {phone}"
    try:
        amount = float(raw.get("amount"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None, f"amount {raw.get('amount')!r} is not a number"
    if amount < 0 or amount != amount:
        return None, f"amount {raw.get('amount')!r} is not a number >= 0"
    due = raw.get("due_date")
    try:
        due_date = due if isinstance(due, date) else date.fromisoformat(str(due))
    except ValueError:
        return None, f"due date {due!r} is not a date (YYYY-MM-DD)"
    window = raw.get("window") or None
    if window is not None:
        try:
            parse_window(str(window))
        except ReminderError as exc:
            return None, str(exc)
    seen.add(phone)
    return {"phone": phone, "amount": round(amount, 2), "due_date": due_date, "window": window,
            "customer_no": raw.get("customer_no"), "name": raw.get("name")}, None


def create_campaign(actor: Actor, name: str, rows: Iterable[Mapping[str, Any]], *, flow: str = "reminder",
                    window: str = "08:00-21:00", retry_days: int = 3, max_attempts: int = 3) -> int:
    """Load a list as a new campaign (``draft``); its id. Bad rows are refused one by one (``rejected``)."""
    actor.require_permission(PERMISSION)
    if not name.strip():
        raise ReminderError("a campaign needs a name")
    start, end = parse_window(window)
    if not 0 <= retry_days <= 60 or not 1 <= max_attempts <= 20:
        raise ReminderError("retry_days must be 0-60 and max_attempts 1-20")
    seen: set[str] = set()
    good: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for i, raw in enumerate(rows, start=1):
        row, why = _row(i, raw, seen)
        if row is None:
            rejected.append({"row": i, "phone": str(raw.get("phone") or ""), "reason": why})
        else:
            good.append(row)
    if not good:
        raise ReminderError("the list has no valid row" + (f": {rejected[0]['reason']}" if rejected else ""))
    now = utcnow()
    with session(), write_transaction():
        campaign = ReminderCampaign.create(name=name.strip(), flow=flow, window_start=f"{start:%H:%M}",
                                           window_end=f"{end:%H:%M}", retry_days=retry_days,
                                           max_attempts=max_attempts, created_by=actor.username, rejected=rejected)
        for chunk in range(0, len(good), 500):
            ReminderTarget.insert_many([{**r, "campaign": campaign.id, "next_at": now}
                                        for r in good[chunk:chunk + 500]]).execute()
        audit(actor, "reminder.create", entity="reminder_campaign", record_id=campaign.id,
              detail={"targets": len(good), "rejected": len(rejected)})
        return int(campaign.id)


def _set_status(actor: Actor, campaign_id: int, status: str, reason: str | None = None) -> None:
    with session(), write_transaction():
        n = (ReminderCampaign.update(status=status, pause_reason=reason)
             .where(ReminderCampaign.id == campaign_id).execute())
        if not n:
            raise ReminderError(f"no reminder campaign {campaign_id}")
        audit(actor, f"reminder.{status}", entity="reminder_campaign", record_id=campaign_id, detail=reason)


def start(actor: Actor, campaign_id: int) -> None:
    """Start (or resume) a campaign: the dialler dials its due customers."""
    actor.require_permission(PERMISSION)
    _set_status(actor, campaign_id, "running")


def pause(actor: Actor, campaign_id: int, reason: str = "paused by a user") -> None:
    actor.require_permission(PERMISSION)
    _set_status(actor, campaign_id, "paused", reason)


def pause_for_link(campaign_id: int, reason: str) -> None:
    """The dialler cannot reach Asterisk: pause until the link is back (:func:`resume_after_link`)."""
    _set_status(Actor.system(), campaign_id, "paused", f"link: {reason}"[:255])


def resume_after_link() -> list[int]:
    """Campaigns paused for the Asterisk link run again; their ids."""
    with session(), write_transaction():
        ids = [c.id for c in ReminderCampaign.select(ReminderCampaign.id)
               .where((ReminderCampaign.status == "paused") & ReminderCampaign.pause_reason.startswith("link: "))]
        if ids:
            ReminderCampaign.update(status="running", pause_reason=None).where(ReminderCampaign.id.in_(ids)).execute()
    return [int(i) for i in ids]


def running() -> list[dict[str, Any]]:
    with session():
        return _dicts(ReminderCampaign.select().where(ReminderCampaign.status == "running"))


def attempt(attempt_id: int) -> dict[str, Any] | None:
    with session():
        found = ReminderAttempt.select().where(ReminderAttempt.id == attempt_id).dicts().first()
    return dict(found) if found is not None else None


def target(target_id: int) -> Target:
    with session():
        r = ReminderTarget.get_by_id(target_id)
    return Target(r.id, r.campaign, r.phone, r.amount, r.due_date, r.name, r.window, r.attempts)


def campaign(campaign_id: int) -> dict[str, Any]:
    with session():
        found = ReminderCampaign.select().where(ReminderCampaign.id == campaign_id).dicts().first()
    if found is None:
        raise ReminderError(f"no reminder campaign {campaign_id}")
    return dict(found)


def due_targets(campaign_id: int, now: datetime, limit: int = 100) -> list[Target]:
    """Pending customers whose next attempt is due (``now``: UTC, as stored)."""
    with session():
        query = (ReminderTarget.select()
                 .where((ReminderTarget.campaign == campaign_id) & (ReminderTarget.status == "pending")
                        & (ReminderTarget.next_at <= now))
                 .order_by(ReminderTarget.next_at, ReminderTarget.id).limit(limit))
        rows = _dicts(query)
        return [Target(r["id"], r["campaign"], r["phone"], r["amount"], r["due_date"], r["name"], r["window"],
                       r["attempts"]) for r in rows]


def in_window(camp: Mapping[str, Any], target: Target, local: datetime) -> bool:
    """Whether ``local`` (the centre's local time) is inside the number's calling window."""
    start, end = parse_window(target.window or f"{camp['window_start']}-{camp['window_end']}")
    return start <= local.time() < end


def begin_attempt(target: Target) -> int:
    """Write the attempt before dialling (the target is ``dialling``); the attempt's id."""
    with session(), write_transaction():
        ReminderTarget.update(status="dialling").where(ReminderTarget.id == target.id).execute()
        return int(ReminderAttempt.insert(campaign=target.campaign, target=target.id).execute())


def end_attempt(attempt_id: int, outcome: str, *, call_id: int | None = None, detail: str | None = None,
                now: datetime | None = None) -> None:
    """Complete an attempt and move its customer on: done, tried again ``retry_days`` later, or escalated
    after ``max_attempts``. ``refused`` (outside the window) uses no attempt: due again at once."""
    if outcome not in OUTCOMES:
        raise ReminderError(f"unknown attempt outcome {outcome!r}")
    now = now or utcnow()
    with session(), write_transaction():
        attempt = ReminderAttempt.get_by_id(attempt_id)
        target = ReminderTarget.get_by_id(attempt.target)
        camp = ReminderCampaign.get_by_id(attempt.campaign)
        ReminderAttempt.update(outcome=outcome, ended_at=now, call_id=call_id, detail=(detail or "")[:255] or None
                               ).where(ReminderAttempt.id == attempt_id).execute()
        attempts = target.attempts + (0 if outcome == "refused" else 1)
        values: dict[str, Any] = {"attempts": attempts, "last_outcome": outcome}
        if outcome in DONE:
            values.update(status=outcome, next_at=None)
        elif outcome == "refused":
            values.update(status="pending", next_at=now + timedelta(hours=1))
        elif attempts >= camp.max_attempts:
            values.update(status="unreached", escalated=True, next_at=None)
        else:
            values.update(status="pending", next_at=now + timedelta(days=camp.retry_days))
        ReminderTarget.update(**values).where(ReminderTarget.id == target.id).execute()


def release_attempt(attempt_id: int, reason: str) -> None:
    """An attempt that never reached the network (the Asterisk link was down): its customer is due again
    and keeps the attempt count; the attempt row stays, ``failed`` with the reason."""
    with session(), write_transaction():
        attempt = ReminderAttempt.get_by_id(attempt_id)
        ReminderAttempt.update(outcome="failed", ended_at=utcnow(), detail=f"not dialled: {reason}"[:255]
                               ).where(ReminderAttempt.id == attempt_id).execute()
        ReminderTarget.update(status="pending").where(ReminderTarget.id == attempt.target).execute()


def recover(now: datetime | None = None) -> int:
    """After a restart: attempts left ``dialling`` by an ended process are closed as ``failed`` and their
    customers dialled again (never lost, never counted twice); how many."""
    with session():
        open_ids = [a.id for a in ReminderAttempt.select(ReminderAttempt.id)
                    .where(ReminderAttempt.outcome == "dialling")]
    for attempt_id in open_ids:
        release_attempt(attempt_id, "interrupted")
    return len(open_ids)


def summary(campaign_id: int) -> dict[str, Any]:
    """Customers per state and attempts per outcome."""
    from peewee import fn

    with session():
        states = {r["status"]: r["n"] for r in _dicts(
            ReminderTarget.select(ReminderTarget.status, fn.COUNT(ReminderTarget.id).alias("n"))
            .where(ReminderTarget.campaign == campaign_id).group_by(ReminderTarget.status))}
        outcomes = {r["outcome"]: r["n"] for r in _dicts(
            ReminderAttempt.select(ReminderAttempt.outcome, fn.COUNT(ReminderAttempt.id).alias("n"))
            .where(ReminderAttempt.campaign == campaign_id).group_by(ReminderAttempt.outcome))}
    return {"targets": states, "attempts": outcomes, "total": sum(states.values())}


def attempts(campaign_id: int) -> list[dict[str, Any]]:
    with session():
        return _dicts(ReminderAttempt.select().where(ReminderAttempt.campaign == campaign_id)
                      .order_by(ReminderAttempt.id))


def list_campaigns(actor: Actor) -> list[dict[str, Any]]:
    """Every reminder campaign, newest first, with its customers per state (``campaigns.manage``)."""
    actor.require_permission(PERMISSION)
    with session():
        found = _dicts(ReminderCampaign.select().order_by(ReminderCampaign.id.desc()))
    return [{**c, "summary": summary(int(c["id"]))} for c in found]


def outcomes(actor: Actor, campaign_id: int, limit: int = 1000) -> list[dict[str, Any]]:
    """The campaign's attempts, newest first, with the number dialled (``campaigns.manage``)."""
    actor.require_permission(PERMISSION)
    with session():
        rows = _dicts(ReminderAttempt.select(ReminderAttempt, ReminderTarget.phone, ReminderTarget.name)
                      .join(ReminderTarget, on=(ReminderAttempt.target == ReminderTarget.id))
                      .where(ReminderAttempt.campaign == campaign_id)
                      .order_by(ReminderAttempt.id.desc()).limit(limit))
    return rows


def parse_list(text: str) -> list[dict[str, Any]]:
    """A pasted list, one customer a line: ``phone,amount,due_date[,name[,window]]`` (commas or tabs; a first
    line starting with ``phone`` is a header)."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"[,\t]", line)]
        if not line.strip() or cells[0].lower() == "phone":
            continue
        cells += [""] * (5 - len(cells))
        out.append({"phone": cells[0], "amount": cells[1], "due_date": cells[2], "name": cells[3] or None,
                    "window": cells[4] or None})
    return out


def escalations(actor: Actor, campaign_id: int) -> list[dict[str, Any]]:
    """The customers the campaign could not reach: the agents' list of who to call (export)."""
    actor.require_permission(PERMISSION)
    with session():
        return [{"phone": r["phone"], "customer_no": r["customer_no"], "name": r["name"], "amount": r["amount"],
                 "due_date": r["due_date"].isoformat() if r["due_date"] else None, "attempts": r["attempts"],
                 "last_outcome": r["last_outcome"]}
                for r in _dicts(ReminderTarget.select().where((ReminderTarget.campaign == campaign_id)
                                                              & (ReminderTarget.escalated == True))  # noqa: E712
                                .order_by(ReminderTarget.id))]


ESCALATION_COLUMNS = ("phone", "customer_no", "name", "amount", "due_date", "attempts", "last_outcome")
"""The columns of the escalation workbook (an agent campaign's import can read them by these headers)."""


def escalations_workbook(actor: Actor, campaign_id: int) -> bytes:
    """The unreached customers as an .xlsx (the agents' list of who to call; ``campaigns.manage``, audited)."""
    from helpline.services.excel import workbook_bytes

    rows = escalations(actor, campaign_id)
    with session(), write_transaction():
        audit(actor, "reminder.export", entity="reminder_campaign", record_id=campaign_id, detail={"rows": len(rows)})
    return workbook_bytes("unreached", ESCALATION_COLUMNS, ([r[c] for c in ESCALATION_COLUMNS] for r in rows))
