"""Discrete-event simulation of an outbound campaign: a pacer, a list of numbers, the lines and the agents.

One run = one pacing method (:mod:`telephony.outbound.pacing`) at one agent count on one list of numbers
(:func:`telephony.simulate.traffic.generate_numbers`, common random numbers: every method dials the same
people with the same outcomes, ring and talk times). Every ``tick_s`` (1 s) until the end of the shift the
pacer gets a :class:`~telephony.outbound.pacing.DialState` built from what the run has measured and the
run dials that many numbers — retries that are due first, then fresh numbers in list order. Each line
then meets its attempt's outcome after its ring time:

* ``human`` — a live answer: it goes to the longest-free agent, or waits; if no agent frees up within
  ``drop_after_s`` (2 s) it is **dropped** (abandoned). A connected call talks, then the agent wraps up,
  then takes the oldest answer still waiting;
* ``machine`` — recognised after ``machine_detect_s`` and hung up (no agent);
* ``busy``, ``no_answer``, ``failed`` — dialled again ``retry_after_s`` later, up to ``max_attempts``.

The agents are the campaign's own pool (signed in and ready for the whole shift; the inbound router is not
involved). Dialling stops at the end of the shift; calls in progress finish (what they do counts in the
shift's last hour; the agents' busy time only up to the end of the shift). Same-time ties go: an agent
freeing up, a conversation ending, a drop deadline, a line's outcome, the pacer's tick — so an agent free
exactly 2 s after an answer still takes it.

Every number ends with one final outcome: ``contacted``, ``dropped``, ``machine``, ``busy``, ``no_answer``,
``failed`` (the last attempt's), ``retry_pending`` (a retry due after the shift) or ``not_dialled``. The run
checks its invariants — no number dialled while one of its lines is up, no line or agent left busy, every
number with exactly one final outcome, no more attempts than allowed — and lists any breach in
:attr:`OutboundResult.violations`.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from telephony.outbound.pacing import DialState, Pacer, make_pacer
from telephony.simulate.scenario import OutboundSpec
from telephony.simulate.traffic import OutboundNumber, generate_numbers

_WRAP_END, _TALK_END, _DROP, _RESULT, _MACHINE_END, _TICK = range(6)
FINAL_OUTCOMES = ("contacted", "dropped", "machine", "busy", "no_answer", "failed", "retry_pending", "not_dialled")


@dataclass
class HourFigures:
    """One hour of the shift (by the time things happened)."""

    hour: int
    dials: int = 0
    live_answers: int = 0
    drops: int = 0
    contacts: int = 0
    busy_s: float = 0.0
    """Agents' time talking or wrapping up within the hour."""
    staffed_s: float = 0.0

    @property
    def abandon_rate(self) -> float:
        """Drops / live answers (0 without answers)."""
        return self.drops / self.live_answers if self.live_answers else 0.0

    @property
    def occupancy(self) -> float:
        return self.busy_s / self.staffed_s if self.staffed_s else 0.0


@dataclass
class OutboundResult:
    method: str
    agents: int
    seed: int
    duration_s: float
    hours: list[HourFigures]
    outcomes: Counter[str]
    """Final outcome → numbers."""
    numbers: int
    dials: int
    violations: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def contacts(self) -> int:
        return sum(h.contacts for h in self.hours)

    @property
    def live_answers(self) -> int:
        return sum(h.live_answers for h in self.hours)

    @property
    def drops(self) -> int:
        return sum(h.drops for h in self.hours)

    @property
    def contacts_per_agent_hour(self) -> float:
        return self.contacts / (self.agents * self.duration_s / 3600.0)

    @property
    def abandon_rate(self) -> float:
        return self.drops / self.live_answers if self.live_answers else 0.0

    @property
    def worst_hour_abandon_rate(self) -> float:
        return max((h.abandon_rate for h in self.hours), default=0.0)

    @property
    def occupancy(self) -> float:
        staffed = sum(h.staffed_s for h in self.hours)
        return sum(h.busy_s for h in self.hours) / staffed if staffed else 0.0


