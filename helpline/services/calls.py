"""Call records: open one when a call arrives, close it with its trail and result, read them back.

The IVR writes through :class:`CallService` only: ``open`` at call start (so even a call whose
handler dies has a row), ``close`` once at the end with everything the call collected. Each write is
its own short transaction (``session()`` + ``atomic``); nothing is held across the call. Remembered
regions of numbers without a customer record live here too.

A PostgreSQL restart is ridden out: opening and closing retry while the connection is lost, for up to
``HELPLINE_DB_RECONNECT_S`` (``helpline.data.reconnect``), so no call's record or outcome is lost to it.

Every record notes the process serving it (``node``, :func:`process_node`), so that a process starting
later can tell the records an ended process left open (``open_records``, ``close_open``).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import datetime
from typing import Any

from peewee import fn

from helpline.data.base import utcnow
from helpline.data.calls import Call, CallerRegion
from helpline.data.database import db, session, write_transaction
from helpline.data.reconnect import is_disconnect, retry_disconnected
from helpline.services import stats_behind
from helpline.services.stats import add_call

log = logging.getLogger(__name__)

CLOSE_FIELDS = frozenset({
    "flow", "customer_id", "customer_name", "tier", "region", "city", "blacklisted", "result", "queue",
    "priority", "hangup_node", "error", "trail", "variables", "recording", "callback_number", "identify_ms",
    "dnid", "caller_number", "agent", "wait_s", "routed", "talk_s", "call_recording", "answered_at",
})
OPEN_FIELDS = CLOSE_FIELDS | {"uniqueid", "channel", "switch", "direction"}

_node: tuple[int, str] | None = None


def process_node() -> str:
    """This process as ``host:pid:token`` (the token tells a restarted process from an earlier one with the
    same pid, as in a container)."""
    global _node
    pid = os.getpid()
    if _node is None or _node[0] != pid:
        _node = (pid, f"{socket.gethostname()[:64]}:{pid}:{secrets.token_hex(4)}")
    return _node[1]


def node_alive(node: str | None) -> bool | None:
    """Is the process of ``node`` still running? False for this host's ended processes and for an earlier
    process of this pid; None for another host (or a record without a node: written before nodes existed)."""
    if not node:
        return None
    host, _, rest = node.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:64] or not pid_text.isdigit():
        return None
    if node == process_node():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _count(record: dict[str, Any]) -> None:
    """Add a closing record to the interval facts in the closing transaction (a savepoint: a failure is
    logged and leaves the close alone; ``run.py stats rebuild`` recounts). Outbound and internal calls are not
    inbound traffic: the interval facts leave them out. When this process's router journal runs, the record is
    only marked pending and the journal's next batch counts it (write-behind: :mod:`helpline.services.stats_behind`)."""
    if record.get("direction") not in (None, "inbound"):
        return
    try:
        with db.atomic():
            if stats_behind.active():
                stats_behind.mark(record["id"])
            else:
                add_call(record)
    except Exception as exc:
        if is_disconnect(exc):  # the close itself is lost too: let it be tried again whole
            raise
        log.exception("call %s: the statistics could not be updated", record.get("id"))


class CallService:
    """Reads and writes ``hl_call`` and ``hl_caller_region``; plain blocking functions."""

    def open(self, **values: Any) -> int:
        """Insert a call record (``started_at`` now) and return its id."""
        unknown = set(values) - OPEN_FIELDS
        if unknown:
            raise ValueError(f"unknown call fields: {', '.join(sorted(unknown))}")
        def insert() -> int:
            with session(), write_transaction():
                return int(Call.insert(started_at=utcnow(), node=process_node(), **values).execute())

        return retry_disconnected(insert, "opening a call record")

    def close(self, call_id: int, **values: Any) -> None:
        """Store the outcome of a call (``ended_at`` now). Never raises: a failure is logged."""
        unknown = set(values) - CLOSE_FIELDS
        if unknown:
            raise ValueError(f"unknown call fields: {', '.join(sorted(unknown))}")
        def update() -> None:
            with session(), write_transaction():
                before = Call.select().where(Call.id == call_id).dicts().first()
                now = utcnow()
                Call.update(ended_at=now, **values).where(Call.id == call_id).execute()
                if before is not None and before["ended_at"] is None:  # counted once, when it closes
                    _count({**before, **values, "ended_at": now})

        try:
            retry_disconnected(update, f"closing call record {call_id}")
        except Exception:
            log.exception("call %s: the call record could not be closed", call_id)

    def open_records(self, before: datetime | None = None) -> list[dict[str, Any]]:
        """Records without ``ended_at`` (started before ``before`` if given): id, uniqueid, channel, switch,
        node, started_at."""
        query = (Call.select(Call.id, Call.uniqueid, Call.channel, Call.switch, Call.node, Call.started_at)
                 .where(Call.ended_at.is_null()).order_by(Call.id))
        if before is not None:
            query = query.where(Call.started_at < before)
        with session():
            rows: list[Any] = list(query.dicts())
        return [dict(row) for row in rows]

    def close_open(self, *, call_id: int | None = None, uniqueid: str | None = None, **values: Any) -> int:
        """Close the record ``call_id`` (or every record of ``uniqueid``) if it is still open; how many were."""
        unknown = set(values) - CLOSE_FIELDS
        if unknown:
            raise ValueError(f"unknown call fields: {', '.join(sorted(unknown))}")
        if (call_id is None) == (uniqueid is None):
            raise ValueError("give call_id or uniqueid")
        which = (Call.id == call_id if call_id is not None else Call.uniqueid == uniqueid) & Call.ended_at.is_null()

        def update() -> int:
            with session(), write_transaction():
                found: list[Any] = list(Call.select().where(which).order_by(Call.id).dicts())
                now = utcnow()
                closed = int(Call.update(ended_at=now, **values).where(which).execute())
                for before in found:
                    _count({**before, **values, "ended_at": now})
                return closed

        return retry_disconnected(update, "closing open call records")

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
