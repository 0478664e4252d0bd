"""The outbound pacers (telephony.outbound.pacing): edge cases and the direction of each decision."""

from __future__ import annotations

import pytest

from telephony.outbound.pacing import (
    METHODS,
    AdaptiveDialLevel,
    DialState,
    Predictive,
    Progressive,
    expected_shortfall,
    free_probability,
    make_pacer,
)


def busy(n: int, elapsed: float = 60.0) -> tuple[float, ...]:
    return (elapsed,) * n


MEASURED = {"answer_rate": 0.3, "mean_talk_s": 120.0, "wrap_s": 10.0, "mean_ring_s": 15.0}


@pytest.mark.parametrize("method", METHODS)
def test_no_agents_no_lines(method: str) -> None:
    pacer = make_pacer(method)
    assert pacer.lines_to_dial(DialState(now_s=0, agents_free=0, **MEASURED)) == 0  # type: ignore[arg-type]
    assert pacer.lines_to_dial(DialState(now_s=1, agents_free=0, answer_rate=0.0)) == 0


@pytest.mark.parametrize("method", METHODS)
def test_never_negative_and_within_the_trunks(method: str) -> None:
    pacer = make_pacer(method)
    crowded = DialState(now_s=0, agents_free=2, ringing=40, answered_waiting=3, **MEASURED)  # type: ignore[arg-type]
    assert pacer.lines_to_dial(crowded) == 0
    state = DialState(now_s=0, agents_free=20, lines_free=4, **MEASURED)  # type: ignore[arg-type]
    assert pacer.lines_to_dial(state) == 4


def test_progressive_is_one_line_per_free_agent() -> None:
    pacer = Progressive()
    assert pacer.lines_to_dial(DialState(now_s=0, agents_free=5, talk_elapsed_s=busy(10), **MEASURED)) == 5  # type: ignore[arg-type]
    assert pacer.lines_to_dial(DialState(now_s=0, agents_free=5, ringing=3)) == 2
    assert pacer.lines_to_dial(DialState(now_s=0, agents_free=5, ringing=3, answered_waiting=1)) == 1


def test_predictive_without_a_measured_answer_rate_dials_like_progressive() -> None:
    state = DialState(now_s=0, agents_free=6, ringing=2, talk_elapsed_s=busy(4))
    assert Predictive().lines_to_dial(state) == Progressive().lines_to_dial(state) == 4


def test_predictive_with_zero_answer_rate_fills_its_ratio_but_no_more() -> None:
    pacer = Predictive(max_ratio=2.5)
    state = DialState(now_s=0, agents_free=4, talk_elapsed_s=busy(6), ringing=5, answer_rate=0.0, mean_talk_s=100)
    assert pacer.lines_to_dial(state) == 25 - 5


def test_predictive_dials_ahead_of_free_agents_at_a_low_answer_rate() -> None:
    state = DialState(now_s=0, agents_free=10, talk_elapsed_s=busy(40, 100.0), **MEASURED)  # type: ignore[arg-type]
    lines = Predictive().lines_to_dial(state)
    assert lines > 10 * 2  # at 30 % answers, 10 free agents need far more than 10 lines
    assert lines <= 3 * 50


def test_predictive_counts_agents_about_to_free_up() -> None:
    fresh = DialState(now_s=0, agents_free=2, talk_elapsed_s=busy(20, 5.0), **MEASURED)  # type: ignore[arg-type]
    long_running = DialState(now_s=0, agents_free=2, talk_elapsed_s=busy(20, 300.0), **MEASURED)  # type: ignore[arg-type]
    assert Predictive().lines_to_dial(long_running) > Predictive().lines_to_dial(fresh)
    in_wrap = DialState(now_s=0, agents_free=2, wrap_left_s=(3.0,) * 10, **MEASURED)  # type: ignore[arg-type]
    assert Predictive().lines_to_dial(in_wrap) > Predictive().lines_to_dial(
        DialState(now_s=0, agents_free=2, wrap_left_s=(60.0,) * 10, **MEASURED))  # type: ignore[arg-type]


def test_predictive_a_spike_of_answers_cuts_the_lines() -> None:
    def state(ringing: int, rate: float) -> DialState:
        return DialState(now_s=0, agents_free=10, talk_elapsed_s=busy(40), ringing=ringing, answer_rate=rate,
                         mean_talk_s=120.0, wrap_s=10.0)

    assert 0 < Predictive().lines_to_dial(state(10, 0.9)) < Predictive().lines_to_dial(state(10, 0.3))
    assert Predictive().lines_to_dial(state(30, 0.9)) == 0  # 27 answers coming for about 13 agents
    waiting = DialState(now_s=0, agents_free=10, talk_elapsed_s=busy(40), answered_waiting=10, **MEASURED)  # type: ignore[arg-type]
    assert Predictive().lines_to_dial(waiting) < Predictive().lines_to_dial(
        DialState(now_s=0, agents_free=10, talk_elapsed_s=busy(40), **MEASURED))  # type: ignore[arg-type]


