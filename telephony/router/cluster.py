"""Cluster mode (``HELPLINE_CLUSTER=on``, PostgreSQL only): every instance holds a replica of the router.

The router core is a deterministic state machine (its inputs are operations and ``clock.now()``), so the
instances share it by sharing its inputs: a command log.

* **Writes** (``RouterService.call(name, ...)``, names of ``commands.OPERATIONS`` and ``reconfigure``) are
  appended to ``hl_router_log`` (seq, at = the database's ``clock_timestamp()``, instance, name, args) in a
  transaction holding ``pg_advisory_xact_lock(18508, 2)``, so seq order is commit order and ``at`` never goes
  back; then ``NOTIFY hl_router, '<seq>'``. A lost connection retries it (``telephony.router.logconn``); a
  retry that finds the command's own ``key`` (committed before the connection died) never appends it twice.
* **Applying**: every instance applies the entries strictly in seq order to its replica, its clock
  (:class:`LogClock`) set to the entry's ``at``; timers due before ``at`` fire first, each at its own time. A
  listener thread (its own connection, ``LISTEN``, ``select``; reconnected with back-off) reads the table after
  every notification and every second (a lost notification costs at most a second; a duplicate finds nothing
  new). Whoever needs an entry applied (the caller of ``call`` waiting for its own) reads the table itself, so a
  caller never waits for the listener; the caller gets the result (or the ``RouterError``) of its local replica.
* **Timers**: only the leader appends ``advance`` ("tick") entries, when its replica's next timer is due (at
  most one per 10 ms) and after a second without entries; followers never advance by themselves. Outside an
  entry a replica's clock reads the last entry's time (a read may not prune the service-level windows at a
  time later than the next entry's), so reads are at most about a second behind.
* **Events** are emitted alike on every replica; each instance delivers them, after the entry is applied, to its
  own tickets (the FastAGI threads of its callers) and subscribers (its desktops); only the leader writes the
  journal (agent events, call decisions). Entries replayed at start are applied without delivering anything.
* **Joining**: an instance loads the newest snapshot (``hl_router_snapshot``, ``telephony.router.snapshot``) and
  replays the log after it; the first instance on an empty log appends the agent profiles and the statuses
  restored from the journal, atomically. The leader writes a snapshot every 10,000 entries or 10 minutes and
  deletes the log before the previous snapshot (a replica that lagged past it loads the newer snapshot).
* **Failover**: a standby already has the whole state; elected, it ticks. The leader checks every second which
  instances are alive (their listener connection, ``application_name`` ``hl-router <instance>``; gone =
  missing at two checks in a row): the waiting and answered calls whose ``queue_call`` came from a dead instance
  are ended with ``abandon`` entries, the agents whose desktop last connected through it get
  ``agent_disconnected`` (the grace period, then not ready); not within 3 s of a database restart, while every
  listener reconnects (``telephony.router.liveness``).

A routing change published on one instance is appended as a ``reconfigure`` entry carrying the routing objects,
so every replica applies the same (the other instances' own metadata is not reloaded by it). Limits: every
instance runs the same version (see ``telephony.router.snapshot``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import select
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from . import liveness
from .clock import LogClock
from .commands import OPERATIONS, BadCommand, decode, encode
from .core import RouterError
from .events import RouterEvent
from .logconn import connect as _connect
from .logconn import retrying

if TYPE_CHECKING:
    from .service import RouterService

__all__ = ["CHANNEL", "Cluster", "ClusterError", "LogClock", "cluster_on"]

log = logging.getLogger(__name__)

LOCK_CLASS, LOCK_LOG = 0x484C, 2
"""``pg_advisory_xact_lock(18508, 2)``: one appender at a time (the leader election uses (18508, 1))."""
CHANNEL = "hl_router"
NAMES = OPERATIONS | {"reconfigure"}
TICK_MIN_S = 0.01
HEARTBEAT_S = 1.0
"""The leader ticks at least this often, so a replica's reads (at the last entry's time) are this fresh."""
POLL_S = 1.0
LISTENER_BACKOFF_MAX_S = 0.5
"""The listener reconnects after a restart with back-off up to this (``liveness.RECONNECT_GRACE_S``)."""
TABLES = ("""CREATE TABLE IF NOT EXISTS hl_router_log (
    seq bigserial PRIMARY KEY, at timestamptz NOT NULL, instance text NOT NULL, name text NOT NULL,
    args jsonb NOT NULL)""", """CREATE TABLE IF NOT EXISTS hl_router_snapshot (
    seq bigint PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now(), clock float8 NOT NULL,
    owners jsonb NOT NULL, desks jsonb NOT NULL, state bytea NOT NULL)""",
          "ALTER TABLE hl_router_log ADD COLUMN IF NOT EXISTS key text",
          "CREATE UNIQUE INDEX IF NOT EXISTS hl_router_log_key ON hl_router_log (key)")
SNAPSHOT_EVERY = 10_000
"""The leader writes a snapshot after this many entries (applying waits meanwhile: 8 ms at 300 agents and 200
waiting calls, 0.28 s at 2,000 and 10,000 on the shared 2 cores) ..."""
SNAPSHOT_S = 600.0
"""... or this many seconds (if anything was applied), then deletes the log before the previous snapshot."""


class ClusterError(RouterError):
    """Cluster mode cannot run (not PostgreSQL, the command log unreachable); the message says why."""


def cluster_on(value: str) -> bool:
    """``HELPLINE_CLUSTER``: on/off (``ClusterError`` for anything else)."""
    text = (value or "off").strip().lower()
    if text in ("on", "1", "true", "yes"):
        return True
    if text in ("off", "0", "false", "no", ""):
        return False
    raise ClusterError(f"HELPLINE_CLUSTER must be on or off (got {value!r})")


class Cluster:
    """The command log of one instance's replica (see the module docstring)."""

    def __init__(self, service: RouterService, url: str, instance: str, *, poll_s: float = POLL_S) -> None:
        if urlparse(url).scheme not in ("postgresql", "postgres"):
            raise ClusterError("cluster mode (HELPLINE_CLUSTER=on) needs PostgreSQL: several instances share "
                               f"the router through its command log; {url.split(':', 1)[0]} is single-process")
        self.service = service
        self.url = url
        self.instance = instance
        self.clock: LogClock = service.clock  # type: ignore[assignment]
        self.applied = 0
        """The last seq applied to the replica."""
        self.replaying = False
        self.election: Any = None
        self.owners: dict[int, str] = {}
        """Call → the instance whose ``queue_call`` queued it."""
        self.desks: dict[str, str] = {}
        """Agent → the instance its desktop last connected through."""
        self.applied_count = 0
        self.poll_s = poll_s
        """Seconds between reads of the log without a notification (and between the leader's liveness checks)."""
        self._results: dict[int, tuple[Any, BaseException | None]] = {}
        self._events: list[RouterEvent] = []
        self._apply_lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._writer: Any = None
        self._reader: Any = None
        self._listener: Any = None
        self._stop = threading.Event()
        self._changed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_tick = 0.0
        self._last_applied = time.monotonic()
        self._last_liveness = 0.0
        self.snapshot_seq = 0
        self._missing: set[str] = set()
        self.listener_trouble_at = -1e9
        """When the listener last lost or regained its connection (monotonic; ``telephony.router.liveness``)."""
        self._snapshot_time = time.monotonic()
        service.router.sinks = [self._events.append]

    # -- running -----------------------------------------------------------------------------------------------
    def start(self, bootstrap: Callable[[], list[tuple[str, tuple[Any, ...], dict[str, Any]]]] | None = None
              ) -> Cluster:
        """Create the log table, listen, replay the log; on an empty log append ``bootstrap()``'s commands."""
        self._writer = _connect(self.url, f"hl-router-w {self.instance}", autocommit=False)
        with self._write_lock, self._writer.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, LOCK_LOG))
            for table in TABLES:
                cur.execute(table)
            self._writer.commit()
        self._listener = _connect(self.url, f"hl-router {self.instance}", autocommit=True)
        with self._listener.cursor() as cur:
            cur.execute(f"LISTEN {CHANNEL}")
        self.replaying = True
        try:
            self.load_snapshot()
            self.catch_up()
        finally:
            self.replaying = False
        if bootstrap is not None and self.applied == 0:
            self._append(bootstrap(), only_if_empty=True)
            self.catch_up()
        # calls an earlier process of this name queued have no caller here any more (its sessions ended with it)
        for call_id in self.service.do(lambda r: [c for c in (*r.waiting, *r.active)
                                                  if self.owners.get(c) == self.instance]):
            self.call("abandon", (call_id,), {})
        for target, name in ((self._listen, "router-log-listener"), (self._tick, "router-log-ticks")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def follow(self, election: Any) -> None:
        """Tick and watch the other instances while ``election`` (``LeaderElection``) says this one leads."""
        self.election = election
        election.follow(self._changed.set, self._changed.set)

    @property
    def running(self) -> bool:
        """The listener and tick threads run (started, not stopped)."""
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    @property
    def leading(self) -> bool:
        return self.election is not None and bool(self.election.is_leader)

    def stop(self) -> None:
        self._stop.set()
        self._changed.set()
        for thread in self._threads:
            thread.join(5)
        self._threads.clear()
        for conn in (self._writer, self._reader, self._listener):
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
        self._writer = self._reader = self._listener = None

    # -- writing -----------------------------------------------------------------------------------------------
    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Append one command, apply the log up to it, return its result on this replica."""
        seq = self._append([(name, args, kwargs)])[-1]
        self.catch_up(seq)
        with self._apply_lock:
            result, error = self._results.pop(seq, (None, None))
        if error is not None:
            raise error
        return result

    def _append(self, commands: list[tuple[str, tuple[Any, ...], dict[str, Any]]], *,
                only_if_empty: bool = False) -> list[int]:
        rows = []
        for name, args, kwargs in commands:
            if name not in NAMES:
                raise BadCommand(f"'{name}' is no router operation")
            rows.append((name, json.dumps({"args": list(args)}) if name == "reconfigure"
                         else encode(name, args, kwargs)))
        if not rows:  # (a bootstrap without agents)
            return []
        keys = [uuid.uuid4().hex for _ in rows]  # a retry finds what an attempt committed before its connection died

        def attempt(number: int) -> tuple[list[int], float | None]:
            conn = self._writer_conn()
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, LOCK_LOG))
                if number > 1:
                    cur.execute("SELECT key, seq, extract(epoch FROM at)::float8 FROM hl_router_log "
                                "WHERE key = ANY(%s)", (keys,))
                    found = {key: (int(seq), float(at)) for key, seq, at in cur.fetchall()}
                    if found:  # the commit of an earlier attempt went through: never append a command twice
                        conn.rollback()
                        return [found[key][0] for key in keys], found[keys[-1]][1]
                if only_if_empty:
                    cur.execute("SELECT EXISTS (SELECT 1 FROM hl_router_log)")
                    if cur.fetchone()[0]:
                        conn.rollback()
                        return [0], None
                seqs, at = [], None
                for key, (name, text) in zip(keys, rows, strict=True):
                    cur.execute("INSERT INTO hl_router_log (at, instance, name, args, key) VALUES (clock_timestamp(), "
                                "%s, %s, %s, %s) RETURNING seq, extract(epoch FROM at)::float8",
                                (self.instance, name, text, key))
                    seq, at = cur.fetchone()
                    seqs.append(int(seq))
                cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(seqs[-1])))
            conn.commit()
            return seqs, at

        with self._write_lock:
            try:  # a lost or refused connection (a server restart): the whole transaction again, with back-off
                seqs, at = retrying(attempt, f"router log {self.instance}", reset=lambda: self._drop("_writer"))
            except Exception as exc:
                raise ClusterError(f"the router's command log cannot be written: {exc}") from exc
        if at is not None:
            self.clock.offset = float(at) - time.time()
        return seqs

    def _drop(self, attr: str) -> None:
        """Close and forget a connection found dead (its next use connects again)."""
        with contextlib.suppress(Exception):
            getattr(self, attr).close()
        setattr(self, attr, None)

    # -- applying ----------------------------------------------------------------------------------------------
    def catch_up(self, until: int | None = None) -> int:
        """Apply every entry after the last applied (all of them, or until ``until`` is applied)."""
        with self._apply_lock:
            while until is None or self.applied < until:
                entries = self._read()
                if entries and entries[0][0] > self.applied + 1 and self.load_snapshot(before=entries[0][0]):
                    continue  # the entries this replica lacked were compacted away (it lagged a snapshot behind)
                for entry in entries:
                    if entry[0] > self.applied:  # a subscriber's own write may have applied the next ones
                        self._apply(*entry)
                if len(entries) < 1000 and (until is None or self.applied >= until):
                    break
                if not entries:
                    raise ClusterError(f"entry {until} of the router's command log is not there")
            return self.applied

    def _writer_conn(self) -> Any:
        if self._writer is None or self._writer.closed:
            self._writer = _connect(self.url, f"hl-router-w {self.instance}", autocommit=False)
        return self._writer

    def _reader_conn(self) -> Any:
        if self._reader is None or self._reader.closed:
            self._reader = _connect(self.url, f"hl-router-r {self.instance}", autocommit=True)
        return self._reader

    def _read(self) -> list[tuple[int, float, str, str, Any]]:
        def attempt(_: int) -> list[tuple[int, float, str, str, Any]]:
            with self._reader_conn().cursor() as cur:
                cur.execute("SELECT seq, extract(epoch FROM at)::float8, instance, name, args FROM hl_router_log"
                            " WHERE seq > %s ORDER BY seq LIMIT 1000", (self.applied,))
                return list(cur.fetchall())

        try:  # a lost or refused connection: read again, with back-off, through a server restart
            return retrying(attempt, f"router log {self.instance}", reset=lambda: self._drop("_reader"))
        except Exception as exc:
            raise ClusterError(f"the router's command log cannot be read: {exc}") from exc

    def _apply(self, seq: int, at: float, instance: str, name: str, args: Any) -> None:
        service, r, clock = self.service, self.service.router, self.clock
        result: Any = None
        error: BaseException | None = None
        with service._cond:
            try:
                while (due := r.next_timer_at()) is not None and due < at:  # timers first, each at its time
                    clock.fix(due)
                    r.advance()
                clock.fix(at)
                if name == "reconfigure":
                    service.apply_routing(*(args.get("args") or [[]]))
                else:
                    a, kw = decode(name, args)
                    result = getattr(r, name)(*a, **kw)
            except Exception as exc:  # every replica fails alike; the caller gets the error
                error = exc
                if not isinstance(exc, RouterError):
                    log.exception("router log entry %d (%s) failed", seq, name)
            finally:
                clock.release()
            self._note_owner(instance, name, args)
            self.applied = seq
            self.applied_count += 1
            self._last_applied = time.monotonic()
            events, self._events[:] = list(self._events), []
            if not self.replaying:
                for event in events:
                    service._dispatch(event)
            service._cond.notify_all()
        if instance == self.instance and not self.replaying:
            self._results[seq] = (result, error)
            if len(self._results) > 10_000:  # results nobody collected (a caller that gave up)
                self._results.clear()
        self._changed.set()

    def _note_owner(self, instance: str, name: str, args: Any) -> None:
        data = json.loads(args) if isinstance(args, str) else args
        first = (data.get("args") or [None])[0]
        if name == "queue_call" and isinstance(first, dict) and "$call" in first:
            self.owners[int(first["$call"]["call_id"])] = instance
        elif name in ("agent_connected", "sign_in") and isinstance(first, str):
            self.desks[first] = instance

    # -- threads -----------------------------------------------------------------------------------------------
    def _listen(self) -> None:
        delay, down_since = 0.05, None
        while not self._stop.is_set():
            try:
                if self._listener is None or self._listener.closed:
                    self._listener = _connect(self.url, f"hl-router {self.instance}", autocommit=True)
                    with self._listener.cursor() as cur:
                        cur.execute(f"LISTEN {CHANNEL}")
                    if down_since is not None:  # what was notified meanwhile is lost: read the table now
                        self.listener_trouble_at = time.monotonic()
                        log.warning("router log listener: reconnected after %.1f s", time.monotonic() - down_since)
                        down_since, delay = None, 0.05
                        self.catch_up()
                conn = self._listener
                ready, _, _ = select.select([conn], [], [], self.poll_s)
                if ready:
                    conn.poll()
                    conn.notifies.clear()
                self.catch_up()
            except Exception as exc:
                if self._stop.is_set():
                    return
                if down_since is None:
                    down_since = self.listener_trouble_at = time.monotonic()
                    log.warning("router log listener: %s; reconnecting", exc)
                with contextlib.suppress(Exception):
                    self._listener.close()
                self._listener = None
                self._stop.wait(delay)  # a restarting server refuses connections for a second or two
                delay = min(delay * 2, LISTENER_BACKOFF_MAX_S)

    def _tick(self) -> None:
        while not self._stop.is_set():
            wait = self.poll_s
            try:
                if self.leading:
                    wait = self._lead_once()
            except Exception as exc:
                log.warning("router log ticks: %s", exc)
                wait = 0.5
            self._changed.wait(wait)
            self._changed.clear()

    def _lead_once(self) -> float:
        """The leader's turn: a tick if a timer is due, the dead instances' calls and desktops ended. Returns
        how long to wait at most before the next turn."""
        now = time.monotonic()
        if now - self._last_liveness >= min(liveness.LIVENESS_S, self.poll_s):
            self._last_liveness = now
            self.end_dead_instances()
            if self.applied - self.snapshot_seq >= SNAPSHOT_EVERY or (
                    self.applied > self.snapshot_seq and now - self._snapshot_time >= SNAPSHOT_S):
                self.write_snapshot()
                self.compact()
        with self.service._cond:
            due = self.service.router.next_timer_at()
        at = self.clock.wall()
        quiet = now - self._last_applied >= HEARTBEAT_S  # replicas read the time of the last entry: keep it fresh
        if (due is not None and due <= at) or quiet:
            if now - self._last_tick < TICK_MIN_S:
                return TICK_MIN_S - (now - self._last_tick)
            self._last_tick = now
            self.call("advance", (), {})
            return 0.0
        wait = min(self.poll_s, HEARTBEAT_S - (now - self._last_applied))
        return min(wait, max(due - at, 0.001)) if due is not None else wait

    # -- snapshots -----------------------------------------------------------------------------------------------
    def write_snapshot(self) -> int:
        """(The leader) Write the replica's state at the last applied seq; returns that seq."""
        from .snapshot import dump

        with self._apply_lock:
            seq, clock, state = self.applied, self.clock.last, dump(self.service.router)
            owners, desks = json.dumps(self.owners), json.dumps(self.desks)
        with self._write_lock:
            conn = self._writer_conn()
            try:
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO hl_router_snapshot (seq, clock, owners, desks, state) VALUES "
                                "(%s, %s, %s, %s, %s) ON CONFLICT (seq) DO NOTHING",
                                (seq, clock, owners, desks, state))
                conn.commit()
            except Exception as exc:
                conn.rollback()
                raise ClusterError(f"the router snapshot cannot be written: {exc}") from exc
        self.snapshot_seq, self._snapshot_time = seq, time.monotonic()
        log.info("router snapshot at entry %d (%d bytes)", seq, len(state))
        return seq

    def compact(self) -> int:
        """(The leader) Keep the two newest snapshots and the log after the older one; returns rows deleted."""
        with self._write_lock:
            conn = self._writer_conn()
            with conn.cursor() as cur:
                cur.execute("SELECT seq FROM hl_router_snapshot ORDER BY seq DESC OFFSET 1 LIMIT 1")
                row = cur.fetchone()
                if row is None:
                    conn.rollback()
                    return 0
                cur.execute("DELETE FROM hl_router_log WHERE seq <= %s", (row[0],))
                deleted = int(cur.rowcount)
                cur.execute("DELETE FROM hl_router_snapshot WHERE seq < %s", (row[0],))
            conn.commit()
        return deleted

    def load_snapshot(self, before: int | None = None) -> bool:
        """Load the newest snapshot newer than the replica (up to ``before - 1``); False if there is none."""
        from .snapshot import load

        with self._apply_lock:
            with self._reader_conn().cursor() as cur:
                cur.execute("SELECT seq, clock, owners, desks, state FROM hl_router_snapshot WHERE seq > %s "
                            "AND seq < %s ORDER BY seq DESC LIMIT 1", (self.applied, before or 2**62))
                row = cur.fetchone()
            if row is None:
                return False
            seq, clock, owners, desks, state = row
            with self.service._cond:
                load(self.service.router, state)
                self.clock.fix(float(clock))
                self.clock.release()
                self.owners = {int(k): v for k, v in owners.items()}
                self.desks = dict(desks)
                self.applied = self.snapshot_seq = int(seq)
            if not self.replaying:
                log.warning("router replica %s lagged behind the compacted log: loaded the snapshot at entry %d",
                            self.instance, seq)
            return True

    def alive(self) -> set[str]:
        """The instances whose listener connection is open now (``telephony.router.liveness``)."""
        return liveness.alive(self)

    def end_dead_instances(self) -> dict[str, int]:
        """(The leader) End the calls and desktops of the instances that are gone (``telephony.router.liveness``)."""
        return liveness.end_dead_instances(self)
