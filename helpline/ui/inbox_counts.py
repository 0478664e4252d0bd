"""Live inbox counts in the menu: each shell shows how many records are in its user's boxes (my work, my
department's work, overdue, waiting on me) and gets new counts pushed when a transition concerns its user.

The registry is process-wide: :func:`install` adds a listener to the workflow engine that, inside each
transition's transaction, names the users concerned — the actor, the users of the assignment before and after
(a user, the users of ``role:<role>@<region>``, or the department's members) — and hands them to the event
loop after a short pause (several transitions in a row make one recount per user). The department page calls
:func:`changed` when members move.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable
from typing import Any, Protocol

from nicegui import core, run

from helpline.data.workflow import WorkflowStep
from helpline.services.platform import Platform
from helpline.services.workflow import TransitionEvent, inboxes

log = logging.getLogger("helpline.ui")
PAGE_BOX = {"inbox_mine": "mine", "inbox_department": "department", "inbox_overdue": "overdue",
            "inbox_waiting": "waiting"}
"""The built-in inbox pages and the box each shows."""
DELAY = 0.2
"""Seconds between a transition and the recount (transitions in that time make one recount)."""


class Counted(Protocol):
    actor: Any

    def show_counts(self, counts: dict[str, tuple[int, bool]]) -> None: ...


_shells: dict[str, weakref.WeakSet[Any]] = {}
_installed: weakref.WeakSet[Platform] = weakref.WeakSet()
_pending: set[str] = set()
_platform: weakref.ref[Platform] | None = None
_scheduled_on: asyncio.AbstractEventLoop | None = None
"""The loop the pending recount was scheduled on (a recount left pending on a loop that ended is scheduled
again on the running one, else the pending users would wait forever)."""


def follow(shell: Counted) -> None:
    """Push new counts to ``shell`` while it lives."""
    _shells.setdefault(shell.actor.username, weakref.WeakSet()).add(shell)


def watched(username: str) -> bool:
    return bool(_shells.get(username))


def install(platform: Platform) -> None:
    """Listen to ``platform``'s transitions (once per platform)."""
    global _platform
    _platform = weakref.ref(platform)
    if platform in _installed:
        return
    _installed.add(platform)
    platform.workflows.listeners.append(lambda event: _on_transition(platform, event))


def concerned(platform: Platform, event: TransitionEvent) -> set[str]:
    """The users whose boxes a transition changes (inside its transaction)."""
    directory = platform.workflows.directory
    who = {event.actor.username}
    assignments = [(event.instance.department, event.instance.assignee)]
    previous = (WorkflowStep.select(WorkflowStep.department, WorkflowStep.assignee)
                .where((WorkflowStep.instance_id == event.instance.id) & (WorkflowStep.id < event.step.id))
                .order_by(WorkflowStep.id.desc()).first())
    if previous is not None:
        assignments.append((previous.department, previous.assignee))
    for department, assignee in assignments:
        who.update(directory.assignee_users(assignee, department))
        if department:
            who.update(directory.members(department))
    return who


def _on_transition(platform: Platform, event: TransitionEvent) -> None:
    if not _shells:
        return
    try:
        users = {u for u in concerned(platform, event) if watched(u)}
    except Exception:  # never let the menu's counts undo a transition
        log.debug("inbox counts: concerned users not found", exc_info=True)
        return
    if users:
        changed(users)


def changed(usernames: Iterable[str]) -> None:
    """Recount the boxes of ``usernames`` soon (from any thread)."""
    loop = core.loop
    wanted = {u for u in usernames if watched(u)}
    if not wanted or loop is None or loop.is_closed():
        return
    loop.call_soon_threadsafe(_schedule, wanted)


def _schedule(users: set[str]) -> None:
    global _scheduled_on
    loop = asyncio.get_running_loop()
    start = not _pending or _scheduled_on is not loop
    _pending.update(users)
    if start:
        _scheduled_on = loop
        loop.call_later(DELAY, lambda: asyncio.ensure_future(_recount()))


async def _recount() -> None:
    users = set(_pending)
    _pending.clear()
    platform = _platform() if _platform is not None else None
    if platform is None:
        return
    for username in users:
        shells = list(_shells.get(username, ()))
        if not shells:
            continue
        try:
            counts = await run.io_bound(inboxes(platform).counts, shells[0].actor)
        except Exception:
            log.debug("inbox counts failed for %s", username, exc_info=True)
            continue
        for shell in shells:
            try:
                shell.show_counts(counts)
            except Exception:  # a page that went away meanwhile
                log.debug("inbox counts skipped", exc_info=True)