def test_predictive_measured_drops_over_target_make_it_more_careful() -> None:
    base = dict(now_s=0, agents_free=10, talk_elapsed_s=busy(40, 100.0), **MEASURED)
    calm = Predictive().lines_to_dial(DialState(**base, drop_rate=0.01))  # type: ignore[arg-type]
    hot = Predictive().lines_to_dial(DialState(**base, drop_rate=0.06))  # type: ignore[arg-type]
    assert hot < calm
    assert Predictive().effective_target(DialState(**base, drop_rate=0.5)) == pytest.approx(0.015 / 4)  # type: ignore[arg-type]


def test_expected_shortfall_and_free_probability() -> None:
    assert expected_shortfall(5.0, 0.0) == 5.0
    assert expected_shortfall(-5.0, 0.0) == 0.0
    assert expected_shortfall(0.0, 1.0) == pytest.approx(0.3989, abs=1e-4)
    assert free_probability(0, 15, 120, 20) == 0.0  # the wrap-up alone is longer than the look-ahead
    assert free_probability(500, 15, 120, 0) > free_probability(0, 15, 120, 0) > 0


def _tick(pacer: AdaptiveDialLevel, at: float, free: int, busy_n: int, day_drops: float) -> int:
    return pacer.lines_to_dial(DialState(now_s=at, agents_free=free, talk_elapsed_s=busy(busy_n),
                                         drop_rate_day=day_drops))


def test_adaptive_level_rises_with_idle_agents_every_15_s_and_stays_below_its_max() -> None:
    pacer = AdaptiveDialLevel()
    for second in range(15):
        _tick(pacer, second, free=8, busy_n=12, day_drops=0.0)
    assert pacer.level == 1.0  # recomputed only after 15 s
    for second in range(15, 400):
        _tick(pacer, second, free=8, busy_n=12, day_drops=0.0)
    assert pacer.level == 3.0
    assert _tick(pacer, 400, free=8, busy_n=12, day_drops=0.0) == 24


def test_adaptive_hard_limit_falls_to_one_at_the_cap_and_holds_below_it() -> None:
    pacer = AdaptiveDialLevel(level=2.5)
    _tick(pacer, 0, free=8, busy_n=12, day_drops=0.031)
    _tick(pacer, 15, free=8, busy_n=12, day_drops=0.031)
    assert pacer.level == 1.0
    pacer = AdaptiveDialLevel(level=2.0)
    _tick(pacer, 0, free=8, busy_n=12, day_drops=0.025)
    _tick(pacer, 15, free=8, busy_n=12, day_drops=0.025)
    assert pacer.level == 2.0  # idle agents, but near the cap: not raised


def test_adaptive_tapered_allows_more_early_and_tapers() -> None:
    pacer = AdaptiveDialLevel(mode="tapered", level=2.0, shift_s=8 * 3600)
    assert pacer.cap_now(0) == pytest.approx(0.06)
    assert pacer.cap_now(2 * 3600) == pytest.approx(0.045)
    assert pacer.cap_now(5 * 3600) == pytest.approx(0.03)
    _tick(pacer, 0, free=0, busy_n=20, day_drops=0.04)
    _tick(pacer, 15, free=0, busy_n=20, day_drops=0.04)  # over 3 % but within the early allowance
    assert 1.0 < pacer.level < 2.0  # no idle agents: lowered a little, not to 1
    late = AdaptiveDialLevel(mode="tapered", level=2.0)
    _tick(late, 6 * 3600, free=0, busy_n=20, day_drops=0.045)
    _tick(late, 6 * 3600 + 15, free=0, busy_n=20, day_drops=0.045)
    assert late.level == pytest.approx(1.0)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: make_pacer("ratio"), "unknown pacing method 'ratio'"),
    (lambda: make_pacer("predictive", speed=2.0), "pacing predictive"),
    (lambda: make_pacer("progressive", max_ratio=2.0), "progressive takes no options"),
    (lambda: Predictive(target_drop=0.0), "target_drop"),
    (lambda: AdaptiveDialLevel(mode="average"), "unknown adaptive mode"),
    (lambda: DialState(now_s=0, agents_free=-1), "agents_free must be ≥ 0"),
    (lambda: DialState(now_s=0, agents_free=1, answer_rate=1.5), "answer_rate must be within 0..1"),
    (lambda: DialState(now_s=0, agents_free=1, mean_talk_s=0), "mean_talk_s must be > 0"),
])
def test_bad_input_is_refused_clearly(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
