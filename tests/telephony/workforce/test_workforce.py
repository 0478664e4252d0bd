"""Workforce: Erlang A against Erlang C and the simulator, forecasts from history (holidays left out; no history
falls back to the documented default and says so), rosters that keep every rule, an infeasible rule set named
with the rules that bind (bounded in time), and a roster made, published and shown to the agent, with adherence."""

from __future__ import annotations

import itertools
import random
import time
from datetime import date, datetime, timedelta

import pytest

from helpline.data.agents import AgentEvent
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.staff import LeaveRequest
from helpline.metadata.kinds.calendar import Calendar
from helpline.security.actor import Actor, PermissionDenied
from helpline.services.agents import ensure_demo_agents
from helpline.services.platform import Platform
from telephony.simulate.erlang import ErlangC
from telephony.workforce import forecast, plan
from telephony.workforce.roster import RosterInfeasible, Rules, ShiftPattern, solve_roster
from telephony.workforce.staffing import (
    TierLoad,
    check_on_simulator,
    erlang_a_service_level,
    required_agents,
)

PATTERNS = [ShiftPattern("early", 8 * 60, 8 * 60, 60), ShiftPattern("day", 10 * 60, 8 * 60, 60),
            ShiftPattern("late", 14 * 60, 8 * 60, 60)]


def test_erlang_a_is_erlang_c_without_abandonment_and_matches_a_direct_count() -> None:
    for n in (12, 15, 20):
        assert erlang_a_service_level(n, 100 / 1800, 180, 1e9, 20) == pytest.approx(
            ErlangC(n, 100 / 1800, 180).service_level(20), abs=1e-4)
    # impatient callers leave the queue: more of those who stay are answered in time
    assert erlang_a_service_level(12, 100 / 1800, 180, 60, 20) > ErlangC(12, 100 / 1800, 180).service_level(20)
    # a caller at queue position 3 of M/M/5+M, counted directly
    rng = random.Random(7)
    n_mu, theta, t, hits, runs = 5 / 100, 1 / 30, 20.0, 0, 100_000
    for _ in range(runs):
        elapsed, ok = 0.0, True
        for i in range(3, 0, -1):
            rate = n_mu + i * theta
            elapsed += rng.expovariate(rate)
            if rng.random() < theta / rate:
                ok = False
                break
        hits += ok and elapsed <= t
    # the same caller through the formula: a queue of exactly that state is p = (0,...,0,1) at n = 7
    from telephony.workforce import staffing

    def only_state_7(agents: int, lam: float, mu: float, th: float) -> list[float]:
        return [0.0] * 7 + [1.0]

    original = staffing._stationary
    staffing._stationary = only_state_7  # type: ignore[assignment]
    try:
        formula = erlang_a_service_level(5, 0.01, 100, 30, 20)
    finally:
        staffing._stationary = original  # type: ignore[assignment]
    assert formula == pytest.approx(hits / runs, abs=0.005)


def test_required_agents_meet_the_target_on_the_simulator() -> None:
    tier = TierLoad("gold", 1, 0.8, 20, 120)
    req = required_agents([100.0], [tier], 240)[0]
    assert (req.erlang_c, req.erlang_a) == (17, 16)
    assert check_on_simulator(req.erlang_a, 100, 240, tier) >= 0.8 - 0.02
    assert erlang_a_service_level(req.erlang_a - 1, 100 / 1800, 240, 120, 20) < 0.8


def test_required_agents_for_a_day_of_three_tiers_is_fast() -> None:
    tiers = [TierLoad("platinum", 0.1, 0.9, 20), TierLoad("gold", 0.3, 0.85, 20), TierLoad("ordinary", 0.6, 0.7, 20)]
    calls = [0.0] * 16 + [800.0] * 24 + [300.0] * 8
    start = time.perf_counter()
    out = required_agents(calls, tiers, 240)
    assert time.perf_counter() - start < 5  # no blow-up; bench/bench_roster.py measures the target (< 100 ms)
    assert len(out) == 144 and all(r.erlang_a <= r.erlang_c for r in out)
    assert [r.erlang_c for r in out if r.slot == 0] == [0, 0, 0]


def _calendar(platform: Platform) -> Calendar:
    cal = platform.metadata.objects["calendar"]["prc"]
    assert isinstance(cal, Calendar)
    return cal


def test_forecast_from_history_leaves_holidays_out(platform: Platform) -> None:
    day = date(2026, 10, 13)  # a Tuesday; 2026-10-06 (the Tuesday before) is National Day
    local_to_utc = timedelta(hours=8)
    with session():
        for weeks_back, calls in ((1, 0), (2, 4), (3, 6), (4, 8), (5, 2)):
            d = day - timedelta(days=7 * weeks_back)
            for i in range(calls):
                at = datetime.combine(d, datetime.min.time()) + timedelta(hours=9, minutes=i) - local_to_utc
                Call.insert(uniqueid="f", queue="general", started_at=at).execute()
        Call.insert(uniqueid="f", queue="general", started_at=datetime(2026, 10, 6, 1, 0)).execute()  # holiday
    got = forecast.forecast_day(day, ["general", "vip"], calendar=_calendar(platform))
    general = got["general"]
    assert not general.fallback
    assert general.history_days == [date(2026, 9, 8), date(2026, 9, 15), date(2026, 9, 22), date(2026, 9, 29)]
    assert general.calls[18] == pytest.approx((4 + 6 + 8 + 2) / 4)  # 09:00-09:30, the holiday left out
    assert general.total == pytest.approx(5.0)
    vip = got["vip"]  # bad input: no history at all
    assert vip.fallback and "no history for queue 'vip'" in vip.note and "default profile" in vip.note
    assert vip.calls == list(forecast.DEFAULT_PROFILE) and vip.calls[16] == forecast.DEFAULT_PER_SLOT


