"""The call-back queue's work: tasks made from IVR requests, voice messages and work orders, their attempts and
outcomes, the due time per tier, and the supervisors' list of them.

A task (``hl_callback``) is ``open`` until an agent records an outcome that ends it: ``reached`` (the customer
was spoken to), ``wrong_number``, or ``no_answer`` on the last allowed attempt (``gave_up``). ``no_answer``
before that sets ``next_attempt_at`` = now + the routing's ``callbacks.retry_after_s``. Every attempt is kept
(``hl_callback_attempt``). The policy (attempts, retry interval, due time per tier) is the ``callbacks`` block
of the ``main`` routing. Offering tasks to agents is the router's business (``telephony.callbacks``); this
module only keeps the table right::

    policy = policy_of(platform.metadata)
    task = create(number="13800000000", queue="general", tier="gold", source="ivr", policy=policy, call_id=42)
    attempt = start_attempt(task["id"], "1001", "agent1")
    finish(task["id"], "1001", "agent1", "no_answer", "", policy)   # → open again, next attempt later

Permissions: an agent works tasks with ``agent.callback`` (checked by the desk); the list, the cancel and
the overdue figures need ``supervisor.callbacks``. Writes are audited (entity ``hl_callback``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peewee import fn

from helpline.data.base import utcnow
from helpline.data.callbacks import CallbackAttempt, CallbackTask
from helpline.data.database import session, write_transaction
from helpline.metadata.kinds.routing import Routing
from helpline.metadata.metaset import MetadataSet
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

if TYPE_CHECKING:
    from .platform import Platform
    from .workflow.engine import TransitionEvent

__all__ = ["OUTCOMES", "CallbackError", "CallbackPolicy", "attempts", "cancel", "create", "finish", "list_tasks",
           "open_tasks", "overdue_count", "policy_of", "start_attempt", "task", "voice_message"]

log = logging.getLogger(__name__)

OUTCOMES = ("reached", "no_answer", "wrong_number")
"""What an agent records after trying: the first and last close the task; ``no_answer`` retries later."""
SOURCES = ("ivr", "message", "workorder")


class CallbackError(ValueError):
    """A call-back operation refused (bad number, unknown or closed task, unknown outcome ...)."""


@dataclass(frozen=True)
class CallbackPolicy:
    attempts: int = 3
    retry_after_s: float = 1800.0
    due: dict[str, float] = field(default_factory=dict)
    due_default_s: float = 14400.0
    queue: str | None = None
    queues: tuple[str, ...] = ()
    """Every queue the routing defines (a task's queue must be one)."""

    def due_in(self, tier: str | None) -> float:
        """Seconds within which a customer of ``tier`` must be called back."""
        return self.due.get(tier or "", self.due_default_s)

    def default_queue(self) -> str | None:
        return self.queue or (self.queues[0] if self.queues else None)


def policy_of(metadata: MetadataSet) -> CallbackPolicy:
    """The ``callbacks`` block of the ``main`` routing (else the first by name); defaults without one."""
    routings = sorted((r for r in metadata.objects.get("routing", {}).values() if isinstance(r, Routing)),
                      key=lambda r: (r.name != "main", r.name))
    queues = tuple(q.name for r in routings for q in r.queues)
    if not routings:
        return CallbackPolicy(queues=queues)
    spec = routings[0].callbacks
    return CallbackPolicy(attempts=spec.attempts, retry_after_s=float(spec.retry_after_s),
                          due={str(k): float(v) for k, v in spec.due.items()},
                          due_default_s=float(spec.due_default_s), queue=spec.queue, queues=queues)


def _row(t: CallbackTask, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {
        "id": t.id, "created_at": t.created_at, "source": t.source, "call_id": t.call_id, "number": t.number,
        "customer_id": t.customer_id, "customer_name": t.customer_name, "tier": t.tier, "region": t.region,
        "city": t.city, "queue": t.queue, "recording": t.recording, "entity": t.entity, "record_id": t.record_id,
        "status": t.status, "outcome": t.outcome, "attempts": t.attempts, "max_attempts": t.max_attempts,
        "next_attempt_at": t.next_attempt_at, "due_at": t.due_at, "closed_at": t.closed_at, "agent": t.agent,
        "note": t.note, "overdue": t.status == "open" and t.due_at < now,
    }


def clean_number(number: str | None) -> str:
    """The digits of a phone number to call back (a leading + kept); ``CallbackError`` when it is none."""
    text = "".join(ch for ch in str(number or "") if ch.isdigit() or ch == "+")
    digits = text.lstrip("+")
    if not digits.isdigit() or not 3 <= len(digits) <= 20 or "+" in digits:
        raise CallbackError(f"'{number}' is not a phone number to call back")
    return text


def create(*, number: str | None, queue: str, tier: str | None, source: str, policy: CallbackPolicy,
           call_id: int | None = None, customer_id: int | None = None, customer_name: str | None = None,
           region: str | None = None, city: str | None = None, recording: str | None = None,
           entity: str | None = None, record_id: int | None = None, by: str = "system",
           now: datetime | None = None) -> dict[str, Any]:
    """A new open task (due by the tier's time). A number that already has an open task gets no second one:
    that task takes the newer voice message and the earlier due time, and is returned."""
    if source not in SOURCES:
        raise CallbackError(f"unknown call-back source '{source}' ({', '.join(SOURCES)})")
    if policy.queues and queue not in policy.queues:
        raise CallbackError(f"unknown queue '{queue}' for a call-back")
    clean = clean_number(number)
    now = now or utcnow()
    tier = tier or "ordinary"
    due = now + timedelta(seconds=policy.due_in(tier))
    with session(), write_transaction():
        existing = (CallbackTask.select().where((CallbackTask.number == clean) & (CallbackTask.status == "open"))
                    .order_by(CallbackTask.id).first())
        if existing is not None:
            changes: dict[str, Any] = {}
            if recording:
                changes["recording"] = recording
            if due < existing.due_at:
                changes["due_at"] = due
            if changes:
                CallbackTask.update(**changes).where(CallbackTask.id == existing.id).execute()
            audit(by, "callback.again", entity="hl_callback", record_id=existing.id,
                  detail={"source": source, "call_id": call_id, "recording": recording})
            return _row(CallbackTask.get_by_id(existing.id), now)
        created = CallbackTask.create(
            created_at=now, source=source, call_id=call_id, number=clean, customer_id=customer_id,
            customer_name=(customer_name or None) and str(customer_name)[:128], tier=tier, region=region,
            city=city, queue=queue, recording=recording, entity=entity, record_id=record_id, status="open",
            attempts=0, max_attempts=policy.attempts, next_attempt_at=now, due_at=due)
        audit(by, "callback.create", entity="hl_callback", record_id=created.id,
              detail={"source": source, "call_id": call_id, "queue": queue, "tier": tier})
        return _row(created, now)


def task(task_id: int) -> dict[str, Any] | None:
    with session():
        found = CallbackTask.get_or_none(CallbackTask.id == task_id)
        return _row(found) if found is not None else None


def open_tasks() -> list[dict[str, Any]]:
    """Every open task, oldest first (what the router must hold)."""
    with session():
        now = utcnow()
        return [_row(t, now) for t in CallbackTask.select().where(CallbackTask.status == "open")
                .order_by(CallbackTask.id)]


def start_attempt(task_id: int, agent: str, username: str) -> int:
    """An agent took the task: a new attempt (an attempt left open by the same task is ended first)."""
    with session(), write_transaction():
        found = CallbackTask.get_or_none(CallbackTask.id == task_id)
        if found is None or found.status != "open":
            raise CallbackError(f"call-back {task_id} is not open")
        (CallbackAttempt.update(ended_at=utcnow(), outcome="interrupted")
         .where((CallbackAttempt.task_id == task_id) & CallbackAttempt.ended_at.is_null()).execute())
        attempt = CallbackAttempt.create(task_id=task_id, agent=agent, username=username)
        CallbackTask.update(agent=agent).where(CallbackTask.id == task_id).execute()
        audit(username, "callback.take", entity="hl_callback", record_id=task_id, detail={"agent": agent})
        return int(attempt.id)


def finish(task_id: int, agent: str, username: str, outcome: str, note: str, policy: CallbackPolicy,
           now: datetime | None = None) -> dict[str, Any]:
    """Record the outcome of the agent's attempt; returns the task after it (open with a later
    ``next_attempt_at``, or closed)."""
    if outcome not in OUTCOMES:
        raise CallbackError(f"unknown outcome '{outcome}' ({', '.join(OUTCOMES)})")
    now = now or utcnow()
    note = (note or "").strip()[:500]
    with session(), write_transaction():
        found = CallbackTask.get_or_none(CallbackTask.id == task_id)
        if found is None or found.status != "open":
            raise CallbackError(f"call-back {task_id} is not open")
        attempt = (CallbackAttempt.select().where((CallbackAttempt.task_id == task_id)
                                                  & (CallbackAttempt.agent == agent)
                                                  & CallbackAttempt.ended_at.is_null())
                   .order_by(CallbackAttempt.id.desc()).first())
        if attempt is None:
            raise CallbackError(f"agent {agent} has not taken call-back {task_id}")
        CallbackAttempt.update(ended_at=now, outcome=outcome, note=note).where(
            CallbackAttempt.id == attempt.id).execute()
        tries = found.attempts + 1
        changes: dict[str, Any] = {"attempts": tries, "agent": agent, "note": note or found.note}
        if outcome == "no_answer" and tries < found.max_attempts:
            changes["next_attempt_at"] = now + timedelta(seconds=policy.retry_after_s)
        else:
            changes.update(status="closed", closed_at=now,
                           outcome="gave_up" if outcome == "no_answer" else outcome)
        CallbackTask.update(**changes).where(CallbackTask.id == task_id).execute()
        audit(username, "callback.outcome", entity="hl_callback", record_id=task_id,
              detail={"agent": agent, "outcome": outcome, "attempt": tries, "note": note or None})
        return _row(CallbackTask.get_by_id(task_id), now)


def dialled(task_id: int, agent: str, call_id: int, result: str | None = None) -> None:
    """The agent's open attempt placed outbound call ``call_id`` (``result``: how the switch ended it)."""
    with session(), write_transaction():
        (CallbackAttempt.update(call_id=call_id, dial_result=result)
         .where((CallbackAttempt.task_id == task_id) & (CallbackAttempt.agent == agent)
                & CallbackAttempt.ended_at.is_null()).execute())


def attempts(task_id: int) -> list[dict[str, Any]]:
    """The task's attempt history, oldest first."""
    with session():
        return [{"agent": a.agent, "username": a.username, "started_at": a.started_at, "ended_at": a.ended_at,
                 "outcome": a.outcome, "note": a.note, "call_id": a.call_id, "dial_result": a.dial_result}
                for a in CallbackAttempt.select().where(CallbackAttempt.task_id == task_id)
                .order_by(CallbackAttempt.id)]


def list_tasks(actor: Actor, *, status: str | None = "open", overdue: bool = False, tier: str | None = None,
               queue: str | None = None, agent: str | None = None, source: str | None = None,
               limit: int = 500, now: datetime | None = None) -> list[dict[str, Any]]:
    """Tasks for the supervisors' list (``supervisor.callbacks``), the most urgent first."""
    actor.require_permission("supervisor.callbacks")
    now = now or utcnow()
    with session():
        q = CallbackTask.select()
        if status:
            q = q.where(CallbackTask.status == status)
        if overdue:
            q = q.where((CallbackTask.status == "open") & (CallbackTask.due_at < now))
        for column, value in ((CallbackTask.tier, tier), (CallbackTask.queue, queue), (CallbackTask.agent, agent),
                              (CallbackTask.source, source)):
            if value:
                q = q.where(column == value)
        return [_row(t, now) for t in q.order_by(CallbackTask.due_at, CallbackTask.id).limit(max(1, limit))]


def overdue_count(now: datetime | None = None) -> dict[str, int]:
    """Open tasks past their due time, per tier (for the wallboard and reports)."""
    now = now or utcnow()
    with session():
        rows: list[Any] = list(
            CallbackTask.select(CallbackTask.tier, fn.COUNT(CallbackTask.id).alias("n"))
            .where((CallbackTask.status == "open") & (CallbackTask.due_at < now))
            .group_by(CallbackTask.tier).tuples())
        return {str(tier): int(n) for tier, n in rows}


def cancel(actor: Actor, task_id: int, note: str) -> dict[str, Any]:
    """A supervisor closes an open task without calling (``supervisor.callbacks``; a note is required)."""
    actor.require_permission("supervisor.callbacks")
    if not (note or "").strip():
        raise CallbackError("say why the call-back is cancelled")
    now = utcnow()
    with session(), write_transaction():
        n = (CallbackTask.update(status="closed", outcome="cancelled", closed_at=now, note=note.strip()[:500])
             .where((CallbackTask.id == task_id) & (CallbackTask.status == "open")).execute())
        if n != 1:
            raise CallbackError(f"call-back {task_id} is not open")
        audit(actor, "callback.cancel", entity="hl_callback", record_id=task_id, detail={"note": note.strip()})
        return _row(CallbackTask.get_by_id(task_id), now)


def voice_message(actor: Actor, task_id: int) -> Path:
    """The file of a task's voice message, for an agent who works call-backs (``agent.callback``) or a
    supervisor (``supervisor.callbacks``); refusals and plays are audited. Served like call recordings (from the
    recordings folder, ``helpline.services.recordings.folder``)."""
    from .recordings import RecordingMissing, folder

    with session():
        found = CallbackTask.get_or_none(CallbackTask.id == task_id)
        if not (actor.has("agent.callback") or actor.has("supervisor.callbacks")):
            reason = f"user '{actor.username}' lacks the permission 'agent.callback'"
            audit(actor, "denied", entity="hl_callback", record_id=task_id,
                  detail={"kind": "voice_message", "reason": reason})
            raise PermissionDenied(reason)
        name = found.recording if found is not None else None
        if not name:
            raise RecordingMissing(f"call-back {task_id} has no voice message")
        base = folder().resolve()
        path: Path = (base / str(name)).resolve()
        if base not in path.parents:
            raise RecordingMissing(f"call-back {task_id}: the message name points outside the recordings folder")
        if not path.is_file():
            raise RecordingMissing(f"the voice message of call-back {task_id} is no longer there ({name})")
        audit(actor, "callback.message", entity="hl_callback", record_id=task_id, detail={"file": name})
    return path


# -------------------------------------------------------------------------------- work orders (workflows)
def on_transition(platform: Platform, event: TransitionEvent) -> None:
    """A transition with the effect ``callback: true`` (a work order's reply-to-the-customer step) opens a task
    to the record's customer: ``caller_number`` of the record, else the customer's phone. In the transition's
    transaction; a record without a number to call opens none (logged)."""
    if not event.callbacks:
        return
    record = event.record
    customer: dict[str, Any] = {}
    customer_id = record.get("customer")
    if customer_id and "customer" in platform.models:
        model = platform.models["customer"]
        row = model.select().where(model.id == int(customer_id)).dicts().first()
        customer = dict(row or {})
    number = record.get("caller_number") or customer.get("phone") or customer.get("phone2")
    policy = policy_of(platform.metadata)
    queue = policy.default_queue()
    if not number or queue is None:
        log.info("%s %s: no number to call back", event.workflow.entity, record.get("id"))
        return
    try:
        create(number=str(number), queue=queue, tier=customer.get("value_tier"), source="workorder",
               policy=policy, customer_id=int(customer_id) if customer_id else None,
               customer_name=customer.get("name"), region=customer.get("county") or customer.get("city"),
               city=customer.get("city"), entity=event.workflow.entity,
               record_id=int(record["id"]) if record.get("id") else None, by=event.actor.username)
    except CallbackError as exc:
        log.info("%s %s: no call-back: %s", event.workflow.entity, record.get("id"), exc)


def install(platform: Platform) -> None:
    """Have ``callback: true`` effects of the platform's workflows open tasks (called when it is made)."""
    platform.workflows.listeners.append(lambda event: on_transition(platform, event))
