"""Backups that restore, on SQLite and PostgreSQL: every table's row count and content hash equal before the
backup and after the restore; a corrupted copy, a target of another schema, a target not writable or full are
refused with a message and older backups are kept; the retention keeps the newest of each day and week."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpline.cli import main
from helpline.data.database import db
from helpline.services.backup import backup, list_backups, plan_restore, restore, retained
from helpline.services.backup_manifest import BackupError, database_kind, pg_connect, snapshot_url, sqlite_path
from helpline.services.platform import Platform


def _execute(url: str, sql: str) -> None:
    if database_kind(url) == "sqlite":
        conn = sqlite3.connect(sqlite_path(url))
        conn.execute(sql)
        conn.commit()
        conn.close()
        return
    pg = pg_connect(url)
    with pg.cursor() as cur:
        cur.execute(sql)
    pg.commit()
    pg.close()


def _release(url: str) -> None:
    """Let go of the platform's pooled connections (a PostgreSQL restore drops and recreates the tables)."""
    if not db.is_closed():
        db.close()
    if db.obj is not None and hasattr(db.obj, "close_all"):
        db.obj.close_all()


@pytest.fixture
def seeded(platform: Platform, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from helpline.demo.generator import seed_demo

    monkeypatch.setenv("HELPLINE_RECORDINGS", str(tmp_path / "recordings"))
    monkeypatch.setenv("HELPLINE_SOUNDS", str(tmp_path / "sounds"))
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "call-1.wav").write_bytes(b"RIFF" + bytes(100))
    seed_demo(platform, 40)
    _execute(db_url, "CREATE TABLE hl_test_blob (id INTEGER PRIMARY KEY, data BYTEA)")  # binary values
    blob = "X'00ff10'" if database_kind(db_url) == "sqlite" else "'\\x00ff10'::bytea"
    _execute(db_url, f"INSERT INTO hl_test_blob VALUES (1, {blob}), (2, NULL)")
    return db_url


def test_a_restore_gives_back_every_table_row_for_row(seeded: str, tmp_path: Path) -> None:
    url = seeded
    before = snapshot_url(url)
    assert sum(s.rows for s in before.content.values()) > 100 and "customer" in before.content
    assert before.content["hl_test_blob"] == snapshot_url(url).content["hl_test_blob"]  # bytes, not addresses
    done = backup(url, tmp_path / "backups")
    manifest = json.loads((done.path / "manifest.json").read_text())
    assert manifest["tables"] == {t: {"rows": s.rows, "sha256": s.sha256} for t, s in before.content.items()}
    assert manifest["folders"]["recordings"]["files"] == {"call-1.wav": 104}
    assert manifest["schema"]["fingerprint"] == before.fingerprint and manifest["schema"]["metadata_revisions"]

    _execute(url, "DELETE FROM customer WHERE id IN (SELECT id FROM customer ORDER BY id LIMIT 5)")
    _execute(url, "UPDATE hl_metadata_revision SET comment = 'changed'")
    changed = snapshot_url(url)
    assert changed.content["customer"] != before.content["customer"]
    assert changed.content["hl_metadata_revision"] != before.content["hl_metadata_revision"]

    _release(url)
    plan = plan_restore(done.path, url)
    assert plan.same_schema
    after = restore(plan, url)
    assert after.content == before.content  # every table: rows and content hash
    assert snapshot_url(url).content == before.content


def test_a_corrupted_copy_is_refused(seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done = backup(seeded, tmp_path / "backups")
    copy = done.path / done.manifest["file"]
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="checksum mismatch"):
        plan_restore(done.path, seeded)
    _release(seeded)
    assert main(["restore", str(copy), "--db", seeded, "--yes"]) == 1
    assert "checksum mismatch" in capsys.readouterr().err


def test_another_schema_is_refused_unless_migrated(seeded: str, tmp_path: Path) -> None:
    url = seeded
    before = snapshot_url(url)
    done = backup(url, tmp_path / "backups")
    _execute(url, "ALTER TABLE hl_audit ADD COLUMN extra_note VARCHAR(20)")
    _release(url)
    plan = plan_restore(done.path, url)
    assert not plan.same_schema
    with pytest.raises(BackupError, match="another schema"):
        restore(plan, url)
    assert "hl_audit" in snapshot_url(url, content=False).tables  # untouched
    assert any("extra_note" in c for c in snapshot_url(url, content=False).tables["hl_audit"])
    after = restore(plan, url, migrate=True)
    assert after.content == before.content
    assert not any("extra_note" in c for c in after.tables["hl_audit"])


def test_a_target_not_writable_is_refused_and_older_backups_kept(seeded: str, tmp_path: Path) -> None:
    target = tmp_path / "backups"
    first = backup(seeded, target)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(BackupError, match="not writable"):
        backup(seeded, blocker / "backups")
    with pytest.raises(BackupError, match="too full"):  # the free-space check before writing
        backup(seeded, target, reserve_bytes=1 << 60)
    assert [p for _, p in list_backups(target)] == [first.path]
    assert not list(target.glob(".partial-*"))


