"""Online backups that restore: a copy of the database with a manifest, retention, and a checked restore.

A backup is a folder ``helpline-<UTC time>`` in the backup directory (``HELPLINE_BACKUP_DIR``) holding

- ``database.sqlite3`` — SQLite's online backup API (:meth:`sqlite3.Connection.backup`): writers go on while
  it copies (WAL), the copy is one consistent moment; or ``database.pgdump`` — ``pg_dump`` in its custom
  format, under a snapshot exported from a ``REPEATABLE READ`` transaction in which the manifest's hashes are
  computed, so the dump and its hashes describe the same moment;
- ``manifest.json`` (:mod:`helpline.services.backup_manifest`): the schema fingerprint and the metadata
  revision ids, a row count and a content hash per table, the copy's sha256, the recordings and sounds folders
  listed with sizes;
- ``files/<folder>/...`` with ``--with-files`` (``HELPLINE_BACKUP_WITH_FILES``): the folders copied.

The folder is written as ``.partial-...`` and renamed when complete: a failed backup (target not writable,
full — checked before writing, ``ENOSPC`` while writing) leaves no half backup and removes no older one.
Retention runs only after a complete backup: the newest backup of each of the last ``HELPLINE_BACKUP_KEEP_DAILY``
days and of each of the last ``HELPLINE_BACKUP_KEEP_WEEKLY`` ISO weeks are kept, the others deleted.

``restore`` checks the copy's sha256, refuses a target database whose schema fingerprint differs from the
backup's unless ``migrate`` is asked (then the platform migrates the restored database to the current code and
metadata), replaces the target's content, and compares every table's rows and hash with the manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from glob import glob
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from .backup_manifest import (
    BackupError,
    Snapshot,
    compare,
    database_kind,
    file_sha256,
    list_folder,
    pg_connect,
    snapshot_postgres,
    snapshot_sqlite,
    snapshot_url,
    sqlite_path,
)

MANIFEST = "manifest.json"
FORMAT = 1
PREFIX = "helpline-"


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float
    deleted: list[Path]


def folders() -> dict[str, Path]:
    """The file folders a backup lists (or copies): call recordings and rendered prompts."""
    from .prompts import sounds_dir
    from .recordings import folder

    return {"recordings": folder(), "sounds": sounds_dir()}


def pg_binary(name: str) -> str:
    """``pg_dump``/``pg_restore`` from PATH, else the newest ``/usr/lib/postgresql/*/bin``."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not candidates:
        raise BackupError(f"{name} not found on PATH nor in /usr/lib/postgresql/*/bin: install the PostgreSQL "
                          "client programs of the server's version")
    return candidates[-1]


def _pg_env_url(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (which would show in the process list) and the environment carrying it."""
    parsed = urlparse(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
        netloc = parsed.hostname or ""
        if parsed.username:
            netloc = f"{parsed.username}@{netloc}"
        if parsed.port:
            netloc += f":{parsed.port}"
        parsed = parsed._replace(netloc=netloc)
    return urlunparse(parsed._replace(scheme="postgresql")), env


def database_bytes(url: str) -> int:
    """The database's size on disk (SQLite: the file with its WAL; PostgreSQL: ``pg_database_size``)."""
    if database_kind(url) == "sqlite":
        path = Path(sqlite_path(url))
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    conn = pg_connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_database_size(current_database())")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def _check_target(target: Path, needed: int, reserve: int) -> None:
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target, prefix=".probe-"):
            pass
    except OSError as exc:
        raise BackupError(f"backup target {target} is not writable: {exc.strerror or exc}") from exc
    free = shutil.disk_usage(target).free
    if free < needed + reserve:
        raise BackupError(f"backup target {target} is too full: {free // 1024} KiB free, the backup needs about "
                          f"{needed // 1024} KiB plus {reserve // 1024} KiB kept free (HELPLINE_BACKUP_RESERVE_MB);"
                          " older backups were kept")


