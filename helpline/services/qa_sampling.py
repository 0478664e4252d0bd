"""The evaluation queue: which calls of a week the quality desk evaluates (the ``qa_sampling`` job).

For every scorecard with ``sampling`` rules, :func:`sample_week` looks at the calls agents answered in the week
(Monday 00:00 to Monday 00:00, UTC) — inbound calls answered from a queue and agents' outbound calls the customer
answered (recorded when the routing's ``record_outbound`` is on), evaluated the same way — and queues: every
call longer than ``longer_than``; every call whose contact
record (same agent, written during the call or within two minutes after it) has a complaint type; every call
whose contact record says ``dissatisfied``; and ``per_agent_week`` further calls per agent drawn at random (the
draw is seeded by week and agent, and counts the calls drawn before: running the job again adds none). A call
is queued once, with the first rule that chose it. A chosen call without a recording, or whose recording file
is gone, is written ``skipped`` with that reason instead of ``queued`` (docs/quality.md).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from helpline.data.agents import AgentRecord
from helpline.data.base import centre_midnight, centre_today
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.qa import QaSample
from helpline.metadata.kinds.scorecard import Scorecard

from .platform import Platform
from .recordings import folder

RULES = ("long", "complaint", "unsatisfied", "random")
_RECORD_SLACK = timedelta(minutes=2)


@dataclass
class SampleReport:
    week: date
    queued: dict[str, int] = field(default_factory=lambda: {r: 0 for r in RULES})
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week.isoformat(), "queued": self.queued, "skipped": len(self.skipped)}


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _duration(call: Call) -> float:
    if call.talk_s is not None:
        return float(call.talk_s)
    if call.ended_at is not None:
        return (call.ended_at - call.started_at).total_seconds()
    return 0.0


def _contact_flags(platform: Platform, start: datetime, stop: datetime) -> dict[str, list[tuple[datetime, str]]]:
    """Agent number → (time, flag) of the week's contact records with a complaint or a dissatisfied rating."""
    out: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    if "contact_record" not in platform.models:
        return out
    model: Any = platform.models["contact_record"]
    query = model.select(model.agent, model.started_at, model.complaint_types, model.satisfaction).where(
        (model.started_at >= start - _RECORD_SLACK) & (model.started_at < stop + _RECORD_SLACK)
        & model.agent.is_null(False))
    for row in query.dicts():
        if row["complaint_types"]:
            out[str(row["agent"])].append((row["started_at"], "complaint"))
        if row["satisfaction"] == "dissatisfied":
            out[str(row["agent"])].append((row["started_at"], "unsatisfied"))
    return out


def _flags_of(call: Call, flags: list[tuple[datetime, str]]) -> set[str]:
    end = (call.ended_at or call.started_at) + _RECORD_SLACK
    return {flag for at, flag in flags if call.started_at - _RECORD_SLACK <= at <= end}


def _skip_reason(call: Call) -> str | None:
    if not call.call_recording:
        return "no recording of the conversation (the queue does not record, or recording failed)"
    base = folder().resolve()
    path = (base / str(call.call_recording)).resolve()
    if base not in path.parents or not path.is_file():
        return f"the recording file is no longer there ({call.call_recording})"
    return None


def sample_week(platform: Platform, card: Scorecard, week: date) -> SampleReport:
    """Queue the calls of the week starting at ``monday(week)`` that ``card``'s sampling rules choose."""
    rules = card.sampling
    start_day = monday(week)
    report = SampleReport(start_day)
    if rules is None:
        return report
    start, stop = centre_midnight(start_day), centre_midnight(start_day + timedelta(days=7))  # the centre's week
    with session():
        talked = (Call.routed == "answered") | ((Call.direction == "outbound") & Call.answered_at.is_null(False))
        calls = list(Call.select().where((Call.started_at >= start) & (Call.started_at < stop)
                                         & Call.agent.is_null(False) & talked)
                     .order_by(Call.id))
        taken = {r.call_id for r in QaSample.select(QaSample.call_id).where(
            QaSample.call_id.in_([c.id for c in calls]))} if calls else set()
        users = {r.number: r.username for r in AgentRecord.select(AgentRecord.number, AgentRecord.username)}
        flags = _contact_flags(platform, start, stop)
        chosen: dict[int, tuple[Call, str]] = {}
        longer = rules.longer_than_s
        for call in calls:
            found = _flags_of(call, flags.get(str(call.agent), []))
            if longer is not None and _duration(call) > longer:
                chosen[call.id] = (call, "long")
            elif rules.complaints and "complaint" in found:
                chosen[call.id] = (call, "complaint")
            elif rules.unsatisfied and "unsatisfied" in found:
                chosen[call.id] = (call, "unsatisfied")
        by_agent: dict[str, list[Call]] = defaultdict(list)
        for call in calls:
            if call.id not in chosen and call.id not in taken:
                by_agent[str(call.agent)].append(call)
        drawn: dict[str, int] = defaultdict(int)
        for row in QaSample.select(QaSample.agent_no).where(
                (QaSample.week == start_day) & (QaSample.rule == "random") & (QaSample.scorecard == card.name)):
            drawn[row.agent_no] += 1
        for agent, pool in sorted(by_agent.items()):
            rng = random.Random(f"{start_day.isoformat()}:{agent}:{card.name}")
            for call in rng.sample(pool, max(0, min(rules.per_agent_week - drawn[agent], len(pool)))):
                chosen[call.id] = (call, "random")
        for call_id, (call, rule) in sorted(chosen.items()):
            if call_id in taken:
                continue
            reason = _skip_reason(call)
            QaSample.create(call_id=call_id, agent=users.get(str(call.agent)) or str(call.agent),
                            agent_no=str(call.agent), scorecard=card.name, week=start_day, rule=rule,
                            status="skipped" if reason else "queued", reason=reason or "")
            if reason:
                report.skipped.append({"call_id": call_id, "rule": rule, "reason": reason})
            else:
                report.queued[rule] += 1
    return report


def run_sampling(platform: Platform, *, today: date | None = None) -> dict[str, Any]:
    """The ``qa_sampling`` job: sample last week for every scorecard with sampling rules."""
    week = monday(today or centre_today()) - timedelta(days=7)
    out: dict[str, Any] = {}
    for name, card in sorted(platform.metadata.objects.get("scorecard", {}).items()):
        if isinstance(card, Scorecard) and card.sampling is not None:
            out[name] = sample_week(platform, card, week).as_dict()
    return out


def queue(*, status: str = "queued", agent: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Rows of the evaluation queue, oldest first."""
    with session():
        q = QaSample.select().where(QaSample.status == status)
        if agent:
            q = q.where(QaSample.agent == agent)
        rows: list[dict[str, Any]] = list(q.order_by(QaSample.id).limit(limit).dicts())  # type: ignore[arg-type]
        return rows
