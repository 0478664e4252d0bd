"""The IVR console: call a flow in the browser against the simulated switch, press keys, see the trail."""

from __future__ import annotations

import asyncio
from typing import Any

from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.calls import Call
from helpline.data.database import session


def log_text(user: User) -> str:
    try:
        return " ".join(label.text for label in user.find(marker="ivr-log").elements.pop().descendants()
                        if isinstance(label, ui.label))
    except (AssertionError, KeyError):
        return ""


async def wait_for(user: User, text: str) -> None:
    for _ in range(200):
        if text in log_text(user):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} not in the console: {log_text(user)}")


async def test_call_a_flow_press_keys_and_see_the_trail(user: User) -> None:
    await log_in(user, "admin", path="/ivr/console")
    await user.should_see(marker="ivr-call", retries=100)
    user.find(marker="ivr-flow").elements.pop().value = "main"
    user.find(marker="ivr-caller").elements.pop().value = "13999999999"
    user.find(marker="ivr-call").click()
    await wait_for(user, "For consultation press 1")
    user.find(marker="key-0").click()  # an agent
    await see(user, "Result: transfer")
    trail = [t for t in user.find(ui.table).elements if "node" in {c["name"] for c in t.columns}].pop()
    nodes = [r["node"] for r in trail.rows]
    assert nodes[0] == "answer" and "main_menu" in nodes
    assert {"Answer", "Menu"} <= {r["type"] for r in trail.rows}  # node types in the user's words, not codes
    with session():
        call = Call.select().order_by(Call.id.desc()).first()
    assert call.result == "transfer" and call.caller_number == "13999999999"


async def test_hang_up_from_the_console(user: User) -> None:
    await log_in(user, "admin", path="/ivr/console")
    await user.should_see(marker="ivr-call", retries=100)
    user.find(marker="ivr-flow").elements.pop().value = "main"
    user.find(marker="ivr-call").click()
    await wait_for(user, "For consultation press 1")
    user.find(marker="ivr-hangup").click()
    await see(user, "Result: hangup")


async def test_the_console_needs_its_permission(user: User) -> None:
    await log_in(user, "agent1", path="/ivr/console")
    await see(user, "Not allowed: you do not have permission to open this page.")


async def test_the_caller_hangs_up_when_the_console_page_goes_away(user: User) -> None:
    await log_in(user, "admin", path="/ivr/console")
    await user.should_see(marker="ivr-call", retries=100)
    user.find(marker="ivr-flow").elements.pop().value = "main"
    user.find(marker="ivr-caller").elements.pop().value = "13911112222"
    user.find(marker="ivr-call").click()
    await wait_for(user, "For consultation press 1")
    user.client.delete()  # what NiceGUI does once a closed tab has not reconnected in time
    for _ in range(200):
        with session():
            call = Call.select().where(Call.caller_number == "13911112222").order_by(Call.id.desc()).first()
        if call is not None and call.result:
            break
        await asyncio.sleep(0.05)
    assert call is not None and call.result == "hangup"


async def test_a_queued_console_call_leaves_the_queue_when_its_page_goes_away(user: User, desk: Any) -> None:
    desk.router.do(lambda r: r.sign_in("1001"))  # signed in, not ready: the queue takes callers who then wait
    await log_in(user, "admin", path="/ivr/console")
    await user.should_see(marker="ivr-call", retries=100)
    user.find(marker="ivr-flow").elements.pop().value = "main"
    user.find(marker="ivr-caller").elements.pop().value = "13911113333"
    user.find(marker="ivr-call").click()
    await wait_for(user, "For consultation press 1")
    user.find(marker="key-0").click()  # an agent: the caller waits in the queue
    for _ in range(200):
        if desk.router.do(lambda r: len(r.waiting)):
            break
        await asyncio.sleep(0.05)
    assert desk.router.do(lambda r: len(r.waiting)) == 1
    user.client.delete()
    for _ in range(200):
        if not desk.router.do(lambda r: len(r.waiting)):
            break
        await asyncio.sleep(0.05)
    assert desk.router.do(lambda r: len(r.waiting)) == 0
