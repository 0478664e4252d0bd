"""The router's timers: one heap of (time, key); setting a key again replaces its previous timer.

Keys name what the timer is for: ``("call", 42)`` (a waiting call's next change: a level opens, a
region step ends, max wait), ``("offer", 42)``, ``("wrap_up", "1001")``, ``("not_ready", "1001")``,
``("grace", "1001")``. A replaced or cancelled entry stays in the heap and is skipped when popped; setting
a key again to the time it already has adds nothing (a tier's sweep evaluates thousands of calls whose next
change did not move: each would leave a dead entry, up to their maximum wait away, and the heap's growth
cost milliseconds at each resize).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable

TimerKey = tuple[str, Hashable]


class Timers:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerKey]] = []
        self._live: dict[TimerKey, int] = {}
        self._at: dict[TimerKey, float] = {}
        self._seq = itertools.count()

    def set(self, key: TimerKey, at: float) -> None:
        if key in self._live and self._at[key] == at:
            return
        seq = next(self._seq)
        self._live[key] = seq
        self._at[key] = at
        heapq.heappush(self._heap, (at, seq, key))

    def cancel(self, key: TimerKey) -> None:
        self._live.pop(key, None)
        self._at.pop(key, None)

    def pending(self, key: TimerKey) -> bool:
        return key in self._live

    def _drop_dead(self) -> None:
        heap = self._heap
        while heap and self._live.get(heap[0][2]) != heap[0][1]:
            heapq.heappop(heap)

    def next_at(self) -> float | None:
        self._drop_dead()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> TimerKey | None:
        """The earliest live timer due at ``now`` (removed), or None."""
        self._drop_dead()
        if not self._heap or self._heap[0][0] > now:
            return None
        _, _, key = heapq.heappop(self._heap)
        del self._live[key]
        del self._at[key]
        return key

    @property
    def heap_size(self) -> int:
        """Entries in the heap, dead ones included."""
        return len(self._heap)

    def __len__(self) -> int:
        return len(self._live)
