"""The connection pool under concurrency: threads wait for a free connection, and past the bound get a clear error."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

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
    holders = [threading.Thread(target=_unit_of_work, args=(3.5,)) for _ in range(2)]
    for thread in holders:
        thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    with pytest.raises(DatabaseBusy, match=r"within 2 s: all 2 of the pool are in use .*HELPLINE_DB_POOL"):
        _unit_of_work(0)
    assert 1.8 <= time.monotonic() - started < 3.0
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
