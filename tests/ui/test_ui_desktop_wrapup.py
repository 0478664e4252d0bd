"""Wrap-up and the contact record: the record of the last call stays open after wrap-up ends (by its timer)
until it is filed or dismissed, moves to a tab when the next call is offered, and a manual wrap-up queue keeps
the agent in wrap-up until they end it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from desk_helpers import (
    Caller,
    agent,
    contact_records,
    enabled,
    field,
    ready_desktop,
    settings,
    shown,
    talking,
    text,
    until,
)
from nicegui.testing import User
from ui_helpers import see

from helpline.security.actor import Actor
from helpline.services.platform import Platform


async def test_the_record_outlives_a_timed_wrap_up_and_moves_to_a_tab_on_the_next_call(
        user: User, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int) -> None:
    settings(desk, wrap_up_s=0.5)
    await ready_desktop(user, desk)
    await talking(user, desk, ui_platform, callers)
    serial = text(user, "pop-serial")
    field(user, "remarks").value = "half written"
    user.find(marker="desk-release").click()
    await until(lambda: agent(desk)["state"] == "wrap_up")
    await until(lambda: agent(desk)["state"] == "idle")  # the timer ended wrap-up ...
    await until(lambda: enabled(user, "desk-file"))
    assert shown(user, "desk-dismiss") and field(user, "remarks").value == "half written"  # ... the record stays
    callers.append(Caller(ui_platform, desk))  # the next call is offered
    await see(user, f"The contact record {serial} is not filed yet; it stays open in a tab.")
    record_id = contact_records(ui_platform, serial)[0]["id"]
    work = user.find(marker="desk-work-tabs").elements.pop()
    await until(lambda: any(tab.props.get("name") == f"record:contact_record_form:{record_id}"
                            for tab in work.default_slot.children))  # the unfiled record has a tab of its own
    assert contact_records(ui_platform, serial)[0]["ended_at"] is None


async def test_dismiss_closes_the_record_without_filing(
        user: User, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int) -> None:
    settings(desk, wrap_up_s=300.0)
    await ready_desktop(user, desk)
    await talking(user, desk, ui_platform, callers)
    serial = text(user, "pop-serial")
    assert not enabled(user, "desk-dismiss"), "not during the call"
    user.find(marker="desk-release").click()
    await until(lambda: enabled(user, "desk-dismiss"))
    user.find(marker="desk-end-wrap-up").click()
    await until(lambda: agent(desk)["state"] == "idle")
    assert shown(user, "desk-file")
    user.find(marker="desk-dismiss").click()
    await see(user, f"The contact record {serial} is closed without filing")
    await until(lambda: not shown(user, "desk-file"))
    assert contact_records(ui_platform, serial)[0]["ended_at"] is None


async def test_a_manual_wrap_up_queue_waits_for_the_agent(
        user: User, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int) -> None:
    manual = {name: replace(q, manual_wrap_up=True) for name, q in desk.router.router.settings.queues.items()}
    settings(desk, queues=manual, wrap_up_s=0.3)
    await ready_desktop(user, desk)
    await talking(user, desk, ui_platform, callers)
    user.find(marker="desk-release").click()
    await until(lambda: agent(desk)["state"] == "wrap_up")
    await see(user, "Wrap-up: complete and file it")
    await until(lambda: agent(desk)["in_state_s"] >= 1.0, timeout=5)
    assert agent(desk)["state"] == "wrap_up"
    user.find(marker="desk-end-wrap-up").click()
    await until(lambda: agent(desk)["state"] == "idle")


async def test_a_reloaded_desktop_reopens_the_unfiled_record_but_not_a_dismissed_one(
        user: User, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int) -> None:
    settings(desk, wrap_up_s=0.3)
    await ready_desktop(user, desk)
    await talking(user, desk, ui_platform, callers)
    serial = text(user, "pop-serial")
    record_id = contact_records(ui_platform, serial)[0]["id"]
    user.find(marker="desk-release").click()
    await until(lambda: agent(desk)["state"] == "idle")
    await user.open("/desktop")  # the page reloaded after wrap-up ended
    await user.should_see(marker="desk-work-tabs", retries=150)

    def record_tab() -> bool:
        work = user.find(marker="desk-work-tabs").elements.pop()
        return any(tab.props.get("name") == f"record:contact_record_form:{record_id}"
                   for tab in work.default_slot.children)

    await until(record_tab)
    # filed in its tab (as any record is saved): a later reload does not bring it back
    ui_platform.records.update(Actor.system(), "contact_record", record_id, {"ended_at": "2026-12-06T10:00"})
    await user.open("/desktop")
    await user.should_see(marker="desk-work-tabs", retries=150)
    await asyncio.sleep(1.0)
    assert not record_tab()
