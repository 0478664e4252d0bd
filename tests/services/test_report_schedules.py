"""Scheduled reports (issue 20 item 4): daily and weekly runs, a workbook per row scope, notices with the
download, nothing sent twice, and the refusals of a bad schedule."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from helpline.data.calls import Call
from helpline.data.database import session
from helpline.security.actor import Actor, PermissionDenied
from helpline.services.auth import actor_for, create_user, find_user
from helpline.services.calls import CallService
from helpline.services.notices import notices
from helpline.services.platform import Platform
from helpline.services.report_schedules import add_schedule, period_of, report_file, send_due

SYSTEM = Actor.system()
PASSWORD = "Secret-pass-42"


@pytest.fixture
def centre(platform: Platform) -> Platform:
    create_user(SYSTEM, "sup_all", PASSWORD, ["supervisor"])
    create_user(SYSTEM, "sup_cs", PASSWORD, ["supervisor"], regions=["4301"])
    for n, city in enumerate(("4301", "4301", "4302")):
        with session():
            call_id = int(Call.insert(uniqueid=f"s{n}", started_at=datetime(2026, 12, 1, 10, n)).execute())
        CallService().close(call_id, queue="general", tier="gold", routed="answered", wait_s=3.0, city=city)
    return platform


def workbook_answered(content: bytes) -> int:
    sheet = load_workbook(io.BytesIO(content)).active
    header = [c.value for c in sheet[1]]
    return int(sheet.cell(row=sheet.max_row, column=header.index("answered") + 1).value)


def test_periods() -> None:
    assert period_of("daily", date(2026, 12, 2)) == (date(2026, 12, 1), date(2026, 12, 1))
    assert period_of("weekly", date(2026, 12, 7)) == (date(2026, 11, 30), date(2026, 12, 6))


def test_a_daily_report_reaches_each_recipient_in_their_scope_once(centre: Platform) -> None:
    add_schedule(centre, SYSTEM, "daily_summary", "daily", ["sup_all", "sup_cs"], {"tier": ["gold"]})
    assert send_due(centre, date(2026, 12, 2)) == {"schedules": 1, "files": 2}
    assert send_due(centre, date(2026, 12, 2)) == {"schedules": 0, "files": 0}
    answered = {}
    for name in ("sup_all", "sup_cs"):
        found = notices(name, "en")
        assert len(found) == 1 and "Daily summary" in found[0].title and "2026-12-01" in found[0].title
        file_id = int(found[0].body.rsplit("/", 1)[1])
        actor = actor_for(find_user(name), centre.metadata)  # type: ignore[arg-type]
        filename, content = report_file(actor, file_id)
        assert filename == "daily_summary-2026-12-01-2026-12-01.xlsx"
        answered[name] = workbook_answered(content)
    assert answered == {"sup_all": 3, "sup_cs": 2}
    other = actor_for(find_user("sup_cs"), centre.metadata)  # type: ignore[arg-type]
    all_file = int(notices("sup_all", "en")[0].body.rsplit("/", 1)[1])
    with pytest.raises(PermissionDenied):
        report_file(other, all_file)


def test_a_weekly_report_goes_on_mondays(centre: Platform) -> None:
    add_schedule(centre, SYSTEM, "service_level", "weekly", ["role:supervisor"])
    assert send_due(centre, date(2026, 12, 8))["schedules"] == 0  # a Tuesday
    assert send_due(centre, date(2026, 12, 7)) == {"schedules": 1, "files": 2}
    assert "2026-11-30" in notices("sup_all", "en")[0].title


def test_bad_schedules_are_refused(centre: Platform) -> None:
    with pytest.raises(ValueError, match="daily or weekly"):
        add_schedule(centre, SYSTEM, "daily_summary", "hourly", ["sup_all"])
    with pytest.raises(ValueError, match="no report"):
        add_schedule(centre, SYSTEM, "nope", "daily", ["sup_all"])
    with pytest.raises(ValueError, match="no user ghost"):
        add_schedule(centre, SYSTEM, "daily_summary", "daily", ["ghost"])
    with pytest.raises(ValueError, match="recipient"):
        add_schedule(centre, SYSTEM, "daily_summary", "daily", [" "])
    with pytest.raises(ValueError, match="no input colour"):
        add_schedule(centre, SYSTEM, "daily_summary", "daily", ["sup_all"], {"colour": "red"})
    agent = Actor(username="a1", roles=("agent",)).bind(centre.metadata)
    with pytest.raises(PermissionDenied):
        add_schedule(centre, agent, "daily_summary", "daily", ["sup_all"])
