"""Helpers of the agent desktop UI tests (imported by name: tests/ui is on sys.path): callers on a thread,
finding the desktop's widgets, and bringing agent1 to ready, offered or talking."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in

from helpline.data.database import session
from helpline.services.platform import Platform
from telephony.ivr import IvrEngine
from telephony.ivr.engine import CallOutcome
from telephony.switch.simulated import SimulatedSwitch

GOLD = "13912345678"
STRANGER = "13700000009"


class Caller:
    """A caller on a thread running the main IVR flow and pressing 0 (an agent), as the IVR tests do."""

    def __init__(self, platform: Platform, desk: Any, number: str = GOLD) -> None:
        self.switch = SimulatedSwitch("0", interactive=True, language="en", phones=desk.phones)
        self.outcome: CallOutcome | None = None
        engine = IvrEngine(platform, router=platform.router)
        self.thread = threading.Thread(target=self._run, args=(engine, number), daemon=True)
        self.thread.start()

    def _run(self, engine: IvrEngine, number: str) -> None:
        self.outcome = engine.run_call(self.switch, caller_number=number, dnid="96266", flow_name="main")

    def hang_up(self) -> None:
        self.switch.hang_up()
        self.thread.join(5)


def settings(desk: Any, **changes: Any) -> None:
    """Change the live router's settings (shorter or longer times for a test)."""
    desk.router.do(lambda r: r.reconfigure(replace(r.settings, **changes), r.policy))


def element(user: User, marker: str) -> Any:
    return user.find(marker=marker).elements.pop()


def text(user: User, marker: str) -> str:
    return str(element(user, marker).text)


def field(user: User, name: str) -> Any:
    """A field of the contact record form (the customer block has fields of the same names)."""
    contact = element(user, "desk-contact")
    return next(e for e in user.find(marker=f"field-{name}").elements if contact in e.ancestors())


def form_values(user: User, anchor: str) -> dict[str, Any]:
    """The values of the form (in a tab of the work area) that has the field ``anchor``."""
    panel = next(a for a in element(user, f"field-{anchor}").ancestors() if isinstance(a, ui.tab_panel))
    return {c[6:]: e.value for e in panel.descendants() for c in e.classes if c.startswith("field-")}


def shown(user: User, marker: str) -> bool:
    """Whether an element with ``marker`` is on the page and visible (the user finds only visible ones)."""
    try:
        return bool(user.find(marker=marker).elements)
    except AssertionError:
        return False


def enabled(user: User, marker: str) -> bool:
    return bool(element(user, marker).enabled)


async def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it answers something true. An element it reads that is not on the page yet (the
    ``AssertionError`` of ``user.find``: e.g. the pop's strip, built when the pop has loaded on a worker thread)
    is "not yet", not a failure; at the end the last such error is raised."""
    missing: AssertionError | None = None
    for _ in range(int(timeout / 0.05)):
        try:
            found = check()
        except AssertionError as exc:
            missing, found = exc, None
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached") from missing


def agent(desk: Any, number: str = "1001") -> dict[str, Any]:
    return dict(desk.view(number))


def press(user: User, key: str) -> None:
    """What the browser sends for a key pressed on the page."""
    user.find(ui.keyboard).trigger("key", {"action": "keydown", "key": key, "code": key, "location": 0,
                                          "repeat": False, "altKey": False, "ctrlKey": False, "metaKey": False,
                                          "shiftKey": False})


def contact_records(platform: Platform, serial: str) -> list[dict[str, Any]]:
    model = platform.models["contact_record"]
    with session():
        return list(model.select().where(model.serial_no == serial).dicts())


async def ready_desktop(user: User, desk: Any, username: str = "agent1") -> None:
    await log_in(user, username, path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    user.find(marker="desk-sign-in").click()
    await until(lambda: agent(desk)["status"] == "not_ready")
    user.find(marker="desk-ready").click()
    await until(lambda: agent(desk)["status"] == "ready")


async def offered(user: User, desk: Any, platform: Platform, callers: list[Caller], number: str = GOLD) -> Any:
    """A caller reaches agent1, whose phone rings and whose desktop pops."""
    callers.append(Caller(platform, desk, number))
    phone = desk.phones.phone("PJSIP/1001")
    await until(lambda: phone.state == "ringing")
    await until(lambda: shown(user, "pop-serial"))
    return phone


async def talking(user: User, desk: Any, platform: Platform, callers: list[Caller], number: str = GOLD) -> Any:
    phone = await offered(user, desk, platform, callers, number)
    await until(lambda: enabled(user, "desk-answer"))
    user.find(marker="desk-answer").click()
    await until(lambda: agent(desk)["state"] == "talking")
    await until(lambda: shown(user, "desk-file"))
    await until(lambda: form_built(user))  # the contact form is built a few fields per loop turn
    return phone


def form_built(user: User) -> bool:
    """Whether the contact record form has its last section's field (``remarks``, in *Notes*) yet."""
    try:
        field(user, "remarks")
    except (AssertionError, StopIteration):
        return False
    return True
