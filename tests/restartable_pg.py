"""A throwaway PostgreSQL cluster of a test's own that the test may restart: the database-restart tests of the
data layer (tests/data/test_database_restart.py) and of cluster mode's command log
(tests/telephony/router/test_cluster_restart.py). The shared dev server cannot be restarted under other tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


class RestartablePostgres:
    """A PostgreSQL cluster in a temporary directory on a free loopback port; ``restart()`` times a fast
    restart. Skips without the PostgreSQL binaries (fails under ``CI=true``)."""

    def __init__(self, prefix: str = "hl-restart-") -> None:
        from bench._pg import PG_BIN, ThrowawayPostgres

        if not (PG_BIN / "pg_ctl").exists():
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"CI=true but the PostgreSQL binaries are not in {PG_BIN}")
            pytest.skip(f"needs the PostgreSQL binaries in {PG_BIN}")
        self.parent = Path(tempfile.mkdtemp(prefix=prefix))
        self.parent.chmod(0o755)  # the postgres user runs the server in it
        for attempt in range(3):  # the free port found may be taken by another process before the server binds it
            try:
                self.server = ThrowawayPostgres(self.parent / "data").start()
                break
            except subprocess.CalledProcessError:
                if attempt == 2:
                    shutil.rmtree(self.parent, ignore_errors=True)
                    raise

    @property
    def url(self) -> str:
        return str(self.server.url)

    def restart(self) -> float:
        """Restart the server (fast shutdown, wait for it); the seconds it took."""
        from bench._pg import PG_BIN, _as_postgres

        started = time.monotonic()
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.server.data_dir), "-m", "fast", "-w",
                      "-l", str(self.server.log_file), "restart",
                      "-o", f"-p {self.server.port} -k /tmp -c listen_addresses=127.0.0.1"])
        return time.monotonic() - started

    def stop(self) -> None:
        try:
            self.server.stop()
        finally:
            shutil.rmtree(self.parent, ignore_errors=True)
