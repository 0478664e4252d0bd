"""A PostgreSQL server restarted under traffic: no call record and no router journal row is lost.

The test starts a PostgreSQL cluster of its own (``bench/_pg.py``'s throwaway cluster, as the ``postgres`` OS
user, on a free loopback port, in a temporary directory) because it restarts the server: the shared test server
of ``HELPLINE_TEST_PG`` must not go away under the other tests. It runs in CI (the PostgreSQL binaries are
installed there) and is skipped elsewhere when they are missing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpline.data.base import utcnow
from helpline.data.database import db, session
from helpline.data.reconnect import is_disconnect, reconnect_window, retry_disconnected
from helpline.services.platform import Platform
from tests.restartable_pg import RestartablePostgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


class _Cluster(RestartablePostgres):
    def stop(self) -> None:
        try:
            if db.obj is not None and hasattr(db.obj, "close_all"):
                db.obj.close_all()
        finally:
            super().stop()


@pytest.fixture(scope="module")
def cluster() -> Iterator[_Cluster]:
    """One cluster with the platform's tables for the module (the last test stops the server for good)."""
    found = _Cluster()
    try:
        Platform().start(found.server.url, str(ROOT / "metadata"))
        yield found
    finally:
        found.stop()


def test_calls_and_journal_survive_a_server_restart(cluster: _Cluster) -> None:
    from helpline.data.agents import AgentEvent
    from helpline.data.calls import Call
    from helpline.services.agents import RouterJournal
    from helpline.services.calls import CallService
    from helpline.services.stats import add_call  # noqa: F401  (the close counts the call in the facts)

    journal = RouterJournal(batch=20).start()
    calls = CallService()
    stop = threading.Event()
    opened: list[int] = []
    failures: list[str] = []
    events = 0
    lock = threading.Lock()

    def caller(n: int) -> None:
        nonlocal events
        while not stop.is_set():
            try:
                call_id = calls.open(uniqueid=f"restart-{n}-{time.monotonic_ns()}", caller_number="13800000000")
                with lock:
                    opened.append(call_id)
                    events += 1
                journal.agent_event(agent=str(1000 + n), at=utcnow(), what="state", old="idle", new="talking",
                                    reason="", call_id=call_id, by="test", duration_s=0.0)
                time.sleep(0.01)
                calls.close(call_id, result="answered", talk_s=1.0)
            except Exception as exc:  # what a caller would notice: the IVR's record could not be opened
                failures.append(f"{type(exc).__name__}: {exc}")
                time.sleep(0.05)

    threads = [threading.Thread(target=caller, args=(n,), daemon=True) for n in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    before = len(opened)
    took = cluster.restart()
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join(30)
    journal.flush(30)
    journal.stop()

    assert before > 0 and len(opened) > before, "calls kept coming after the restart"
    assert took > 0.2
    assert failures == []
    with session():
        rows = Call.select().count()
        still_open = Call.select().where(Call.ended_at.is_null()).count()
        written = AgentEvent.select().where(AgentEvent.by == "test").count()
    assert rows == len(opened)
    assert still_open == 0, "every call's outcome was written"
    assert journal.failed == 0 and written == events


def test_only_a_lost_connection_is_tried_again(cluster: _Cluster) -> None:
    """Runs last: it stops the server."""
    attempts = []

    def bad_statement() -> None:
        attempts.append(1)
        with session():
            db.execute_sql("SELECT no_such_column FROM hl_call")

    with pytest.raises(Exception) as raised:
        retry_disconnected(bad_statement, "a typo", within_s=5)
    assert len(attempts) == 1 and not is_disconnect(raised.value)

    cluster.server.stop()  # the server is gone for good: tried for the window, then the error
    attempts.clear()
    began = time.monotonic()
    with pytest.raises(Exception) as gone:
        retry_disconnected(lambda: attempts.append(1) or bad_statement(), "the server is down", within_s=1.0)
    assert is_disconnect(gone.value) and len(attempts) > 2 and time.monotonic() - began < 3


def test_the_reconnect_window_setting() -> None:
    assert reconnect_window({}) == 30.0
    assert reconnect_window({"HELPLINE_DB_RECONNECT_S": "0"}) == 0.0
    with pytest.raises(ValueError, match="HELPLINE_DB_RECONNECT_S"):
        reconnect_window({"HELPLINE_DB_RECONNECT_S": "soon"})
