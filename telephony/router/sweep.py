"""Spread re-evaluation of a tier's waiting calls when its service level moves (no stall).

The Helpline policy reads the tier's service level (its gap to the target, whether the tier is behind,
rules on ``tier.service_level``), so when that level moves by a point or crosses the target every waiting
call of the tier is evaluated again. Done at once, that is one evaluation per waiting call in one router
call (38–50 µs each: 266 ms for 7,000 ordinary calls out of 10,000 waiting), and every other event waits.

Here a move only *requests* a sweep of the tier (:meth:`TierSweeps.request`, O(1) plus a C-level copy of
the waiting calls when the sweep starts). A router timer ``("sweep", 0)`` then evaluates at most
``slice_calls`` calls of the tier per run (and looks at most ``scan_calls`` waiting calls to find them),
one run every ``tick_s`` seconds, with exactly what a call's own timer does (``Router._call_timer``:
maximum wait, evaluation, an offer if an agent fits). A call evaluated since the move (by its own timer,
an offer that rang out, its arrival) is skipped.

Bounded staleness, the contract the tests and ``bench/routing_speed.py`` check: sweeps run one after the
other, at most one sweep per tier waits to start (a second move of a tier whose sweep has not started
joins it; a move during its sweep queues one more, so calls already passed are evaluated again), so a
move is applied to every call of its tier within :meth:`TierSweeps.bound_s` (two rounds over every
waiting call) of router time. Until then a decision may use the call's previous evaluation, the one the
router used before the move. ``slice_calls = 0`` evaluates every call of the tier at the next
``advance`` (the former behaviour, kept as the reference of the tests and the bench).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .model import WaitingCall

if TYPE_CHECKING:
    from .core import Router

SLICE_CALLS = 8
"""Calls evaluated per sweep run (≈ 0.3–0.4 ms at 38–50 µs an evaluation with its index update and offer
look-up: under the 1 ms decision target with room for a loaded machine)."""
SCAN_FACTOR = 16
"""A run looks at most ``SCAN_FACTOR × slice_calls`` waiting calls (calls of other tiers are skipped)."""
TICK_S = 0.001
"""Router time between two sweep runs (other events run in between)."""
SWEEP_KEY = ("sweep", 0)


@dataclass
class Sweep:
    tier: str
    first_move_at: float
    """The oldest move this sweep applies (its staleness counts from here)."""
    last_move_at: float
    """The newest move it applies: a call evaluated after this time is already up to date (one evaluated at
    the same instant may have been before the move: it is evaluated again)."""
    calls: list[WaitingCall] = field(default_factory=list)
    position: int = -1
    """-1 until started (the waiting calls are copied then)."""


@dataclass
class SweepStats:
    requested: int = 0
    """Moves handed to the sweeps."""
    sweeps: int = 0
    """Sweeps finished."""
    evaluated: int = 0
    """Calls evaluated by sweeps."""
    max_staleness_s: float = 0.0
    """The longest time from a move to the end of the sweep that applied it."""


class TierSweeps:
    """The pending sweeps of one router (see the module docstring)."""

    def __init__(self, router: Router, *, slice_calls: int = SLICE_CALLS, tick_s: float = TICK_S) -> None:
        if slice_calls < 0 or tick_s <= 0:
            raise ValueError(f"sweep slice {slice_calls} must be >= 0 and tick {tick_s} s > 0")
        self.router = router
        self.slice_calls = slice_calls
        self.scan_calls = max(1, SCAN_FACTOR * slice_calls)
        self.tick_s = tick_s
        self.queue: deque[Sweep] = deque()
        self.stats = SweepStats()

    # -------------------------------------------------------------------------------------- moves
    def request(self, tier: str) -> None:
        """The tier's service level moved: evaluate its waiting (not offered) calls again."""
        router = self.router
        now = router.now()
        self.stats.requested += 1
        if self.slice_calls == 0:  # the reference: every call of the tier at the next advance, at this time
            for call in router.waiting.values():
                if call.tier == tier and call.agent_id is None:
                    router.timers.set(("call", call.call_id), now)
            return
        for sweep in self.queue:
            if sweep.tier == tier and sweep.position < 0:
                sweep.last_move_at = now  # joins the sweep that has not started
                return
        self.queue.append(Sweep(tier, now, now))
        if not router.timers.pending(SWEEP_KEY):
            router.timers.set(SWEEP_KEY, now)

    def pending(self, tier: str | None = None) -> bool:
        return any(tier is None or s.tier == tier for s in self.queue)

    def staleness_s(self) -> float:
        """How long the oldest move not yet applied to every call of its tier has waited (0: none)."""
        if not self.queue:
            return 0.0
        return self.router.now() - min(s.first_move_at for s in self.queue)

    def bound_s(self, waiting: int, tiers: int) -> float:
        """The longest a move waits for its sweep to finish, with at most ``waiting`` calls waiting and
        ``tiers`` tiers: the sweep in progress, then at most one sweep per tier; each sweep's runs are at
        most its calls ÷ slice plus the waiting calls ÷ scan, plus one."""
        if self.slice_calls == 0:
            return 0.0
        per_round = waiting / self.slice_calls + tiers * (waiting / self.scan_calls + 1)
        return math.ceil(2 * per_round + 2) * self.tick_s

    # ---------------------------------------------------------------------------------------- runs
    def run(self) -> None:
        """One sweep run (the ``("sweep", 0)`` timer): at most ``slice_calls`` evaluations."""
        router = self.router
        now = router.now()
        budget, scan = self.slice_calls, self.scan_calls
        while self.queue and budget > 0 and scan > 0:
            sweep = self.queue[0]
            if sweep.position < 0:
                sweep.calls, sweep.position = list(router.waiting.values()), 0
            calls, i, end = sweep.calls, sweep.position, len(sweep.calls)
            tier, since = sweep.tier, sweep.last_move_at
            while i < end and budget > 0 and scan > 0:
                call = calls[i]
                i += 1
                scan -= 1
                if (call.evaluated_at > since or call.agent_id is not None or call.request.tier != tier
                        or router.waiting.get(call.call_id) is not call):
                    continue
                budget -= 1
                self.stats.evaluated += 1
                router._call_timer(call)
            sweep.position = i
            if i >= end:
                self.queue.popleft()
                self.stats.sweeps += 1
                self.stats.max_staleness_s = max(self.stats.max_staleness_s, now - sweep.first_move_at)
                sweep.calls = []
        if self.queue:
            router.timers.set(SWEEP_KEY, now + self.tick_s)
