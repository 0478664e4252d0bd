"""The roster page and the desktop's shifts: an administrator makes next week's roster for the demo centre from the
forecast (no history: the default profile, said so), publishes it, and agent1 sees its shifts on the desktop; an
infeasible rule set is shown with the rules that bind; agents cannot open the page."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.base import centre_today
from helpline.services.agents import ensure_demo_agents
from helpline.services.platform import Platform
from telephony.workforce import plan


async def _click_make(user: User) -> None:
    user.find(marker="roster-make").click()
    for _ in range(600):
        if user.find(marker="roster-summary").elements.pop().default_slot.children and \
                not any(isinstance(c, ui.spinner) for c in user.find(marker="roster-summary").elements.pop()
                        .default_slot.children):
            return
        await asyncio.sleep(0.05)


async def test_admin_makes_and_publishes_agent1_sees_its_shifts(user: User, ui_platform: Platform,
                                                                desk: Any) -> None:
    await log_in(user, "admin")
    user.find("Roster").click()
    await user.should_see(marker="roster-make", retries=100)
    user.find(marker="roster-start").elements.pop().value = centre_today().isoformat()
    await _click_make(user)
    await see(user, "default profile")  # no call history in the test database: said so
    await user.should_see(marker="roster-table")
    table = user.find(marker="roster-table").elements.pop()
    assert isinstance(table, ui.table)
    agents = {r["agent"] for r in table.rows}
    assert {"agent1", "agent2"} <= agents
    user.find(marker="roster-publish").click()
    await see(user, "Published")
    shifts = plan.my_shifts("agent1", centre_today())
    assert shifts, "agent1 works in the published week"
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-shifts", retries=200)
    chips = [c.text for c in user.find(marker="desk-shift").elements]
    assert len(chips) == len(shifts)


async def test_rules_that_cannot_be_met_are_shown(user: User, ui_platform: Platform, demo_metadata: Path) -> None:
    path = demo_metadata / "rosters" / "demo_centre.yaml"
    text = path.read_text(encoding="utf-8").replace("min_shifts_week: 0, max_consecutive_days: 6",
                                                    "min_shifts_week: 5, max_consecutive_days: 1")
    path.write_text(text, encoding="utf-8")
    report = ui_platform.store.sync_files(demo_metadata)
    assert not report.problems
    ensure_demo_agents()
    await log_in(user, "admin", path="/page/roster")
    await user.should_see(marker="roster-make", retries=100)
    await _click_make(user)
    await see(user, "binding: min_shifts_week 5; max_consecutive_days 1")


async def test_agents_cannot_open_the_roster_page(user: User) -> None:
    await log_in(user, "agent1", path="/page/roster")
    await see(user, "Not allowed")
    await user.should_not_see(marker="roster-make")


async def test_wallboard_shows_live_adherence(user: User, ui_platform: Platform, desk: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from helpline.data.database import session
    from helpline.data.staff import Shift

    now = datetime.now(UTC).replace(tzinfo=None)
    with session():  # agent1 and agent2 scheduled now, outside a break; both signed out
        for name in ("agent1", "agent2"):
            Shift.create(run="live", roster="demo_centre", username=name, day=now.date(), pattern="early",
                         starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=2), published=True)
    await log_in(user, "supervisor1", path="/supervisor")
    await user.should_see(marker="kpi-adherence", retries=150)
    kpi = user.find(marker="kpi-adherence").elements.pop()
    for _ in range(100):
        if kpi.text == "0%":
            break
        await asyncio.sleep(0.05)
    assert kpi.text == "0%"
    ui_platform.router.do(lambda r: r.sign_in("1001"))
    for _ in range(300):
        if kpi.text == "50%":
            break
        await asyncio.sleep(0.05)
    assert kpi.text == "50%"
