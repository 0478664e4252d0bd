"""Open pages follow published changes: every shell rebuilds its menu drawer when a published change
touches menus, roles, screens, queries or entities — an agent sees a new menu item (or loses a revoked
one) without reloading and without losing the tabs open in the work area."""

from __future__ import annotations

import logging
import weakref
from typing import Protocol

from nicegui import core

from helpline.metadata.metaset import MetadataSet
from helpline.services.platform import Platform

log = logging.getLogger("helpline.ui")
AFFECTS_MENUS = frozenset({"menu", "role", "screen", "query", "entity"})


class Refreshable(Protocol):
    def refresh_menu(self) -> None: ...


_shells: weakref.WeakSet[Refreshable] = weakref.WeakSet()  # type: ignore[type-var]
_installed: weakref.WeakSet[Platform] = weakref.WeakSet()


def follow(shell: Refreshable) -> None:
    """Have ``shell`` rebuilt on menu-relevant changes while it lives."""
    _shells.add(shell)


def install(platform: Platform) -> None:
    """Listen to ``platform``'s published changes (once per platform)."""
    if platform in _installed:
        return
    _installed.add(platform)
    platform.on_change(_changed)


def _changed(metadata: MetadataSet, changed: list[tuple[str, str]]) -> None:
    """Called on the publishing thread: hand the rebuilds to the event loop."""
    if not any(kind in AFFECTS_MENUS for kind, _ in changed):
        return
    loop = core.loop
    if loop is None or loop.is_closed():
        return
    for shell in list(_shells):
        loop.call_soon_threadsafe(_refresh, shell)


def _refresh(shell: Refreshable) -> None:
    try:
        shell.refresh_menu()
    except Exception:  # a page that went away while the change was published
        log.debug("menu refresh skipped", exc_info=True)
