"""``SharedChannels``: the channel registry of cluster mode, in PostgreSQL, read and written by every instance.

In one process the FastAGI handlers and the AMI call control share :data:`~telephony.control.channels.CHANNELS`
in memory. In cluster mode (``HELPLINE_CLUSTER=on``) a caller's FastAGI session may run on instance A while the
agent's desktop (and so the call control acting for it) is on B; Asterisk's channel names are global to the
switch and every instance reaches its manager, so the registry's entries live in the table ``hl_call_channel``
(one row a call: the :class:`~telephony.control.channels.CallChannels` fields, the instance that wrote it last,
when). ``CHANNELS.share(SharedChannels(url, instance))`` turns the process-wide registry into a front of this
table (``telephony.control.channels``); ``run.py serve``/``agi`` do so in cluster mode.

Each method is one short transaction on a connection of its own (``application_name`` ``hl-channels
<instance>``), retried through a database restart like the router's command log
(``telephony.router.logconn``). Every instance receives Asterisk's ``Hangup`` events and runs
:meth:`channel_gone`: the first to delete a call's row returns it, the others find nothing (their own
``when_gone`` callbacks run anyway, see ``ChannelRegistry``). At most ``limit`` rows are kept (the oldest
changed go first), so hang-ups missed while no instance was connected cannot make the table grow without end.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

from telephony.control.channels import CallChannels
from telephony.router.logconn import connect, retrying

__all__ = ["SharedChannels"]

T = TypeVar("T")
COLUMNS = tuple(f.name for f in fields(CallChannels))
"""call_id, caller, agent, endpoint, held, consult, detached."""
_SELECT = ", ".join(COLUMNS)
TABLE = ("""CREATE TABLE IF NOT EXISTS hl_call_channel (call_id bigint PRIMARY KEY, caller text, agent text,
    endpoint text, held boolean NOT NULL DEFAULT false, consult text, detached boolean NOT NULL DEFAULT false,
    instance text NOT NULL, changed_at timestamptz NOT NULL DEFAULT clock_timestamp())""",
         "CREATE INDEX IF NOT EXISTS hl_call_channel_caller ON hl_call_channel (caller)",
         "CREATE INDEX IF NOT EXISTS hl_call_channel_agent ON hl_call_channel (agent)",
         "CREATE INDEX IF NOT EXISTS hl_call_channel_changed ON hl_call_channel (changed_at)")
PRUNE_EVERY = 256
"""Rows past the limit are deleted after this many new entries."""


def _entry(row: Any) -> CallChannels | None:
    return None if row is None else CallChannels(*row)


class SharedChannels:
    """The registry's entries in ``hl_call_channel`` (see the module docstring)."""

    def __init__(self, url: str, instance: str, *, limit: int = 10_000, within_s: float | None = None) -> None:
        if limit < 1:
            raise ValueError("limit must be positive")
        self.url, self.instance, self.limit, self.within_s = url, instance, limit, within_s
        self._lock = threading.Lock()
        self._conn: Any = None
        self._added = 0
        self._run(lambda cur: [cur.execute(sql) for sql in TABLE])

    # ---------------------------------------------------------------------------------- plumbing
    def _run(self, work: Callable[[Any], T]) -> T:
        def attempt(_: int) -> T:
            if self._conn is None or self._conn.closed:
                self._conn = connect(self.url, f"hl-channels {self.instance}", autocommit=False)
            with self._conn.cursor() as cur:
                result = work(cur)
            self._conn.commit()
            return result

        with self._lock:
            return retrying(attempt, f"call channels {self.instance}", reset=self._drop, within_s=self.within_s)

    def _drop(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()
        self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()

    # ---------------------------------------------------------------------------------- writing
    def set(self, call_id: int, **values: Any) -> CallChannels:
        """Create or change the entry of ``call_id`` (the fields given)."""
        names = _names(values)

        def work(cur: Any) -> CallChannels:
            cur.execute(f"INSERT INTO hl_call_channel (call_id, instance, {', '.join(names)}) VALUES "
                        f"(%s, %s{', %s' * len(names)}) ON CONFLICT (call_id) DO UPDATE SET "
                        + ", ".join(f"{n} = EXCLUDED.{n}" for n in names)
                        + f", instance = EXCLUDED.instance, changed_at = clock_timestamp() RETURNING {_SELECT}",
                        (call_id, self.instance, *values.values()))
            entry = _entry(cur.fetchone())
            assert entry is not None
            self._added += 1
            if self._added % PRUNE_EVERY == 0:
                cur.execute("DELETE FROM hl_call_channel WHERE call_id IN (SELECT call_id FROM hl_call_channel "
                            "ORDER BY changed_at DESC OFFSET %s)", (self.limit,))
            return entry

        return self._run(work)

    def update(self, call_id: int, **changes: Any) -> CallChannels | None:
        """Change fields of an existing entry; None (and no entry made) if unknown."""
        names = _names(changes)

        def work(cur: Any) -> CallChannels | None:
            cur.execute("UPDATE hl_call_channel SET " + ", ".join(f"{n} = %s" for n in names)
                        + f", instance = %s, changed_at = clock_timestamp() WHERE call_id = %s RETURNING {_SELECT}",
                        (*changes.values(), self.instance, call_id))
            return _entry(cur.fetchone())

        return self._run(work)

    def delete(self, call_id: int, *, unless_detached: bool = False) -> CallChannels | None:
        """Delete the entry of ``call_id`` (not if it is ``detached``, when asked); the entry as it was."""
        guard = " AND NOT detached" if unless_detached else ""
        return self._run(lambda cur: (cur.execute(f"DELETE FROM hl_call_channel WHERE call_id = %s{guard} "
                                                  f"RETURNING {_SELECT}", (call_id,)), _entry(cur.fetchone()))[1])

    def channel_gone(self, channel: str) -> CallChannels | None:
        """``channel`` hung up: a caller's channel deletes its call, an agent's clears the agent (and deletes a
        call without a caller channel). The entry as it was, None if no call used the channel (or another
        instance handled the hang-up first)."""
        def work(cur: Any) -> CallChannels | None:
            cur.execute(f"DELETE FROM hl_call_channel WHERE caller = %s RETURNING {_SELECT}", (channel,))
            gone = _entry(cur.fetchone())
            if gone is not None:
                return gone
            cur.execute(f"SELECT {_SELECT} FROM hl_call_channel WHERE agent = %s ORDER BY changed_at LIMIT 1 "
                        "FOR UPDATE", (channel,))
            gone = _entry(cur.fetchone())
            if gone is None:
                return None
            if gone.caller is None:
                cur.execute("DELETE FROM hl_call_channel WHERE call_id = %s", (gone.call_id,))
            else:
                cur.execute("UPDATE hl_call_channel SET agent = NULL, endpoint = NULL, consult = NULL, instance = %s,"
                            " changed_at = clock_timestamp() WHERE call_id = %s", (self.instance, gone.call_id))
            return gone

        return self._run(work)

    # ---------------------------------------------------------------------------------- reading
    def get(self, call_id: int) -> CallChannels | None:
        return self._run(lambda cur: (cur.execute(f"SELECT {_SELECT} FROM hl_call_channel WHERE call_id = %s",
                                                  (call_id,)), _entry(cur.fetchone()))[1])

    def find(self, channel: str) -> CallChannels | None:
        return self._run(lambda cur: (cur.execute(f"SELECT {_SELECT} FROM hl_call_channel WHERE caller = %s OR "
                                                  "agent = %s ORDER BY changed_at LIMIT 1", (channel, channel)),
                                      _entry(cur.fetchone()))[1])

    def calls(self) -> list[CallChannels]:
        def work(cur: Any) -> list[CallChannels]:
            cur.execute(f"SELECT {_SELECT} FROM hl_call_channel ORDER BY changed_at, call_id")
            return [CallChannels(*row) for row in cur.fetchall()]

        return self._run(work)


def _names(values: dict[str, Any]) -> list[str]:
    names = list(values)
    unknown = [n for n in names if n not in COLUMNS or n == "call_id"]
    if unknown or not names:
        raise ValueError(f"not fields of a call's channels: {unknown or 'none given'}")
    return names
