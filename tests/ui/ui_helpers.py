"""Helpers for the UI tests (imported by name: tests/ui is on sys.path in pytest's prepend mode)."""

from __future__ import annotations

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
        await user.should_see(marker="logout", retries=50)


async def see(user: User, text: str) -> None:
    """Wait (up to ~5 s) until ``text`` is shown: views load their data on a worker thread."""
    await user.should_see(content=text, retries=50)
