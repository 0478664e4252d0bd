"""The calls of one run, drawn up front with common random numbers.

For a (scenario, load, seed) :func:`generate_calls` returns every call of the run — arrival time, tier,
skill, talk time and patience — before any routing happens, so every strategy is compared on exactly
the same callers (common random numbers: the difference between two strategies is not blurred by the
luck of the draw).

Each tier × skill pair is its own Poisson process (rate = calls per hour × tier share × skill share)
and every purpose has its own ``random.Random`` stream, seeded from ``(seed, purpose, tier, skill)``:
arrivals, handle times and patience never share a stream, so drawing one more arrival does not shift
the handle times, and a higher load keeps the same first callers with the same talk times.

For an outbound campaign :func:`generate_numbers` draws the list the same way: every number with the
outcome, ring time and talk time of each attempt it may get, so every pacing method dials the same people.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from telephony.simulate.scenario import HandleTime, OutboundSpec, Scenario


@dataclass(frozen=True, slots=True)
class SimCall:
    """One caller: when it arrives, what it wants, how long it talks, how long it would wait."""

    call_id: int
    arrival_s: float
    tier: str
    skill: str
    handle_s: float
    """Talk time once answered."""
    patience_s: float | None
    """How long the caller waits before hanging up (from arrival); None: never hangs up."""


def stream(seed: int, purpose: str, tier: str, skill: str) -> random.Random:
    """The random stream of one purpose for one tier × skill (string seeds are hashed with SHA-512,
    so the stream is the same on every run and platform)."""
    return random.Random(f"{seed}/{purpose}/{tier}/{skill}")


def draw_handle(rng: random.Random, handle: HandleTime) -> float:
    if handle.dist == "fixed":
        return handle.mean_s
    if handle.dist == "lognormal":
        mu = math.log(handle.mean_s) - handle.sigma**2 / 2.0  # keeps the mean at mean_s
        return rng.lognormvariate(mu, handle.sigma)
    return rng.expovariate(1.0 / handle.mean_s)


def generate_calls(scenario: Scenario, calls_per_hour: float, seed: int) -> list[SimCall]:
    """Every call arriving in ``[0, duration_s)``, in arrival order, numbered from 1."""
    drawn: list[tuple[float, str, str, float, float | None]] = []
    skill_shares = scenario.skill_shares()
    for tier, tier_share in scenario.tier_shares().items():
        patience = scenario.tiers[tier].patience_s
        for skill, skill_share in skill_shares.items():
            rate = calls_per_hour / 3600.0 * tier_share * skill_share
            if rate <= 0:
                continue
            arrivals = stream(seed, "arrivals", tier, skill)
            handles = stream(seed, "handle", tier, skill)
            patiences = stream(seed, "patience", tier, skill)
            handle = scenario.skills[skill].handle
            t = arrivals.expovariate(rate)
            while t < scenario.duration_s:
                waits = patiences.expovariate(1.0 / patience) if patience is not None else None
                drawn.append((t, tier, skill, draw_handle(handles, handle), waits))
                t += arrivals.expovariate(rate)
    drawn.sort(key=lambda c: (c[0], c[1], c[2]))
    return [SimCall(i, t, tier, skill, h, p) for i, (t, tier, skill, h, p) in enumerate(drawn, start=1)]


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one dial of a number meets, drawn up front."""

    outcome: str
    """``human``, ``machine``, ``busy``, ``no_answer`` or ``failed`` (see ``scenario.OUTCOMES``)."""
    ring_s: float
    """From dialling to the outcome (the answer, the busy tone, giving up)."""
    talk_s: float
    """Talk time if a person answers and reaches an agent."""


@dataclass(frozen=True, slots=True)
class OutboundNumber:
    """One number of the list with the outcome of each of its possible attempts."""

    number_id: int
    attempts: tuple[Attempt, ...]


def generate_numbers(spec: OutboundSpec, count: int, seed: int) -> list[OutboundNumber]:
    """The list of ``count`` numbers for ``seed``; the same seed gives the same numbers and attempts to every
    pacing method (common random numbers), and a longer list keeps the first numbers as they were."""
    shares = spec.outcome_shares()
    names, weights = list(shares), list(shares.values())
    outcomes, rings, talks = (stream(seed, purpose, "outbound", "") for purpose in ("outcome", "ring", "talk"))
    numbers = []
    for number_id in range(1, count + 1):
        attempts = []
        for _ in range(spec.max_attempts):
            outcome = outcomes.choices(names, weights)[0]
            ring = draw_handle(rings, spec.ring(outcome))
            attempts.append(Attempt(outcome, ring, draw_handle(talks, spec.talk)))
        numbers.append(OutboundNumber(number_id, tuple(attempts)))
    return numbers
