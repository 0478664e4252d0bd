"""Required agents per half hour for each tier's service-level target: Erlang C and Erlang A.

A tier's target comes from the routing metadata's strategy (``tier gold: target 85% within 20s``); its share of
the offered calls and the callers' mean patience are inputs (``TierLoad``). Per half hour and tier the offered
rate is ``calls × share / 1800 s``, the handle time the queue's mean (talk + wrap-up).

* **Erlang C** (:func:`telephony.simulate.erlang.agents_for`): the fewest agents whose ``P(wait ≤ t)`` reaches
  the target when nobody hangs up — the safe figure.
* **Erlang A** (M/M/N+M, :func:`erlang_a_service_level`): callers leave after an exponential patience of mean
  ``patience_s``. The number in the system is a birth-death chain (arrivals λ; departures ``min(n, N)·μ`` plus
  ``max(0, n − N)·θ`` abandons, θ = 1/patience) truncated where its probability is negligible; a caller arriving
  to ``n`` busy agents is answered at once when ``n < N``, else from queue position ``j = n − N + 1`` moves
  forward at rate ``N·μ + (i − 1)·θ`` and leaves at rate θ — the chance it is answered within ``t`` has a
  closed form (an incomplete beta function, see :func:`erlang_a_service_level`). The service level is the share
  of all offered calls answered within ``t``; abandons count as misses. Erlang A needs at most Erlang C's
  agents; the search bisects below that.

The router's simulator (``run.py simulate``) checks a staffing: :func:`check_on_simulator` runs it on the agents
of one half hour and one tier and returns the service level it measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from telephony.simulate.erlang import agents_for

_EPS = 1e-10


@dataclass(frozen=True)
class TierLoad:
    """A tier's share of the calls, its target and its callers' mean patience (None: they never hang up)."""

    name: str
    share: float
    target: float
    within_s: float
    patience_s: float | None = 120.0


@dataclass(frozen=True)
class Requirement:
    slot: int
    tier: str
    calls: float
    erlang_c: int
    erlang_a: int


def _stationary(agents: int, lam: float, mu: float, theta: float) -> list[float]:
    """Probabilities of n = 0, 1, ... in the system (truncated where they fall below 1e-10 of the peak)."""
    p = [1.0]
    n = 0
    peak = 1.0
    while True:
        n += 1
        death = min(n, agents) * mu + max(0, n - agents) * theta
        nxt = p[-1] * lam / death
        if nxt > 1e250:  # rescale (a load of hundreds of Erlangs: λ^n/n! overflows)
            p = [x * 1e-250 for x in p]
            nxt *= 1e-250
            peak *= 1e-250
        p.append(nxt)
        peak = max(peak, nxt)
        if n > agents and nxt < _EPS * peak:
            break
    total = sum(p)
    return [x / total for x in p]


def erlang_a_service_level(agents: int, rate_per_s: float, handle_s: float, patience_s: float,
                           within_s: float) -> float:
    """Share of offered calls answered within ``within_s`` in M/M/N+M (see the module docstring).

    A caller at queue position ``j`` is answered with probability ``b / (b + j)`` (``b = N·μ/θ``), after a
    time that is a sum of exponentials of rates ``N·μ + i·θ``, ``i = 1..j``; that sum exceeds ``t`` with
    probability ``I_y(b + 1, j)``, the regularised incomplete beta function at ``y = exp(−θ·t)``. Upwards in
    ``j`` it follows ``I_y(a, j + 1) = I_y(a, j) + T_j`` with ``T_1 = a·y^a (1 − y)`` and
    ``T_{j+1} = T_j (1 − y)(a + j) / (j + 1)``: the whole queue costs one pass.
    """
    if agents <= 0:
        return 0.0
    if rate_per_s <= 0:
        return 1.0
    mu, theta = 1.0 / handle_s, 1.0 / patience_s
    p = _stationary(agents, rate_per_s, mu, theta)
    answered = sum(p[:agents])
    b = agents * mu / theta
    a = b + 1.0
    y = math.exp(-theta * within_s)
    beta = y ** a  # I_y(a, 1)
    term = a * beta * (1.0 - y)  # T_1
    for j, pn in enumerate(p[agents:], start=1):
        answered += pn * b / (b + j) * (1.0 - beta)
        beta += term
        term *= (1.0 - y) * (a + j) / (j + 1)
    return answered


def agents_erlang_a(rate_per_s: float, handle_s: float, patience_s: float | None, target: float, within_s: float,
                    upper: int) -> int:
    """The fewest agents (at most ``upper``, Erlang C's figure) whose Erlang A service level reaches ``target``."""
    if patience_s is None or rate_per_s <= 0:
        return upper
    lo, hi = 0, upper  # SL(lo) < target (0 agents answer nobody), SL(hi) >= target: bisect (SL grows with N)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if erlang_a_service_level(mid, rate_per_s, handle_s, patience_s, within_s) >= target:
            hi = mid
        else:
            lo = mid
    return hi


def required_agents(calls_per_slot: list[float], tiers: list[TierLoad], handle_s: float, *,
                    slot_s: float = 1800.0, erlang_a: bool = True) -> list[Requirement]:
    """Per slot and tier, the agents Erlang C and Erlang A require (0 for a slot without calls)."""
    if handle_s <= 0:
        raise ValueError("the handle time must be positive")
    total_share = sum(t.share for t in tiers) or 1.0
    out: list[Requirement] = []
    for slot, calls in enumerate(calls_per_slot):
        for tier in tiers:
            rate = calls * tier.share / total_share / slot_s
            if rate <= 0:
                out.append(Requirement(slot, tier.name, 0.0, 0, 0))
                continue
            c = agents_for(rate, handle_s, tier.target, tier.within_s)
            a = agents_erlang_a(rate, handle_s, tier.patience_s, tier.target, tier.within_s, c) if erlang_a else c
            out.append(Requirement(slot, tier.name, round(rate * slot_s, 2), c, a))
    return out


def check_on_simulator(agents: int, calls_per_half_hour: float, handle_s: float, tier: TierLoad, *,
                       hours: float = 8.0, seeds: tuple[int, ...] = (1, 2, 3)) -> float:
    """The service level the router's simulator measures for one tier's traffic on ``agents`` agents (first-come
    first-served, exponential handle times and patience, no wrap-up): what :func:`required_agents` promised is
    checked on the same engine the routing uses. Runs ``hours`` of simulated time per seed."""
    from telephony.simulate.engine import simulate
    from telephony.simulate.scenario import Scenario

    scenario = Scenario.model_validate({
        "duration_s": hours * 3600, "warmup_s": 1800, "seeds": list(seeds), "wrap_up_s": 0,
        "tiers": {tier.name: {"target": tier.target, "within_s": tier.within_s, "share": 1,
                              "patience_s": tier.patience_s}},
        "skills": {"general": {"share": 1, "handle": {"dist": "exponential", "mean_s": handle_s}}},
        "loads": [{"calls_per_hour": calls_per_half_hour * 2}],
        "agents": [{"count": agents, "skills": {"general": 1}}],
        "strategy": f"tier {tier.name}: target {tier.target * 100:g}% within {tier.within_s:g}s, priority 10",
    })
    results = simulate(scenario, ["helpline"])
    levels = [r.tiers[tier.name].service_level for r in results if tier.name in r.tiers]
    return sum(levels) / len(levels) if levels else 0.0
