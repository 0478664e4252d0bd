"""A roster for a team from the forecast: the ``roster`` metadata, the router's tiers, the solver, the schedule.

:func:`make_roster` forecasts the roster's queues for each day (:mod:`.forecast`), sums them, sizes every half
hour with Erlang A (Erlang C when the roster gives no patience) for the **strictest** tier target of the routing's
strategy applied to the pooled traffic (every tier then meets its target; per-tier figures are
:func:`.staffing.required_agents`), solves the roster for the team (the active agent profiles' users unless
given) with their approved leave, and stores the shifts as a draft run. :func:`publish` makes a run the agents'
schedule and tells each agent (a notice); :func:`my_shifts` is what an agent's desktop shows;
:func:`adherence` compares an agent's signed-in time (``hl_agent_event``) with its published shifts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from helpline.data.agents import AgentEvent, AgentRecord
from helpline.data.database import session, write_transaction
from helpline.data.staff import LeaveRequest, Shift
from helpline.metadata.kinds.calendar import Calendar
from helpline.metadata.kinds.roster import Roster
from helpline.metadata.kinds.routing import Routing
from helpline.metadata.kinds.sla import duration_seconds
from helpline.rules import compile_tier_strategy
from helpline.security.actor import Actor
from helpline.security.audit import audit
from helpline.services.platform import Platform
from telephony.simulate.erlang import agents_for

from .forecast import DEFAULT_PER_SLOT, SLOTS, forecast_day
from .roster import Rules, ShiftPattern, solve_roster
from .staffing import agents_erlang_a

PERMISSION = "users.manage"
OUT = frozenset({"logged_out"})
"""Router statuses that count as not working (``telephony.router.model``)."""


@dataclass
class Plan:
    run: str
    roster: str
    start: date
    days: int
    required: list[list[int]]
    status: str
    under_agent_hours: float
    over_agent_hours: float
    seconds: float
    notes: list[str] = field(default_factory=list)
    shifts: int = 0


def _roster(platform: Platform, name: str) -> Roster:
    obj = platform.metadata.objects.get("roster", {}).get(name)
    if not isinstance(obj, Roster):
        raise LookupError(f"unknown roster '{name}'")
    return obj


def _targets(platform: Platform, roster: Roster) -> tuple[float, float]:
    """The strictest (target, within_s) of the roster's routing strategy."""
    routings = [r for r in platform.metadata.objects.get("routing", {}).values() if isinstance(r, Routing)]
    routing = next((r for r in routings if r.name == roster.routing), routings[0] if routings else None)
    if routing is None or not routing.strategy:
        return 0.8, 20.0
    tiers = compile_tier_strategy(routing.strategy).tiers.values()
    best = max(tiers, key=lambda t: (t.target, -t.within_s))
    return best.target, min(t.within_s for t in tiers)


def required_for_day(calls: list[float], handle_s: float, patience_s: float | None, target: float,
                     within_s: float) -> list[int]:
    out = []
    for c in calls:
        rate = c / 1800.0
        if rate <= 0:
            out.append(0)
            continue
        n = agents_for(rate, handle_s, target, within_s)
        out.append(agents_erlang_a(rate, handle_s, patience_s, target, within_s, n))
    return out


def _team() -> list[str]:
    return [str(r.username) for r in AgentRecord.select(AgentRecord.username)
            .where(AgentRecord.active & AgentRecord.username.is_null(False)).order_by(AgentRecord.number)]


