"""The contact centre's day (``helpline.data.base.centre_today``): its time zone's date, not the server's; a new
record's ``today`` default is that day and its ``now`` default a UTC time like every stored timestamp."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpline.data.base import centre_today, centre_zone, utcnow
from helpline.metadata.kinds.common import Label
from helpline.metadata.kinds.entity import EntityField
from helpline.services.platform import Platform, StartupError
from helpline.services.values import default_value

AHEAD, BEHIND = "Etc/GMT-14", "Etc/GMT+12"  # UTC+14 and UTC-12: their dates differ from each other every hour


@pytest.fixture
def server_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server process runs in UTC-12 (its own local date is not the centre's)."""
    monkeypatch.setenv("TZ", BEHIND)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _date_at(offset_hours: int) -> object:
    return (datetime.now(UTC) + timedelta(hours=offset_hours)).date()


def test_today_is_the_centres_date(monkeypatch: pytest.MonkeyPatch, server_zone: None) -> None:
    monkeypatch.setenv("HELPLINE_TIME_ZONE", AHEAD)
    ahead = centre_today()
    monkeypatch.setenv("HELPLINE_TIME_ZONE", BEHIND)
    behind = centre_today()
    assert ahead == _date_at(14) and behind == _date_at(-12)
    assert (ahead - behind).days in (1, 2)


def test_the_default_zone_is_beijing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPLINE_TIME_ZONE", raising=False)
    assert str(centre_zone()) == "Asia/Shanghai" and centre_today() == _date_at(8)


def test_an_unknown_zone_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_TIME_ZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="HELPLINE_TIME_ZONE 'Mars/Olympus' is not a time zone"):
        centre_today()


def test_record_defaults_take_the_centres_day_and_utc_now(monkeypatch: pytest.MonkeyPatch,
                                                          server_zone: None) -> None:
    monkeypatch.setenv("HELPLINE_TIME_ZONE", AHEAD)
    day = EntityField(name="opened_on", type="date", default="today", label=Label(en="Opened on"))
    at = EntityField(name="opened_at", type="datetime", default="now", label=Label(en="Opened at"))
    assert default_value(day) == _date_at(14)
    stamped = default_value(at)
    assert abs((stamped - utcnow()).total_seconds()) < 60  # not the server's local time, 12 hours off


def test_an_unknown_zone_stops_the_platform_at_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HELPLINE_TIME_ZONE", "Asia/Beijing")  # not an IANA name (Asia/Shanghai is)
    with pytest.raises(StartupError, match="HELPLINE_TIME_ZONE 'Asia/Beijing' is not a time zone"):
        Platform().start(f"sqlite:///{tmp_path / 'h.db'}", None)
