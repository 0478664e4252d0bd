"""Service-level statistics: both definitions, sliding windows, per tier and per queue."""

from __future__ import annotations

import random

import pytest

from telephony.router.stats import Outcome, ServiceLevelStats


def rec(stats: ServiceLevelStats, at: float, outcome: Outcome, wait: float, *, tier: str = "gold",
        queue: str = "billing", within: float = 20.0) -> None:
    stats.record(at, tier=tier, queue=queue, outcome=outcome, wait_s=wait, within_s=within)


def test_both_service_level_definitions() -> None:
    s = ServiceLevelStats((900.0,))
    rec(s, 1, "answered", 5)  # within
    rec(s, 2, "answered", 20)  # within: the boundary counts
    rec(s, 3, "answered", 21)  # late
    rec(s, 4, "abandoned", 3)
    rec(s, 5, "timeout", 300)
    f = s.figures("tier", "gold", 900.0, 5)
    assert (f.offered, f.answered, f.within, f.abandoned, f.timeout) == (5, 3, 2, 1, 1)
    assert f.service_level == pytest.approx(2 / 4)  # abandons left out
    assert f.service_level_abandons == pytest.approx(2 / 5)  # abandons count as misses
    assert f.asa_s == pytest.approx((5 + 20 + 21) / 3)
    assert s.service_level("gold", 900.0, 5) == pytest.approx(0.5)


def test_no_outcome_yet_and_only_abandons() -> None:
    s = ServiceLevelStats((900.0,))
    f = s.figures("tier", "gold", 900.0, 0)
    assert (f.offered, f.service_level, f.service_level_abandons, f.asa_s) == (0, None, None, 0.0)
    rec(s, 1, "abandoned", 40)
    f = s.figures("tier", "gold", 900.0, 1)
    assert f.service_level is None  # nothing counted when abandons are left out
    assert f.service_level_abandons == 0.0


def test_an_abandon_within_the_answer_time_is_not_within() -> None:
    s = ServiceLevelStats((60.0,))
    rec(s, 1, "abandoned", 2)
    rec(s, 2, "timeout", 2)
    f = s.figures("tier", "gold", 60.0, 2)
    assert f.within == 0
    assert f.service_level == 0.0


def test_window_slides_and_old_outcomes_drop_out() -> None:
    s = ServiceLevelStats((60.0, 300.0))
    rec(s, 0, "answered", 30)  # late
    rec(s, 50, "answered", 5)
    assert s.service_level("gold", 60.0, 50) == 0.5
    # at 60 the first outcome is exactly one window old: still in
    assert s.service_level("gold", 60.0, 60) == 0.5
    assert s.service_level("gold", 60.0, 60.001) == 1.0
    assert s.service_level("gold", 300.0, 60.001) == 0.5  # the long window still holds it
    f = s.figures("tier", "gold", 60.0, 200)
    assert (f.offered, f.answered, f.service_level, f.asa_s) == (0, 0, None, 0.0)
    assert s.service_level("gold", 300.0, 300) == 0.5
    assert s.service_level("gold", 300.0, 351) is None


def test_a_write_slides_the_window_too() -> None:
    s = ServiceLevelStats((60.0,))
    rec(s, 0, "timeout", 300)
    rec(s, 100, "answered", 1)  # the timeout at 0 falls out on this write
    assert s.figures("tier", "gold", 60.0, 100).timeout == 0
    assert s.service_level("gold", 60.0, 100) == 1.0


def test_kept_per_tier_and_per_queue() -> None:
    s = ServiceLevelStats((900.0,))
    rec(s, 1, "answered", 1, tier="gold", queue="billing")
    rec(s, 2, "answered", 99, tier="ordinary", queue="billing")
    rec(s, 3, "timeout", 99, tier="ordinary", queue="repair")
    assert s.service_level("gold", 900.0, 3) == 1.0
    assert s.service_level("ordinary", 900.0, 3) == 0.0
    assert s.figures("queue", "billing", 900.0, 3).service_level == 0.5
    assert s.figures("queue", "repair", 900.0, 3).timeout == 1
    assert s.names("tier") == ["gold", "ordinary"]
    assert s.names("queue") == ["billing", "repair"]


def test_unknown_window_is_an_error() -> None:
    s = ServiceLevelStats((900.0, 3600.0))
    with pytest.raises(KeyError, match="900"):
        s.figures("tier", "gold", 60.0, 0)


def test_as_dict_rounds() -> None:
    s = ServiceLevelStats((900.0,))
    rec(s, 1, "answered", 1.26)
    rec(s, 2, "answered", 50)
    rec(s, 3, "timeout", 50)
    d = s.figures("tier", "gold", 900.0, 3).as_dict()
    assert d == {"offered": 3, "answered": 2, "within": 1, "abandoned": 0, "timeout": 1, "asa_s": 25.6,
                 "service_level": 0.3333, "service_level_abandons": 0.3333}


def test_ensure_windows_adds_a_window_seeded_from_the_longest() -> None:
    s = ServiceLevelStats((60.0, 600.0))
    rec(s, 0, "answered", 30)
    rec(s, 100, "answered", 1)
    rec(s, 150, "timeout", 1)
    s.ensure_windows([120.0, 60.0])
    assert s.windows == (60.0, 120.0, 600.0)
    f = s.figures("tier", "gold", 120.0, 150)
    assert (f.answered, f.within, f.timeout) == (1, 1, 1)  # the outcome at 0 is older than 120 s
    assert s.figures("queue", "billing", 120.0, 150).offered == 2
    rec(s, 200, "answered", 2)
    assert s.figures("tier", "gold", 120.0, 200).offered == 3
    s.ensure_windows([60.0])  # nothing new: nothing changes
    assert s.windows == (60.0, 120.0, 600.0)
    rec(s, 201, "answered", 2, tier="new")  # a key born after the change has every window
    assert s.service_level("new", 120.0, 201) == 1.0


def test_running_counts_match_a_recount() -> None:
    rng = random.Random(3)
    s = ServiceLevelStats((30.0, 120.0))
    log: list[tuple[float, Outcome, float]] = []
    now = 0.0
    outcomes: list[Outcome] = ["answered", "abandoned", "timeout"]
    for _ in range(2000):
        now += rng.expovariate(0.5)
        outcome = rng.choice(outcomes)
        wait = rng.uniform(0, 40)
        rec(s, now, outcome, wait)
        log.append((now, outcome, wait))
        now += rng.uniform(0, 10)  # time only moves forward: a read prunes for every later write too
        for window in (30.0, 120.0):
            read_at = now
            inside = [(o, w) for at, o, w in log if at >= read_at - window]
            f = s.figures("tier", "gold", window, read_at)
            answered = sum(o == "answered" for o, _ in inside)
            within = sum(o == "answered" and w <= 20 for o, w in inside)
            timeouts = sum(o == "timeout" for o, _ in inside)
            assert (f.offered, f.answered, f.within, f.timeout) == (len(inside), answered, within, timeouts)
            counted = answered + timeouts
            assert f.service_level == (within / counted if counted else None)