def make_roster(platform: Platform, actor: Actor, name: str, start: date, days: int = 7, *,
                agents: list[str] | None = None, time_limit_s: float = 30.0) -> Plan:
    """Forecast, size, solve and store a draft roster run (needs ``users.manage``)."""
    actor.require_permission(PERMISSION)
    roster = _roster(platform, name)
    calendar = platform.metadata.objects.get("calendar", {}).get(roster.calendar or "")
    cal = calendar if isinstance(calendar, Calendar) else None
    target, within = _targets(platform, roster)
    handle = float(duration_seconds(roster.handle_time))
    patience = float(duration_seconds(roster.patience)) if roster.patience else None
    notes: list[str] = []
    fallback: dict[str, list[date]] = {}
    required: list[list[int]] = []
    for i in range(days):
        day = start + timedelta(days=i)
        fc = forecast_day(day, list(roster.queues), calendar=cal)
        for f in fc.values():
            if f.fallback:
                fallback.setdefault(f.queue, []).append(day)
        total = [sum(f.calls[s] for f in fc.values()) for s in range(SLOTS)]
        required.append(required_for_day(total, handle, patience, target, within))
    if fallback:
        notes.append(f"no call history for {', '.join(sorted(fallback))} on {sum(map(len, fallback.values()))} "
                     f"queue-days (the same weekday of the last 4 weeks): the default profile of "
                     f"{DEFAULT_PER_SLOT:g} calls per half hour 08:00-20:00 was used there")
    patterns = [ShiftPattern(p.name, *p.minutes()) for p in roster.patterns]
    rules = Rules(duration_seconds(roster.rules.min_rest) // 60, roster.rules.max_shifts_week,
                  roster.rules.min_shifts_week, roster.rules.max_consecutive_days)
    with session():
        team = agents or _team()
        leave: dict[str, set[date]] = {}
        for row in LeaveRequest.select().where((LeaveRequest.status == "approved") & (LeaveRequest.day >= start)
                                               & (LeaveRequest.day < start + timedelta(days=days))):
            leave.setdefault(row.username, set()).add(row.day)
    if not team:
        raise ValueError("the team has no agents (no active agent profile with a user)")
    result = solve_roster(team, start, days, required, patterns, rules, leave=leave, time_limit_s=time_limit_s)
    run = uuid.uuid4().hex[:12]
    zone = ZoneInfo(cal.timezone if cal else "Asia/Shanghai")
    by_name = {p.name: p for p in patterns}
    rows: list[dict[str, Any]] = []
    for user, worked in result.shifts.items():
        for day, pattern in worked:
            p = by_name[pattern]
            local = datetime.combine(day, datetime.min.time(), zone) + timedelta(minutes=p.start_min)
            begin = local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
            rows.append({"run": run, "roster": name, "username": user, "day": day, "pattern": pattern,
                         "starts_at": begin, "ends_at": begin + timedelta(minutes=p.length_min),
                         "break_min": p.break_min})
    with write_transaction():
        for i in range(0, len(rows), 500):
            Shift.insert_many(rows[i:i + 500]).execute()
        audit(actor, "roster.make", entity="hl_shift", record_id=run,
              detail={"roster": name, "start": start.isoformat(), "days": days, "shifts": len(rows),
                      "under_agent_hours": result.under_agent_hours})
    return Plan(run, name, start, days, required, result.status, result.under_agent_hours,
                result.over_agent_hours, result.seconds, notes, len(rows))


def publish(platform: Platform, actor: Actor, run: str) -> int:
    """Make ``run`` the schedule: earlier published shifts of its days for its agents are withdrawn."""
    actor.require_permission(PERMISSION)
    from helpline.services.notices import notify

    with write_transaction():
        rows = list(Shift.select().where(Shift.run == run))
        if not rows:
            raise LookupError(f"no roster run '{run}'")
        days = sorted({r.day for r in rows})
        users = sorted({r.username for r in rows})
        Shift.update(published=False).where((Shift.day >= days[0]) & (Shift.day <= days[-1])
                                            & Shift.username.in_(users) & (Shift.run != run)).execute()
        Shift.update(published=True).where(Shift.run == run).execute()
        audit(actor, "roster.publish", entity="hl_shift", record_id=run, detail={"shifts": len(rows)})
        notify(users, f"Schedule published: {days[0]} to {days[-1]}", "Your shifts are on the agent desktop.",
               kind="roster_published", params={"run": run, "from": days[0].isoformat(), "to": days[-1].isoformat()})
    return len(rows)


def my_shifts(username: str, since: date, days: int = 14) -> list[dict[str, Any]]:
    """The published shifts of ``username`` from ``since`` (what the agent's desktop shows)."""
    with session():
        q = (Shift.select().where((Shift.username == username) & Shift.published & (Shift.day >= since)
                                  & (Shift.day < since + timedelta(days=days))).order_by(Shift.starts_at))
        return [{"day": s.day, "pattern": s.pattern, "starts_at": s.starts_at, "ends_at": s.ends_at,
                 "break_min": s.break_min} for s in q]


def request_leave(actor: Actor, day: date, reason: str = "") -> int:
    with write_transaction():
        return int(LeaveRequest.insert(username=actor.username, day=day, reason=reason[:255]).execute())