def _required(days: int, peak: int) -> list[list[int]]:
    day = [0] * 16 + [peak] * 16 + [peak // 2] * 12 + [0] * 4
    return [list(day) for _ in range(days)]


def _check_rules(result_shifts: dict[str, list[tuple[date, str]]], rules: Rules) -> None:
    by_name = {p.name: p for p in PATTERNS}
    for worked in result_shifts.values():
        days = [d for d, _ in worked]
        assert len(days) == len(set(days)), "one shift a day"
        for (d1, p1), (d2, p2) in itertools.pairwise(worked):
            if d2 - d1 == timedelta(days=1):
                assert 24 * 60 + by_name[p2].start_min - by_name[p1].end_min >= rules.min_rest_min
        weeks: dict[tuple[int, int], int] = {}
        for d in days:
            iso = d.isocalendar()
            weeks[iso[0], iso[1]] = weeks.get((iso[0], iso[1]), 0) + 1
        assert max(weeks.values(), default=0) <= rules.max_shifts_week
        run = best = 0
        for i, d in enumerate(days):
            run = run + 1 if i and d - days[i - 1] == timedelta(days=1) else 1
            best = max(best, run)
        assert best <= rules.max_consecutive_days


@pytest.mark.parametrize("team", [12, 80])
def test_roster_keeps_every_rule_and_leave(team: int) -> None:
    rules = Rules(min_rest_min=12 * 60, max_shifts_week=5, max_consecutive_days=4)
    agents = [f"a{i}" for i in range(team)]
    leave = {"a0": {date(2026, 12, 8), date(2026, 12, 9)}}
    result = solve_roster(agents, date(2026, 12, 7), 14, _required(14, team // 3), PATTERNS, rules, leave=leave,
                          time_limit_s=20)
    _check_rules(result.shifts, rules)
    assert not {d for d, _ in result.shifts["a0"]} & leave["a0"]
    assert result.status in ("OPTIMAL", "FEASIBLE")
    assert result.under_agent_hours < sum(map(sum, _required(14, team // 3))) / 2 * 0.2


def test_rules_that_cannot_be_met_are_named_and_bounded() -> None:
    agents = [f"a{i}" for i in range(10)]
    start = time.perf_counter()
    with pytest.raises(RosterInfeasible) as bad:
        solve_roster(agents, date(2026, 12, 7), 14, _required(14, 3), PATTERNS,
                     Rules(min_shifts_week=5, max_consecutive_days=1), time_limit_s=5)
    assert bad.value.rules == ["min_shifts_week 5", "max_consecutive_days 1"]
    with pytest.raises(RosterInfeasible, match="max_shifts_week 4; min_shifts_week 5"):
        solve_roster(agents, date(2026, 12, 7), 7, _required(7, 3), PATTERNS,
                     Rules(min_shifts_week=5, max_shifts_week=4), time_limit_s=5)
    with pytest.raises(RosterInfeasible, match="approved leave days; min_shifts_week 7"):
        solve_roster(agents, date(2026, 12, 7), 7, _required(7, 3), PATTERNS,
                     Rules(min_shifts_week=7, max_shifts_week=7, max_consecutive_days=7),
                     leave={"a1": {date(2026, 12, 9)}}, time_limit_s=5)
    assert time.perf_counter() - start < 10


def test_make_publish_show_and_adherence(platform: Platform) -> None:
    ensure_demo_agents()
    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    agent1 = Actor("agent1", roles=("agent",)).bind(platform.metadata)
    monday = date(2026, 12, 7)
    with pytest.raises(PermissionDenied):
        plan.make_roster(platform, agent1, "demo_centre", monday)
    leave_id = plan.request_leave(agent1, monday + timedelta(days=1), "dentist")
    plan.decide_leave(admin, leave_id, True)
    made = plan.make_roster(platform, admin, "demo_centre", monday, 7, time_limit_s=10)
    assert made.notes and "default profile" in made.notes[0]  # the test database has no call history
    assert made.shifts > 0 and max(map(max, made.required)) > 0
    assert plan.my_shifts("agent1", monday) == [], "a draft is not the schedule"
    assert plan.publish(platform, admin, made.run) == made.shifts
    mine = plan.my_shifts("agent1", monday)
    assert mine and monday + timedelta(days=1) not in {s["day"] for s in mine}
    with session():
        assert LeaveRequest.get_by_id(leave_id).status == "approved"
    first = mine[0]
    with session():  # signed in for the first half of the shift, then signed out
        AgentEvent.create(agent="1001", what="status", old="logged_out", new="ready", at=first["starts_at"])
        half = first["starts_at"] + (first["ends_at"] - first["starts_at"]) / 2
        AgentEvent.create(agent="1001", what="status", old="ready", new="logged_out", at=half)
    share = plan.adherence("agent1", first["day"])
    worked = (half - first["starts_at"]).total_seconds()
    scheduled = (first["ends_at"] - first["starts_at"]).total_seconds() - 60 * first["break_min"]
    assert share == pytest.approx(worked / scheduled, abs=0.001)
    assert plan.adherence("agent1", monday + timedelta(days=1)) is None
    during = first["starts_at"] + timedelta(minutes=30)
    live = plan.adherence_now({"1001": "ready"}, now=during)
    assert live["scheduled"] >= 1 and "agent1" not in live["out"]
    live = plan.adherence_now({"1001": "logged_out"}, now=during)
    assert "agent1" in live["out"] and live["share"] is not None and live["share"] < 1
