"""The router's timer heap: ordering, replacing a key, cancelling, dead entries."""

from __future__ import annotations

import random

import pytest

from telephony.router.clock import ManualClock
from telephony.router.timers import TimerKey, Timers


def drain(timers: Timers, now: float) -> list[TimerKey]:
    out = []
    while (key := timers.pop_due(now)) is not None:
        out.append(key)
    return out


def test_pops_due_timers_in_time_order_and_nothing_early() -> None:
    t = Timers()
    t.set(("call", 2), 20.0)
    t.set(("call", 1), 10.0)
    t.set(("offer", 1), 15.0)
    assert t.pop_due(9.99) is None
    assert t.next_at() == 10.0
    assert drain(t, 15.0) == [("call", 1), ("offer", 1)]
    assert t.next_at() == 20.0
    assert len(t) == 1
    assert drain(t, 100.0) == [("call", 2)]
    assert t.next_at() is None
    assert len(t) == 0


def test_same_time_fires_in_the_order_set() -> None:
    t = Timers()
    for i in range(5):
        t.set(("call", i), 7.0)
    assert drain(t, 7.0) == [("call", i) for i in range(5)]


def test_setting_a_key_again_replaces_its_timer_later_or_sooner() -> None:
    t = Timers()
    t.set(("call", 1), 10.0)
    t.set(("call", 1), 30.0)  # later: the 10 s entry is dead
    assert t.next_at() == 30.0
    assert drain(t, 29.0) == []
    assert drain(t, 30.0) == [("call", 1)]
    t.set(("call", 1), 50.0)
    t.set(("call", 1), 40.0)  # sooner
    assert drain(t, 45.0) == [("call", 1)]
    assert drain(t, 60.0) == []  # the 50 s entry died with the replacement
    assert len(t) == 0


def test_cancel_and_pending() -> None:
    t = Timers()
    t.set(("wrap_up", "1001"), 5.0)
    t.set(("grace", "1001"), 6.0)
    assert t.pending(("wrap_up", "1001"))
    t.cancel(("wrap_up", "1001"))
    t.cancel(("wrap_up", "1001"))  # twice is fine
    t.cancel(("never", "set"))
    assert not t.pending(("wrap_up", "1001"))
    assert t.next_at() == 6.0
    assert drain(t, 10.0) == [("grace", "1001")]
    assert not t.pending(("grace", "1001"))  # popped timers are no longer pending


def test_a_cancelled_key_set_again_fires_once_at_its_new_time() -> None:
    t = Timers()
    t.set(("offer", 9), 5.0)
    t.cancel(("offer", 9))
    t.set(("offer", 9), 8.0)
    assert drain(t, 6.0) == []
    assert drain(t, 8.0) == [("offer", 9)]
    assert drain(t, 100.0) == []


def test_against_a_model() -> None:
    rng = random.Random(7)
    t = Timers()
    model: dict[TimerKey, float] = {}
    now = 0.0
    for _ in range(3000):
        op = rng.random()
        key = ("call", rng.randrange(30))
        if op < 0.5:
            at = now + rng.uniform(0, 50)
            t.set(key, at)
            model[key] = at
        elif op < 0.65:
            t.cancel(key)
            model.pop(key, None)
        else:
            now += rng.uniform(0, 5)
            fired = drain(t, now)
            expected = sorted((at, k) for k, at in model.items() if at <= now)
            assert [at for at, _ in expected] == sorted(model[k] for k in fired)
            assert set(fired) == {k for _, k in expected}
            for k in fired:
                del model[k]
        assert len(t) == len(model)
        assert t.next_at() == (min(model.values()) if model else None)


def test_manual_clock_moves_only_forward() -> None:
    c = ManualClock(5.0)
    assert c.now() == 5.0
    assert c.advance(2.5) == 7.5
    c.set(7.5)
    with pytest.raises(ValueError):
        c.set(7.0)


def test_setting_a_key_to_its_own_time_again_adds_no_heap_entry() -> None:
    timers = Timers()
    timers.set(("call", 1), 5.0)
    for _ in range(100):
        timers.set(("call", 1), 5.0)  # a sweep evaluating a call whose next change did not move
    assert timers.heap_size == 1
    timers.set(("call", 1), 6.0)  # moved: the old entry is dead, skipped when popped
    assert timers.heap_size == 2 and timers.pop_due(5.5) is None
    assert timers.pop_due(6.0) == ("call", 1) and len(timers) == 0
    timers.set(("call", 1), 6.0)  # fired and set again: a new entry
    timers.cancel(("call", 1))
    timers.set(("call", 1), 6.0)  # cancelled and set again: a new entry
    assert timers.pop_due(6.0) == ("call", 1)