def decide_leave(actor: Actor, leave_id: int, approve: bool) -> None:
    actor.require_permission(PERMISSION)
    with write_transaction():
        n = LeaveRequest.update(status="approved" if approve else "refused", decided_by=actor.username) \
            .where(LeaveRequest.id == leave_id).execute()
        if not n:
            raise LookupError(f"no leave request {leave_id}")
        audit(actor, "leave.decide", entity="hl_leave", record_id=leave_id, detail={"approve": approve})


def adherence(username: str, day: date, *, now: datetime | None = None) -> float | None:
    """Share of the agent's scheduled minutes of ``day`` (published shifts, less the break) it was signed in
    (any router status but ``logged_out``), from ``hl_agent_event``; None without a shift that day."""
    with session():
        shifts = list(Shift.select().where((Shift.username == username) & Shift.published & (Shift.day == day)))
        if not shifts:
            return None
        number = AgentRecord.select(AgentRecord.number).where(AgentRecord.username == username).scalar()
        last = max(s.ends_at for s in shifts)
        events = list(AgentEvent.select(AgentEvent.at, AgentEvent.new).where(
            (AgentEvent.agent == (number or username)) & (AgentEvent.what == "status")
            & (AgentEvent.at < last)).order_by(AgentEvent.at, AgentEvent.id))
    end = min(last, now) if now else last
    scheduled = in_ = 0.0
    for s in shifts:
        stop = min(s.ends_at, end)
        span = max(0.0, (stop - s.starts_at).total_seconds() - 60 * s.break_min)
        scheduled += span
        state = "logged_out"
        cursor = s.starts_at
        for e in events:
            if e.at <= s.starts_at:
                state = e.new
                continue
            if e.at >= stop:
                break
            if state not in OUT:
                in_ += (e.at - cursor).total_seconds()
            cursor, state = e.at, e.new
        if state not in OUT and stop > cursor:
            in_ += (stop - cursor).total_seconds()
    return round(min(1.0, in_ / scheduled), 3) if scheduled > 0 else None


def run_grid(run: str) -> dict[str, Any]:
    """A run as the roster page shows it: per agent the pattern of each day, and per day the scheduled
    agent-hours (breaks left out)."""
    with session():
        rows = list(Shift.select().where(Shift.run == run).order_by(Shift.username, Shift.day))
    days = sorted({r.day for r in rows})
    agents: dict[str, dict[str, str]] = {}
    hours: dict[str, float] = {}
    for r in rows:
        agents.setdefault(r.username, {"agent": r.username})[r.day.isoformat()] = r.pattern
        hours[r.day.isoformat()] = hours.get(r.day.isoformat(), 0.0) + (r.ends_at - r.starts_at).total_seconds() \
            / 3600 - r.break_min / 60
    return {"days": [d.isoformat() for d in days], "agents": list(agents.values()),
            "scheduled": {d: round(h, 1) for d, h in hours.items()}}


def adherence_now(statuses: dict[str, str], *, now: datetime | None = None) -> dict[str, Any]:
    """Live adherence for the wallboard: of the agents whose published shift covers ``now`` (outside its break),
    how many are signed in (``statuses``: agent number → router status); also who is scheduled but out."""
    now = now or datetime.now(ZoneInfo("UTC")).replace(tzinfo=None)
    with session():
        shifts = list(Shift.select().where(Shift.published & (Shift.starts_at <= now) & (Shift.ends_at > now)))
        numbers = {str(r.username): str(r.number) for r in AgentRecord.select(AgentRecord.username, AgentRecord.number)
                   .where(AgentRecord.username.is_null(False))}
    scheduled: list[str] = []
    for s in shifts:
        length = (s.ends_at - s.starts_at).total_seconds() / 60
        brk_start = s.starts_at + timedelta(minutes=(length - s.break_min) // 60 * 30) if s.break_min else None
        if brk_start is not None and brk_start <= now < brk_start + timedelta(minutes=s.break_min):
            continue
        scheduled.append(str(s.username))
    out = sorted(u for u in scheduled if statuses.get(numbers.get(u, u), "logged_out") in OUT)
    n = len(scheduled)
    return {"scheduled": n, "in": n - len(out), "share": round((n - len(out)) / n, 3) if n else None, "out": out}
