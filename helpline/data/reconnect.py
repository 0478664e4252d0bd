"""Units of work that ride out a PostgreSQL restart: retry while the server is away, then a clear error.

A PostgreSQL server that restarts (a failover, an upgrade, ``pg_ctl restart``) ends every connection and
refuses new ones for a second or two ("the database system is shutting down", "... is starting up",
connection refused). Measured before this module existed (8 threads opening and closing call records while
the server restarted, 2 s): 262 record opens failed and 4 calls' outcomes were lost, because
``CallService.close`` logs a failure and goes on.

:func:`retry_disconnected` runs a whole unit of work (a function that opens its own ``session()`` and
transaction) again when it failed because the connection was lost or could not be made, with back-off from
50 ms to 1 s, for at most ``within_s`` seconds (default ``HELPLINE_DB_RECONNECT_S``, 30). peewee's pool drops
a connection whose socket is closed when it is handed back, so the next attempt connects afresh. Only a unit
of work that owns its transaction may be retried: inside an open transaction of the caller (or on SQLite,
where no connection can be lost this way) the error is raised at once. A failure of any other kind (a
constraint, a syntax error) is never retried.

What is retried must be safe to run twice: the first attempt's transaction was rolled back by the server,
except in the rare case where the connection dropped after the server committed and before the client heard
of it; the call-record writes are written so that running them again changes nothing (an update guarded by
``ended_at IS NULL``) or at worst adds a duplicate open record that the restart sweep closes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TypeVar

import peewee

from .database import db, is_postgres

__all__ = ["BACKOFF_MAX_S", "DEFAULT_RECONNECT_S", "is_disconnect", "reconnect_window", "retry_disconnected",
           "retry_lost"]

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_RECONNECT_S = 30.0
"""Seconds a unit of work keeps trying while the database is away (``HELPLINE_DB_RECONNECT_S``)."""
BACKOFF_FIRST_S = 0.05
BACKOFF_MAX_S = 1.0

_DISCONNECT_CODES = {"57P01", "57P02", "57P03"}
"""admin_shutdown, crash_shutdown, cannot_connect_now (SQLSTATE); class 08 is connection_exception."""


def reconnect_window(environ: dict[str, str] | None = None) -> float:
    """``HELPLINE_DB_RECONNECT_S`` in seconds (0 turns retrying off); a bad value is refused by name."""
    raw = (os.environ if environ is None else environ).get("HELPLINE_DB_RECONNECT_S", "").strip()
    if not raw:
        return DEFAULT_RECONNECT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0 or value != value:
        raise ValueError(f"HELPLINE_DB_RECONNECT_S={raw!r}: give seconds, 0 or more")
    return value


def is_disconnect(exc: BaseException) -> bool:
    """Did this error come from a lost or refused PostgreSQL connection (not from the statement)?"""
    import psycopg2

    original: BaseException = exc
    if isinstance(exc, peewee.OperationalError | peewee.InterfaceError):
        wrapped = getattr(exc, "orig", None) or exc.__context__  # peewee keeps the driver's exception as ``orig``
        if isinstance(wrapped, BaseException):
            original = wrapped
    if isinstance(original, psycopg2.InterfaceError):
        return True  # "connection already closed"
    if isinstance(original, psycopg2.OperationalError):
        code = getattr(original, "pgcode", None)
        return code is None or code.startswith("08") or code in _DISCONNECT_CODES
    return False


def retry_lost(work: Callable[[int], T], what: str, *, reset: Callable[[], None],
               retry: Callable[[Exception], bool] = is_disconnect, within_s: float | None = None) -> T:
    """``work(attempt)`` (attempt 1, 2, ...), run again while ``retry(error)`` says its failure was a lost or
    refused connection, with back-off from 50 ms to 1 s for at most ``within_s`` seconds (default
    ``HELPLINE_DB_RECONNECT_S``); then the last error is raised. After each failure ``reset()`` drops the
    connection, so the next attempt connects afresh. ``what`` names the work in the log. The one retry loop
    of the project: :func:`retry_disconnected` (peewee's ``db``) and cluster mode's own connections
    (``telephony.router.logconn``) use it."""
    window = reconnect_window() if within_s is None else within_s
    started = time.monotonic()
    delay = BACKOFF_FIRST_S
    attempt = 1
    while True:
        try:
            result = work(attempt)
        except Exception as exc:
            try:
                reset()
            except Exception:
                log.debug("dropping a lost connection failed", exc_info=True)
            if not retry(exc) or time.monotonic() + delay > started + window:
                raise
            if attempt == 1:
                first = str(exc).strip().splitlines()
                log.warning("%s: the database connection was lost (%s); trying again for up to %g s",
                            what, first[0] if first else type(exc).__name__, window)
            time.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)
            attempt += 1
            continue
        if attempt > 1:
            log.warning("%s: done after %d attempts (%.1f s without the database)", what, attempt,
                        time.monotonic() - started)
        return result


def retry_disconnected(work: Callable[[], T], what: str, *, within_s: float | None = None) -> T:
    """``work()``, run again while it fails with a lost connection, for at most ``within_s`` seconds (see the
    module docstring); then the last error is raised. ``what`` names the work in the log."""
    owns = db.is_closed()  # no session of the caller: the work opens and ends its own transaction

    def drop() -> None:
        if not db.is_closed():  # hand the broken connection back: the pool drops it
            db.close()

    def retryable(exc: Exception) -> bool:
        return owns and is_postgres() and is_disconnect(exc)

    return retry_lost(lambda _attempt: work(), what, reset=drop if owns else lambda: None, retry=retryable,
                      within_s=within_s)
