"""Call-backs in the UI (NiceGUI's simulated user, the live router and simulated phones): agent1's desktop shows
the call-back task the router offers, the agent takes it, calls the customer (the default outside world
answers), and records that the customer was reached; the supervisors' Call-backs page lists the tasks with the
overdue ones marked and the attempt history, and is refused to an agent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from desk_helpers import GOLD, agent, element, enabled, ready_desktop, shown, text, until
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.base import utcnow
from helpline.services import callbacks as service
from helpline.services.platform import Platform
from telephony.callbacks import CallbackQueue
from telephony.desk.dialout import outbound


def task_for(platform: Platform, desk: Any, number: str = GOLD, tier: str = "gold") -> int:
    task = CallbackQueue(platform, desk.router).from_call(
        call_id=0, number=number, queue="general", tier=tier, recording=None, customer_id=None,
        customer_name="李强", region=None, city=None)
    assert task is not None
    return int(task["id"])


async def test_an_agent_takes_calls_back_and_closes_a_callback(user: User, desk: Any, ui_platform: Platform) -> None:
    await ready_desktop(user, desk)
    task_id = task_for(ui_platform, desk)
    await until(lambda: shown(user, "desk-callback-take"))
    assert text(user, "desk-callback-number") == GOLD
    await see(user, "Customer: 李强 · Gold card")
    user.find(marker="desk-callback-take").click()
    await until(lambda: shown(user, "desk-callback-call"))
    assert agent(desk)["state"] == "wrap_up"                  # taken: no other offer reaches agent1
    desk.phones.phone("PJSIP/1001").auto_answer = True
    user.find(marker="desk-callback-call").click()
    await until(lambda: agent(desk)["state"] == "talking")  # the customer answered
    call = outbound(desk).current("1001")
    assert call is not None and call.number == GOLD
    await until(lambda: shown(user, "desk-file"))  # the outbound call's contact record, during the call
    desk.phones.phone("PJSIP/1001").hang_up()
    await until(call.done.is_set)
    await until(lambda: enabled(user, "desk-file"))
    user.find(marker="desk-file").click()       # the dial-out wrote the end time meanwhile: still filed
    await see(user, "Contact record filed")
    user.find(marker="desk-callback-note").type("told about the refund")
    user.find(marker="desk-callback-reached").click()
    await see(user, "Call-back recorded: reached.")
    await until(lambda: not shown(user, "desk-callback"))
    done = service.task(task_id)
    assert done is not None and (done["status"], done["outcome"], done["note"]) == (
        "closed", "reached", "told about the refund")
    assert [(a["outcome"], a["call_id"]) for a in service.attempts(task_id)] == [("reached", call.call_id)]


async def test_the_supervisors_list_and_its_permission(user: User, desk: Any, ui_platform: Platform) -> None:
    service.create(number="13800000301", queue="general", tier="ordinary", source="ivr",
                   policy=service.policy_of(ui_platform.metadata), now=utcnow() - timedelta(hours=5))
    vip = task_for(ui_platform, desk, "13800000302", "platinum")
    assert desk.router.do(lambda r: r.holds(-vip))
    await log_in(user, "supervisor1", path="/page/callbacks")
    await user.should_see(marker="callbacks-table", retries=100)
    await see(user, "2 task(s) listed; 1 open task(s) overdue in all.")
    rows = element(user, "callbacks-table").rows
    assert [(r["number"], r["tier"], r["overdue"]) for r in rows] == [
        ("13800000301", "ordinary", True), ("13800000302", "platinum", False)]   # the most urgent first
    assert rows[0]["due"].endswith("· overdue") and rows[0]["source"] == "call-back request"
    user.find(marker="callbacks-overdue").click()
    user.find(marker="callbacks-search").click()
    await see(user, "1 task(s) listed")
    assert [r["number"] for r in element(user, "callbacks-table").rows] == ["13800000301"]
    user.find(marker="callbacks-overdue").click()
    user.find(marker="callbacks-search").click()
    await see(user, "2 task(s) listed")
    table = element(user, "callbacks-table")
    table.selected = [r for r in table.rows if r["number"] == "13800000302"]
    user.find(marker="callbacks-cancel-note").type("came to the service hall")
    user.find(marker="callbacks-cancel").click()
    await see(user, "1 task(s) listed")                      # open ones: the cancelled task is gone
    assert not desk.router.do(lambda r: r.holds(-vip))       # and the router let it go at once


async def test_an_agent_cannot_open_the_callbacks_page(user: User, desk: Any) -> None:
    await log_in(user, "agent1", path="/page/callbacks")
    await see(user, "Not allowed: you do not have permission to open this page.")
