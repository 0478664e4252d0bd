"""Call records: open one when a call arrives, close it with its trail and result, read them back.

The IVR writes through :class:`CallService` only: ``open`` at call start (so even a call whose
handler dies has a row), ``close`` once at the end with everything the call collected. Each write is
its own short transaction (``session()`` + ``atomic``); nothing is held across the call. Remembered
regions of numbers without a customer record live here too.
"""

from __future__ import annotations

import logging
from typing import Any

from peewee import fn

from helpline.data.base import utcnow
from helpline.data.calls import Call, CallerRegion
from helpline.data.database import session, write_transaction

log = logging.getLogger(__name__)

CLOSE_FIELDS = frozenset({
    "flow", "customer_id", "customer_name", "tier", "region", "city", "blacklisted", "result", "queue",
    "priority", "hangup_node", "error", "trail", "variables", "recording", "callback_number", "identify_ms",
    "dnid", "caller_number", "agent", "wait_s", "routed", "talk_s", "call_recording",
})
OPEN_FIELDS = CLOSE_FIELDS | {"uniqueid", "channel", "switch"}


class CallService:
    """Reads and writes ``hl_call`` and ``hl_caller_region``; plain blocking functions."""

    def open(self, **values: Any) -> int:
        """Insert a call record (``started_at`` now) and return its id."""
        unknown = set(values) - OPEN_FIELDS
        if unknown:
            raise ValueError(f"unknown call fields: {', '.join(sorted(unknown))}")
        with session(), write_transaction():
            return int(Call.insert(started_at=utcnow(), **values).execute())

    def close(self, call_id: int, **values: Any) -> None:
        """Store the outcome of a call (``ended_at`` now). Never raises: a failure is logged."""
        unknown = set(values) - CLOSE_FIELDS
        if unknown:
            raise ValueError(f"unknown call fields: {', '.join(sorted(unknown))}")
        try:
            with session(), write_transaction():
                Call.update(ended_at=utcnow(), **values).where(Call.id == call_id).execute()
        except Exception:
            log.exception("call %s: the call record could not be closed", call_id)

    def get(self, call_id: int) -> dict[str, Any] | None:
        """One call record as a dict, or None."""
        with session():
            rows: list[Any] = list(Call.select().where(Call.id == call_id).dicts())
        return dict(rows[0]) if rows else None

    def recent(self, limit: int = 50, *, caller_number: str | None = None) -> list[dict[str, Any]]:
        """The newest calls first (of one caller number if given)."""
        query = Call.select().order_by(Call.id.desc()).limit(limit)
        if caller_number:
            query = query.where(Call.caller_number == caller_number)
        with session():
            found: list[Any] = list(query.dicts())
            return [dict(r) for r in found]

    def count(self) -> int:
        with session():
            return int(Call.select(fn.COUNT(Call.id)).scalar() or 0)

    # -- remembered regions -----------------------------------------------------------------------
    def remembered_region(self, number: str) -> str | None:
        """The region a number was last found in, or None."""
        if not number:
            return None
        with session():
            row = CallerRegion.select(CallerRegion.region).where(CallerRegion.number == number).first()
        return str(row.region) if row is not None else None

    def remember_region(self, number: str, region: str) -> None:
        """Remember (or update) the region of a number; never raises."""
        if not number or not region:
            return
        try:
            with session(), write_transaction():
                updated = (CallerRegion.update(region=region, calls=CallerRegion.calls + 1, seen_at=utcnow())
                           .where(CallerRegion.number == number).execute())
                if not updated:
                    CallerRegion.insert(number=number, region=region).on_conflict_ignore().execute()
        except Exception:
            log.exception("could not remember the region of %s", number)
