"""Helpers for the UI tests (imported by name: tests/ui is on sys.path in pytest's prepend mode)."""

from __future__ import annotations

import asyncio

from nicegui import ui
from nicegui.storage import request_contextvar
from nicegui.testing import User

PASSWORD = "demo-pass-1"


async def log_in(user: User, username: str, password: str = PASSWORD, path: str = "/", *,
                 expect_shell: bool = True) -> None:
    """Sign in through the login page and land on ``path`` (waiting for the shell unless told not to)."""
    await user.open("/login" if path == "/" else f"/login?redirect_to={path}")
    user.find(marker="username").type(username)
    user.find(marker="password").type(password)
    user.find(marker="login-submit").click()
    if expect_shell:
        await user.should_see(marker="logout", retries=150)
        # The sign-in gave the browser a new session id; NiceGUI runs a page's event handlers with the page's
        # request (its session), the simulated user with the last request of the test's task: make it the page's.
        request_contextvar.set(user.client.request)
        if user.back_history and user.back_history[-1].startswith("/login/complete"):
            user.back_history[-1] = path  # a browser shows (and reloads) where the completion redirected to


async def see(user: User, text: str) -> None:
    """Wait (up to ~15 s, for a loaded machine) until ``text`` is shown on the page or in a notification
    (views load their data and save on worker threads)."""
    for _ in range(300):
        if any(text in m for m in user.notify.messages):
            return
        try:
            await user.should_see(content=text, retries=1)
            return
        except AssertionError:
            await asyncio.sleep(0.05)
    await user.should_see(content=text, retries=1)


def tables_with(user: User, column: str) -> list[ui.table]:
    """The tables on the page that have ``column`` (none yet: an empty list)."""
    try:
        found = user.find(ui.table).elements
    except AssertionError:
        return []
    return [t for t in found if column in {c["name"] for c in t.columns}]


async def loaded_table(user: User, column: str) -> ui.table:
    """The table with ``column`` once its first rows have arrived from the server (up to ~15 s: a loaded
    machine)."""
    for _ in range(300):
        tables = tables_with(user, column)
        if tables and tables[-1].rows:
            return tables[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no table with column {column!r} and rows")
