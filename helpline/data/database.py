"""The database, chosen at run time from a URL: SQLite (embedded default) or PostgreSQL (production).

``db`` is a peewee ``DatabaseProxy`` every model binds to; :func:`open_database` initialises it.
SQLite runs with WAL, foreign keys and a busy timeout; PostgreSQL through psycopg2. Both are pooled: a
unit of work waits for a free connection (``HELPLINE_DB_POOL_WAIT``, 10 s) and then fails with
:class:`DatabaseBusy`, which says so; the pool sizes (``HELPLINE_DB_POOL``) come from bench/bench_ivr.py.
peewee keeps one connection per thread: do each unit of work in a plain function inside
``db.connection_context()`` and, from the UI, call it with ``await run.io_bound(fn)``; never hold a
transaction across an ``await``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from peewee import Database, DatabaseProxy, SqliteDatabase
from playhouse.pool import MaxConnectionsExceeded, PooledPostgresqlDatabase, PooledSqliteDatabase

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "cache_size": -64000,
    "foreign_keys": 1,
    "synchronous": "normal",
    "busy_timeout": 5000,
}


#: Connections per process when ``HELPLINE_DB_POOL`` is not set. Measured with bench/bench_ivr.py (200
#: overlapping calls plus web users, pools of 2 to 32; bench/README.md): with the writers queued in the process
#: (:func:`write_transaction`) SQLite's readers gain up to 16, smaller pools made calls wait for a connection
#: (first-turn p99 200 ms at 2); PostgreSQL was best at 8–16 and worse at 32 (more backends than cores).
DEFAULT_POOL = {"sqlite": 16, "postgresql": 16}
#: Seconds a unit of work waits for a pooled connection before :class:`DatabaseBusy` (``HELPLINE_DB_POOL_WAIT``).
DEFAULT_POOL_WAIT = 10


class DatabaseUrlError(ValueError):
    """The database URL cannot be understood."""


class DatabaseBusy(MaxConnectionsExceeded):  # type: ignore[misc]
    """No pooled connection came free within the wait: the process has more work than the pool serves."""


class _WaitingPool:
    """Mixin for peewee's pools: wait for a free connection (peewee's ``timeout``), then a clear error."""

    _max_connections: int
    _wait_timeout: float

    def connect(self, reuse_if_open: bool = False) -> Any:
        try:
            return super().connect(reuse_if_open)  # type: ignore[misc]
        except DatabaseBusy:
            raise
        except MaxConnectionsExceeded as exc:
            raise DatabaseBusy(
                f"no database connection came free within {self._wait_timeout:g} s: all {self._max_connections} "
                "of the pool are in use (raise HELPLINE_DB_POOL, or HELPLINE_DB_POOL_WAIT; fewer calls at once: "
                "HELPLINE_AGI_MAX_SESSIONS)") from exc


class WaitingSqliteDatabase(_WaitingPool, PooledSqliteDatabase):  # type: ignore[misc]
    """``PooledSqliteDatabase`` that waits for a free connection."""


class WaitingPostgresqlDatabase(_WaitingPool, PooledPostgresqlDatabase):  # type: ignore[misc]
    """``PooledPostgresqlDatabase`` that waits for a free connection and checks that a pooled one is alive
    (peewee's ``SELECT 1``, a dead one is dropped and the next taken) after taking it, outside the locks.

    peewee pings while holding the database's and the pool's locks, so every checkout of the process queued
    behind the others' round trips: with a busy thread holding the GIL (the web UI's event loop), 12 threads
    waited p50 18 / p95 90 ms per checkout; issue 22's screen-pops waited p95 106 ms for their connections."""

    def _is_closed(self, conn: Any) -> bool:
        """Under the pool's lock: what the driver knows without a round trip (:meth:`connect` pings)."""
        return bool(conn.closed) or self._adapter.txn_status(conn) == self._adapter.txn_unknown

    def connect(self, reuse_if_open: bool = False) -> Any:
        for _ in range(self._max_connections + 1):  # each dead one leaves the pool: a restarted server empties it
            opened = super().connect(reuse_if_open)
            conn = self._state.conn
            if not opened or not self._adapter.is_connection_closed(conn):  # the ping (a rollback if one is open)
                return opened
            with self._lock:
                self._close(conn, close_conn=True)
                self._state.reset()
        return super().connect(reuse_if_open)


def pool_settings(kind: str, environ: dict[str, str] | None = None) -> tuple[int, int]:
    """``(connections, wait seconds)`` for a database kind (``sqlite``/``postgresql``) from ``HELPLINE_DB_POOL``
    and ``HELPLINE_DB_POOL_WAIT``, else the measured defaults; a value that is not a positive whole number is
    refused with a message naming the variable."""
    env = os.environ if environ is None else environ
    values = []
    for name, default in (("HELPLINE_DB_POOL", DEFAULT_POOL[kind]), ("HELPLINE_DB_POOL_WAIT", DEFAULT_POOL_WAIT)):
        raw = env.get(name, "").strip()
        if not raw:
            values.append(default)
            continue
        if not raw.isdigit() or int(raw) < 1:
            raise DatabaseUrlError(f"{name}={raw!r}: give a whole number of at least 1")
        values.append(int(raw))
    return values[0], values[1]


