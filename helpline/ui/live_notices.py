"""The bell in the shell's header: the signed-in user's unread notices, pushed to every open page of that user
when a notice arrives or is read (a process-wide registry of the bells per user, told by the notice centre
after the writing transaction committed), with a slow poll for notices another process wrote: one loop per
process over the registered bells, not a timer per page (a page's 30 s timer kept its closed page's bell, button
and badge for up to 30 s after the page was deleted)."""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable

from nicegui import background_tasks, core, run, ui

from helpline.services import notices

from .i18n import t

log = logging.getLogger("helpline.ui")
POLL_S = 30.0
"""How often an open page re-counts anyway (notices written by another process are not pushed)."""

_lock = threading.Lock()
_bells: dict[str, weakref.WeakSet[Bell]] = {}
_installed = False
_poller: asyncio.Task[None] | None = None


class Bell:
    """The header's bell of one page: an icon button with the unread count as its badge."""

    def __init__(self, username: str, on_click: Callable[[], None]) -> None:
        self.username = username
        with ui.button(icon="notifications", on_click=on_click).props("flat color=white dense round") \
                .classes("notice-bell").mark("notice-bell") as self.button:
            self.badge = ui.badge("", color="red").props("floating rounded").classes("notice-count") \
                .mark("notice-count")
        self.button.tooltip(t("notices.bell"))
        self.badge.set_visibility(False)
        self.count = 0
        follow(self)
        ui.timer(0, self.refresh, once=True)

    def show(self, count: int) -> None:
        self.count = count
        self.badge.set_text(str(count) if count < 100 else "99+")
        self.badge.set_visibility(count > 0)

    async def refresh(self) -> None:
        if self.badge.is_deleted:
            return
        count = await run.io_bound(notices.unread_count, self.username)
        if count is not None and not self.badge.is_deleted:
            self.show(count)


def follow(bell: Bell) -> None:
    install()
    with _lock:
        _bells.setdefault(bell.username, weakref.WeakSet()).add(bell)
    _ensure_poller()


def _ensure_poller() -> None:
    """Start the poll loop on the running event loop unless it runs there already (a test app's loop ends)."""
    global _poller
    loop = asyncio.get_running_loop()
    if _poller is None or _poller.done() or _poller.get_loop() is not loop:
        _poller = background_tasks.create(_poll(), name="notice bells poll")


async def _poll() -> None:
    """Every POLL_S: re-count each user with an open bell once and show it on all of that user's bells."""
    while True:
        await asyncio.sleep(POLL_S)
        await _recount()  # its locals go with it: no page's bell is held while sleeping


async def _recount() -> None:
    with _lock:
        for username in [u for u, bells in _bells.items() if not bells]:
            del _bells[username]
        users = list(_bells)
    for username in users:
        count = await run.io_bound(notices.unread_count, username)
        with _lock:
            bells = list(_bells.get(username, ()))
        for bell in bells:
            if count is not None and not bell.badge.is_deleted:
                bell.show(count)


def install() -> None:
    """Be told by the notice centre (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    notices.on_new(_arrived)


def _arrived(usernames: list[str]) -> None:
    """Called on the writing thread after the commit: hand the re-counts to the event loop."""
    loop = core.loop
    if loop is None or loop.is_closed():
        return
    with _lock:
        bells = [b for u in usernames for b in list(_bells.get(u, ()))]
    for bell in bells:
        loop.call_soon_threadsafe(_refresh, bell)


def _refresh(bell: Bell) -> None:
    try:
        background_tasks.create(bell.refresh(), name="notice bell")
    except Exception:  # a page that went away meanwhile
        log.debug("bell refresh skipped", exc_info=True)
