"""Clocks for the router: the wall clock for live calls, a manual clock for the simulator and tests.

The router only ever asks ``clock.now()`` (seconds, monotonic, float); timers are absolute times on
that clock. ``ManualClock`` moves only when told (``set`` / ``advance``), so a simulation of a day
runs in seconds and a test can step past an offer timeout exactly.
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
