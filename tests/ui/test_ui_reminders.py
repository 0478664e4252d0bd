"""The reminder campaigns page: a supervisor loads a list (a bad row refused with its reason), starts the campaign,
dials it now without an agent (simulated customers) and sees the outcomes; an agent cannot open the page."""

from __future__ import annotations

import asyncio

from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.services.platform import Platform


def customers(n: int) -> str:
    lines = ["phone,amount,due_date,name"] + [f"1360000{i:04d},{80 + i}.50,2026-12-31,customer {i}" for i in range(n)]
    return "\n".join([*lines, "12ab,10,2026-12-31,bad number"])


async def test_a_supervisor_runs_a_reminder_campaign(user: User, ui_platform: Platform) -> None:
    await log_in(user, "supervisor1", path="/page/reminders")
    await user.should_see(marker="reminders-table", retries=100)
    user.find(marker="reminders-name").type("Arrears December")
    user.find(marker="reminders-window").clear().type("00:00-23:59")  # whatever the hour the test runs at
    user.find(marker="reminders-list").type(customers(5))
    user.find(marker="reminders-create").click()
    await see(user, "5 customer(s), 1 row(s) refused")
    await see(user, "invalid phone number '12ab'")
    campaigns = user.find(marker="reminders-table").elements.pop()
    assert isinstance(campaigns, ui.table)
    user.find(marker="reminders-start").click()
    for _ in range(200):
        if campaigns.rows and campaigns.rows[0]["status"] == "running":
            break
        await asyncio.sleep(0.05)
    user.find(marker="reminders-dial").click()
    await see(user, "Dialled 5, refused outside the window 0.")
    outcomes = user.find(marker="reminders-outcomes").elements.pop()
    assert isinstance(outcomes, ui.table)
    for _ in range(100):
        if len(outcomes.rows) == 5:
            break
        await asyncio.sleep(0.05)
    assert {r["outcome"] for r in outcomes.rows} == {"confirmed"} and len(outcomes.rows) == 5
    assert campaigns.rows[0]["states"] == "confirmed 5" and campaigns.rows[0]["status"] == "running"


async def test_agents_cannot_open_the_reminders_page(user: User) -> None:
    await log_in(user, "agent1", path="/page/reminders", expect_shell=False)
    await user.should_not_see(marker="reminders-table")
