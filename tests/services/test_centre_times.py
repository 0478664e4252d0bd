"""Times are stored in UTC and typed and read in the contact centre's time (``HELPLINE_TIME_ZONE``): a query's
date range is the centre's days (docs/reports.md, *Whose day*; the list and the form: tests/ui/test_ui_centre_times.py).
Before, a date range was a UTC day: in Beijing from 08:00 to 08:00."""

from __future__ import annotations

from datetime import datetime

import pytest

from helpline.security.actor import Actor
from helpline.services.platform import Platform
from helpline.services.queries import run_query

SYSTEM = Actor.system()


@pytest.fixture
def beijing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_TIME_ZONE", "Asia/Shanghai")


def record(platform: Platform, serial: str, started: datetime) -> int:
    return platform.records.create(SYSTEM, "contact_record", {"serial_no": serial, "started_at": started,
                                                              "caller_number": "13800000000"}).id


def test_a_query_date_range_is_the_centres_days(platform: Platform, beijing: None) -> None:
    late = record(platform, "T-1", datetime(2026, 12, 1, 15, 59))  # 23:59 on the 1st in Beijing
    early = record(platform, "T-2", datetime(2026, 12, 1, 16, 0))  # 00:00 on the 2nd
    for day, wanted in (("2026-12-01", [late]), ("2026-12-02", [early])):
        page = run_query(platform, SYSTEM, "yesterdays_callers", {"started": [day, day]}).page
        assert page is not None and [r["id"] for r in page.rows] == wanted, day