class DialerSimulation:
    """One run of one pacing method (see the module docstring)."""

    def __init__(self, spec: OutboundSpec, pacer: Pacer, agents: int, numbers: Sequence[OutboundNumber],
                 seed: int = 0, trace: list[tuple[float, str, int]] | None = None) -> None:
        self.trace = trace
        """When given, gets ``(time, "dial" | "end", number index)`` as each line goes up and down (for tests)."""
        self.spec, self.pacer, self.agent_count, self.numbers, self.seed = spec, pacer, agents, numbers, seed
        self.now = 0.0
        self._heap: list[tuple[float, int, int, int]] = []
        self._seq = itertools.count()
        self._lines = itertools.count(1)
        self._line_number: dict[int, int] = {}
        self._line_attempt: dict[int, int] = {}
        self._line_dialled: dict[int, float] = {}
        self._in_flight: set[int] = set()
        self._next_fresh = 0
        self._retries: list[tuple[float, int]] = []
        self._attempts_made: Counter[int] = Counter()
        self.final: dict[int, str] = {}
        self.violations: list[str] = []
        self._free: deque[int] = deque(range(agents))
        self._talk_start: dict[int, float] = {}
        self._wrap_end: dict[int, float] = {}
        self._busy_since: dict[int, float] = {}
        self._agent_line: dict[int, int] = {}
        self._waiting: deque[tuple[int, float]] = deque()
        self._waiting_set: set[int] = set()
        self._ringing = 0
        self._results: deque[bool] = deque(maxlen=300)
        self._ring_times: deque[float] = deque(maxlen=200)
        self._talks: deque[float] = deque(maxlen=200)
        self._drop_window: deque[bool] = deque(maxlen=300)
        self._answers_total = 0
        self._drops_total = 0
        self.dials = 0
        hours = max(1, math.ceil(spec.duration_s / 3600.0 - 1e-9))
        self.hours = [HourFigures(h, staffed_s=agents * (min(spec.duration_s, (h + 1) * 3600.0) - h * 3600.0))
                      for h in range(hours)]

    # -- the event loop ------------------------------------------------------------------------
    def run(self) -> None:
        self._push(0.0, _TICK, 0)
        heap = self._heap
        while heap:
            at, kind, _, item = heapq.heappop(heap)
            self.now = at
            if kind == _TICK:
                self._tick()
            elif kind == _RESULT:
                self._result(item)
            elif kind == _DROP:
                self._drop(item)
            elif kind == _TALK_END:
                self._talk_end(item)
            elif kind == _WRAP_END:
                self._wrap_done(item)
            else:
                self._finish(item, "machine")
        self._close()

    def _push(self, at: float, kind: int, item: int) -> None:
        heapq.heappush(self._heap, (at, kind, next(self._seq), item))

    def _hour(self, at: float) -> HourFigures:
        """The hour ``at`` falls in; calls finishing after the shift count in its last hour."""
        return self.hours[min(int(at // 3600.0), len(self.hours) - 1)]

    # -- pacing and dialling -------------------------------------------------------------------
    def state(self) -> DialState:
        """What the pacer sees now."""
        now = self.now
        results, rings, talks = self._results, self._ring_times, self._talks
        return DialState(
            now_s=now, agents_free=len(self._free),
            talk_elapsed_s=tuple(now - start for start in self._talk_start.values()),
            wrap_left_s=tuple(end - now for end in self._wrap_end.values()),
            ringing=self._ringing, answered_waiting=len(self._waiting),
            answer_rate=sum(results) / len(results) if len(results) >= 30 else None,
            drop_rate=sum(self._drop_window) / len(self._drop_window) if self._drop_window else None,
            drop_rate_day=self._drops_total / self._answers_total if self._answers_total else None,
            mean_talk_s=sum(talks) / len(talks) if talks else None, wrap_s=self.spec.wrap_s,
            mean_ring_s=sum(rings) / len(rings) if rings else 15.0)

    def _tick(self) -> None:
        for _ in range(self.pacer.lines_to_dial(self.state())):
            number = self._next_number()
            if number is None:
                break
            self._dial(number)
        following = self.now + self.spec.tick_s
        if following < self.spec.duration_s:
            self._push(following, _TICK, 0)

    def _next_number(self) -> int | None:
        if self._retries and self._retries[0][0] <= self.now:
            return heapq.heappop(self._retries)[1]
        if self._next_fresh < len(self.numbers):
            self._next_fresh += 1
            return self._next_fresh - 1
        return None

    def _dial(self, index: int) -> None:
        if index in self._in_flight:
            self.violations.append(f"number {self.numbers[index].number_id} dialled while its line is up")
            return
        attempt = self._attempts_made[index]
        if attempt >= len(self.numbers[index].attempts):
            self.violations.append(f"number {self.numbers[index].number_id} dialled more than allowed")
            return
        self._attempts_made[index] += 1
        self._in_flight.add(index)
        if self.trace is not None:
            self.trace.append((self.now, "dial", index))
        line = next(self._lines)
        self._line_number[line], self._line_attempt[line], self._line_dialled[line] = index, attempt, self.now
        self._ringing += 1
        self.dials += 1
        self._hour(self.now).dials += 1
        self._push(self.now + self.numbers[index].attempts[attempt].ring_s, _RESULT, line)

    # -- what a line meets ---------------------------------------------------------------------
    def _result(self, line: int) -> None:
        self._ringing -= 1
        index, attempt_no = self._line_number[line], self._line_attempt[line]
        attempt = self.numbers[index].attempts[attempt_no]
        self._results.append(attempt.outcome == "human")
        if attempt.outcome == "human":
            self._ring_times.append(self.now - self._line_dialled[line])
            self._answers_total += 1
            self._hour(self.now).live_answers += 1
            if self._free:
                self._connect(self._free.popleft(), line)
            else:
                self._waiting.append((line, self.now))
                self._waiting_set.add(line)
                self._push(self.now + self.spec.drop_after_s, _DROP, line)
        elif attempt.outcome == "machine":
            self._push(self.now + self.spec.machine_detect_s, _MACHINE_END, line)
        elif attempt_no + 1 < len(self.numbers[index].attempts):
            self._in_flight.discard(index)
            self._end_line(line)
            heapq.heappush(self._retries, (self.now + self.spec.retry_after_s, index))
        else:
            self._finish(line, attempt.outcome)

    def _finish(self, line: int, outcome: str) -> None:
        index = self._line_number[line]
        self._in_flight.discard(index)
        self._end_line(line)
        if index in self.final:
            self.violations.append(f"number {self.numbers[index].number_id} got a second final outcome {outcome}")
        self.final[index] = outcome

    def _end_line(self, line: int) -> None:
        if self.trace is not None:
            self.trace.append((self.now, "end", self._line_number[line]))
        del self._line_number[line], self._line_attempt[line], self._line_dialled[line]

    def _connect(self, agent: int, line: int) -> None:
        self._drop_window.append(False)
        self._talk_start[agent] = self.now
        self._busy_since[agent] = self.now
        self._agent_line[agent] = line
        self._hour(self.now).contacts += 1
        attempt = self.numbers[self._line_number[line]].attempts[self._line_attempt[line]]
        self._push(self.now + attempt.talk_s, _TALK_END, agent)

    def _drop(self, line: int) -> None:
        if line not in self._waiting_set:
            return
        self._waiting_set.discard(line)
        self._waiting = deque(item for item in self._waiting if item[0] != line)
        self._drop_window.append(True)
        self._drops_total += 1
        self._hour(self.now - self.spec.drop_after_s).drops += 1
        self._finish(line, "dropped")

    def _talk_end(self, agent: int) -> None:
        self._talks.append(self.now - self._talk_start.pop(agent))
        self._finish(self._agent_line.pop(agent), "contacted")
        self._wrap_end[agent] = self.now + self.spec.wrap_s
        self._push(self.now + self.spec.wrap_s, _WRAP_END, agent)

    def _wrap_done(self, agent: int) -> None:
        del self._wrap_end[agent]
        self._add_busy(self._busy_since.pop(agent), self.now)
        while self._waiting:
            line, _ = self._waiting.popleft()
            if line in self._waiting_set:
                self._waiting_set.discard(line)
                self._connect(agent, line)
                return
        self._free.append(agent)

    def _add_busy(self, start: float, stop: float) -> None:
        stop = min(stop, self.spec.duration_s)
        while start < stop:
            hour = self._hour(start)
            edge = min(stop, (hour.hour + 1) * 3600.0)
            hour.busy_s += edge - start
            start = edge

    # -- the end -------------------------------------------------------------------------------
    def _close(self) -> None:
        for _, index in self._retries:
            if index in self.final:
                self.violations.append(f"number {self.numbers[index].number_id} has a retry after its outcome")
            self.final[index] = "retry_pending"
        for index in range(self._next_fresh, len(self.numbers)):
            self.final[index] = "not_dialled"
        if self._line_number or self._in_flight or self._ringing:
            self.violations.append(f"{len(self._line_number)} line(s) still up at the end")
        if len(self._free) != self.agent_count or self._waiting_set:
            self.violations.append("agents still busy or answers still waiting at the end")
        lost = len(self.numbers) - len(self.final)
        if lost:
            self.violations.append(f"{lost} number(s) without a final outcome")

    def result(self, wall_s: float = 0.0) -> OutboundResult:
        return OutboundResult(self.pacer.method, self.agent_count, self.seed, self.spec.duration_s, self.hours,
                              Counter(self.final.values()), len(self.numbers), self.dials,
                              list(self.violations), wall_s)


def pacer_for(spec: OutboundSpec, method: str) -> Pacer:
    """A fresh pacer of ``method`` with the scenario's options (and its shift and drop cap)."""
    if method == "predictive":
        return make_pacer(method, **spec.predictive)
    if method.startswith("adaptive_"):
        options = {"drop_cap": spec.drop_cap, "shift_s": spec.duration_s, **spec.adaptive}
        return make_pacer(method, **options)
    return make_pacer(method)


def run_outbound_once(spec: OutboundSpec, method: str, agents: int, numbers: Sequence[OutboundNumber],
                      seed: int = 0) -> OutboundResult:
    """Simulate ``method`` with ``agents`` agents over ``numbers``."""
    started = time.perf_counter()
    sim = DialerSimulation(spec, pacer_for(spec, method), agents, numbers, seed)
    sim.run()
    return sim.result(time.perf_counter() - started)


def simulate_outbound(spec: OutboundSpec, methods: Iterable[str] | None = None,
                      agents: Iterable[int] | None = None) -> list[OutboundResult]:
    """Every agent count × seed × method; the methods of one (agent count, seed) share its list."""
    chosen = list(methods or spec.methods)
    results: list[OutboundResult] = []
    for count in agents or spec.agents:
        for seed in spec.seeds:
            numbers = generate_numbers(spec, count * spec.numbers_per_agent, seed)
            results.extend(run_outbound_once(spec, m, count, numbers, seed) for m in chosen)
    return results
