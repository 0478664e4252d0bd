"""What a backup says about itself: the schema, a row count and a content hash per table, file checksums.

The manifest (``manifest.json`` beside the database copy) is what makes a backup checkable: ``run.py restore``
refuses a copy whose sha256 differs from the one written at backup time (a corrupted or altered file), refuses a
target database of another schema unless asked to migrate, and after restoring compares every table's row count
and content hash with the manifest's.

The content hash of a table is the sha256 of its rows in primary-key order (every column in order, each row's
values written as Python literals), read through the database's own driver: the same data on the same kind of
database always gives the same hash, whatever the physical order of the rows. The schema fingerprint is the
sha256 of every table's column names and types; the live metadata revision ids are recorded beside it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

HASH_BATCH = 5000
"""Rows fetched at a time while hashing a table."""


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why and what to do."""


@dataclass
class TableSummary:
    rows: int
    sha256: str


@dataclass
class Snapshot:
    """The schema and content of one database at one moment."""

    tables: dict[str, list[str]] = field(default_factory=dict)
    """Table → its ``column type`` strings in column order."""
    content: dict[str, TableSummary] = field(default_factory=dict)
    revisions: dict[str, int] = field(default_factory=dict)
    """``kind/name`` → the id of the newest metadata revision."""

    @property
    def fingerprint(self) -> str:
        return schema_fingerprint(self.tables)


