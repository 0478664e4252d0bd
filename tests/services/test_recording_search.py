"""Finding recorded calls for QA: filters by agent, day, customer and queue; the permission; masked titles."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from helpline.data.calls import Call
from helpline.data.database import session
from helpline.security.actor import Actor, PermissionDenied
from helpline.services.platform import Platform
from helpline.services.recording_search import RecordingFilter, find_recordings

SYSTEM = Actor.system()


def _call(agent: str | None, queue: str | None, started: datetime, customer: int | None,
          recording: str | None = "helpline/x.wav") -> int:
    with session():
        return int(Call.insert(uniqueid="u", agent=agent, queue=queue, started_at=started, customer_id=customer,
                               call_recording=recording, talk_s=42.0).execute())


@pytest.fixture
def calls(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Times in UTC, days the centre's (Beijing, UTC+8): b at 23:59 on the 2nd, c at 00:00 on the 3rd."""
    monkeypatch.setenv("HELPLINE_TIME_ZONE", "Asia/Shanghai")
    li = platform.records.create(SYSTEM, "customer", {"customer_no": "HN90000001", "name": "李四"}).id
    wang = platform.records.create(SYSTEM, "customer", {"customer_no": "HN90000002", "name": "王五"}).id
    return {
        "a": _call("1001", "complaint", datetime(2026, 12, 1, 9), li),
        "b": _call("1002", "complaint", datetime(2026, 12, 2, 15, 59), wang),
        "c": _call("1001", "general", datetime(2026, 12, 2, 16), None),
        "unrecorded": _call("1001", "complaint", datetime(2026, 12, 3, 9), li, recording=None),
        "li": li,
    }


def ids(actor: Actor, platform: Platform, **wanted: object) -> list[int]:
    return [r["id"] for r in find_recordings(actor, platform, RecordingFilter(**wanted))]  # type: ignore[arg-type]


def test_filters(platform: Platform, calls: dict[str, int]) -> None:
    qa = Actor("qa1", roles=("qa",)).bind(platform.metadata)
    assert ids(qa, platform) == [calls["c"], calls["b"], calls["a"]]  # newest first, recorded calls only
    assert ids(qa, platform, agent="1001") == [calls["c"], calls["a"]]
    assert ids(qa, platform, queue="complaint") == [calls["b"], calls["a"]]
    assert ids(qa, platform, since=date(2026, 12, 2), until=date(2026, 12, 2)) == [calls["b"]]  # the centre's days,
    # inclusive (c is on the 3rd in Beijing, the 2nd in UTC)
    assert ids(qa, platform, customer="HN90000001") == [calls["a"]]
    assert ids(qa, platform, customer="李四") == []  # the name is masked for QA: never searched
    assert ids(qa, platform, customer="HN99") == []
    found = find_recordings(qa, platform, RecordingFilter(agent="1002"))
    assert found[0]["customer"] == "王*" and found[0]["talk_s"] == 42.0  # the title as QA may see it
    boss = Actor("supervisor1", roles=("supervisor",)).bind(platform.metadata)
    assert ids(boss, platform, customer="李四") == [calls["a"]]
    assert find_recordings(boss, platform, RecordingFilter(agent="1002"))[0]["customer"] == "王五"


def test_the_permission_is_needed(platform: Platform, calls: dict[str, int]) -> None:
    agent = Actor("agent1", roles=("agent",), regions=("changsha",)).bind(platform.metadata)
    with pytest.raises(PermissionDenied):
        find_recordings(agent, platform, RecordingFilter())
