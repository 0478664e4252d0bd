"""Rosters: which agent works which shift on which day, solved with OR-Tools CP-SAT.

The model: one boolean per agent, day and shift pattern (a pattern is a start, a length and a break, e.g.
``early 08:00 8h, break 1h`` — the break is taken in the middle of the shift and does not cover). Hard rules,
each under its own *enforcement literal* so an infeasible set names the rule that binds:

* ``one shift a day`` (always on); ``leave``: no shift on an approved leave day;
* ``min_rest``: no two shifts on consecutive days closer than the rest (end of one to start of the next);
* ``max_shifts_week`` / ``min_shifts_week``: shifts per agent per calendar week of the horizon (a partial week
  at the end scales the minimum);
* ``max_consecutive_days``: working days in a row.

The objective: for every day and half hour, under-staffing (required − scheduled, if positive) weighs
``under_weight`` (default 10) and over-staffing 1, summed. The solver stops at ``time_limit_s`` with the best
roster found (``status`` ``OPTIMAL`` or ``FEASIBLE``). The rules are the same for every agent (only leave
differs), so before the big model a one-agent model per distinct leave set checks them; when no agent could
keep them, rules are dropped one at a time while the rest stay infeasible, and :class:`RosterInfeasible` names
the minimal set that binds (``min_shifts_week 5; max_consecutive_days 1``). Every solve has a time limit, so it
never hangs (no roster within the limit: ``TimeoutError`` with the solver's status).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from ortools.sat.python import cp_model

SLOT_MIN = 30
SLOTS = 48
LARGE_TEAM = 60
"""Above this many agents the roster is solved in two steps (see :func:`_solve_large`)."""


@dataclass(frozen=True)
class ShiftPattern:
    name: str
    start_min: int
    """Minutes after midnight."""
    length_min: int
    break_min: int = 0

    def slots(self) -> list[int]:
        """The half hours of the day the shift covers (a shift past midnight covers to 24:00 only)."""
        first = self.start_min // SLOT_MIN
        count = self.length_min // SLOT_MIN
        brk = self.break_min // SLOT_MIN
        mid = first + (count - brk) // 2
        return [s for s in range(first, min(SLOTS, first + count)) if not mid <= s < mid + brk]

    @property
    def end_min(self) -> int:
        return self.start_min + self.length_min


@dataclass(frozen=True)
class Rules:
    min_rest_min: int = 11 * 60
    max_shifts_week: int = 5
    min_shifts_week: int = 0
    max_consecutive_days: int = 6


@dataclass
class RosterResult:
    status: str
    days: list[date]
    shifts: dict[str, list[tuple[date, str]]]
    """Agent → (day, pattern) worked."""
    scheduled: list[list[int]]
    """Per day and half hour, agents scheduled."""
    under_agent_hours: float
    over_agent_hours: float
    seconds: float
    objective: float = 0.0
    notes: list[str] = field(default_factory=list)


class RosterInfeasible(ValueError):
    """No roster satisfies the rules; ``rules`` names those of the infeasible core."""

    def __init__(self, rules: list[str]) -> None:
        super().__init__("the shift rules cannot all be met; binding: " + "; ".join(rules))
        self.rules = rules


def _weeks(days: list[date]) -> list[list[int]]:
    out: dict[tuple[int, int], list[int]] = {}
    for i, d in enumerate(days):
        iso = d.isocalendar()
        out.setdefault((iso[0], iso[1]), []).append(i)
    return list(out.values())


RULE_NAMES = ("leave", "min_rest", "max_shifts_week", "min_shifts_week", "max_consecutive_days")


def _agent_rules(m: cp_model.CpModel, x: dict[tuple[int, int], cp_model.IntVar], dates: list[date],
                 patterns: list[ShiftPattern], rules: Rules, off: set[date],
                 lits: dict[str, cp_model.IntVar], tag: str) -> list[cp_model.IntVar]:
    """One agent's rules on its ``x[day, pattern]``; returns its per-day "works" booleans."""
    days = len(dates)
    work = []
    for d in range(days):
        w = m.new_bool_var(f"w{tag}_{d}")
        m.add(sum(x[d, s] for s in range(len(patterns))) == w)
        work.append(w)
        if dates[d] in off:
            m.add(w == 0).only_enforce_if(lits["leave"])
    for d in range(days - 1):
        for s1, p1 in enumerate(patterns):
            for s2, p2 in enumerate(patterns):
                if 24 * 60 + p2.start_min - p1.end_min < rules.min_rest_min:
                    m.add_bool_or([x[d, s1].negated(), x[d + 1, s2].negated()]).only_enforce_if(lits["min_rest"])
    for week in _weeks(dates):
        total = sum(work[d] for d in week)
        m.add(total <= rules.max_shifts_week).only_enforce_if(lits["max_shifts_week"])
        low = -(-rules.min_shifts_week * len(week) // 7)
        if low:
            m.add(total >= low).only_enforce_if(lits["min_shifts_week"])
    k = rules.max_consecutive_days
    for d in range(days - k):
        m.add(sum(work[d + i] for i in range(k + 1)) <= k).only_enforce_if(lits["max_consecutive_days"])
    return work


def _one_agent_feasible(dates: list[date], patterns: list[ShiftPattern], rules: Rules, off: set[date],
                        enforced: tuple[str, ...], time_limit_s: float) -> bool | None:
    m = cp_model.CpModel()
    lits = {n: m.new_bool_var(n) for n in RULE_NAMES}
    for n, lit in lits.items():
        m.add(lit == (1 if n in enforced else 0))
    x = {(d, s): m.new_bool_var(f"x{d}_{s}") for d in range(len(dates)) for s in range(len(patterns))}
    _agent_rules(m, x, dates, patterns, rules, off, lits, "0")
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    status = solver.solve(m)
    if status == cp_model.INFEASIBLE:
        return False
    return True if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def check_rules(dates: list[date], patterns: list[ShiftPattern], rules: Rules,
                leave: dict[str, set[date]], *, time_limit_s: float = 5.0) -> None:
    """Raise :class:`RosterInfeasible` naming a minimal set of rules no agent can keep together (the rules are
    the same for every agent; only leave differs, so one small model per distinct leave set decides)."""
    for off in sorted({frozenset(v) for v in leave.values()} | {frozenset()}, key=len, reverse=True):
        core = list(RULE_NAMES)
        if _one_agent_feasible(dates, patterns, rules, set(off), tuple(core), time_limit_s) is not False:
            continue
        for rule in list(core):  # deletion: drop each rule the conflict does not need
            rest = tuple(r for r in core if r != rule)
            if _one_agent_feasible(dates, patterns, rules, set(off), rest, time_limit_s) is False:
                core = list(rest)
        raise RosterInfeasible([_describe(r, rules) for r in core])


def solve_roster(agents: list[str], start: date, days: int, required: list[list[int]],
                 patterns: list[ShiftPattern], rules: Rules, *, leave: dict[str, set[date]] | None = None,
                 under_weight: int = 10, time_limit_s: float = 30.0, workers: int = 2) -> RosterResult:
    """The roster of ``agents`` for ``days`` days from ``start`` meeting ``required[day][slot]`` best."""
    if len(required) != days or any(len(r) != SLOTS for r in required):
        raise ValueError(f"required needs {days} days of {SLOTS} half hours")
    if not patterns:
        raise ValueError("no shift pattern")
    t0 = time.perf_counter()
    leave = leave or {}
    dates = [start + timedelta(days=i) for i in range(days)]
    check_rules(dates, patterns, rules, leave, time_limit_s=min(5.0, time_limit_s))
    if len(agents) > LARGE_TEAM:
        return _solve_large(agents, dates, required, patterns, rules, leave, under_weight, time_limit_s, workers, t0)
    m = cp_model.CpModel()
    lits = {n: m.new_bool_var(n) for n in RULE_NAMES}
    for lit in lits.values():
        m.add(lit == 1)
    n_agents = len(agents)
    x = {(a, d, s): m.new_bool_var(f"x{a}_{d}_{s}") for a in range(n_agents) for d in range(days)
         for s in range(len(patterns))}
    for a, name in enumerate(agents):
        mine = {(d, s): x[a, d, s] for d in range(days) for s in range(len(patterns))}
        _agent_rules(m, mine, dates, patterns, rules, leave.get(name, set()), lits, str(a))
    covers = [[s for s, p in enumerate(patterns) if slot in p.slots()] for slot in range(SLOTS)]
    terms = []
    constant = 0
    for d in range(days):
        for slot in range(SLOTS):
            need = int(required[d][slot])
            if not covers[slot]:
                constant += under_weight * need
                continue
            cov = sum(x[a, d, s] for a in range(n_agents) for s in covers[slot])
            under = m.new_int_var(0, max(need, 0), f"u{d}_{slot}")
            over = m.new_int_var(0, n_agents, f"o{d}_{slot}")
            m.add(cov + under - over == need)
            terms.append(under_weight * under + over)
    m.minimize(sum(terms) + constant)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    status = solver.solve(m)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise TimeoutError(f"no roster found within {time_limit_s:g} s (solver status {name})")
    shifts: dict[str, list[tuple[date, str]]] = {n: [] for n in agents}
    scheduled = [[0] * SLOTS for _ in range(days)]
    for (a, d, s), var in x.items():
        if solver.value(var):
            shifts[agents[a]].append((dates[d], patterns[s].name))
            for slot in patterns[s].slots():
                scheduled[d][slot] += 1
    return _result(name, dates, shifts, scheduled, required, t0, solver.objective_value)


def _result(status: str, dates: list[date], shifts: dict[str, list[tuple[date, str]]], scheduled: list[list[int]],
            required: list[list[int]], t0: float, objective: float, notes: list[str] | None = None) -> RosterResult:
    days = len(dates)
    under_slots = sum(max(0, required[d][t] - scheduled[d][t]) for d in range(days) for t in range(SLOTS))
    over_slots = sum(max(0, scheduled[d][t] - required[d][t]) for d in range(days) for t in range(SLOTS))
    for n in shifts:
        shifts[n].sort()
    return RosterResult(status, dates, shifts, scheduled, under_slots * SLOT_MIN / 60, over_slots * SLOT_MIN / 60,
                        round(time.perf_counter() - t0, 2), objective, notes or [])


def _solve_large(agents: list[str], dates: list[date], required: list[list[int]], patterns: list[ShiftPattern],
                 rules: Rules, leave: dict[str, set[date]], under_weight: int, time_limit_s: float, workers: int,
                 t0: float) -> RosterResult:
    """Large teams: CP-SAT decides how many agents work each pattern each day (optimal coverage within the
    day's and the week's capacity), then agents are given those shifts day by day, each rule checked, the agent
    with the fewest shifts that week first (an early shift first to those who did not work late the day before)."""
    days, n_p = len(dates), len(patterns)
    weeks = _weeks(dates)
    avail = [sum(1 for a in agents if dates[d] not in leave.get(a, set())) for d in range(days)]
    m = cp_model.CpModel()
    n = {(d, s): m.new_int_var(0, avail[d], f"n{d}_{s}") for d in range(days) for s in range(n_p)}
    for d in range(days):
        m.add(sum(n[d, s] for s in range(n_p)) <= avail[d])
    for week in weeks:
        cap = sum(min(rules.max_shifts_week, sum(1 for d in week if dates[d] not in leave.get(a, set())))
                  for a in agents)
        m.add(sum(n[d, s] for d in week for s in range(n_p)) <= cap)
    covers = [[s for s, p in enumerate(patterns) if slot in p.slots()] for slot in range(SLOTS)]
    terms = []
    constant = 0
    for d in range(days):
        for slot in range(SLOTS):
            need = int(required[d][slot])
            if not covers[slot]:
                constant += under_weight * need
                continue
            under = m.new_int_var(0, max(need, 0), f"u{d}_{slot}")
            over = m.new_int_var(0, len(agents), f"o{d}_{slot}")
            m.add(sum(n[d, s] for s in covers[slot]) + under - over == need)
            terms.append(under_weight * under + over)
    m.minimize(sum(terms) + constant)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s * 0.6
    solver.parameters.num_workers = workers
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise TimeoutError(f"no roster found within {time_limit_s:g} s (solver status {solver.status_name(status)})")
    counts = [[int(solver.value(n[d, s])) for s in range(n_p)] for d in range(days)]
    week_of = {d: i for i, week in enumerate(weeks) for d in week}
    in_week: dict[tuple[str, int], int] = {}
    last: dict[str, tuple[int, int]] = {}  # agent → (day, pattern) of the last shift
    run: dict[str, int] = {a: 0 for a in agents}
    shifts: dict[str, list[tuple[date, str]]] = {a: [] for a in agents}
    scheduled = [[0] * SLOTS for _ in range(days)]
    short = 0
    order = sorted(range(n_p), key=lambda s: patterns[s].start_min)
    for d in range(days):
        today: set[str] = set()
        for s in order:
            p = patterns[s]

            def ok(a: str, d: int = d, p: ShiftPattern = p, today: set[str] = today) -> bool:
                if a in today or dates[d] in leave.get(a, set()):
                    return False
                if in_week.get((a, week_of[d]), 0) >= rules.max_shifts_week:
                    return False
                prev = last.get(a)
                if prev is not None and prev[0] == d - 1:
                    if run[a] >= rules.max_consecutive_days:
                        return False
                    if 24 * 60 + p.start_min - patterns[prev[1]].end_min < rules.min_rest_min:
                        return False
                return True

            eligible = [a for a in agents if ok(a)]
            eligible.sort(key=lambda a: (in_week.get((a, week_of[d]), 0),
                                         -(last[a][1] if a in last and last[a][0] == d - 1 else -1)))
            chosen = eligible[:counts[d][s]]
            short += counts[d][s] - len(chosen)
            for a in chosen:
                today.add(a)
                in_week[a, week_of[d]] = in_week.get((a, week_of[d]), 0) + 1
                prev = last.get(a)
                run[a] = run[a] + 1 if prev is not None and prev[0] == d - 1 else 1
                last[a] = (d, s)
                shifts[a].append((dates[d], p.name))
                for slot in p.slots():
                    scheduled[d][slot] += 1
    notes = [f"coverage by CP-SAT ({solver.status_name(status)}), shifts given by rule-checked assignment"]
    if short:
        notes.append(f"{short} shifts of the optimal coverage could not be given without breaking a rule")
    if rules.min_shifts_week:
        low = sum(1 for a in agents for w in range(len(weeks)) if in_week.get((a, w), 0) < rules.min_shifts_week
                  * len(weeks[w]) // 7)
        if low:
            notes.append(f"{low} agent-weeks below min_shifts_week (coverage needed fewer shifts)")
    return _result(solver.status_name(status), dates, shifts, scheduled, required, t0, solver.objective_value, notes)


def _describe(rule: str, rules: Rules) -> str:
    return {
        "leave": "approved leave days",
        "min_rest": f"min_rest {rules.min_rest_min // 60}h{rules.min_rest_min % 60:02d}",
        "max_shifts_week": f"max_shifts_week {rules.max_shifts_week}",
        "min_shifts_week": f"min_shifts_week {rules.min_shifts_week}",
        "max_consecutive_days": f"max_consecutive_days {rules.max_consecutive_days}",
    }.get(rule, rule)
