"""Report days and hours are the contact centre's (``HELPLINE_TIME_ZONE``), not UTC's: times are stored in UTC,
the daily facts are bucketed by the centre's day, and a report of the 15-minute facts shows and groups them in
the centre's time — across a daylight-saving change too (docs/reports.md, *Whose day*). Before, a day of facts was
a UTC day: in Beijing it ran from 08:00 to 08:00."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

import pytest

from helpline.data.base import centre_day_of, centre_midnight, centre_offsets
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.stats import StatCallDay, StatCallQueue
from helpline.security.actor import Actor
from helpline.services import stats
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from helpline.services.reports import drill_calls, run_report

SYSTEM = Actor.system()
_ids = itertools.count(1)
BY_HOUR = {"kind": "report", "name": "calls_by_hour", "title": {"en": "Calls by hour"}, "group": "calls",
           "source": "calls", "dimensions": ["hour"], "measures": ["offered", "answered"],
           "inputs": [{"name": "period", "dimension": "day", "op": "between", "required": True,
                       "label": {"en": "Period"}}]}


def call(started: datetime) -> int:
    with session():
        call_id = int(Call.insert(uniqueid=f"z{next(_ids)}", started_at=started).execute())
    CallService().close(call_id, queue="general", tier="gold", routed="answered", wait_s=5.0, talk_s=60.0,
                        agent="1001", city="4301", flow="main")
    return call_id


def days() -> dict[str, int]:
    with session():
        return {str(r.day): int(r.offered) for r in StatCallDay.select()}


def rows(platform: Platform, report: str, first: str, last: str, dim: str) -> dict[str, Any]:
    result = run_report(platform.metadata, SYSTEM, report, {"period": [first, last]})
    return {r[dim]: r["offered"] for r in result.rows}


def test_a_beijing_day_runs_from_its_midnight(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_TIME_ZONE", "Asia/Shanghai")
    late = call(datetime(2026, 12, 1, 15, 30))  # 23:30 on the 1st in Beijing
    early = call(datetime(2026, 12, 1, 16, 10))  # 00:10 on the 2nd
    call(datetime(2026, 12, 2, 1, 0))  # 09:00 on the 2nd
    assert days() == {"2026-12-01": 1, "2026-12-02": 2}, "the daily facts: the centre's days (UTC: all on the 1st)"
    assert rows(platform, "daily_summary", "2026-12-02", "2026-12-02", "day") == {"2026-12-02": 2}
    assert rows(platform, "service_level", "2026-12-02", "2026-12-02", "interval") == {
        "2026-12-02 00:00": 1, "2026-12-02 09:00": 1}, "the 15-minute facts of the centre's day, in its time"
    assert rows(platform, "service_level", "2026-12-01", "2026-12-01", "interval") == {"2026-12-01 23:30": 1}
    platform.publish("report", "calls_by_hour", BY_HOUR, actor=SYSTEM)
    assert rows(platform, "calls_by_hour", "2026-12-01", "2026-12-02", "hour") == {"00:00": 1, "09:00": 1,
                                                                                 "23:00": 1}
    drilled = drill_calls(platform.metadata, SYSTEM, "service_level", {"period": ["2026-12-02", "2026-12-02"]},
                          {"interval": "2026-12-02 00:00", "tier": "gold"})
    assert [c["id"] for c in drilled] == [early], "the label's time is the centre's"
    drilled = drill_calls(platform.metadata, SYSTEM, "daily_summary", {"period": ["2026-12-01", "2026-12-01"]},
                          {"day": "2026-12-01"})
    assert [c["id"] for c in drilled] == [late]
    with session():
        intervals = sorted(str(r.interval)[:16] for r in StatCallQueue.select())
    assert intervals == ["2026-12-01 15:30", "2026-12-01 16:00", "2026-12-02 01:00"], "stored in UTC"
    stats.rebuild(date(2026, 12, 1), date(2026, 12, 2))
    assert days() == {"2026-12-01": 1, "2026-12-02": 2}, "a rebuild buckets alike"


def test_hours_across_a_daylight_saving_change(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """Berlin moves from UTC+1 to UTC+2 at 01:00 UTC on 2026-03-29: a report of that day shifts each stretch by
    its own offset."""
    monkeypatch.setenv("HELPLINE_TIME_ZONE", "Europe/Berlin")
    call(datetime(2026, 3, 28, 23, 30))  # 00:30 CET on the 29th
    call(datetime(2026, 3, 29, 0, 45))  # 01:45 CET
    call(datetime(2026, 3, 29, 1, 15))  # 03:15 CEST
    assert days() == {"2026-03-29": 3}
    assert rows(platform, "service_level", "2026-03-29", "2026-03-29", "interval") == {
        "2026-03-29 00:30": 1, "2026-03-29 01:45": 1, "2026-03-29 03:15": 1}
    platform.publish("report", "calls_by_hour", BY_HOUR, actor=SYSTEM)
    assert rows(platform, "calls_by_hour", "2026-03-29", "2026-03-29", "hour") == {"00:00": 1, "01:00": 1,
                                                                                 "03:00": 1}


def test_the_centres_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The helpers the facts and reports use, for a zone given by name."""
    monkeypatch.setenv("HELPLINE_TIME_ZONE", "Asia/Shanghai")
    assert centre_day_of(datetime(2026, 12, 6, 16, 0)) == date(2026, 12, 7)
    assert centre_midnight(date(2026, 12, 7)) == datetime(2026, 12, 6, 16, 0)
    assert centre_offsets(datetime(2026, 1, 1), datetime(2027, 1, 1)) == [(datetime(2026, 1, 1), 480)]
    monkeypatch.setenv("HELPLINE_TIME_ZONE", "Europe/Berlin")
    assert centre_offsets(datetime(2026, 1, 1), datetime(2027, 1, 1)) == [
        (datetime(2026, 1, 1), 60), (datetime(2026, 3, 29, 1, 0), 120), (datetime(2026, 10, 25, 1, 0), 60)]
