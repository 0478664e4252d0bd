"""The connection pool under concurrency: threads wait for a free connection, and past the bound get a clear error."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from helpline.data.database import (
    DatabaseBusy,
    DatabaseUrlError,
    db,
    make_database,
    pool_settings,
    session,
    write_transaction,
)


@pytest.fixture
def small_pool(db_url: str) -> Iterator[None]:
    """``db`` on a pool of 2 connections that waits up to 2 s."""
    previous = db.obj
    db.initialize(make_database(db_url, max_connections=2, wait=2))
    yield
    db.obj.close_all()
    if previous is not None:
        db.initialize(previous)


def _unit_of_work(hold: float) -> None:
    with session():
        db.execute_sql("SELECT 1").fetchall()
        time.sleep(hold)


def test_more_threads_than_connections_wait_their_turn(small_pool: None) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            _unit_of_work(0.1)
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []  # 12 threads on 2 connections: each waited, none failed


def test_past_the_wait_a_clear_error(small_pool: None) -> None:
    holding, let_go = threading.Semaphore(0), threading.Event()

    def hold() -> None:
        with session():
            db.execute_sql("SELECT 1").fetchall()
            holding.release()
            let_go.wait(10)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for thread in holders:
        thread.start()
    try:
        assert all(holding.acquire(timeout=10) for _ in holders)  # both connections in use (not a fixed sleep)
        started = time.monotonic()
        with pytest.raises(DatabaseBusy, match=r"within 2 s: all 2 of the pool are in use .*HELPLINE_DB_POOL"):
            _unit_of_work(0)
        assert 1.8 <= time.monotonic() - started < 5  # the pool's 2 s, not until a holder lets go (10 s)
    finally:
        let_go.set()
        for thread in holders:
            thread.join(5)
    _unit_of_work(0)  # free again


def test_pool_settings_from_the_environment() -> None:
    assert pool_settings("sqlite", {}) == (16, 10)
    assert pool_settings("postgresql", {"HELPLINE_DB_POOL": "30", "HELPLINE_DB_POOL_WAIT": "4"}) == (30, 4)
    with pytest.raises(DatabaseUrlError, match="HELPLINE_DB_POOL='0'"):
        pool_settings("sqlite", {"HELPLINE_DB_POOL": "0"})


def test_sqlite_writers_of_a_process_take_turns_without_polling(sqlite_url: str) -> None:
    """A writer waiting for another is let in when it commits, not at the next poll of SQLite's busy handler
    (which sleeps up to 100 ms at a time)."""
    previous = db.obj
    db.initialize(make_database(sqlite_url, max_connections=8, wait=5))
    try:
        with session():
            db.execute_sql("CREATE TABLE t (v INTEGER)")
        released: list[float] = []
        entered: list[float] = []
        lock = threading.Lock()

        def write(hold: float) -> None:
            with session(), write_transaction():
                with lock:
                    entered.append(time.perf_counter())
                db.execute_sql("INSERT INTO t VALUES (1)")
                time.sleep(hold)
                with lock:
                    released.append(time.perf_counter())

        threads = [threading.Thread(target=write, args=(0.15,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        entered.sort()
        released.sort()
        late = [entered[i + 1] - released[i] for i in range(len(released) - 1)]
        assert len(late) == 5 and sorted(late)[2] < 0.01, [round(x * 1000, 1) for x in late]
    finally:
        db.obj.close_all()
        if previous is not None:
            db.initialize(previous)



@pytest.fixture
def pg_pool(pg_url: str) -> Iterator[Any]:
    """A PostgreSQL pool of 4 connections, two of them idle in the pool, as ``db``."""
    previous = db.obj
    pool = make_database(pg_url, max_connections=4, wait=5)
    db.initialize(pool)
    warm = [threading.Thread(target=_unit_of_work, args=(0.05,)) for _ in range(2)]
    for thread in warm:
        thread.start()
    for thread in warm:
        thread.join(5)
    yield pool
    pool.close_all()
    if previous is not None:
        db.initialize(previous)


def test_a_checkout_does_not_wait_for_another_ones_ping(pg_pool: Any) -> None:
    """peewee pings a pooled PostgreSQL connection (``SELECT 1``) before handing it out; done under the pool's
    locks, every checkout of the process queued behind the others' round trips (issue 22: the screen-pops waited
    p95 106 ms for their connections). A ping held up here: another thread still gets its connection."""
    adapter = pg_pool._adapter
    ping = adapter.is_connection_closed
    pinging, release = threading.Event(), threading.Event()

    def held_ping(conn: Any) -> bool:
        if not pinging.is_set():  # the first ping waits until released
            pinging.set()
            release.wait(5)
        return bool(ping(conn))

    adapter.is_connection_closed = held_ping
    done: list[str] = []
    first = threading.Thread(target=lambda: (_unit_of_work(0), done.append("first")))
    try:
        first.start()
        assert pinging.wait(5)
        second = threading.Thread(target=lambda: (_unit_of_work(0), done.append("second")))
        second.start()
        second.join(2)
        assert done == ["second"], "the second checkout waited for the first one's ping"
    finally:
        release.set()
        del adapter.is_connection_closed
        first.join(5)
    assert done == ["second", "first"]


def test_a_dead_pooled_connection_is_dropped_at_checkout(pg_pool: Any, pg_url: str) -> None:
    """Pooled connections whose server processes are gone (a restarted server): the checkout drops them and
    hands out a live one."""
    other = make_database(pg_url, max_connections=1)
    with other.connection_context():
        other.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                          "AND pid <> pg_backend_pid()")
    other.close_all()
    for _ in range(3):
        with session():
            assert db.execute_sql("SELECT 1").fetchone()[0] == 1
