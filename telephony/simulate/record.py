"""Write a simulated run's calls into the database as call records, so that the statistics and the reports
show the simulated day (``run.py simulate --write-calls DATE``).

Each call becomes a closed ``hl_call`` row (``switch = simulated``): it started at ``DATE`` + its arrival time
(the centre's date and clock, ``HELPLINE_TIME_ZONE``; stored in UTC like every call),
waited, was answered (then talked its handle time), abandoned or timed out, in the queue of its skill, with its
tier. The day's interval facts are then rebuilt from them (:func:`helpline.services.stats.rebuild`), so the
reports of that day count exactly the simulated calls; calls of the warm-up are written too (the simulator's
own report leaves them out: compare after the warm-up).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from helpline.data.base import centre_day_of, centre_zone
from helpline.data.calls import Call
from helpline.data.database import session, write_transaction
from helpline.services import stats

from .engine import RunResult

RESULTS = {"answered": "connected", "abandoned": "hangup", "timeout": "timeout", "empty": "empty"}


def write_calls(result: RunResult, day: date, *, prefix: str = "sim", at: time = time(0)) -> int:
    """Insert the run's calls as records of the centre's ``day``, the run starting at ``at`` o'clock there, and
    rebuild the facts of the days they fall on; returns how many."""
    start = datetime.combine(day, at, centre_zone()).astimezone(UTC).replace(tzinfo=None)
    rows: list[dict[str, Any]] = []
    for record in result.records:
        call = record.call
        started = start + timedelta(seconds=call.arrival_s)
        talk = call.handle_s if record.how == "answered" else 0.0
        rows.append({"uniqueid": f"{prefix}-{result.seed}-{call.call_id}", "switch": "simulated", "flow": "simulated",
                     "started_at": started, "ended_at": started + timedelta(seconds=record.wait_s + talk),
                     "tier": call.tier, "queue": call.skill, "routed": record.how, "wait_s": round(record.wait_s, 3),
                     "talk_s": round(talk, 3) if talk else None, "agent": record.agent_id,
                     "result": RESULTS.get(record.how, record.how)})
    with session(), write_transaction():
        for i in range(0, len(rows), 500):
            Call.insert_many(rows[i:i + 500]).execute()
    last = max((centre_day_of(r["started_at"]) for r in rows), default=day)
    stats.rebuild(day, last)
    return len(rows)