def backup(url: str, target: Path, *, with_files: bool = False, keep_daily: int = 7, keep_weekly: int = 4,
           reserve_bytes: int = 0, now: datetime | None = None) -> BackupResult:
    """Back the database of ``url`` up into a new folder under ``target`` and apply the retention."""
    started = time.perf_counter()
    kind = database_kind(url)
    files = folders()
    needed = database_bytes(url) + (sum(list_folder(p)["bytes"] for p in files.values()) if with_files else 0)
    _check_target(target, needed, reserve_bytes)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    name = PREFIX + moment.strftime("%Y%m%dT%H%M%S%fZ")
    partial = target / f".partial-{name}"
    final = target / name
    try:
        partial.mkdir()
        if kind == "sqlite":
            db_file = partial / "database.sqlite3"
            _sqlite_copy(sqlite_path(url), db_file)
            snap = snapshot_sqlite(db_file)
        else:
            db_file = partial / "database.pgdump"
            snap = _pg_dump(url, db_file)
        listed = {label: list_folder(path) for label, path in files.items()}
        if with_files:
            for label, path in files.items():
                if path.is_dir():
                    shutil.copytree(path, partial / "files" / label)
        manifest = {
            "format": FORMAT, "created_at": moment.isoformat(), "database": kind,
            "file": db_file.name, "sha256": file_sha256(db_file), "bytes": db_file.stat().st_size,
            "schema": {"fingerprint": snap.fingerprint, "tables": snap.tables, "metadata_revisions": snap.revisions},
            "tables": {t: {"rows": s.rows, "sha256": s.sha256} for t, s in snap.content.items()},
            "folders": listed, "with_files": with_files,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        partial.rename(final)
    except BaseException as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(exc, OSError):
            raise BackupError(f"backup into {target} failed: {exc.strerror or exc}; the partial copy was removed "
                              "and older backups were kept") from exc
        raise
    deleted = apply_retention(target, keep_daily, keep_weekly)
    return BackupResult(final, manifest, time.perf_counter() - started, deleted)


def _sqlite_copy(source: str, dest: Path) -> None:
    if not Path(source).exists():
        raise BackupError(f"no SQLite database at {source}")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(str(dest))
    try:
        src.backup(dst)  # one step: a consistent copy; WAL writers are not blocked
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()


def _pg_dump(url: str, dest: Path) -> Snapshot:
    conn = pg_connect(url)
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot()")
            snapshot_id = cur.fetchone()[0]
        plain, env = _pg_env_url(url)
        command = [pg_binary("pg_dump"), "--format=custom", "--no-owner", f"--snapshot={snapshot_id}",
                   f"--file={dest}", f"--dbname={plain}"]
        done = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603 - fixed program
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        return snapshot_postgres(conn)
    finally:
        conn.rollback()
        conn.close()


def list_backups(target: Path) -> list[tuple[datetime, Path]]:
    """The complete backups under ``target``, newest first."""
    found = []
    for path in target.glob(PREFIX + "*"):
        manifest = path / MANIFEST
        if not manifest.is_file():
            continue
        try:
            created = datetime.fromisoformat(json.loads(manifest.read_text(encoding="utf-8"))["created_at"])
        except (ValueError, KeyError):
            continue
        found.append((created, path))
    return sorted(found, reverse=True)


def retained(moments: list[datetime], keep_daily: int, keep_weekly: int) -> set[datetime]:
    """Which backup times the retention keeps: the newest of each of the last ``keep_daily`` days and of each
    of the last ``keep_weekly`` ISO weeks that have a backup (the newest backup is always kept)."""
    ordered = sorted(moments, reverse=True)
    keep = set(ordered[:1])
    days: set[Any] = set()
    weeks: set[Any] = set()
    for moment in ordered:
        day, week = moment.date(), moment.isocalendar()[:2]
        if day not in days and len(days) < keep_daily:
            days.add(day)
            keep.add(moment)
        if week not in weeks and len(weeks) < keep_weekly:
            weeks.add(week)
            keep.add(moment)
    return keep


def apply_retention(target: Path, keep_daily: int, keep_weekly: int) -> list[Path]:
    backups = list_backups(target)
    keep = retained([m for m, _ in backups], keep_daily, keep_weekly)
    deleted = []
    for moment, path in backups:
        if moment not in keep:
            shutil.rmtree(path, ignore_errors=True)
            deleted.append(path)
    stale = datetime.now(UTC) - timedelta(hours=6)
    for partial in target.glob(".partial-*"):  # left by a process killed while writing
        if datetime.fromtimestamp(partial.stat().st_mtime, UTC) < stale:
            shutil.rmtree(partial, ignore_errors=True)
    return deleted


# -- restore ---------------------------------------------------------------------------------------------------
@dataclass
class RestorePlan:
    folder: Path
    manifest: dict[str, Any]
    target_fingerprint: str | None
    """None: the target database has no tables."""

    @property
    def same_schema(self) -> bool:
        return self.target_fingerprint in (None, self.manifest["schema"]["fingerprint"])


def read_backup(path: Path) -> tuple[Path, dict[str, Any]]:
    """The backup folder of ``path`` (the folder, its manifest or its database file) and its manifest, the
    copy's sha256 checked."""
    folder = path if path.is_dir() else path.parent
    manifest_file = folder / MANIFEST
    if not manifest_file.is_file():
        raise BackupError(f"{path}: not a Helpline backup (no {MANIFEST} beside it)")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        copy = folder / manifest["file"]
        expected = manifest["sha256"]
    except (ValueError, KeyError) as exc:
        raise BackupError(f"{manifest_file}: unreadable manifest ({exc})") from exc
    if not copy.is_file():
        raise BackupError(f"{copy}: the database copy is missing")
    actual = file_sha256(copy)
    if actual != expected:
        raise BackupError(f"{copy}: checksum mismatch (sha256 {actual[:16]}…, the manifest says {expected[:16]}…): "
                          "the file is corrupted or was altered; refused")
    return folder, manifest


def plan_restore(path: Path, url: str) -> RestorePlan:
    folder, manifest = read_backup(path)
    if manifest["database"] != database_kind(url):
        raise BackupError(f"a {manifest['database']} backup cannot be restored into a {database_kind(url)} database")
    current = snapshot_url(url, content=False)
    return RestorePlan(folder, manifest, current.fingerprint if current.tables else None)


def restore(plan: RestorePlan, url: str, *, migrate: bool = False) -> Snapshot:
    """Replace the content of the database of ``url`` with the backup of ``plan``; the restored snapshot (every
    table's rows and hash, compared with the manifest: :class:`BackupError` listing differences)."""
    if not plan.same_schema and not migrate:
        raise BackupError(
            f"the target database has another schema (fingerprint {str(plan.target_fingerprint)[:12]}, the backup "
            f"{plan.manifest['schema']['fingerprint'][:12]}): refused; restore with --migrate to replace it and "
            "migrate the restored data to this version")
    copy = plan.folder / plan.manifest["file"]
    if plan.manifest["database"] == "sqlite":
        target = Path(sqlite_path(url))
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{copy.resolve()}?mode=ro", uri=True)
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
        finally:
            dst.close()
            src.close()
    else:
        _pg_restore(copy, url, set(plan.manifest["tables"]))
    snap = snapshot_url(url)
    problems = compare(plan.manifest["tables"], snap)
    if problems:
        raise BackupError("the restored database differs from the backup:\n  " + "\n  ".join(problems))
    return snap


def _pg_restore(copy: Path, url: str, tables: set[str]) -> None:
    plain, env = _pg_env_url(url)
    command = [pg_binary("pg_restore"), "--clean", "--if-exists", "--no-owner", "--exit-on-error",
               "--single-transaction", f"--dbname={plain}", str(copy)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603 - fixed program
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed (the target is unchanged): {done.stderr.strip()}")
    conn = pg_connect(url)
    try:
        with conn.cursor() as cur:  # tables of another schema that the backup does not have
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                        "AND table_type = 'BASE TABLE'")
            for (name,) in cur.fetchall():
                if name not in tables:
                    cur.execute(f'DROP TABLE public."{name}" CASCADE')
        conn.commit()
    finally:
        conn.close()


def restore_files(plan: RestorePlan) -> list[str]:
    """Copy the folders a ``--with-files`` backup holds back to where this process keeps them."""
    copied = []
    for label, path in folders().items():
        source = plan.folder / "files" / label
        if source.is_dir():
            shutil.copytree(source, path, dirs_exist_ok=True)
            copied.append(f"{label} → {path}")
    return copied
