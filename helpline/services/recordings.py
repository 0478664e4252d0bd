"""Call recordings: where they are, who may play them, and how long they are kept.

Asterisk's MixMonitor writes ``<folder>/helpline/<date>/<call id>-<agent>.wav`` (the IVR asks for it when
the queue's ``record`` is on; the name is on the call record, ``call_recording``). The folder is
``HELPLINE_RECORDINGS`` (default ``var/recordings``; in production the Asterisk monitor folder, shared).
Playing one needs ``supervisor.recordings`` and is audited. :func:`purge` deletes the recordings older
than the routing's ``recording_retention_days`` (default 93: the requirements ask for at least three
months) and clears their names on the call records; ``run.py serve`` runs it once a day.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

from helpline.data.calls import Call
from helpline.data.database import session, write_transaction
from helpline.security.actor import Actor
from helpline.security.audit import audit

__all__ = ["RecordingMissing", "folder", "purge", "recording_file"]


class RecordingMissing(LookupError):
    """The call has no recording, or its file is gone (deleted by retention, never written)."""


def folder() -> Path:
    return Path(os.environ.get("HELPLINE_RECORDINGS") or "var/recordings")


def recording_file(actor: Actor, call_id: int) -> Path:
    """The file of a call's recording for ``actor`` (``supervisor.recordings``; audited)."""
    actor.require_permission("supervisor.recordings")
    with session():
        row = Call.select(Call.call_recording).where(Call.id == call_id).first()
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
    today = today or date.today()
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
    cutoff = datetime.combine(limit, datetime.min.time())
    with session(), write_transaction():
        cleared = (Call.update(call_recording=None)
                   .where(Call.call_recording.is_null(False), Call.started_at < cutoff).execute())
    return {"files": removed, "records": int(cleared), "before": int(limit.strftime("%Y%m%d"))}
