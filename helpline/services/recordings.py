"""Call recordings: where they are, who may play them, and how long they are kept.

Asterisk's MixMonitor writes ``<folder>/helpline/<date>/<call id>-<agent>.wav`` (the IVR asks for it when
the queue's ``record`` is on; the name is on the call record, ``call_recording``). The folder is
``HELPLINE_RECORDINGS`` (default ``var/recordings``; in production the Asterisk monitor folder, shared).
Playing one needs ``supervisor.recordings`` and, for a user who reads customers through a row scope, a caller
within it (a call takes its customer's scope, as contact records do); every play and every refusal is audited.
:func:`purge` deletes the recordings older than the routing's ``recording_retention_days`` (default 93: the
requirements ask for at least three months) and clears their names on the call records; ``run.py serve`` runs
it once a day.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpline.data.base import centre_midnight, centre_today
from helpline.data.calls import Call
from helpline.data.database import session, write_transaction
from helpline.data.query import ListQuery, build_select
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

if TYPE_CHECKING:
    from .platform import Platform

CUSTOMER = "customer"
"""The entity a call's ``customer_id`` points at (the IVR identifies callers in it)."""

__all__ = ["RecordingMissing", "calls_visible", "folder", "purge", "recording_file", "recording_name"]


class RecordingMissing(LookupError):
    """The call has no recording, or its file is gone (deleted by retention, never written)."""


def folder() -> Path:
    return Path(os.environ.get("HELPLINE_RECORDINGS") or "var/recordings")


def recording_name(call_id: int, agent: str) -> str:
    """``helpline/2026-11-23/42-1001``: a folder per day (retention deletes whole days), relative to the
    recordings folder Asterisk's MixMonitor writes to (the switch adds ``.wav``)."""
    return f"helpline/{centre_today().isoformat()}/{call_id}-{agent}"


def calls_visible(actor: Actor, platform: Platform) -> Any:
    """A condition on :class:`Call` for the calls ``actor`` may list (None: every call): for a user who reads
    customers through a row scope, calls with no customer or with a customer in that scope."""
    if actor.is_system or not actor.can(CUSTOMER, "read") or actor.scopes(CUSTOMER) is None:
        return None
    customers, compiler = build_select(platform.models, ListQuery(entity=CUSTOMER,
                                                                  scope=platform.records.scope(actor, CUSTOMER)))
    return Call.customer_id.is_null() | Call.customer_id.in_(customers.select(compiler.model.id).order_by())


def _outside(actor: Actor, platform: Platform | None, customer_id: int) -> bool:
    """Whether the call's customer lies outside the actor's row scope (without ``platform`` a scoped actor is
    refused: the scope cannot be evaluated)."""
    if actor.is_system or not actor.can(CUSTOMER, "read") or actor.scopes(CUSTOMER) is None:
        return False
    if platform is None:
        return True
    return not platform.records.in_scope(actor, CUSTOMER, customer_id)


def recording_file(actor: Actor, call_id: int, *, platform: Platform | None = None) -> Path:
    """The file of a call's recording for ``actor`` (``supervisor.recordings`` and, with a row scope on
    customers, a caller within it — pass ``platform`` to evaluate it). Plays and refusals are audited."""
    with session():
        row = Call.select(Call.call_recording, Call.customer_id).where(Call.id == call_id).first()
        reason = None
        if not actor.has("supervisor.recordings"):
            reason = f"user '{actor.username}' lacks the permission 'supervisor.recordings'"
        elif row is not None and row.customer_id is not None and _outside(actor, platform, int(row.customer_id)):
            reason = f"the caller of call {call_id} is outside the row scope of user '{actor.username}'"
        if reason is not None:
            audit(actor, "denied", entity="hl_call", record_id=call_id,
                  detail={"kind": "recording", "path": f"/recordings/{call_id}", "reason": reason})
            raise PermissionDenied(reason)
        name = row.call_recording if row is not None else None
        if not name:
            raise RecordingMissing(f"call {call_id} has no recording")
        base = folder().resolve()
        path: Path = (base / str(name)).resolve()
        if base not in path.parents:
            raise RecordingMissing(f"call {call_id}: the recording name points outside the recordings folder")
        if not path.is_file():
            raise RecordingMissing(f"the recording of call {call_id} is no longer there ({name})")
        audit(actor, "recording.play", entity="hl_call", record_id=call_id, detail={"file": name})
    return path


def purge(retention_days: int, *, today: date | None = None) -> dict[str, int]:
    """Delete day folders older than the retention and clear the names on their call records."""
    today = today or centre_today()
    limit = today - timedelta(days=retention_days)
    base = folder() / "helpline"
    removed = 0
    if base.is_dir():
        for day in base.iterdir():
            try:
                when = date.fromisoformat(day.name)
            except ValueError:
                continue  # not a day folder: never touched
            if when < limit and day.is_dir():
                removed += sum(1 for _ in day.glob("*.wav"))
                shutil.rmtree(day, ignore_errors=True)
    cutoff = centre_midnight(limit)  # the centre's day, like the folders
    with session(), write_transaction():
        cleared = (Call.update(call_recording=None)
                   .where(Call.call_recording.is_null(False), Call.started_at < cutoff).execute())
    return {"files": removed, "records": int(cleared), "before": int(limit.strftime("%Y%m%d"))}
