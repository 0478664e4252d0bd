"""Service-level statistics over sliding windows, per tier and per queue.

Each finished wait is one outcome: answered (and whether within the tier's ``within`` time), abandoned
(the caller hung up while waiting) or timed out (max wait; left for the IVR's timeout branch). Two
service levels are kept, as contact centres report them:

* ``service_level`` = answered within n s / (answered + timed out) — abandons left out (the figure the
  router gives the strategy as ``tier.service_level`` and compares with the tier's target);
* ``service_level_abandons`` = answered within n s / every outcome — abandons count as misses.

Windows slide: an outcome older than the window drops out when the figures are read or written (time
only moves forward). Writes and reads are O(1) amortised (one deque and running counters per key and
window). A reconfiguration may add windows (:meth:`ServiceLevelStats.ensure_windows`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["answered", "abandoned", "timeout"]


@dataclass
class _Counts:
    answered: int = 0
    within: int = 0
    abandoned: int = 0
    timeout: int = 0
    wait_total: float = 0.0


@dataclass(frozen=True)
class ServiceLevel:
    """The figures of one key over one window."""

    offered: int
    answered: int
    within: int
    abandoned: int
    timeout: int
    asa_s: float
    service_level: float | None
    service_level_abandons: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "offered": self.offered, "answered": self.answered, "within": self.within,
            "abandoned": self.abandoned, "timeout": self.timeout, "asa_s": round(self.asa_s, 1),
            "service_level": _round(self.service_level),
            "service_level_abandons": _round(self.service_level_abandons),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class _Window:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.items: deque[tuple[float, Outcome, bool, float]] = deque()
        self.counts = _Counts()

    def add(self, at: float, outcome: Outcome, within: bool, wait: float) -> None:
        self.items.append((at, outcome, within, wait))
        self._count(outcome, within, wait, 1)
        self.prune(at)

    def _count(self, outcome: Outcome, within: bool, wait: float, sign: int) -> None:
        c = self.counts
        if outcome == "answered":
            c.answered += sign
            c.within += sign if within else 0
            c.wait_total += sign * wait
        elif outcome == "abandoned":
            c.abandoned += sign
        else:
            c.timeout += sign

    def prune(self, now: float) -> None:
        limit = now - self.seconds
        items = self.items
        while items and items[0][0] < limit:
            _, outcome, within, wait = items.popleft()
            self._count(outcome, within, wait, -1)

    def figures(self, now: float) -> ServiceLevel:
        self.prune(now)
        c = self.counts
        offered = c.answered + c.abandoned + c.timeout
        counted = c.answered + c.timeout
        return ServiceLevel(
            offered, c.answered, c.within, c.abandoned, c.timeout,
            c.wait_total / c.answered if c.answered else 0.0,
            c.within / counted if counted else None,
            c.within / offered if offered else None,
        )


class ServiceLevelStats:
    """Outcomes per tier and per queue, over several sliding windows."""

    def __init__(self, windows: tuple[float, ...] = (900.0, 3600.0)) -> None:
        self.windows = tuple(sorted(set(windows)))
        self._keys: dict[tuple[str, str], dict[float, _Window]] = {}

    def ensure_windows(self, windows: Iterable[float]) -> None:
        """Keep these windows too (a reconfiguration): a new window starts from the outcomes the longest
        kept window still holds, so it is exact when shorter than that one."""
        new = sorted(set(windows) - set(self.windows))
        if not new:
            return
        self.windows = tuple(sorted({*self.windows, *new}))
        for found in self._keys.values():
            longest = found[max(found)] if found else None
            for seconds in new:
                window = found[seconds] = _Window(seconds)
                for at, outcome, within, wait in longest.items if longest else ():
                    window.add(at, outcome, within, wait)

    def _windows_of(self, kind: str, name: str) -> dict[float, _Window]:
        found = self._keys.get((kind, name))
        if found is None:
            found = self._keys[(kind, name)] = {w: _Window(w) for w in self.windows}
        return found

    def record(self, at: float, *, tier: str, queue: str, outcome: Outcome, wait_s: float,
               within_s: float) -> None:
        """One finished wait; ``within_s`` is the tier's answer-time target."""
        within = outcome == "answered" and wait_s <= within_s
        for key in (("tier", tier), ("queue", queue)):
            for window in self._windows_of(*key).values():
                window.add(at, outcome, within, wait_s)

    def figures(self, kind: Literal["tier", "queue"], name: str, window: float, now: float) -> ServiceLevel:
        windows = self._windows_of(kind, name)
        found = windows.get(window)
        if found is None:
            raise KeyError(f"no {window} s window (kept: {', '.join(str(w) for w in self.windows)})")
        return found.figures(now)

    def service_level(self, tier: str, window: float, now: float) -> float | None:
        """The tier's service level (abandons left out) over the window; None before any outcome."""
        return self.figures("tier", tier, window, now).service_level

    def names(self, kind: Literal["tier", "queue"]) -> list[str]:
        return sorted(name for k, name in self._keys if k == kind)
