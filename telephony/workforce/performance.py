"""The monthly agent scorecard: handled calls, average handle time, adherence and QA scores, weighted as the
``performance`` metadata says (docs/staff.md); rankings overall and within each team; an Excel workbook.

Per agent (the active agent profiles with a user) for the calendar month: ``handled`` = calls it answered
(``hl_call.agent``, ``routed = answered``), ``aht_s`` = their mean talk time, ``adherence`` = the mean of the
daily adherence over the days it had published shifts (None without shifts: the indicator is left out and the
weights of the others scaled up), ``qa`` = the mean total of its ``qa_evaluation`` records outside calibration
(None without evaluations: likewise left out). The team is the ``employee`` record's ``team`` (by user), else
"—". Reading needs ``supervisor`` (supervisors and administrators).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from peewee import fn

from helpline.data.agents import AgentRecord
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.staff import Shift
from helpline.metadata.kinds.performance import Performance
from helpline.metadata.kinds.sla import duration_seconds
from helpline.security.actor import Actor
from helpline.services.excel import workbook_bytes
from helpline.services.platform import Platform

from .plan import adherence

PERMISSION = "supervisor"
COLUMNS = ("rank", "team", "team_rank", "username", "name", "handled", "aht_s", "adherence", "qa", "score")


def _month(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt


def _indicator_scores(perf: Performance, row: dict[str, Any]) -> float:
    w, tg = perf.weights, perf.targets
    parts: list[tuple[float, float]] = [(w.handled, min(1.0, row["handled"] / tg.handled))]
    aht_target = duration_seconds(tg.aht)
    if row["handled"]:
        parts.append((w.aht, min(1.0, aht_target / row["aht_s"]) if row["aht_s"] else 1.0))
    if row["adherence"] is not None:
        parts.append((w.adherence, min(1.0, row["adherence"] * 100 / tg.adherence)))
    if row["qa"] is not None:
        parts.append((w.qa, min(1.0, row["qa"] / tg.qa)))
    weight = sum(p[0] for p in parts)
    return round(100 * sum(p[0] * p[1] for p in parts) / weight, 1) if weight else 0.0


def monthly(platform: Platform, actor: Actor, month: date, name: str = "monthly_agent") -> list[dict[str, Any]]:
    """The scorecard rows of ``month`` (any day of it), best first, with overall and team ranks."""
    actor.require_permission(PERMISSION)
    perf = platform.metadata.objects.get("performance", {}).get(name)
    if not isinstance(perf, Performance):
        raise LookupError(f"unknown performance scorecard '{name}'")
    first, nxt = _month(month)
    start, stop = datetime.combine(first, datetime.min.time()), datetime.combine(nxt, datetime.min.time())
    rows: list[dict[str, Any]] = []
    with session():
        agents = list(AgentRecord.select().where(AgentRecord.active & AgentRecord.username.is_null(False))
                      .order_by(AgentRecord.number))
        found: Any = (Call.select(Call.agent, fn.COUNT(Call.id).alias("n"), fn.AVG(Call.talk_s).alias("talk"))
                      .where((Call.started_at >= start) & (Call.started_at < stop) & (Call.routed == "answered"))
                      .group_by(Call.agent).tuples())
        calls = {agent: (n, talk) for agent, n, talk in found}
        qa = {}
        if "qa_evaluation" in platform.models:
            ev: Any = platform.models["qa_evaluation"]
            qa = {r.agent: r.mean for r in ev.select(ev.agent, fn.AVG(ev.total).alias("mean"))
                  .where((ev.evaluated_at >= start) & (ev.evaluated_at < stop) & ev.calibration.is_null())
                  .group_by(ev.agent)}
        teams: dict[str, str] = {}
        if "employee" in platform.models:
            emp: Any = platform.models["employee"]
            teams = {r.username: r.team for r in emp.select(emp.username, emp.team).where(emp.username.is_null(False))
                     if r.team}
        shift_days: dict[str, set[date]] = {}
        for s in Shift.select(Shift.username, Shift.day).where(Shift.published & (Shift.day >= first)
                                                               & (Shift.day < nxt)):
            shift_days.setdefault(s.username, set()).add(s.day)
    now = datetime.now(UTC).replace(tzinfo=None)
    for a in agents:
        user = str(a.username)
        n, talk = calls.get(a.number, (0, None))
        days = sorted(shift_days.get(user, set()))
        shares = [x for x in (adherence(user, d, now=now) for d in days if d <= now.date()) if x is not None]
        row = {"username": user, "name": a.name, "team": teams.get(user, "—"), "handled": int(n),
               "aht_s": round(float(talk), 1) if talk is not None else None,
               "adherence": round(sum(shares) / len(shares), 3) if shares else None,
               "qa": round(float(qa[user]), 1) if qa.get(user) is not None else None}
        row["score"] = _indicator_scores(perf, row)
        rows.append(row)
    rows.sort(key=lambda r: (-r["score"], r["username"]))
    by_team: dict[str, int] = {}
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
        by_team[r["team"]] = by_team.get(r["team"], 0) + 1
        r["team_rank"] = by_team[r["team"]]
    return rows


def workbook(rows: list[dict[str, Any]], month: date) -> bytes:
    """The scorecard as an Excel workbook (one sheet, one row per agent)."""
    return workbook_bytes(f"Scorecard {month:%Y-%m}", list(COLUMNS), ([r.get(c) for c in COLUMNS] for r in rows))