def make_database(url: str, *, max_connections: int | None = None, wait: int | None = None) -> Database:
    """A peewee database for ``sqlite:///relative/path``, ``sqlite:////abs/path``, ``sqlite://:memory:``
    or ``postgresql://user:pass@host:port/dbname``; pooled (``max_connections``, ``wait`` seconds for a free
    one) with :func:`pool_settings` as defaults."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        raw = url[len("sqlite://"):]
        if raw in (":memory:", "/:memory:"):
            return SqliteDatabase(":memory:", pragmas=SQLITE_PRAGMAS)
        path = raw[1:] if raw.startswith("/") else raw
        if not path:
            raise DatabaseUrlError(f"{url!r}: give a file, e.g. sqlite:///var/helpline.db")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        size, waiting = pool_settings("sqlite")
        # pooled: a unit of work reuses an open connection (and SQLite's page cache) instead of opening a
        # file and running the pragmas each time
        sqlite: Database = WaitingSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False,
                                                 max_connections=max_connections or size, stale_timeout=300,
                                                 timeout=wait or waiting)
        return sqlite
    if parsed.scheme in ("postgresql", "postgres"):
        name = parsed.path.lstrip("/")
        if not name:
            raise DatabaseUrlError(f"{url!r}: name the database, e.g. postgresql://user:pass@host:5432/helpline")
        size, waiting = pool_settings("postgresql")
        pooled: Database = WaitingPostgresqlDatabase(
            name, user=unquote(parsed.username or "") or None, password=unquote(parsed.password or "") or None,
            host=parsed.hostname or "localhost", port=parsed.port or 5432,
            max_connections=max_connections or size, stale_timeout=300, timeout=wait or waiting,
        )
        return pooled
    raise DatabaseUrlError(f"{url!r}: the database URL must start with sqlite:// or postgresql://")


def open_database(url: str) -> Database:
    """Point :data:`db` at the database of ``url`` and return it (closing the idle connections of the previous
    one's pool). A connection another thread is still using is left to that thread: closing it under a running
    statement crashes Python's sqlite3 module (a segmentation fault, seen when a test's platform started while
    the previous test's login was still writing on a worker thread); it is closed with its pool."""
    database = make_database(url)
    previous = db.obj
    if previous is not None and hasattr(previous, "close_idle"):
        previous.close_idle()
    db.initialize(database)
    return database


def is_postgres() -> bool:
    return isinstance(db.obj, PooledPostgresqlDatabase)


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


@contextmanager
def session() -> Iterator[None]:
    """A connection for this thread for the duration of the block, re-entrant: only the outermost block
    opens and closes it (peewee's ``connection_context`` closes even a connection it did not open).
    An in-memory SQLite database keeps its one connection open (closing it would lose the data)."""
    opened = db.is_closed()
    if opened:
        db.connect()
    try:
        yield
    finally:
        if opened and not _is_memory():
            db.close()


def _is_memory() -> bool:
    return isinstance(db.obj, SqliteDatabase) and db.obj.database == ":memory:"


_sqlite_writer = threading.RLock()


def write_transaction() -> Any:
    """A transaction for a unit of work that reads and then writes.

    On SQLite it begins IMMEDIATE: a deferred transaction that reads first cannot upgrade to a write
    after another connection committed (WAL answers SQLITE_BUSY at once, the busy timeout does not
    apply), which under concurrent users shows up as "database is locked". Taking the write lock at the
    start makes it wait its turn instead. The writers of this process also queue on a lock of their own
    first: SQLite's busy handler polls with sleeps of up to 100 ms, so under 200 concurrent calls a writer
    waited tens of milliseconds for a lock freed long before; a queued thread is woken at once. PostgreSQL
    needs nothing special."""
    if isinstance(db.obj, SqliteDatabase):
        return _after_commit_of(_queued_write())
    return _after_commit_of(db.atomic())


@contextmanager
def _queued_write() -> Iterator[None]:
    with _sqlite_writer, db.atomic("IMMEDIATE"):
        yield


_after = threading.local()


def after_commit(fn: Any) -> None:
    """Run ``fn()`` once the outermost :func:`write_transaction` of this thread has committed (dropped if it
    rolls back), or at once when no transaction is open (or only a plain ``db.atomic()``, whose end this
    cannot see): what others may only see once it is committed (a live push of a new notice) waits for it."""
    if not db.in_transaction() or not getattr(_after, "depth", 0):  # none open, or not one of ours: now
        fn()
        return
    pending: list[Any] | None = getattr(_after, "pending", None)
    if pending is None:
        pending = _after.pending = []
    pending.append(fn)


@contextmanager
def _after_commit_of(transaction: Any) -> Iterator[None]:
    _after.depth = getattr(_after, "depth", 0) + 1
    try:
        with transaction:
            yield
    except BaseException:
        if _after.depth == 1:
            _after.pending = []
        raise
    finally:
        _after.depth -= 1
    if _after.depth == 0:  # the outermost write_transaction (committed, unless a plain db.atomic() encloses it)
        pending, _after.pending = getattr(_after, "pending", None) or [], []
        for fn in pending:
            try:
                fn()
            except Exception:  # a follower's failure never undoes what was committed
                logging.getLogger("helpline.data").exception("after-commit callback failed")
