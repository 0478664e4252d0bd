"""The quality desk: scoring an evaluation on a scorecard, submitting it, calibration sessions.

:func:`score` turns the evaluator's answers into a total (docs/quality.md, "How a total is computed") and
refuses incomplete or inconsistent answers with every mistake named. :func:`submit` needs ``qa.evaluate``,
stores a ``qa_evaluation`` record (its ``qa_appeal`` process starts with it: the agent accepts or appeals, a
supervisor decides) and marks the call's queue row evaluated. A *calibration session* is several evaluators
scoring the same call under one session name; :func:`calibration_spread` shows how far they are apart.
Sampling the queue is :mod:`helpline.services.qa_sampling`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from statistics import pstdev
from typing import Any

from helpline.data.base import utcnow
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.qa import QaSample
from helpline.metadata.kinds.scorecard import Scorecard
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

from .platform import Platform

ENTITY = "qa_evaluation"
PERMISSION = "qa.evaluate"


class EvaluationError(ValueError):
    """The answers cannot be scored; ``problems`` names each mistake (``section.item: ...``)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Answer:
    """One item's answer: a score from 0 to the item's ``max``, or N/A, and an optional comment."""

    score: int | None = None
    na: bool = False
    comment: str = ""


@dataclass
class ScoreResult:
    total: float
    """Per cent, one decimal; 0 when a fatal item failed."""
    passed: bool
    fatal: bool
    sections: dict[str, float] = field(default_factory=dict)
    """Each section's share achieved, per cent of the section."""


def _answer(raw: Any) -> Answer:
    if isinstance(raw, Answer):
        return raw
    if isinstance(raw, dict):
        score = raw.get("score")
        return Answer(score=None if score is None else int(score), na=bool(raw.get("na")),
                      comment=str(raw.get("comment") or ""))
    return Answer(score=None if raw is None else int(raw))


def score(card: Scorecard, answers: dict[str, Any]) -> ScoreResult:
    """The total of ``answers`` (``{"section.item": Answer | {"score", "na", "comment"} | int}``) on ``card``."""
    problems: list[str] = []
    known = {f"{s.name}.{i.name}" for s, i in card.items()}
    problems += [f"{key}: not an item of scorecard '{card.name}'" for key in answers if key not in known]
    total = 0.0
    fatal = False
    sections: dict[str, float] = {}
    for section in card.sections:
        got = weight = 0.0
        for item in section.items:
            key = f"{section.name}.{item.name}"
            a = _answer(answers.get(key))
            if a.na:
                if not item.na:
                    problems.append(f"{key}: N/A is not allowed")
                continue
            if a.score is None:
                problems.append(f"{key}: no score")
                continue
            if not 0 <= a.score <= item.max:
                problems.append(f"{key}: {a.score} is not between 0 and {item.max}")
                continue
            if item.comment and a.score < item.max and not a.comment.strip():
                problems.append(f"{key}: a comment is required under a score below {item.max}")
            if item.fatal and a.score == 0:
                fatal = True
            got += item.weight * a.score / item.max
            weight += item.weight
        share = got / weight if weight else 1.0
        sections[section.name] = round(share * 100, 1)
        total += section.weight * share
    if problems:
        raise EvaluationError(problems)
    total = 0.0 if fatal else round(total, 1)
    return ScoreResult(total=total, passed=not fatal and total >= card.pass_mark, fatal=fatal, sections=sections)


def _scorecard(platform: Platform, name: str) -> Scorecard:
    card = platform.metadata.objects.get("scorecard", {}).get(name)
    if not isinstance(card, Scorecard):
        raise EvaluationError([f"unknown scorecard '{name}'"])
    return card


def _require(actor: Actor, what: str, call_id: int) -> None:
    if not actor.has(PERMISSION):
        reason = f"user '{actor.username}' lacks the permission '{PERMISSION}'"
        audit(actor, "denied", entity="hl_call", record_id=call_id, detail={"kind": what, "reason": reason})
        raise PermissionDenied(reason)


def submit(platform: Platform, actor: Actor, call_id: int, scorecard: str, answers: dict[str, Any], *,
           errors: list[str] | None = None, comment: str = "", calibration: str | None = None) -> int:
    """Store an evaluation of ``call_id``; returns the ``qa_evaluation`` record's id."""
    with session():
        _require(actor, "qa.evaluate", call_id)
        card = _scorecard(platform, scorecard)
        result = score(card, answers)
        call = Call.get_or_none(Call.id == call_id)
        if call is None or not call.agent:
            raise EvaluationError([f"call {call_id} was not answered by an agent"])
        sample = QaSample.get_or_none(QaSample.call_id == call_id)
        if sample is not None and sample.status == "evaluated" and calibration is None:
            raise EvaluationError([f"call {call_id} is already evaluated (evaluation {sample.evaluation_id})"])
        agent = sample.agent if sample is not None else _username(str(call.agent))
        stored = {k: vars(_answer(v)) for k, v in answers.items()}
        record = platform.records.create(actor, ENTITY, {
            "call_id": call_id, "agent": agent, "agent_no": str(call.agent), "evaluator": actor.username,
            "scorecard": card.name, "sampled_by": sample.rule if sample is not None else "manual",
            "evaluated_at": utcnow(), "total": Decimal(str(result.total)), "passed": result.passed,
            "fatal": result.fatal, "errors": list(errors or []), "scores": stored, "comment": comment,
            "calibration": calibration})
        if sample is not None and calibration is None:
            QaSample.update(status="evaluated", evaluation_id=record.id).where(QaSample.id == sample.id).execute()
        return record.id


def _username(agent_no: str) -> str:
    from helpline.data.agents import AgentRecord

    row = AgentRecord.get_or_none(AgentRecord.number == agent_no)
    return str(row.username) if row is not None and row.username else agent_no


@dataclass
class Spread:
    """How far the evaluators of one calibration session are apart."""

    session: str
    call_id: int | None
    evaluators: dict[str, float]
    mean: float
    stdev: float
    range: float
    items: dict[str, float]
    """Per item, the largest difference between two evaluators' scores (per cent of the item's max)."""


def calibration_spread(platform: Platform, actor: Actor, session_name: str) -> Spread:
    """The spread of the totals (and of each item) of the evaluations in calibration session ``session_name``."""
    model: Any = platform.models[ENTITY]
    with session():
        _require(actor, "qa.calibration", 0)
        rows: list[Any] = list(model.select().where(model.calibration == session_name).dicts())
    if not rows:
        raise EvaluationError([f"calibration session '{session_name}' has no evaluations"])
    totals = {str(r["evaluator"]): float(r["total"] or 0) for r in rows}
    items: dict[str, float] = {}
    card = _scorecard(platform, str(rows[0]["scorecard"]))
    for s, i in card.items():
        key = f"{s.name}.{i.name}"
        values = [100.0 * float(a["score"]) / i.max for r in rows
                  if (a := (r["scores"] or {}).get(key)) and a.get("score") is not None and not a.get("na")]
        items[key] = round(max(values) - min(values), 1) if values else 0.0
    values = list(totals.values())
    return Spread(session=session_name, call_id=int(rows[0]["call_id"]), evaluators=totals,
                  mean=round(sum(values) / len(values), 1), stdev=round(pstdev(values), 1),
                  range=round(max(values) - min(values), 1), items=items)
