"""A tier's service level moving: its waiting calls are evaluated again a slice at a time (no stall), and
the router ends up where the all-at-once reference (``sweep_slice=0``) is, within the stated bound."""

from __future__ import annotations

import pytest
from router_helpers import Harness, helpline, queue, settings

from telephony.router import CallDecision, Router, TierAlert

STRATEGY = """\
tier gold: target 90% within 20s, priority 30, starve after 600s
tier ordinary: target 70% within 20s, priority 10, starve after 600s
when tier.service_level < tier.target then open_level 2
"""


def harness(slice_calls: int, tick_s: float = 0.001) -> Harness:
    h = Harness(settings(queue(), wrap_up_s=0), helpline(STRATEGY))
    h.router = Router(h.router.settings, h.router.policy, clock=h.clock, sinks=[h.events.append],
                      sweep_slice=slice_calls, sweep_tick_s=tick_s)
    return h


def fall_behind(h: Harness, calls: int = 40, l2_ready: bool = False) -> None:
    """Agent l1 (level 1) answers call 1 at once; calls 2.. queue a second apart; at 50 s l1 ends call 1
    and answers call 2 after 48 s: ordinary falls behind (50 % < 70 %), a move. Agent l2 (level 2) is
    ready from the start or not ready."""
    h.agent("l1", {"billing": 1})
    h.agent("l2", {"billing": 2}, ready=l2_ready)
    h.call(1)
    h.router.answered(1)
    for i in range(2, calls + 2):
        h.at(i - 1)
        h.call(i)
    h.at(50)
    h.router.call_ended(1)
    h.router.answered(2)


def evaluated_at(h: Harness, t: float) -> set[int]:
    return {c.call_id for c in h.router.waiting.values() if c.evaluated_at == t}


def state(h: Harness) -> dict[int, tuple[object, ...]]:
    return {c.call_id: (c.sort_key, c.max_level, c.priority, c.gap, c.reason, c.agent_id)
            for c in h.router.waiting.values()}


def test_a_move_evaluates_the_tier_a_slice_per_timer_run() -> None:
    h = harness(4)
    fall_behind(h)
    assert h.tier_alerts()[-1] == ("ordinary", True)
    assert h.router.sweeps.pending("ordinary")
    assert h.router.advance() == 1
    assert len(evaluated_at(h, 50.0)) == 4  # the reference evaluates all 39 in this advance
    runs = 1
    while h.router.sweeps.pending():
        h.clock.set(h.next_timer())
        h.router.advance()
        runs += 1
    assert runs == 10  # 39 calls ÷ 4
    assert all(c.max_level == 2 for c in h.router.waiting.values())
    assert h.router.sweeps.stats.max_staleness_s == pytest.approx(0.009)
    assert h.router.sweeps.stats.max_staleness_s <= h.router.sweeps.bound_s(len(h.router.waiting), 2)


def test_the_reference_evaluates_every_call_in_one_advance() -> None:
    h = harness(0)
    fall_behind(h)
    h.router.advance()
    assert len(evaluated_at(h, 50.0)) == 39
    assert not h.router.sweeps.pending()


def test_after_the_bound_every_call_is_where_the_reference_has_it() -> None:
    spread, reference = harness(3), harness(0)
    for h in (spread, reference):
        fall_behind(h)
    bound = spread.router.sweeps.bound_s(len(spread.router.waiting), 2)
    assert 0 < bound < 1
    for h in (spread, reference):
        h.at(50 + bound)
    assert not spread.router.sweeps.pending()
    assert state(spread) == state(reference)
    levels = sorted(e.call_id for e in spread.of(CallDecision) if e.kind == "level")
    assert levels == sorted(e.call_id for e in reference.of(CallDecision) if e.kind == "level")
    assert len(levels) == 39
    for h in (spread, reference):  # the same next decision
        h.router.set_ready("l2")
    assert spread.offers() == reference.offers() == [(1, "l1"), (2, "l1"), (3, "l2")]


def test_an_agent_ready_during_the_sweep_gets_the_reference_call_within_the_bound() -> None:
    spread, reference = harness(2), harness(0)
    for h in (spread, reference):
        fall_behind(h, l2_ready=True)
        h.at(51)
    assert spread.offers() == reference.offers() == [(1, "l1"), (2, "l1"), (3, "l2")]
    assert [e.at for e in reference.of(CallDecision) if e.kind == "offered"][-1] == 50.0
    assert [e.at for e in spread.of(CallDecision) if e.kind == "offered"][-1] <= 50.0 + spread.router.sweeps.tick_s
    spread.router.answered(3)
    reference.router.answered(3)
    for h in (spread, reference):
        h.at(60)
    assert state(spread) == state(reference)


def test_a_move_during_a_sweep_sweeps_the_tier_again_within_the_bound() -> None:
    h = harness(4, tick_s=0.01)
    fall_behind(h)
    h.at(50.02)  # three runs: 12 calls evaluated at 50, 50.01, 50.02
    first = {c.call_id for c in h.router.waiting.values() if 50 <= c.evaluated_at <= 50.02}
    assert len(first) == 12
    h.router.sweeps.request("ordinary")  # moved again: a second sweep queued behind the first
    h.router.sweeps.request("ordinary")  # joins the second, which has not started
    assert [s.tier for s in h.router.sweeps.queue] == ["ordinary", "ordinary"]
    h.router.abandon(20)  # a call leaving mid-sweep is skipped
    bound = h.router.sweeps.bound_s(len(h.router.waiting), 2)
    while h.router.sweeps.pending():
        assert h.router.sweeps.staleness_s() <= bound
        h.clock.set(h.next_timer())
        h.router.advance()
    assert all(c.evaluated_at >= 50.02 for c in h.router.waiting.values())
    assert h.router.sweeps.stats.sweeps == 3  # the first at 0 s (call 1's outcome), nothing to evaluate
    assert h.router.sweeps.stats.evaluated == 38 + 12  # call 20 left; the 12 passed before the move, again
    assert h.router.sweeps.stats.max_staleness_s <= bound
    assert h.of(TierAlert)


def test_calls_evaluated_since_the_move_are_skipped() -> None:
    h = harness(4)
    fall_behind(h, calls=6)
    for call in h.router.waiting.values():
        call.evaluated_at = 50.0001  # as if each had been evaluated by its own timer since the move
    h.router.advance()
    assert h.router.sweeps.stats.evaluated == 0 and not h.router.sweeps.pending()


def test_a_bad_slice_or_tick_is_refused() -> None:
    h = harness(4)
    with pytest.raises(ValueError, match="sweep slice"):
        Router(h.router.settings, h.router.policy, clock=h.clock, sweep_slice=-1)
    with pytest.raises(ValueError, match="tick"):
        Router(h.router.settings, h.router.policy, clock=h.clock, sweep_tick_s=0)
