"""Outbound pacing: how many numbers to dial now, from what the campaign sees at this moment.

Pure functions and small stateful objects, no I/O and no clock of their own: the campaign runtime (or the
simulator, :mod:`telephony.simulate.dialer`) builds a :class:`DialState` whenever something changes or on
its own tick (about once a second) and asks its :class:`Pacer` ``lines_to_dial(state)``; it then dials
that many numbers from its hopper. Three methods (``make_pacer(method)``):

* ``progressive`` — one line per free agent, minus the lines already ringing: an agent is never without
  a line, and an answered call always finds an agent (no drops, but agents wait through every ring and
  every unanswered attempt).
* ``predictive`` — dials ahead of the agents. For a dial made now, the answers come about
  ``mean_ring_s`` later; by then the agents free are the ones free now plus each busy agent with the
  probability that its call (and wrap-up) ends within that time, judged from the call's elapsed talk
  (a long-running call is expected to end sooner). The answers of the lines in flight are a binomial
  with the measured answer rate. It dials the most lines whose expected drops (answers finding no
  agent, a normal approximation of E[(answers − agents)⁺]) stay within ``target_drop`` of the expected
  answers; the measured recent drop rate tightens that target while it is above it (feedback).
* ``adaptive_hard_limit`` / ``adaptive_tapered`` — a VICIdial-like dial level: ``round(level × free
  agents) − ringing`` lines, the level recomputed every ``interval_s`` (15 s) from the time-averaged
  share of idle agents since the last update (too many idle → up, none idle → down, toward
  ``target_idle``) and the campaign's drop rate of the day against ``drop_cap`` (3 %): the hard limit
  falls back to level 1.0 (progressive) while the day's drop rate is at or over the cap, and stops
  raising from 80 % of it; the tapered one lets the cap run up to twice its value at the start of the
  shift, narrowing linearly to the cap at mid-shift (stricter as the day goes on), and lowers the level
  in proportion to the overshoot instead of jumping to 1.0. The level stays within ``[1, max_level]``.

Every method never dials when no agent is signed in, never returns a negative number, and never puts more
than ``max_ratio`` lines in flight per signed-in agent (nor over ``DialState.lines_free``). Without an
answer-rate measurement yet (``answer_rate=None``) predictive dials like progressive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

METHODS = ("progressive", "predictive", "adaptive_hard_limit", "adaptive_tapered")
"""The pacing methods :func:`make_pacer` knows, in report order."""


@dataclass(frozen=True, slots=True)
class DialState:
    """What the campaign sees now (counts of its own agents and lines only)."""

    now_s: float
    """Seconds since the campaign (shift) started; the adaptive methods recompute their level on it."""
    agents_free: int
    """Agents signed in and ready, with no call."""
    talk_elapsed_s: tuple[float, ...] = ()
    """One entry per agent on a campaign call: seconds talked so far."""
    wrap_left_s: tuple[float, ...] = ()
    """One entry per agent in wrap-up: seconds of wrap-up left."""
    ringing: int = 0
    """Lines dialled and not yet answered or failed."""
    answered_waiting: int = 0
    """Answered calls waiting for an agent right now (each will take one of the free agents)."""
    answer_rate: float | None = None
    """Recent live answers / finished attempts (0..1); None until enough attempts were measured."""
    drop_rate: float | None = None
    """Recent drops / live answers (0..1), e.g. over the last 15 minutes; None: no answers yet."""
    drop_rate_day: float | None = None
    """Drops / live answers since the start of the day (VICIdial's figure, read by the adaptive methods)."""
    mean_talk_s: float | None = None
    """Mean talk time of recent answered calls; None: not measured yet (busy agents count as staying busy)."""
    wrap_s: float = 0.0
    """Wrap-up after each call (an agent on a call frees up only after it)."""
    mean_ring_s: float = 15.0
    """Mean time from dialling to a live answer (the predictive look-ahead)."""
    lines_free: int | None = None
    """Trunk lines the campaign may still seize; None: no limit."""

    def __post_init__(self) -> None:
        for name in ("agents_free", "ringing", "answered_waiting"):
            if getattr(self, name) < 0:
                raise ValueError(f"DialState.{name} must be ≥ 0, got {getattr(self, name)}")
        for name in ("answer_rate", "drop_rate", "drop_rate_day"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"DialState.{name} must be within 0..1 (or None), got {value}")
        if self.mean_talk_s is not None and self.mean_talk_s <= 0:
            raise ValueError(f"DialState.mean_talk_s must be > 0 (or None), got {self.mean_talk_s}")
        if self.wrap_s < 0 or self.mean_ring_s < 0:
            raise ValueError("DialState.wrap_s and mean_ring_s must be ≥ 0")
        if self.lines_free is not None and self.lines_free < 0:
            raise ValueError(f"DialState.lines_free must be ≥ 0 (or None), got {self.lines_free}")

    @property
    def agents_signed_in(self) -> int:
        """Free, on a call and in wrap-up."""
        return self.agents_free + len(self.talk_elapsed_s) + len(self.wrap_left_s)


class Pacer(Protocol):
    """Decides how many numbers to dial now."""

    method: str

    def lines_to_dial(self, state: DialState) -> int:
        """How many new lines to dial now (≥ 0)."""
        ...


def _cap(state: DialState, wanted: int, max_ratio: float) -> int:
    """``wanted`` within the per-agent ratio and the free trunk lines, never negative."""
    agents = state.agents_signed_in
    if agents == 0:
        return 0
    room = math.floor(max_ratio * agents + 1e-9) - state.ringing - state.answered_waiting
    wanted = min(wanted, room)
    if state.lines_free is not None:
        wanted = min(wanted, state.lines_free)
    return max(0, wanted)


def _progressive_lines(state: DialState) -> int:
    return state.agents_free - state.answered_waiting - state.ringing


@dataclass
class Progressive:
    """One line per free agent (see the module docstring)."""

    method: str = field(default="progressive", init=False)

    def lines_to_dial(self, state: DialState) -> int:
        return _cap(state, _progressive_lines(state), 1.0)


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _Phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def expected_shortfall(mean: float, var: float) -> float:
    """E[D⁺] for D normal with this mean and variance (D = answers − agents: the expected drops)."""
    if var <= 1e-12:
        return max(0.0, mean)
    sd = math.sqrt(var)
    z = mean / sd
    return sd * _phi(z) + mean * _Phi(z)


def free_probability(elapsed_s: float, horizon_s: float, mean_talk_s: float, wrap_s: float) -> float:
    """Probability that an agent talking for ``elapsed_s`` is free within ``horizon_s``.

    The rest of the call is taken as exponential with mean ``max(mean_talk − elapsed, mean_talk / 4)``
    (calls past the mean are expected to end soon, but not at once), then the wrap-up follows.
    """
    room = horizon_s - wrap_s
    if room <= 0:
        return 0.0
    rest = max(mean_talk_s - elapsed_s, mean_talk_s / 4.0)
    return 1.0 - math.exp(-room / rest)


@dataclass
class Predictive:
    """Dials ahead of the agents within an expected drop rate (see the module docstring)."""

    target_drop: float = 0.015
    """Expected drops / expected answers aimed at for each decision (below the 3 % cap, for the variance)."""
    max_ratio: float = 3.0
    """At most this many lines in flight per signed-in agent."""
    method: str = field(default="predictive", init=False)

    def __post_init__(self) -> None:
        if not 0 < self.target_drop < 1:
            raise ValueError(f"target_drop must be within (0, 1), got {self.target_drop}")
        if self.max_ratio < 1:
            raise ValueError(f"max_ratio must be ≥ 1, got {self.max_ratio}")

    def effective_target(self, state: DialState) -> float:
        """``target_drop``, scaled down by target/measured while the recent drop rate is above it."""
        measured = state.drop_rate
        if measured is None or measured <= self.target_drop:
            return self.target_drop
        return max(self.target_drop / 4.0, self.target_drop * self.target_drop / measured)

    def agents_expected(self, state: DialState) -> tuple[float, float]:
        """Mean and variance of the agents free for an answer about ``mean_ring_s`` from now."""
        horizon = state.mean_ring_s
        mean = float(state.agents_free - state.answered_waiting)
        var = 0.0
        for left in state.wrap_left_s:
            if left <= horizon:
                mean += 1.0
        if state.mean_talk_s is not None:
            for elapsed in state.talk_elapsed_s:
                p = free_probability(elapsed, horizon, state.mean_talk_s, state.wrap_s)
                mean += p
                var += p * (1.0 - p)
        return mean, var

    def lines_to_dial(self, state: DialState) -> int:
        if state.agents_signed_in == 0:
            return 0
        p = state.answer_rate
        if p is None:
            return _cap(state, _progressive_lines(state), 1.0)
        room = _cap(state, 10**9, self.max_ratio)
        if p <= 0.0:
            return room
        target = self.effective_target(state)
        agents_mean, agents_var = self.agents_expected(state)

        def fits(n: int) -> bool:
            lines = state.ringing + n
            if lines == 0:
                return True
            answers = lines * p
            drops = expected_shortfall(answers - agents_mean, lines * p * (1.0 - p) + agents_var)
            return drops <= target * answers + 1e-12

        if not fits(0):
            return 0
        low, high = 0, room  # fits(low) holds; find the largest n ≤ room that fits
        if fits(high):
            return high
        while high - low > 1:
            mid = (low + high) // 2
            if fits(mid):
                low = mid
            else:
                high = mid
        return low


@dataclass
class AdaptiveDialLevel:
    """A VICIdial-like adaptive dial level (``hard_limit`` or ``tapered``; see the module docstring)."""

    mode: str = "hard_limit"
    drop_cap: float = 0.03
    """The campaign's drop limit (drops / live answers over the day)."""
    interval_s: float = 15.0
    """How often the level is recomputed."""
    target_idle: float = 0.05
    """Share of the signed-in agents the level aims to keep idle (waiting for a call)."""
    gain: float = 1.0
    """How strongly the level follows the idle share (VICIdial's intensity)."""
    max_level: float = 3.0
    shift_s: float = 8 * 3600.0
    """The shift length; tapered lets the cap run over in its first half."""
    level: float = 1.0
    """The current dial level (lines per free agent)."""
    method: str = field(default="", init=False)
    _next_update_s: float | None = field(default=None, init=False, repr=False)
    _idle_sum: float = field(default=0.0, init=False, repr=False)
    _idle_n: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in ("hard_limit", "tapered"):
            raise ValueError(f"unknown adaptive mode {self.mode!r} (modes are: hard_limit, tapered)")
        if not 0 < self.drop_cap < 1:
            raise ValueError(f"drop_cap must be within (0, 1), got {self.drop_cap}")
        if self.interval_s <= 0 or self.shift_s <= 0:
            raise ValueError("interval_s and shift_s must be > 0")
        if not 1.0 <= self.level <= self.max_level:
            raise ValueError(f"level must be within [1, max_level={self.max_level}], got {self.level}")
        self.method = f"adaptive_{self.mode}"

    def cap_now(self, now_s: float) -> float:
        """The drop limit applied at ``now_s``: hard: the cap; tapered: 2 × cap at the start → cap at mid-shift."""
        if self.mode == "hard_limit":
            return self.drop_cap
        half = self.shift_s / 2.0
        return self.drop_cap * (1.0 + max(0.0, 1.0 - now_s / half))

    def observe(self, state: DialState) -> None:
        """Fold this moment's idle share into the average of the interval; recompute the level when due."""
        agents = state.agents_signed_in
        if agents:
            self._idle_sum += max(0, state.agents_free - state.answered_waiting) / agents
            self._idle_n += 1
        if self._next_update_s is None:
            self._next_update_s = state.now_s + self.interval_s
        elif state.now_s >= self._next_update_s:
            self._recompute(state)
            self._next_update_s = state.now_s + self.interval_s

    def _recompute(self, state: DialState) -> None:
        idle = self._idle_sum / self._idle_n if self._idle_n else 0.0
        self._idle_sum, self._idle_n = 0.0, 0
        cap = self.cap_now(state.now_s)
        drops = state.drop_rate_day or 0.0
        if drops >= cap:
            if self.mode == "hard_limit":
                self.level = 1.0
            else:
                self.level *= max(0.5, 1.0 - (drops - cap) / cap)
        else:
            change = self.gain * (idle - self.target_idle)
            if change > 0 and drops >= 0.8 * cap:
                change = 0.0
            self.level *= 1.0 + change
        self.level = min(self.max_level, max(1.0, self.level))

    def lines_to_dial(self, state: DialState) -> int:
        self.observe(state)
        free = state.agents_free - state.answered_waiting
        wanted = math.floor(self.level * free + 0.5) - state.ringing
        return _cap(state, wanted, self.max_level)


def make_pacer(method: str, **options: float) -> Pacer:
    """A fresh pacer for ``method`` (one of :data:`METHODS`); ``options`` set its fields."""
    try:
        if method == "progressive":
            if options:
                raise TypeError(f"progressive takes no options, got {', '.join(options)}")
            return Progressive()
        if method == "predictive":
            return Predictive(**options)
        if method in ("adaptive_hard_limit", "adaptive_tapered"):
            return AdaptiveDialLevel(mode=method.removeprefix("adaptive_"), **options)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ValueError(f"pacing {method}: {exc}") from None
    raise ValueError(f"unknown pacing method {method!r} (methods are: {', '.join(METHODS)})")
