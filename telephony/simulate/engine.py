"""Discrete-event simulation of a contact centre on the real router (``telephony.router.Router``).

One run = one strategy on one list of calls (:mod:`telephony.simulate.traffic`). Time is a
:class:`~telephony.router.ManualClock`; the next moment is the earliest of the next arrival, the next
event of the simulation's own heap (a caller's patience running out, a conversation ending) and the
router's own next timer (``router.next_timer_at()``: levels opening, wrap-up ending, max wait). The
clock jumps there and the one due thing happens:

* an arrival → ``router.queue_call``;
* a caller's patience ends while the call still waits → ``router.abandon``;
* a conversation ends → ``router.call_ended`` (the router's wrap-up timer then makes the agent ready);
* a router timer → ``router.advance()``.

The router's sink only appends events to a list; after each router call the simulation works through
them: an ``Offer`` is answered at once (``router.answered``, agents answer immediately here) and its
conversation end is scheduled after the call's talk time; a ``CallLeft`` is the call's outcome;
``AgentChanged`` state transitions measure occupancy. Same-time ties go router timers first, then
conversation ends, abandons, arrivals.

Arrivals stop at ``duration_s``; calls in progress are played to the end. Only calls arriving at or
after ``warmup_s`` are counted. Occupancy is measured from the router's ``AgentChanged`` events: time in
reserved, ringing, talking, hold or wrap-up within ``[warmup_s, duration_s]`` over the agents' staffed
time in that window (every agent is signed in and ready for the whole run).
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from telephony.router import (
    AgentChanged,
    AgentProfile,
    AppQueuePolicy,
    CallLeft,
    CallRequest,
    HelplinePolicy,
    ManualClock,
    ModCallcenterPolicy,
    Offer,
    Policy,
    QueueSettings,
    Router,
    RouterEvent,
    RouterSettings,
)
from telephony.simulate.scenario import STRATEGIES, LoadSpec, Scenario
from telephony.simulate.traffic import SimCall, generate_calls

BUSY_STATES = frozenset({"reserved", "ringing", "talking", "hold", "wrap_up"})
_TALK_END, _ABANDON = 0, 1


@dataclass
class TierTally:
    """Outcomes of one tier's counted calls in one run (a tier without calls has a service level of 1)."""

    offered: int = 0
    answered: int = 0
    within: int = 0
    """Answered with a wait ≤ the tier's ``within_s``."""
    abandoned: int = 0
    timeout: int = 0
    """Left unanswered by the router (max wait, or no agent signed in)."""
    wait_answered_s: float = 0.0
    waits_s: list[float] = field(default_factory=list)
    """The wait of each answered call (for the percentiles)."""

    @property
    def service_level(self) -> float:
        """Answered within / (answered + abandoned + timed out): abandons count as misses."""
        done = self.answered + self.abandoned + self.timeout
        return self.within / done if done else 1.0

    @property
    def service_level_ex_abandons(self) -> float:
        """Answered within / (answered + timed out): abandons left out (the router's own figure)."""
        done = self.answered + self.timeout
        return self.within / done if done else 1.0

    @property
    def asa_s(self) -> float:
        return self.wait_answered_s / self.answered if self.answered else 0.0

    @property
    def abandon_rate(self) -> float:
        done = self.answered + self.abandoned + self.timeout
        return self.abandoned / done if done else 0.0

    def wait_percentile(self, p: float) -> float:
        """The ``p``-th percentile (0–100, linear between ranks) of the answered calls' waits; 0 without any."""
        return percentile(sorted(self.waits_s), p)