def test_a_full_target_is_refused_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real small file system (tmpfs): the backup that does not fit is refused, the one before is kept."""
    sqlite_url = f"sqlite:///{tmp_path / 'helpline.db'}"
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        path = sqlite_path(sqlite_url)
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.commit()
        first = backup(sqlite_url, mount)
        conn.executemany("INSERT INTO t (v) VALUES (?)", [("x" * 1000,) for _ in range(400)])
        conn.commit()
        conn.close()
        assert main(["backup", "--db", sqlite_url, "--to", str(mount)]) == 1
        assert "too full" in capsys.readouterr().err
        assert [p for _, p in list_backups(mount)] == [first.path]
        assert not list(mount.glob(".partial-*"))
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_target_filling_up_while_writing_leaves_no_partial_backup(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The free-space check passes (the database is small) but the manifest listing 4,000 recordings does not
    fit: ENOSPC while writing is refused with a message, the partial folder removed, the older backup kept."""
    sqlite_url = f"sqlite:///{tmp_path / 'helpline.db'}"
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        conn = sqlite3.connect(sqlite_path(sqlite_url))
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.commit()
        conn.close()
        recordings = tmp_path / "recordings"
        monkeypatch.setenv("HELPLINE_RECORDINGS", str(recordings))
        first = backup(sqlite_url, mount)
        recordings.mkdir()
        for n in range(4000):
            (recordings / f"2026-12-07-call-{n:06d}-queue-complaint-agent-1001.wav").touch()
        with pytest.raises(BackupError, match=r"failed.*partial copy was removed"):
            backup(sqlite_url, mount)
        assert [p for _, p in list_backups(mount)] == [first.path]
        assert not list(mount.glob(".partial-*"))
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_retention_keeps_the_newest_of_each_day_and_week() -> None:
    start = datetime(2026, 11, 1, 2, 30, tzinfo=UTC)  # a Sunday
    moments = [start + timedelta(days=d, hours=h) for d in range(35) for h in (0, 12)]
    kept = retained(moments, keep_daily=3, keep_weekly=2)
    newest = max(moments)
    days = sorted({m.date() for m in moments}, reverse=True)[:3]
    assert {m for m in kept if m.date() in days} == {max(m for m in moments if m.date() == d) for d in days}
    assert newest in kept and len(kept) == 4  # 3 days + the newest of the week before
    assert retained([], 3, 2) == set()
    assert retained(moments, 0, 0) == {newest}


def test_backup_and_restore_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'helpline.db'}"
    monkeypatch.setenv("HELPLINE_RECORDINGS", str(tmp_path / "recordings"))
    monkeypatch.setenv("HELPLINE_SOUNDS", str(tmp_path / "sounds"))
    monkeypatch.setenv("HELPLINE_BACKUP_KEEP_DAILY", "1")
    monkeypatch.setenv("HELPLINE_BACKUP_KEEP_WEEKLY", "1")
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "a.wav").write_bytes(b"abc")
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("INSERT INTO t (v) VALUES ('one'), ('two')")
    conn.commit()
    target = tmp_path / "backups"
    assert main(["backup", "--db", sqlite_url, "--to", str(target), "--with-files"]) == 0
    assert main(["backup", "--db", sqlite_url, "--to", str(target)]) == 0
    out = capsys.readouterr().out
    assert "1 tables, 2 rows" in out and "retention: deleted" in out  # same day: only the newest kept
    [(_, newest)] = list_backups(target)
    conn.execute("DELETE FROM t")
    conn.commit()
    conn.close()
    assert main(["restore", str(newest), "--db", sqlite_url]) == 0
    assert "add --yes" in capsys.readouterr().out
    assert snapshot_url(sqlite_url).content["t"].rows == 0
    assert main(["restore", str(newest / "manifest.json"), "--db", sqlite_url, "--yes"]) == 0
    assert "match the manifest" in capsys.readouterr().out
    assert snapshot_url(sqlite_url).content["t"].rows == 2


def test_the_scheduled_backup_job(seeded: str, platform: Platform, tmp_path: Path) -> None:
    from helpline.cli.common import start_scheduler
    from helpline.config import Settings
    from helpline.services.scheduler import SchedulerError

    settings = Settings(db=seeded, backup_dir=str(tmp_path / "nightly"), backup_reserve_mb=0)
    scheduler = start_scheduler(platform, settings, router=None)
    try:
        job = next(j for j in scheduler.jobs() if j.name == "backup")
        assert job.cron == "30 2 * * *" and job.next_run is not None and job.next_run.hour == 2
        run = scheduler.run("backup")
        assert run.status == "ok", run.error
        [(_, made)] = list_backups(tmp_path / "nightly")
        assert run.result["path"] == str(made) and run.result["tables"] > 10
        settings.backup_dir = str(tmp_path / "a-file" / "x")
        (tmp_path / "a-file").write_text("")
        failed = scheduler.run("backup")
        assert failed.status == "failed" and "not writable" in failed.error
    finally:
        scheduler.stop()
    off = start_scheduler(platform, Settings(backup_cron="off"), None)
    off.stop()
    assert "backup" not in {j.name for j in off.jobs()}
    with pytest.raises(SchedulerError, match="HELPLINE_BACKUP_CRON"):
        start_scheduler(platform, Settings(backup_cron="every night"), None)


def test_restore_command_refuses_another_schema_and_migrates_when_asked(
        seeded: str, tmp_path: Path, demo_metadata: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = seeded
    before = snapshot_url(url)
    done = backup(url, tmp_path / "backups")
    _execute(url, "ALTER TABLE hl_audit ADD COLUMN extra_note VARCHAR(20)")
    _release(url)
    assert main(["restore", str(done.path), "--db", url, "--metadata", str(demo_metadata), "--yes"]) == 1
    assert "another schema" in capsys.readouterr().err
    assert main(["restore", str(done.path), "--db", url, "--metadata", str(demo_metadata), "--yes",
                 "--migrate"]) == 0
    out = capsys.readouterr().out
    assert "match the manifest" in out and "migrated to this version's schema" in out
    _release(url)
    after = snapshot_url(url)
    assert after.tables == before.tables
    assert after.content["customer"] == before.content["customer"]
