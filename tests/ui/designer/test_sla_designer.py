"""The SLA policy and business calendar designers: a target that is not a duration is shown beside it, a
corrected one published and used by the next order's deadline; a calendar whose weekdays are all emptied is
refused beside its hours (HL-E410), and a holiday added in the form lands in the draft."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from designer_helpers import admin, found, retype, settled, until
from nicegui.testing import User
from ui_helpers import log_in

import helpline.ui.views.designer.sla_designer  # noqa: F401 - registers the designers
from helpline.data.database import session
from helpline.data.workflow import WorkflowInstance
from helpline.security.actor import Actor
from helpline.services.designer.drafts import DraftService
from helpline.services.platform import Platform


def draft_of(p: Platform, kind: str, name: str) -> dict[str, Any]:
    opened = DraftService(p).open(admin(p), kind, name)
    return opened.data if opened.is_draft and opened.data is not None else {}


async def test_a_policy_target_checked_published_and_used(user: User, ui_platform: Platform) -> None:
    p = ui_platform
    await log_in(user, "admin", path="/designer/sla/fault")
    await user.should_see(marker="sla-response", retries=300)
    await user.should_see(marker="designer-ok", retries=300)
    retype(user, "sla-response", "ten minutes")
    await until(lambda: draft_of(p, "sla", "fault").get("response") == "ten minutes", "typed")
    await user.should_see(marker="designer-error-HL-E106", retries=300)
    assert any("ten minutes" in e.text for e in found(user, "designer-error-HL-E106"))
    retype(user, "sla-response", "15m")
    await until(lambda: found(user, "designer-ok"), "fixed")
    retype(user, "designer-comment", "faults answered in 15 minutes")
    user.find(marker="designer-publish").click()
    await until(lambda: p.metadata.objects["sla"]["fault"].response == "15m", "published")
    await settled(user, p, "sla", "fault")
    system = Actor.system()
    order = int(p.records.create(system, "work_order", {"type": "fault", "city": "changsha", "title": "t"}).id)
    with session():
        inst = WorkflowInstance.get(WorkflowInstance.record_id == order)
    assert inst.sla_policy == "fault" and inst.response_due - inst.opened_at == timedelta(minutes=15)


async def test_a_calendar_without_hours_is_refused_beside_them(user: User, ui_platform: Platform) -> None:
    p = ui_platform
    await log_in(user, "admin", path="/designer/calendar/round_the_clock")
    await user.should_see(marker="calendar-hours-mon", retries=300)
    await user.should_see(marker="designer-ok", retries=300)
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        retype(user, f"calendar-hours-{day}", "")
        await until(lambda d=day: d not in draft_of(p, "calendar", "round_the_clock").get("hours", {}), day)
    await user.should_see(marker="designer-error-HL-E410", retries=300)
    retype(user, "calendar-hours-mon", "08:30-12:00, 13:30-17:30")
    await until(lambda: draft_of(p, "calendar", "round_the_clock")["hours"].get("mon")
                == ["08:30-12:00", "13:30-17:30"], "monday")
    await until(lambda: not found(user, "designer-error-HL-E410"), "HL-E410 gone")
    retype(user, "calendar-new-holidays", "2027-10-01")
    user.find(marker="calendar-add-holidays").click()
    await until(lambda: [str(h["date"]) for h in draft_of(p, "calendar", "round_the_clock").get("holidays", [])]
                == ["2027-10-01"], "holiday")
    await user.should_see(marker="calendar-holidays-0-to", retries=300)
