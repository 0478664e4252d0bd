"""Erlang C: the textbook M/M/N queue, to check the simulator against and to size a centre.

Calls arrive as a Poisson process (``rate_per_s``), handle times are exponential (mean ``handle_s``),
``agents`` identical agents serve one FIFO queue and nobody hangs up. With offered load
``a = rate_per_s * handle_s`` (Erlangs) and ``a < agents``:

* probability that a call waits: ``C = N·B / (N − a·(1 − B))`` where ``B`` is Erlang B, computed with the
  stable recursion ``B(0) = 1, B(n) = a·B(n−1) / (n + a·B(n−1))`` (no factorials, no overflow at
  thousands of agents);
* service level ``P(W ≤ t) = 1 − C·exp(−(N − a)·t / handle_s)``;
* average speed of answer ``ASA = C·handle_s / (N − a)``.

At or above ``a ≥ N`` the queue grows without bound: every call waits, the service level is 0 and the
ASA infinite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of ``agents`` servers with ``load`` Erlangs offered (no queue)."""
    if agents < 0 or load < 0:
        raise ValueError("agents and load must not be negative")
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def erlang_c(agents: int, load: float) -> float:
    """Probability that a call has to wait (1.0 when ``load >= agents``)."""
    if agents <= 0 or load >= agents:
        return 1.0
    if load <= 0:
        return 0.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1.0 - b))


@dataclass(frozen=True)
class ErlangC:
    """The figures of one M/M/N queue (see the module docstring)."""

    agents: int
    rate_per_s: float
    handle_s: float

    @property
    def load(self) -> float:
        """Offered load in Erlangs."""
        return self.rate_per_s * self.handle_s

    @property
    def occupancy(self) -> float:
        """Share of the agents' time spent handling calls (capped at 1)."""
        return min(1.0, self.load / self.agents) if self.agents else 1.0

    @property
    def p_wait(self) -> float:
        return erlang_c(self.agents, self.load)

    def service_level(self, within_s: float) -> float:
        """``P(W ≤ within_s)``."""
        if self.load >= self.agents:
            return 0.0
        return 1.0 - self.p_wait * math.exp(-(self.agents - self.load) * within_s / self.handle_s)

    @property
    def asa_s(self) -> float:
        """Mean wait of all calls (every call is answered), seconds."""
        if self.load >= self.agents:
            return math.inf
        return self.p_wait * self.handle_s / (self.agents - self.load)


def agents_for(rate_per_s: float, handle_s: float, target: float, within_s: float, limit: int = 100_000) -> int:
    """The fewest agents whose service level ``P(W ≤ within_s)`` reaches ``target``."""
    n = max(1, math.floor(rate_per_s * handle_s) + 1)
    while n <= limit:
        if ErlangC(n, rate_per_s, handle_s).service_level(within_s) >= target:
            return n
        n += 1
    raise ValueError(f"no staffing up to {limit} agents reaches {target:.0%} within {within_s:g} s")
