"""Leader election among the instances on one database: exactly one ``serve``/``agi`` process leads.

On PostgreSQL the leader is the instance holding a session-level advisory lock
(``pg_try_advisory_lock(LOCK_CLASS, LOCK_LEADER)``, scoped to the database) on a connection of its own,
outside the pool. A thread checks every ``renew_s`` seconds (``HELPLINE_LEADER_RENEW_S``, 1 s): the leader
that its connection still answers and still holds the lock, a standby whether it can take the lock now. The
server releases a session lock the moment the holder's connection ends (``pg_terminate_backend``, the process
killed, its socket closed), so a standby leads within ``renew_s`` of the leader's death. The old leader, if
alive (only its connection died), notices at its next check (within ``renew_s``) and steps down; work that
must never run twice asks :meth:`LeaderElection.step` first, which checks the lock on the connection there
and then (the scheduler does so before every run).

Each instance writes its row in ``hl_instance`` (id, host, pid, role, since, heartbeat): the system page,
``/healthz`` and ``/metrics`` show this instance's role and the leader's identity, read from the row of the
backend that holds the lock in ``pg_locks`` (a row left ``leader`` by a dead process is not believed).

On SQLite there is one process: it leads from :meth:`LeaderElection.start` until :meth:`stop`.

Callbacks (:meth:`LeaderElection.follow`) run on the election's thread, in order, and must be short; the
scheduler pauses and resumes its jobs with them (``helpline.services.scheduler``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlparse

from helpline.data.base import utcnow
from helpline.data.database import db, session
from helpline.data.jobs import Instance

log = logging.getLogger("helpline.leader")

LOCK_CLASS = 0x484C
"""The advisory lock's first key ('HL'); with :data:`LOCK_LEADER` the leader lock of the database."""
LOCK_LEADER = 1
FORGET_AFTER = timedelta(days=1)
"""Rows of instances silent this long are deleted at the next start."""


class LeaderError(ValueError):
    """The election cannot run (bad URL or renew interval); the message says why."""


@dataclass(frozen=True)
class LeaderInfo:
    """Who leads: the instance id, its host and pid, since when (UTC, naive) and its last heartbeat."""

    instance: str
    host: str
    pid: int
    since: datetime | None
    heartbeat_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"instance": self.instance, "host": self.host, "pid": self.pid,
                "since": self.since.isoformat() if self.since else None,
                "heartbeat_at": self.heartbeat_at.isoformat() if self.heartbeat_at else None}


def default_instance_id() -> str:
    """``HELPLINE_INSTANCE_ID``, else ``host-pid``."""
    return os.environ.get("HELPLINE_INSTANCE_ID") or f"{socket.gethostname()}-{os.getpid()}"


def _connect_args(url: str, timeout_s: float) -> dict[str, Any]:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgresql", "postgres") or not parsed.path.lstrip("/"):
        raise LeaderError(f"{url!r}: the leader election needs postgresql://user:pass@host:port/dbname")
    wait = max(1, int(timeout_s + 0.999))
    return {"dbname": parsed.path.lstrip("/"), "user": unquote(parsed.username or "") or None,
            "password": unquote(parsed.password or "") or None, "host": parsed.hostname or "localhost",
            "port": parsed.port or 5432, "connect_timeout": max(2, wait), "application_name": "helpline-leader",
            # a peer that vanished without closing (host down, cable pulled) is noticed by TCP within seconds
            "keepalives": 1, "keepalives_idle": wait, "keepalives_interval": 1, "keepalives_count": 3,
            "options": f"-c statement_timeout={int(1000 * max(timeout_s, 0.5))}"}


