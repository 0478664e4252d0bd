"""Call recordings: retention purge, permission and audit of a play, names that escape the folder."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from helpline.data.base import centre_today
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import search_audit
from helpline.services import recordings
from helpline.services.platform import Platform


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HELPLINE_RECORDINGS", str(tmp_path / "rec"))
    return tmp_path / "rec"


def _call(name: str | None, started: datetime) -> int:
    with session():
        return int(Call.insert(uniqueid="x", started_at=started, call_recording=name).execute())


def _file(folder: Path, day: date, name: str) -> str:
    rel = f"helpline/{day.isoformat()}/{name}.wav"
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF....WAVE")
    return rel


def test_play_needs_the_permission_and_is_audited(platform: Platform, folder: Path) -> None:
    today = centre_today()
    call_id = _call(_file(folder, today, "1-1001"), datetime.now())
    boss = Actor("supervisor1", roles=("supervisor",)).bind(platform.metadata)
    agent = Actor("agent1", roles=("agent",)).bind(platform.metadata)
    assert recordings.recording_file(boss, call_id).read_bytes().startswith(b"RIFF")
    with pytest.raises(PermissionDenied):
        recordings.recording_file(agent, call_id)
    with session():
        assert [e["action"] for e in search_audit(actor="supervisor1")] == ["recording.play"]
    with pytest.raises(recordings.RecordingMissing, match="no recording"):
        recordings.recording_file(boss, _call(None, datetime.now()))
    with pytest.raises(recordings.RecordingMissing, match="outside"):
        recordings.recording_file(boss, _call("../../etc/passwd", datetime.now()))


def test_purge_keeps_the_retention_period(platform: Platform, folder: Path) -> None:
    today = date(2026, 11, 23)
    old_day, kept_day = today - timedelta(days=94), today - timedelta(days=92)
    old = _call(_file(folder, old_day, "1-1001"), datetime.combine(old_day, datetime.min.time()))
    kept = _call(_file(folder, kept_day, "2-1001"), datetime.combine(kept_day, datetime.min.time()))
    (folder / "helpline" / "notes").mkdir(parents=True)
    done = recordings.purge(93, today=today)
    assert done["files"] == 1 and done["records"] == 1
    assert not (folder / "helpline" / old_day.isoformat()).exists()
    assert (folder / "helpline" / kept_day.isoformat() / "2-1001.wav").exists()
    assert (folder / "helpline" / "notes").is_dir()  # not a day folder: untouched
    with session():
        names = {c.id: c.call_recording for c in Call.select().where(Call.id.in_([old, kept]))}
    assert names[old] is None and names[kept] is not None


def test_the_default_purge_runs_at_three_in_the_morning_utc() -> None:
    from datetime import UTC

    from helpline.config import Settings
    from helpline.services.scheduler import parse_cron

    trigger = parse_cron(Settings().recording_purge_cron)
    assert trigger.get_next_fire_time(None, datetime(2026, 11, 23, 2, 0, tzinfo=UTC)) == \
        datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, datetime(2026, 11, 23, 4, 0, tzinfo=UTC)) == \
        datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
