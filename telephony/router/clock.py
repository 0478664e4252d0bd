"""Clocks for the router: the wall clock for live calls, a manual clock for the simulator and tests.

The router only ever asks ``clock.now()`` (seconds, monotonic, float); timers are absolute times on
that clock. ``ManualClock`` moves only when told (``set`` / ``advance``), so a simulation of a day
runs in seconds and a test can step past an offer timeout exactly. ``LogClock`` is a cluster replica's
(``telephony.router.cluster``): the time of the command log's entry being applied.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on this clock (monotonic)."""


class WallClock:
    """Real time (``time.monotonic``)."""

    def now(self) -> float:
        return time.monotonic()


class ManualClock:
    """Time that moves only when told to."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def set(self, at: float) -> None:
        if at < self._now:
            raise ValueError(f"the clock cannot go back from {self._now} to {at}")
        self._now = at

    def advance(self, seconds: float) -> float:
        self.set(self._now + seconds)
        return self._now


class LogClock:
    """The replica's clock: while an entry is applied, the entry's time (and the due times of the timers it
    fires first); otherwise the last entry's time, so what a read computes (and e.g. the service-level windows
    it prunes) never runs ahead of the entries still to come. :meth:`wall` is this host's time moved onto the
    database's, for the leader's ticks."""

    def __init__(self) -> None:
        self._fixed: float | None = None
        self.last = 0.0
        """The time of the last entry applied."""
        self.offset = 0.0
        """Database clock minus this host's (``time.time``), from the last append."""

    def now(self) -> float:
        return self._fixed if self._fixed is not None else self.last

    def wall(self) -> float:
        return max(self.last, time.time() + self.offset)

    def fix(self, at: float) -> None:
        self.last = max(self.last, at)
        self._fixed = self.last

    def release(self) -> None:
        self._fixed = None