def schema_fingerprint(tables: dict[str, list[str]]) -> str:
    text = json.dumps(tables, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def sqlite_path(url: str) -> str:
    """The file of a ``sqlite:///`` URL (relative or absolute)."""
    raw = url[len("sqlite://"):]
    if raw in ("", ":memory:", "/:memory:", "/"):
        raise BackupError(f"{url!r}: an in-memory or unnamed SQLite database cannot be backed up")
    return raw[1:] if raw.startswith("/") else raw


def database_kind(url: str) -> str:
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    raise BackupError(f"{url!r}: the database URL must start with sqlite:// or postgresql://")


def pg_connect(url: str) -> Any:
    import psycopg2

    parsed = urlparse(url)
    return psycopg2.connect(dbname=parsed.path.lstrip("/"), user=unquote(parsed.username or "") or None,
                            password=unquote(parsed.password or "") or None, host=parsed.hostname or "localhost",
                            port=parsed.port or 5432)


def _hash_rows(rows: Iterable[tuple[Any, ...]], binary: tuple[int, ...] = ()) -> TableSummary:
    """Rows and hash; ``binary``: the positions of columns the driver returns as ``memoryview`` (PostgreSQL's
    ``bytea``), hashed as their bytes (a memoryview's repr is its address)."""
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        if binary:
            values = list(row)
            for i in binary:
                if isinstance(values[i], memoryview):
                    values[i] = bytes(values[i])
            row = tuple(values)
        digest.update(repr(row).encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
        count += 1
    return TableSummary(count, digest.hexdigest())


def _fetch_all(cursor: Any) -> Iterator[tuple[Any, ...]]:
    while True:
        batch = cursor.fetchmany(HASH_BATCH)
        if not batch:
            return
        yield from batch


def _revisions(cursor: Any, tables: dict[str, list[str]]) -> dict[str, int]:
    if "hl_metadata_revision" not in tables:
        return {}
    cursor.execute("SELECT kind, name, MAX(id) FROM hl_metadata_revision GROUP BY kind, name")
    return {f"{kind}/{name}": int(rid) for kind, name, rid in cursor.fetchall()}


def snapshot_sqlite(path: str | Path, *, content: bool = True) -> Snapshot:
    """The schema (and, with ``content``, every table's rows and hash) of the SQLite file at ``path``, read-only."""
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    try:
        return snapshot_sqlite_connection(conn, content=content)
    finally:
        conn.close()


def snapshot_sqlite_connection(conn: sqlite3.Connection, *, content: bool = True) -> Snapshot:
    cur = conn.cursor()
    names = [r[0] for r in cur.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    snap = Snapshot()
    keys: dict[str, list[str]] = {}
    for name in names:
        info = cur.execute(f'PRAGMA table_info("{name}")').fetchall()
        snap.tables[name] = [f"{c[1]} {c[2]}".strip() for c in info]
        keys[name] = [c[1] for c in sorted((c for c in info if c[5]), key=lambda c: c[5])] or \
            [c[1] for c in info]
    snap.revisions = _revisions(cur, snap.tables)
    if content:
        for name in names:
            order = ", ".join(f'"{k}"' for k in keys[name])
            cur.execute(f'SELECT * FROM "{name}" ORDER BY {order}' if order else f'SELECT * FROM "{name}"')
            snap.content[name] = _hash_rows(_fetch_all(cur))
    return snap


def snapshot_postgres(conn: Any, *, content: bool = True) -> Snapshot:
    """The same of a PostgreSQL database (schema ``public``) on the open psycopg2 connection ``conn``, inside
    the transaction it has open (so a ``REPEATABLE READ`` one sees what ``pg_dump --snapshot`` dumps)."""
    cur = conn.cursor()
    cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "AND table_type = 'BASE TABLE' ORDER BY table_name")
    names = [r[0] for r in cur.fetchall()]
    snap = Snapshot()
    keys: dict[str, list[str]] = {}
    for name in names:
        cur.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = %s ORDER BY ordinal_position", (name,))
        cols = cur.fetchall()
        snap.tables[name] = [f"{c} {t}" for c, t in cols]
        cur.execute("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                    "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                    (f'public."{name}"',))
        keys[name] = [r[0] for r in cur.fetchall()] or [c for c, _ in cols]
    snap.revisions = _revisions(cur, snap.tables)
    if content:
        for i, name in enumerate(names):
            order = ", ".join(f'"{k}"' for k in keys[name])
            named = conn.cursor(name=f"hl_backup_hash_{i}")
            named.itersize = HASH_BATCH
            named.execute(f'SELECT * FROM public."{name}" ORDER BY {order}')
            binary = tuple(i for i, column in enumerate(snap.tables[name]) if column.endswith(" bytea"))
            snap.content[name] = _hash_rows(_fetch_all(named), binary)
            named.close()
    return snap


def snapshot_url(url: str, *, content: bool = True) -> Snapshot:
    """The snapshot of the database of ``url`` as it is now (an empty snapshot for a SQLite file not there)."""
    if database_kind(url) == "sqlite":
        path = Path(sqlite_path(url))
        if not path.exists():
            return Snapshot()
        conn = sqlite3.connect(str(path))
        try:
            return snapshot_sqlite_connection(conn, content=content)
        finally:
            conn.close()
    conn = pg_connect(url)
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        return snapshot_postgres(conn, content=content)
    finally:
        conn.rollback()
        conn.close()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def list_folder(root: Path) -> dict[str, Any]:
    """A folder's files (relative path → size) and total, for the manifest (the folder may be missing)."""
    files: dict[str, int] = {}
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file():
                files[p.relative_to(root).as_posix()] = p.stat().st_size
    return {"path": str(root.resolve()), "files": files, "bytes": sum(files.values()), "count": len(files)}


def compare(expected: dict[str, Any], snap: Snapshot) -> list[str]:
    """Differences between a manifest's ``tables`` (name → rows, sha256) and a snapshot's content."""
    problems = []
    for name, want in sorted(expected.items()):
        got = snap.content.get(name)
        if got is None:
            problems.append(f"table {name}: missing after the restore")
        elif got.rows != want["rows"] or got.sha256 != want["sha256"]:
            problems.append(f"table {name}: {got.rows} rows, hash {got.sha256[:12]} (backup: {want['rows']} rows, "
                            f"hash {want['sha256'][:12]})")
    for name in sorted(set(snap.content) - set(expected)):
        problems.append(f"table {name}: not in the backup")
    return problems
