"""``run.py reindex``: rebuilds the text index in batches with progress; an unknown entity is a clear error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.cli.test_cli import run_py


def test_reindex_rebuilds_what_a_bulk_write_left_out(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    url = f"sqlite:///{path}"
    assert run_py("demo", "--db", url, "--customers", "30").returncode == 0
    with sqlite3.connect(path) as conn:  # a write past the record service: the index does not know it
        conn.execute("UPDATE customer SET name = '诸葛孔明' WHERE id = 7")
        found = "SELECT rowid FROM hl_text_customer WHERE hl_text_customer MATCH '\"name_孔明\"'"
        assert conn.execute(found).fetchall() == []
    done = run_py("reindex", "--db", url, "--entity", "customer", "--batch", "8")
    assert done.returncode == 0, done.stderr
    assert "customer: 30/30" in done.stdout and "customer: 30 records indexed" in done.stdout
    with sqlite3.connect(path) as conn:
        assert conn.execute(found).fetchall() == [(7,)]
    bad = run_py("reindex", "--db", url, "--entity", "region")
    assert bad.returncode == 2 and "'region' is not an entity with text_search fields" in bad.stderr
