"""PostgreSQL connections of cluster mode (the router's command log, the shared channel registry): opening one,
and running a unit of work on it that rides out a server restart.

A restarting server (``pg_ctl restart``, a failover, an upgrade) ends every connection and refuses new ones
for a second or two. :func:`retrying` runs a whole unit of work (a function that takes the attempt number,
gets its connection afresh when the last one died and opens and ends its own transaction) again while it fails
with a lost or refused connection (:func:`helpline.data.reconnect.is_disconnect`), with the back-off of
``helpline.data.reconnect`` (50 ms doubling to 1 s) for at most ``HELPLINE_DB_RECONNECT_S`` seconds (30);
any other failure is raised at once, and the last one when the window is over. After every failure ``reset``
drops the connection (the next attempt connects again).

What is retried must be safe to run twice: the server rolled the failed attempt back, except when the
connection died after the server committed and before the client heard of it. The command log's appends
carry a key of their own for that case (``telephony.router.cluster``): a retry that finds its key appended
returns that entry instead of appending the command again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from helpline.data.reconnect import retry_lost

__all__ = ["connect", "retrying"]

T = TypeVar("T")


def connect(url: str, name: str, *, autocommit: bool) -> Any:
    """A psycopg2 connection to ``url`` named ``name`` (``application_name``), with TCP keepalives."""
    import psycopg2

    parsed = urlparse(url)
    conn = psycopg2.connect(dbname=parsed.path.lstrip("/"), user=unquote(parsed.username or "") or None,
                            password=unquote(parsed.password or "") or None, host=parsed.hostname or "localhost",
                            port=parsed.port or 5432, connect_timeout=5, application_name=name[:63],
                            keepalives=1, keepalives_idle=2, keepalives_interval=1, keepalives_count=3)
    conn.autocommit = autocommit
    return conn


def retrying(work: Callable[[int], T], what: str, *, reset: Callable[[], None],
             within_s: float | None = None) -> T:
    """``work(attempt)`` (attempt 1, 2, ...), run again while it fails with a lost or refused connection, for
    at most ``within_s`` seconds (default ``HELPLINE_DB_RECONNECT_S``); see the module docstring."""
    return retry_lost(work, what, reset=reset, within_s=within_s)
