"""Garbage-collector tuning of the web process: full collections rare and cheap, without leaking.

Why. A connected agent desktop holds ≈ 4,300 objects tracked by Python's cyclic garbage collector (≈ 110
NiceGUI elements; each element's ``Props``/``Classes``/``Style`` observables, slots and bound methods), and its
first call builds the pop and the contact record form (≈ 85 elements, ≈ 3,000 objects more). With 300
desktops the process holds 1.4 M tracked objects, 2.3 M after their first calls: a full (generation 2)
collection walks all of them and stops the process for 1.3–1.6 s, and during calls Python ran one 2.5 times a
minute (bench/bench_desktops.py: those stalls were the screen-pop latency's p95 and p99).

What. The pages' objects live as long as their browser: they are *frozen* (``gc.freeze()``: moved to the
permanent generation, which collections skip) shortly after something long-lived was built (a desktop page, its
first pop and form: :func:`settle`, called by the desktop), so a full collection only walks what was created
since — milliseconds instead of seconds. Frozen objects are still freed by reference counting.

The catch, measured (tests/ui/test_gc_tuning.py): NiceGUI's client deletion does **not** break the cycles of
a closed page — every element's observables hold bound methods of themselves, slots and parents point at each
other — so ≈ 75 % of a closed desktop's objects (≈ 3,250 of 4,340) are cyclic garbage that only a full
collection frees, and a frozen one never would. Hence the *thaw*: :func:`thaw` unfreezes everything, runs one
full collection (the old 1–1.5 s pause at 300 desktops) and freezes the survivors again. It runs once
:data:`THAW_AFTER_CLOSED` pages were closed since the last one, or :data:`THAW_EVERY_S` after the last one
whatever happened (elements deleted inside live pages, other cyclic garbage caught by a freeze), and it waits
for a quiet moment — no desk event for :data:`QUIET_S` (:func:`busy`) — for at most :data:`THAW_DEFER_S`. A desktop
also deletes a finished call's elements inside the live page (its pop and contact record form, issue 22): if a
freeze came while they lived, they are frozen too: :func:`discard` deletes them breaking the cycles NiceGUI leaves
in each element (its ``Props``, ``Classes`` and ``Style`` hold bound methods of themselves: ≈ 750–1,150 objects
of cyclic garbage a call without it), so reference counting frees them; what stays cyclic (≈ 350 objects: the
knowledge panel's parts point at each other) :func:`released` counts as :data:`RELEASED_SHARE` of a closed page
towards the thaw. So
the garbage of closed pages is bounded (≤ 50 pages' worth, ≈ 25 MB) and freed within the hour, and a working
day has a handful of full collections instead of ≈ 150 an hour.

Measured. 100 desktops opened and closed, three rounds, in-process: 4,340 tracked objects per open desktop;
after closing, 3,250 each stay frozen; each thaw (0.7–1.1 s) brings the count back to the same level (181,951
→ 181,947 → 181,946) and RSS stops growing after the first round (223.5 → 224.4 → 224.4 MB: freed memory is
reused). 300 desktops, 2 minutes of 3 calls a second, back to back on a quiet 2-core machine: without the
tuning 2.5 full collections a minute (1.28 s median, 1.62 s max), pop sent p95 515 ms, p99 1.45 s; with it no
full collection of the heap, 3.2 % of the time in young collections, p95 175 ms, p99 252 ms.

The thresholds stay Python's (700, 10, 10): after a freeze the gen-2 collections Python starts itself only
walk the unfrozen objects. Everything runs on the event loop (:func:`install` starts the task at start-up);
without :func:`install` (tests, other processes) :func:`settle` and :func:`busy` only note the time.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

CHECK_EVERY_S = 2.0
"""How often the maintenance task looks whether to freeze or thaw."""
THAW_AFTER_CLOSED = 50
"""Closed pages (deleted NiceGUI clients) after which the frozen objects are thawed and collected."""
RELEASED_SHARE = 0.1
"""A finished call's elements, deleted (:func:`discard`) after a freeze caught them, count as this share of a closed
page (≈ 350 objects of cyclic garbage left against a closed desktop's ≈ 3,250)."""
THAW_EVERY_S = 3600.0
"""At the latest this long after the last thaw (or start) the frozen objects are thawed and collected."""
QUIET_S = 3.0
"""A thaw waits until no desk event arrived for this long ..."""
THAW_DEFER_S = 600.0
"""... but not longer than this after it became due."""


@dataclass
class State:
    installed: bool = False
    settle_pending: bool = False
    closed_since_thaw: float = 0
    last_thaw: float = 0.0
    due_since: float | None = None
    last_busy: float = 0.0
    freezes: int = 0
    thaws: int = 0
    last_thaw_ms: float = 0.0


STATE = State()


def settle() -> None:
    """Something long-lived was built (a desktop page, its pop and form): freeze at the next check."""
    STATE.settle_pending = True


def busy() -> None:
    """A desk event arrived: not a quiet moment for a thaw."""
    STATE.last_busy = time.monotonic()


def client_deleted() -> None:
    """A page was closed: its cyclic garbage may be frozen (counted towards a thaw)."""
    STATE.closed_since_thaw += 1


def epoch() -> int:
    """Changes whenever objects are frozen (a freeze or a thaw): what was built at another epoch may be frozen."""
    return STATE.freezes + STATE.thaws


def released(since: int) -> None:
    """Elements built at epoch ``since`` were deleted inside a live page (a finished call's pop and form): if a
    freeze caught them meanwhile, their cyclic garbage is frozen (counted towards a thaw)."""
    if epoch() != since:
        STATE.closed_since_thaw += RELEASED_SHARE


def discard(element: Any) -> None:
    """Delete a NiceGUI element of a live page with its descendants, and break the reference cycles NiceGUI leaves
    in them — each element's ``Props``, ``Classes`` and ``Style`` hold a bound method of themselves as their change
    handler, and a nested observable (a select's options) points back at its parent — so that reference counting
    frees them at once, also when a freeze caught them (a finished call's pop and form, issue 22)."""
    parts = list(element.descendants(include_self=True))
    element.delete()
    for part in parts:
        for observable in (part._props, part._classes, part._style):
            observable._change_handlers.clear()
            (dict.clear if isinstance(observable, dict) else list.clear)(observable)


def freeze() -> None:
    """Collect the young generations (cheap), then freeze every tracked object that is left."""
    gc.collect(1)
    gc.freeze()
    STATE.settle_pending = False
    STATE.freezes += 1


def thaw() -> float:
    """Unfreeze, collect everything (one full pause), freeze the survivors again; the pause in ms."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    pause = (time.perf_counter() - started) * 1000
    STATE.closed_since_thaw, STATE.last_thaw, STATE.due_since = 0, time.monotonic(), None
    STATE.settle_pending = False
    STATE.thaws += 1
    STATE.last_thaw_ms = pause
    log.info("gc thaw: %.0f ms, %d objects frozen again", pause, gc.get_freeze_count())
    return pause


def check(now: float | None = None) -> str:
    """One maintenance step: ``"thaw"``, ``"freeze"`` or ``""`` (what was done)."""
    now = time.monotonic() if now is None else now
    due = STATE.closed_since_thaw >= THAW_AFTER_CLOSED or now - STATE.last_thaw >= THAW_EVERY_S
    if due:
        if STATE.due_since is None:
            STATE.due_since = now
        if now - STATE.last_busy >= QUIET_S or now - STATE.due_since >= THAW_DEFER_S:
            thaw()
            return "thaw"
    if STATE.settle_pending:
        freeze()
        return "freeze"
    return ""


async def maintain() -> None:
    """The maintenance task of the process (started by :func:`install`)."""
    while STATE.installed:
        await asyncio.sleep(CHECK_EVERY_S)
        try:
            check()
        except Exception:  # never let the tuning stop the server
            log.exception("gc maintenance failed")


def start() -> None:
    """At start-up (on the event loop): freeze what the start built (imports, metadata, platform), start the
    maintenance task."""
    from nicegui import background_tasks

    gc.collect()
    gc.freeze()
    STATE.last_thaw = time.monotonic()
    background_tasks.create(maintain(), name="gc maintenance")


def install() -> None:
    """Apply the tuning to the NiceGUI app of this process (before ``ui.run``)."""
    from nicegui import app

    if STATE.installed:
        return
    STATE.installed = True
    app.on_startup(start)
    app.on_delete(client_deleted)


def stats() -> dict[str, float]:
    """What the tuning did (for benchmarks and diagnosis)."""
    return {"frozen": gc.get_freeze_count(), "freezes": STATE.freezes, "thaws": STATE.thaws,
            "last_thaw_ms": STATE.last_thaw_ms, "closed_since_thaw": STATE.closed_since_thaw}