def percentile(ordered: Sequence[float], p: float) -> float:
    """The ``p``-th percentile of sorted values, linear between ranks (0 for no values)."""
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * p / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What happened to one call."""

    call: SimCall
    how: str
    """``answered``, ``abandoned``, ``timeout`` or ``empty``."""
    wait_s: float
    agent_id: str | None = None


@dataclass
class RunResult:
    strategy: str
    calls_per_hour: float
    seed: int
    tiers: dict[str, TierTally]
    occupancy: float
    records: list[CallRecord] = field(default_factory=list)
    router_calls: int = 0
    wall_s: float = 0.0

    def worst_shortfall(self, targets: dict[str, float]) -> float:
        return max(targets[t] - tally.service_level for t, tally in self.tiers.items())


def make_policy(scenario: Scenario, strategy: str) -> Policy:
    """The routing policy ``strategy`` (one of :data:`STRATEGIES`) configured from the scenario."""
    targets = {name: (t.target, t.within_s) for name, t in scenario.tiers.items()}
    if strategy == "helpline":
        return HelplinePolicy(scenario.tier_strategy(), catch_up=scenario.catch_up)
    if strategy == "app_queue":
        return AppQueuePolicy(level_step_s=scenario.app_queue.level_step_s, targets=targets)
    if strategy == "mod_callcenter":
        return ModCallcenterPolicy(base_scores={name: t.base_score for name, t in scenario.tiers.items()},
                                   level_step_s=scenario.mod_callcenter.level_step_s, targets=targets)
    raise ValueError(f"unknown strategy {strategy!r} (strategies are: {', '.join(STRATEGIES)})")


def make_settings(scenario: Scenario) -> RouterSettings:
    """One queue per skill (named after it), the scenario's wrap-up, max wait and service window."""
    queues = {skill: QueueSettings(name=skill, skill=skill, max_wait_s=scenario.max_wait_s)
              for skill in scenario.skills}
    return RouterSettings(queues=queues, wrap_up_s=scenario.wrap_up_s,
                          service_window_s=scenario.service_window_s, windows=(scenario.service_window_s,))


def agent_profiles(scenario: Scenario) -> list[AgentProfile]:
    """The scenario's agents, numbered from 1001 group by group."""
    numbers = itertools.count(1001)
    return [AgentProfile(id=str(next(numbers)), skills=dict(group.skills))
            for group in scenario.agents for _ in range(group.count)]


