"""A throwaway PostgreSQL cluster for the benchmarks (``--start-postgres``).

The cluster runs as the ``postgres`` OS user (``initdb`` refuses root), listens on 127.0.0.1 only, on port
5433 or the next free one, with its socket and data under ``/tmp``. :meth:`ThrowawayPostgres.stop` stops the
server it started (``pg_ctl stop``, by data directory) and, unless asked to keep it, removes the data
directory. Nothing here touches another cluster.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
DEFAULT_DATA_DIR = Path("/tmp/helpline-bench-pg")
DB_NAME = "helpline_bench"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(first: int = 5433, tries: int = 50) -> int:
    for port in range(first, first + tries):
        if _port_free(port):
            return port
    raise RuntimeError(f"no free port in {first}..{first + tries - 1}")


def _as_postgres(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary as the postgres user (directly when we already are that user)."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", PG_USER, "--", *args]
    done: subprocess.CompletedProcess[str] = subprocess.run(  # type: ignore[call-overload]
        args, check=True, text=True, capture_output=True, **kwargs)
    return done


class ThrowawayPostgres:
    """``initdb`` (once) + ``pg_ctl start``; ``stop()`` stops it again. Use as a context manager."""

    def __init__(self, data_dir: Path = DEFAULT_DATA_DIR, port: int | None = None, *, keep: bool = False,
                 settings: dict[str, str] | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.keep = keep
        self.settings = settings or {}
        self.started = False

    @property
    def log_file(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".log")

    @property
    def url(self) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{DB_NAME}"

    def version(self) -> str:
        out = subprocess.run([str(PG_BIN / "postgres"), "--version"], text=True, capture_output=True)
        return out.stdout.strip()

    def start(self) -> ThrowawayPostgres:
        if not (PG_BIN / "pg_ctl").exists():
            raise RuntimeError(f"PostgreSQL binaries not found in {PG_BIN} (apt-get install -y postgresql)")
        if (self.data_dir / "postmaster.pid").exists():
            raise RuntimeError(f"{self.data_dir} has a running server (or a stale postmaster.pid); stop it with "
                               f"runuser -u postgres -- {PG_BIN / 'pg_ctl'} -D {self.data_dir} stop")
        if not (self.data_dir / "PG_VERSION").exists():
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir.mkdir(parents=True)
            shutil.chown(self.data_dir, PG_USER)
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", PG_USER,
                          "-E", "UTF8", "--locale=C.UTF-8"])
        self.log_file.touch()
        shutil.chown(self.log_file, PG_USER)
        options = [f"-p {self.port}", "-k /tmp", "-c listen_addresses=127.0.0.1"]
        options += [f"-c {k}={v}" for k, v in self.settings.items()]
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-o", " ".join(options),
                      "-l", str(self.log_file), "-w", "-t", "60", "start"])
        self.started = True
        self._create_database()
        return self

    def _create_database(self) -> None:
        import psycopg2

        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres")
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DB_NAME}"')
        conn.close()

    def stop(self) -> None:
        if self.started:
            try:
                _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
            finally:
                self.started = False
        if not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.log_file.unlink(missing_ok=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _admin(server: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(server)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def throwaway_database(server: str, prefix: str) -> tuple[str, str]:
    """A new empty database named ``<prefix>_<random>`` on the PostgreSQL server ``server`` (a URL such as
    ``postgresql://postgres@127.0.0.1:5432/postgres``) → its URL and its name (for :func:`drop_database`)."""
    from urllib.parse import urlparse, urlunparse
    from uuid import uuid4

    name = f"{prefix}_{uuid4().hex[:8]}"
    _admin(server, f'CREATE DATABASE "{name}"')
    return urlunparse(urlparse(server)._replace(path="/" + name)), name


def drop_database(server: str, name: str) -> None:
    """Drop a database :func:`throwaway_database` made: this process's pooled connections are closed first, the
    others are ended by the drop."""
    from helpline.data.database import db

    if db.obj is not None:  # this process used the database (a parent whose children did has not)
        if not db.is_closed():
            db.close()
        if hasattr(db.obj, "close_all"):
            db.obj.close_all()
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
