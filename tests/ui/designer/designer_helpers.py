"""Helpers shared by the designer UI tests (imported by name: tests/ui/designer is on sys.path)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in

from helpline.security.actor import Actor
from helpline.services.auth import actor_for, find_user
from helpline.services.platform import Platform


async def until(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Wait on the test's event loop (the page keeps working) until ``check()`` is truthy."""
    for _ in range(int(timeout / 0.05)):
        result = check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached: {what}")


def found(user: User, marker: str = "", content: str = "", kind: type | None = None) -> list[ui.element]:
    """The elements with ``marker`` (and ``content``, of ``kind``) on the page; none: an empty list."""
    try:
        return list(user.find(kind=kind, marker=marker or None, content=content or None).elements)  # type: ignore[arg-type]
    except AssertionError:
        return []


def one(user: User, marker: str) -> Any:
    """The element marked ``marker`` (the first when a rerender briefly shows two)."""
    elements = found(user, marker)
    assert elements, f"no element marked {marker}"
    return elements[0]


def set_value(user: User, marker: str, value: Any) -> None:
    """Choose ``value`` in the widget (a select, a checkbox, a number) as the user would."""
    assert user.client
    with user.client:
        for element in user.find(marker=marker).elements:
            element.value = value  # type: ignore[attr-defined]


def retype(user: User, marker: str, text: str) -> None:
    """Replace an input's text and leave it (the designers save on blur)."""
    interaction = user.find(marker=marker).clear()
    if text:
        interaction.type(text)
    interaction.trigger("blur")


def actor(username: str, platform: Platform) -> Actor:
    """The actor of a demo user, bound to the live metadata."""
    row = find_user(username)
    assert row is not None
    return actor_for(row, platform.metadata)


def admin(platform: Platform) -> Actor:
    return Actor("admin", roles=("administrator",)).bind(platform.metadata)


async def settled(user: User, p: Platform, kind: str, name: str) -> None:
    """Wait until the designer shows the live revision again (its reload after publish or roll back is
    done), so the test ends with no work in flight."""
    def shown() -> bool:
        current = p.store.current(kind, name)
        status = " ".join(str(getattr(e, "text", "")) for e in found(user, "designer-status"))
        return current is not None and status.endswith(f"Live revision {current.id}")
    await until(shown, f"{kind} {name} reloaded")


async def log_in_agent(agent: User, path: str) -> None:
    """Sign agent1 in on a second simulated browser. The simulation sends ``ui.navigate`` to whichever
    User object was touched last, so the redirect after signing in is now and then lost while the admin's
    page is busy: try again (a real browser has no such problem)."""
    for _ in range(3):
        await log_in(agent, "agent1", path=path, expect_shell=False)
        try:
            await agent.should_see(marker="logout", retries=150)
            return
        except AssertionError:
            await agent.open(path)
            try:
                await agent.should_see(marker="logout", retries=50)
                return
            except AssertionError:
                continue
    await agent.should_see(marker="logout")


async def confirmed(user: User, marker: str) -> None:
    """Click ``marker``'s button in the confirmation dialog once it is shown (rollback and discard ask
    first)."""
    await until(lambda: found(user, marker), f"the dialog with {marker}")
    user.find(marker=marker).click()