class Simulation:
    """One run of one strategy over a list of calls (see the module docstring)."""

    def __init__(self, scenario: Scenario, strategy: str, calls: Sequence[SimCall]) -> None:
        self.scenario = scenario
        self.strategy = strategy
        self.calls = calls
        self.clock = ManualClock()
        self.pending: deque[RouterEvent] = deque()
        self.router = Router(make_settings(scenario), make_policy(scenario, strategy), clock=self.clock,
                             sinks=[self.pending.append])
        self.agents = agent_profiles(scenario)
        for profile in self.agents:
            self.router.add_agent(profile)
            self.router.sign_in(profile.id)
        self._by_id = {c.call_id: c for c in calls}
        self._heap: list[tuple[float, int, int, int]] = []
        self._seq = itertools.count()
        self._open: set[int] = set()
        """Calls handed to the router and not yet out of its queue."""
        self.records: dict[int, CallRecord] = {}
        self._offers: dict[int, str] = {}
        self._state: dict[str, tuple[str, float]] = {}
        self.busy_s = 0.0
        self.router_calls = 0
        self._drain()

    # -- the event loop ------------------------------------------------------------------------
    def run(self) -> None:
        calls, n, i = self.calls, len(self.calls), 0
        heap, clock, router = self._heap, self.clock, self.router
        end = self.scenario.duration_s
        stuck, last_timer = 0, -math.inf
        while True:
            t_timer = router.next_timer_at()
            t_event = heap[0][0] if heap else math.inf
            t_arrival = calls[i].arrival_s if i < n else math.inf
            if i >= n and not heap and not self._open and (t_timer is None or t_timer > end):
                break
            t = min(t_event, t_arrival, math.inf if t_timer is None else t_timer)
            if t == math.inf:
                break
            if t > clock.now():
                clock.set(t)
            if t_timer is not None and t_timer <= t:
                stuck = stuck + 1 if t_timer == last_timer else 0
                if stuck > 10_000:
                    raise RuntimeError(f"the router's timer at {t_timer} s does not go away")
                last_timer = t_timer
                router.advance()
            elif t_event <= t_arrival:
                _, kind, _, call_id = heapq.heappop(heap)
                if kind == _TALK_END:
                    router.call_ended(call_id)
                elif call_id in self._open and call_id not in self._offers:
                    router.abandon(call_id)
                else:
                    continue
            else:
                self._arrive(calls[i])
                i += 1
            self.router_calls += 1
            self._drain()
        self._close_busy(clock.now())

    def _arrive(self, call: SimCall) -> None:
        self._open.add(call.call_id)
        result = self.router.queue_call(CallRequest(call_id=call.call_id, queue=call.skill, tier=call.tier))
        if call.patience_s is not None:
            self._push(call.arrival_s + call.patience_s, _ABANDON, call.call_id)
        if result != "queued":
            self._drain()
            if call.call_id in self._open:  # refused without a CallLeft: the IVR would take it back
                self._open.discard(call.call_id)
                self.records[call.call_id] = CallRecord(call, "empty", 0.0)

    def _push(self, at: float, kind: int, call_id: int) -> None:
        heapq.heappush(self._heap, (at, kind, next(self._seq), call_id))

    # -- what the router said ------------------------------------------------------------------
    def _drain(self) -> None:
        pending = self.pending
        while pending:
            event = pending.popleft()
            if isinstance(event, Offer):
                self._offers[event.call_id] = event.agent_id
                self.router.answered(event.call_id)
                self.router_calls += 1
                call = self._by_id[event.call_id]
                self._push(self.clock.now() + call.handle_s, _TALK_END, event.call_id)
            elif isinstance(event, CallLeft):
                self._left(event)
            elif isinstance(event, AgentChanged) and event.what == "state":
                self._agent_state(event)

    def _left(self, event: CallLeft) -> None:
        self._open.discard(event.call_id)
        call = self._by_id.get(event.call_id)
        if call is None:
            return
        agent = self._offers.get(event.call_id) if event.how == "answered" else None
        self.records[event.call_id] = CallRecord(call, event.how, event.wait_s, agent)

    def _agent_state(self, event: AgentChanged) -> None:
        old, since = self._state.get(event.agent_id, ("idle", 0.0))
        if old in BUSY_STATES:
            self.busy_s += self._in_window(since, event.at)
        self._state[event.agent_id] = (event.new, event.at)

    def _close_busy(self, now: float) -> None:
        for agent_id, (state, since) in list(self._state.items()):
            if state in BUSY_STATES:
                self.busy_s += self._in_window(since, now)
                self._state[agent_id] = (state, now)

    def _in_window(self, start: float, stop: float) -> float:
        return max(0.0, min(stop, self.scenario.duration_s) - max(start, self.scenario.warmup_s))

    # -- results -------------------------------------------------------------------------------
    @property
    def occupancy(self) -> float:
        staffed = len(self.agents) * (self.scenario.duration_s - self.scenario.warmup_s)
        return self.busy_s / staffed if staffed > 0 else 0.0

    def tallies(self) -> dict[str, TierTally]:
        tallies = {tier: TierTally() for tier in self.scenario.tiers}
        for record in self.records.values():
            call = record.call
            if call.arrival_s < self.scenario.warmup_s:
                continue
            tally = tallies[call.tier]
            tally.offered += 1
            if record.how == "answered":
                tally.answered += 1
                tally.wait_answered_s += record.wait_s
                tally.waits_s.append(record.wait_s)
                if record.wait_s <= self.scenario.tiers[call.tier].within_s + 1e-9:
                    tally.within += 1
            elif record.how == "abandoned":
                tally.abandoned += 1
            else:
                tally.timeout += 1
        return tallies


def run_once(scenario: Scenario, strategy: str, calls: Sequence[SimCall], *, calls_per_hour: float = 0.0,
             seed: int = 0) -> RunResult:
    """Simulate ``strategy`` over ``calls``; the result counts calls arriving after the warm-up."""
    started = time.perf_counter()
    sim = Simulation(scenario, strategy, calls)
    sim.run()
    return RunResult(strategy, calls_per_hour, seed, sim.tallies(), sim.occupancy,
                     sorted(sim.records.values(), key=lambda r: r.call.call_id), sim.router_calls,
                     time.perf_counter() - started)


def simulate(scenario: Scenario, strategies: Iterable[str] = STRATEGIES,
             loads: Sequence[LoadSpec] | None = None) -> list[RunResult]:
    """Every strategy × load × seed of the scenario; the strategies of one (load, seed) share its calls."""
    chosen = list(strategies)
    results: list[RunResult] = []
    for load in loads or scenario.loads:
        rate = scenario.calls_per_hour(load)
        for seed in scenario.seeds:
            calls = generate_calls(scenario, rate, seed)
            results.extend(run_once(scenario, s, calls, calls_per_hour=rate, seed=seed) for s in chosen)
    return results
