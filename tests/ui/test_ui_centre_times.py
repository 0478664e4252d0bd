"""Times are stored in UTC and shown and typed in the contact centre's time (``HELPLINE_TIME_ZONE``): a form's
datetime field, a list cell, a list's date filter. Before, a Beijing user read and typed UTC: a call at 09:00
showed 01:00, and a time typed as 09:00 was stored as 09:00 UTC (17:00 in Beijing)."""

from __future__ import annotations

from datetime import datetime

import pytest
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.security.actor import Actor
from helpline.services.platform import Platform
from helpline.ui.views.display import show
from helpline.ui.views.list_view import filter_condition

SYSTEM = Actor.system()


@pytest.fixture
def beijing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_TIME_ZONE", "Asia/Shanghai")


async def test_a_form_shows_and_takes_the_centres_clock(user: User, ui_platform: Platform, beijing: None) -> None:
    rec = ui_platform.records.create(SYSTEM, "contact_record", {"serial_no": "TZ-1", "caller_number": "13800000000",
                                                               "started_at": datetime(2026, 12, 1, 16, 0)})
    await log_in(user, "admin", path=f"/record/contact_record_form/{rec.id}")
    await user.should_see(marker="field-started_at", retries=50)
    started = user.find(marker="field-started_at").elements.pop()
    assert started.value == "2026-12-02T00:00", "16:00 UTC is midnight in Beijing"
    user.find(marker="field-ended_at").elements.pop().value = "2026-12-02T00:30"
    user.find(marker="save").click()
    await see(user, "Saved")
    values = ui_platform.records.get(SYSTEM, "contact_record", rec.id).values
    assert values["ended_at"] == datetime(2026, 12, 1, 16, 30), "typed in Beijing's time, stored in UTC"
    assert values["started_at"] == datetime(2026, 12, 1, 16, 0), "the shown value saved back unchanged"


def test_a_list_filter_and_cell_are_the_centres(ui_platform: Platform, beijing: None) -> None:
    field = ui_platform.metadata.entities["contact_record"].field("started_at")
    assert field is not None
    cond = filter_condition(field, {"from": "2026-12-02", "to": "2026-12-02"})
    assert cond.value == (datetime(2026, 12, 1, 16, 0), datetime(2026, 12, 2, 15, 59, 59))  # type: ignore[attr-defined]
    assert show(field, datetime(2026, 12, 1, 16, 0), ui_platform.metadata) == "2026-12-02 00:00"
    bad = filter_condition(field, {"from": "yesterday", "to": None})
    assert bad.value == ("yesterday", None), "not a time: left for the list's query to name"  # type: ignore[attr-defined]
