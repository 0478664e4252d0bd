"""``after_commit``: a callback waits for the outermost write transaction's commit, is dropped when it rolls
back, and runs at once outside any transaction (what a live push of a new notice relies on)."""

from __future__ import annotations

import pytest

from helpline.data.database import after_commit, db, open_database, session, write_transaction


def test_callbacks_wait_for_the_commit_and_are_dropped_on_rollback(db_url: str) -> None:
    open_database(db_url)
    ran: list[str] = []
    with session():
        db.execute_sql("CREATE TABLE t (x INTEGER)")
        after_commit(lambda: ran.append("outside"))
        assert ran == ["outside"]
        with write_transaction():
            db.execute_sql("INSERT INTO t VALUES (1)")
            with write_transaction():  # nested: a savepoint, not the commit
                after_commit(lambda: ran.append("inner"))
            assert ran == ["outside"]
            after_commit(lambda: ran.append("outer"))
            assert ran == ["outside"]
        assert ran == ["outside", "inner", "outer"]
        with pytest.raises(RuntimeError), write_transaction():
            after_commit(lambda: ran.append("rolled back"))
            raise RuntimeError("boom")
        with write_transaction():
            pass
        assert ran == ["outside", "inner", "outer"]  # the rolled-back one never ran, not even later