class LeaderElection:
    """This instance's part in the election; :meth:`start` it, :meth:`stop` it at the end."""

    def __init__(self, url: str, *, renew_s: float = 1.0, instance: str | None = None) -> None:
        if not renew_s > 0:
            raise LeaderError(f"HELPLINE_LEADER_RENEW_S must be over 0 (got {renew_s})")
        self.url = url
        self.renew_s = renew_s
        self.instance = instance or default_instance_id()
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.postgres = urlparse(url).scheme in ("postgresql", "postgres")
        self._args = _connect_args(url, renew_s) if self.postgres else {}
        self._conn: Any = None
        self._leader = False
        self._since: datetime | None = None
        self._elected: list[Callable[[], None]] = []
        self._lost: list[Callable[[], None]] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.elections = 0
        """How many times this instance became leader."""

    # -- what others ask -------------------------------------------------------------------------------------
    @property
    def is_leader(self) -> bool:
        return self._leader

    @property
    def connected(self) -> bool:
        """Whether the election has its connection (always on SQLite)."""
        return not self.postgres or self._conn is not None

    @property
    def role(self) -> str:
        return "leader" if self._leader else "standby"

    def follow(self, elected: Callable[[], None], lost: Callable[[], None]) -> None:
        """Call ``elected`` whenever this instance becomes leader (at once if it leads now) and ``lost``
        whenever it stops leading."""
        with self._lock:
            self._elected.append(elected)
            self._lost.append(lost)
            if self._leader:
                self._call(elected)

    def leader(self) -> LeaderInfo | None:
        """The leader now: on PostgreSQL the instance whose connection holds the lock (None between a leader's
        death and its successor's election)."""
        with session():
            query = Instance.select().where(Instance.role == "leader")
            if self.postgres:
                holder = db.execute_sql(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s "
                    "AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())", (LOCK_CLASS, LOCK_LEADER)).fetchone()
                if holder is None:
                    return None
                query = query.where(Instance.backend_pid == holder[0])
            row = query.order_by(Instance.leader_since.desc()).first()
        if row is None:
            return None
        return LeaderInfo(row.id, row.host, row.pid, row.leader_since, row.heartbeat_at)

    def figures(self) -> dict[str, Any]:
        """This instance's role and id, and the leader's identity (for the system page, /healthz, /metrics)."""
        try:
            found = self.leader()
            leader, error = (found.as_dict() if found else None), ""
        except Exception as exc:  # the database is down: say so, the role stays what it is
            leader, error = None, f"{type(exc).__name__}: {exc}"[:300]
        return {"instance": self.instance, "host": self.host, "pid": self.pid, "role": self.role,
                "since": self._since.isoformat() if self._leader and self._since else None,
                "database": "postgresql" if self.postgres else "sqlite", "leader": leader, "error": error}

    # -- running -----------------------------------------------------------------------------------------------
    def start(self) -> LeaderElection:
        """Register the instance; on SQLite lead at once, on PostgreSQL try once now (so the first of two
        instances started together leads before this returns) and then every ``renew_s`` in a thread."""
        with session():
            db.create_tables([Instance], safe=True)
            Instance.delete().where(Instance.heartbeat_at < utcnow() - FORGET_AFTER).execute()
        if not self.postgres:
            with session():
                self._write_row_pool("leader")
            self._become_leader()
            return self
        self.step()
        self._thread = threading.Thread(target=self._run, name="leader-election", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Step down: the lock is released (its connection closed) and the row says ``stopped``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5 * self.renew_s + 5)
        with self._lock:
            self._lose()
            if self.postgres:
                try:
                    if self._conn is not None:
                        self._execute("UPDATE hl_instance SET role = 'stopped', heartbeat_at = %s WHERE id = %s",
                                      (utcnow(), self.instance))
                except Exception as exc:  # the row is forgotten a day later anyway
                    log.info("instance %s: row not marked stopped: %s", self.instance, exc)
                self._close()
            else:
                with session():
                    Instance.update(role="stopped", heartbeat_at=utcnow()).where(
                        Instance.id == self.instance).execute()

    def _run(self) -> None:
        while not self._stop.wait(self.renew_s):
            try:
                self.step()
            except Exception:  # never let the thread die: the next step tries again
                log.exception("leader election step failed")

    def step(self) -> bool:
        """One round (the thread's; tests call it directly): the leader checks it still holds the lock, a
        standby tries to take it. Returns whether this instance leads afterwards. On SQLite the one process
        leads (there is no lock to check: trying PostgreSQL's would lose leadership and pause every job)."""
        if not self.postgres:
            return self._leader
        with self._lock:
            if self._stop.is_set() and self._thread is not None:
                return self._leader
            try:
                if self._conn is None:
                    self._connect()
                if self._leader:
                    held = self._execute(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s"
                        " AND objsubid = 2 AND granted AND pid = pg_backend_pid()", (LOCK_CLASS, LOCK_LEADER))
                    if not held or not held[0]:
                        log.warning("instance %s no longer holds the leader lock", self.instance)
                        self._lose()
                    else:
                        self._write_row("leader")
                    return self._leader
                won = self._execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, LOCK_LEADER))
                if won and won[0]:
                    self._since = utcnow()
                    self._write_row("leader")
                    self._become_leader()
                else:
                    self._write_row("standby")
            except Exception as exc:  # the connection died or does not answer: leadership is gone with it
                if self._leader:
                    log.error("instance %s lost the leader lock's connection: %s", self.instance, exc)
                else:
                    log.warning("leader election: no connection (%s); trying again", exc)
                self._lose()
                self._close()
            return self._leader

    # -- internals ---------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        import psycopg2

        conn = psycopg2.connect(**{k: v for k, v in self._args.items() if v is not None})
        conn.autocommit = True
        self._conn = conn

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # closing a dead connection may fail; it is gone either way
                conn.close()

    def _execute(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone() if cur.description else None  # type: ignore[no-any-return]

    def _write_row(self, role: str) -> None:
        now = utcnow()
        if role == "leader":  # rows a dead leader left say so no more
            self._execute("UPDATE hl_instance SET role = 'standby' WHERE role = 'leader' AND id <> %s",
                          (self.instance,))
        self._execute(
            "INSERT INTO hl_instance (id, host, pid, role, started_at, leader_since, heartbeat_at, backend_pid) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, pg_backend_pid()) ON CONFLICT (id) DO UPDATE SET "
            "role = EXCLUDED.role, leader_since = EXCLUDED.leader_since, heartbeat_at = EXCLUDED.heartbeat_at, "
            "backend_pid = EXCLUDED.backend_pid, host = EXCLUDED.host, pid = EXCLUDED.pid",
            (self.instance, self.host, self.pid, role, now, self._since if role == "leader" else None, now))

    def _write_row_pool(self, role: str) -> None:
        now = utcnow()
        self._since = now
        Instance.update(role="standby").where((Instance.role == "leader") & (Instance.id != self.instance)).execute()
        Instance.insert(id=self.instance, host=self.host, pid=self.pid, role=role, started_at=now,
                        leader_since=now, heartbeat_at=now).on_conflict(
            conflict_target=[Instance.id],
            update={Instance.role: role, Instance.leader_since: now, Instance.heartbeat_at: now}).execute()

    def _become_leader(self) -> None:
        with self._lock:
            if self._leader:
                return
            self._leader = True
            self.elections += 1
            log.info("instance %s (%s pid %d) is the leader", self.instance, self.host, self.pid)
            for fn in list(self._elected):
                self._call(fn)

    def _lose(self) -> None:
        if not self._leader:
            return
        self._leader = False
        self._since = None
        log.warning("instance %s is no longer the leader", self.instance)
        for fn in list(self._lost):
            self._call(fn)

    def _call(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:
            log.exception("leader election callback %r failed", fn)
