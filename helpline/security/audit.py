"""The audit log: every change (before/after), every read of customer data, every login and publish."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from helpline.data.entities import rows
from helpline.data.system import AuditEntry

from .actor import Actor


def audit(actor: Actor | str, action: str, *, entity: str | None = None, record_id: object = None,
          before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
          detail: Any = None) -> None:
    """Write one audit entry (inside the caller's connection/transaction)."""
    name = actor.username if isinstance(actor, Actor) else actor
    AuditEntry.create(actor=name, action=action, entity=entity,
                      record_id=None if record_id is None else str(record_id),
                      before=before, after=after, detail=detail)


def search_audit(*, actor: str | None = None, action: str | None = None, entity: str | None = None,
                 record_id: str | None = None, since: datetime | None = None, until: datetime | None = None,
                 page: int = 1, page_size: int = 50) -> list[dict[str, Any]]:
    q = AuditEntry.select()
    if actor:
        q = q.where(AuditEntry.actor == actor)
    if action:
        q = q.where(AuditEntry.action == action)
    if entity:
        q = q.where(AuditEntry.entity == entity)
    if record_id:
        q = q.where(AuditEntry.record_id == record_id)
    if since:
        q = q.where(AuditEntry.at >= since)
    if until:
        q = q.where(AuditEntry.at < until)
    return rows(q.order_by(AuditEntry.id.desc()).paginate(page, page_size))


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
