"""Erlang C against published figures and against the closed formula with factorials."""

from __future__ import annotations

import math

import pytest

from telephony.simulate.erlang import ErlangC, agents_for, erlang_b, erlang_c


def erlang_c_by_factorials(n: int, a: float) -> float:
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize(("agents", "p_wait", "service_level", "asa_s"), [
    (11, 0.6821, 0.3896, 122.8),
    (12, 0.4494, 0.6402, 40.4),
    (13, 0.2853, 0.7956, 17.1),
    (14, 0.1741, 0.8884, 7.8),
])
def test_the_textbook_example(agents: int, p_wait: float, service_level: float, asa_s: float) -> None:
    """100 calls per half hour, 180 s handle time (10 Erlangs), 80 % within 20 s: 14 agents."""
    e = ErlangC(agents, 100 / 1800, 180)
    assert e.load == pytest.approx(10.0)
    assert e.p_wait == pytest.approx(p_wait, abs=5e-5)
    assert e.service_level(20) == pytest.approx(service_level, abs=5e-5)
    assert e.asa_s == pytest.approx(asa_s, abs=0.05)


def test_small_cases_match_the_factorial_formula_and_mm1() -> None:
    for n, a in [(1, 0.5), (2, 1.5), (10, 8.5), (30, 27.0)]:
        assert erlang_c(n, a) == pytest.approx(erlang_c_by_factorials(n, a), rel=1e-12)
    mm1 = ErlangC(1, 0.5 / 60, 60)  # M/M/1: P(wait) = ρ, mean wait ρ/(1-ρ)·h
    assert mm1.p_wait == pytest.approx(0.5) and mm1.asa_s == pytest.approx(60.0)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)


def test_large_centres_are_stable_and_overload_is_handled() -> None:
    big = ErlangC(5000, 4900 / 300, 300)  # factorials would overflow a float here
    assert 0.0 < big.p_wait < 1.0 and 0.0 < big.service_level(20) <= 1.0
    assert erlang_c(10, 10.0) == 1.0 and ErlangC(10, 11 / 60, 60).asa_s == math.inf
    assert ErlangC(10, 11 / 60, 60).service_level(20) == 0.0


def test_staffing() -> None:
    assert agents_for(100 / 1800, 180, 0.8, 20) == 14
