"""Garbage-collector tuning (``helpline.ui.gc_tuning``): when it freezes and thaws, and that desktops opened and
closed again and again do not leak although their objects were frozen (the thaw frees the cyclic garbage NiceGUI's
client deletion leaves behind)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from desk_helpers import until
from nicegui import Client
from nicegui.testing import User
from ui_helpers import log_in

from helpline.ui import gc_tuning
from helpline.ui.views.desktop import TICKER


@pytest.fixture
def tuning() -> Iterator[gc_tuning.State]:
    """A fresh tuning state; nothing stays frozen after the test."""
    saved = gc_tuning.STATE
    gc_tuning.STATE = gc_tuning.State(last_thaw=0.0)
    yield gc_tuning.STATE
    gc_tuning.STATE = saved
    gc.unfreeze()


def tracked() -> int:
    """Objects tracked by the collector, frozen ones included."""
    return len(gc.get_objects()) + gc.get_freeze_count()


def test_freezes_after_something_was_built_and_thaws_when_due_at_a_quiet_moment(
        tuning: gc_tuning.State, monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[str] = []
    monkeypatch.setattr(gc_tuning, "freeze", lambda: (done.append("freeze"), setattr(tuning, "settle_pending", False)))

    def thaw() -> float:
        done.append("thaw")
        tuning.closed_since_thaw, tuning.last_thaw, tuning.due_since, tuning.settle_pending = 0, 100.0, None, False
        return 0.0

    monkeypatch.setattr(gc_tuning, "thaw", thaw)
    tuning.last_thaw = 0.0
    assert gc_tuning.check(now=10.0) == ""  # nothing built, nothing due
    gc_tuning.settle()
    assert gc_tuning.check(now=11.0) == "freeze" and gc_tuning.check(now=12.0) == ""
    for _ in range(gc_tuning.THAW_AFTER_CLOSED):
        gc_tuning.client_deleted()
    tuning.last_busy = 20.0  # desk events: not now
    assert gc_tuning.check(now=21.0) == "" and tuning.due_since == 21.0
    assert gc_tuning.check(now=20.0 + gc_tuning.QUIET_S) == "thaw"  # quiet for long enough
    assert tuning.closed_since_thaw == 0
    tuning.last_busy = 100.0 + gc_tuning.THAW_EVERY_S  # due by time, busy all along ...
    assert gc_tuning.check(now=100.0 + gc_tuning.THAW_EVERY_S) == ""
    assert gc_tuning.check(now=100.0 + gc_tuning.THAW_EVERY_S + gc_tuning.THAW_DEFER_S) == "thaw"  # ... not forever
    assert done == ["freeze", "thaw", "thaw"]


async def test_desktops_opened_and_closed_do_not_leak_although_frozen(
        user: User, desk: Any, tuning: gc_tuning.State) -> None:
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    gc_tuning.thaw()
    baseline = tracked()
    after_rounds: list[int] = []
    for _ in range(3):
        clients: list[Client] = []
        for _ in range(5):
            await user.open("/desktop")
            await user.should_see(marker="desk-sign-in", retries=150)
            assert user.client is not None
            clients.append(user.client)
            assert tuning.settle_pending  # the desktop asked for its objects to be frozen
            assert gc_tuning.check() == "freeze"
        with_pages = tracked()
        assert with_pages - baseline > 5 * 3000  # ≈ 4,300 tracked objects per desktop
        for client in clients:
            client.delete()
            gc_tuning.client_deleted()  # what app.on_delete does once installed
        # the desktops' ticker notices on its next second (polled: a loaded machine may take longer)
        await until(lambda gone=clients: not any(d.client in gone for d in TICKER.desktops), timeout=15)
        clients.clear()
        await asyncio.sleep(1.0)  # their other tasks end
        gc.collect()  # a full collection skips the frozen: the closed pages' cycles stay
        kept = tracked()
        gc_tuning.thaw()
        after_rounds.append(tracked())
        assert kept - after_rounds[-1] > 5 * 2000, "the thaw frees the cyclic garbage of the closed pages"
    # no growth from round to round (a desktop is ≈ 4,300 objects; caches may fill a little)
    assert after_rounds[2] - after_rounds[0] < 1500, (baseline, after_rounds)
    # once, not per round: the first round fills process-wide caches (the notice poller's and the inbox
    # counters' entries for the user, translations, compiled rules): ≈ 3,000 objects, less than a desktop
    assert after_rounds[2] - baseline < 4300, (baseline, after_rounds)


def test_a_released_call_counts_towards_the_thaw_only_when_a_freeze_caught_it(tuning: gc_tuning.State) -> None:
    """A desktop releases a finished call's elements (issue 22): frozen meanwhile, their leftover cyclic garbage
    counts as a share of a closed page; built and released between two freezes, nothing is counted."""
    built = gc_tuning.epoch()
    gc_tuning.released(built)
    assert tuning.closed_since_thaw == 0
    gc_tuning.freeze()
    gc_tuning.released(built)
    assert tuning.closed_since_thaw == gc_tuning.RELEASED_SHARE
    gc_tuning.released(gc_tuning.epoch())
    assert tuning.closed_since_thaw == gc_tuning.RELEASED_SHARE
