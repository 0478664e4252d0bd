"""The questionnaire of a campaign call: which questions are asked (``when`` branching), the answers checked
(types, ranges, required ones), saved with the call's result, and the results per campaign as tallies and Excel.

```python
asked(campaign, {"satisfied": False}, contact)          # the questions to show now
save_result(platform, agent, number_id, {"satisfied": True, "score": 5})
results(platform, "satisfaction_survey")                  # {question: {"type", "counts" | "mean" ...}}
```
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

from helpline.data.base import utcnow
from helpline.data.campaigns import CampaignNumber, CampaignRun
from helpline.data.database import session, write_transaction
from helpline.metadata.kinds.campaign import Campaign, Question
from helpline.rules import compile_expression
from helpline.rules.uses import CAMPAIGN
from helpline.security.actor import Actor
from helpline.security.audit import audit

if TYPE_CHECKING:
    from helpline.services.platform import Platform

__all__ = ["AnswerError", "asked", "check_answers", "results", "results_workbook", "save_result"]

log = logging.getLogger(__name__)
_compiled: dict[str, Any] = {}


class AnswerError(ValueError):
    """Answers that cannot be saved; ``problems`` maps each question to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def _shown(q: Question, answers: dict[str, Any], contact: dict[str, Any]) -> bool:
    if not q.when:
        return True
    expr = _compiled.get(q.when)
    if expr is None:
        expr = _compiled[q.when] = compile_expression(q.when, CAMPAIGN)
    try:
        return bool(expr.test({"answer": {k: v for k, v in answers.items() if v not in (None, "", [])},
                               "contact": contact}))
    except Exception:  # a run-time failure asks the question rather than hiding it
        log.exception("campaign question '%s': 'when' failed", q.name)
        return True


def asked(campaign: Campaign, answers: dict[str, Any], contact: dict[str, Any] | None = None) -> list[Question]:
    """The questions asked with these answers so far, in order (a question whose ``when`` fails is skipped)."""
    return [q for q in campaign.questions if _shown(q, answers, contact or {})]


def _value(q: Question, raw: Any) -> Any:
    if q.type == "yes_no":
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("yes", "true", "1", "是"):
            return True
        if str(raw).lower() in ("no", "false", "0", "否"):
            return False
        raise ValueError("answer yes or no")
    if q.type in ("number", "rating"):
        try:
            value = float(raw)
        except (TypeError, ValueError) as exc:
            raise ValueError("a number is needed") from exc
        low, high = (1, 5) if q.type == "rating" else (q.min, q.max)
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"between {low if low is not None else '…'} and {high if high is not None else '…'}")
        if q.type == "rating" and not value.is_integer():
            raise ValueError("a whole number from 1 to 5")
        return int(value) if value.is_integer() else value
    codes = [c.code for c in q.choices]
    if q.type == "choice":
        if raw not in codes:
            raise ValueError(f"one of {', '.join(codes)}")
        return raw
    if q.type == "multi_choice":
        values = raw if isinstance(raw, list | tuple) else [raw]
        wrong = [v for v in values if v not in codes]
        if wrong:
            raise ValueError(f"'{wrong[0]}' is not one of {', '.join(codes)}")
        return list(values)
    return str(raw).strip()


def check_answers(campaign: Campaign, answers: dict[str, Any], contact: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    """The answers to keep: typed, only those of questions asked; :class:`AnswerError` for a wrong or missing
    required one. Answers to questions that branching skipped are dropped."""
    clean: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for q in campaign.questions:
        if not _shown(q, clean, contact or {}):
            continue
        raw = answers.get(q.name)
        if raw in (None, "", []):
            if q.required:
                problems[q.name] = "an answer is required"
            continue
        try:
            clean[q.name] = _value(q, raw)
        except ValueError as exc:
            problems[q.name] = str(exc)
    if problems:
        raise AnswerError(problems)
    return clean


def save_result(platform: Platform, actor: Actor, number_id: int, answers: dict[str, Any]) -> dict[str, Any]:
    """Check and store the questionnaire's answers on the number (``agent.outbound``); returns them."""
    actor.require_permission("agent.outbound")
    with session():
        number = CampaignNumber.get_or_none(CampaignNumber.id == number_id)
        if number is None:
            raise AnswerError({"_": f"no campaign number {number_id}"})
        run = CampaignRun.get_by_id(number.run)
    found = platform.metadata.objects.get("campaign", {}).get(run.campaign)
    if not isinstance(found, Campaign):
        raise AnswerError({"_": f"campaign '{run.campaign}' no longer exists"})
    clean = check_answers(found, answers, dict(number.data or {}))
    with session(), write_transaction():
        CampaignNumber.update(answers=clean, agent=actor.username, updated_at=utcnow()).where(
            CampaignNumber.id == number_id).execute()
        audit(actor, "campaign.answers", detail={"number": number_id, "campaign": run.campaign})
    return clean


def results(platform: Platform, campaign_name: str, run_id: int | None = None) -> dict[str, dict[str, Any]]:
    """Per question: ``{type, label, answered, counts}`` (choices, yes/no, ratings: answers counted per value) or
    ``{..., mean, min, max}`` (numbers) or ``{..., last}`` (text: the latest ten)."""
    found = platform.metadata.objects.get("campaign", {}).get(campaign_name)
    if not isinstance(found, Campaign):
        raise AnswerError({"_": f"no campaign '{campaign_name}'"})
    with session():
        runs = [run_id] if run_id is not None else [r.id for r in CampaignRun.select(CampaignRun.id).where(
            CampaignRun.campaign == campaign_name)]
        rows = [r.answers for r in CampaignNumber.select(CampaignNumber.answers).where(
            CampaignNumber.run.in_(runs) & CampaignNumber.answers.is_null(False)).order_by(CampaignNumber.updated_at)]
    out: dict[str, dict[str, Any]] = {}
    for q in found.questions:
        values = [a[q.name] for a in rows if isinstance(a, dict) and q.name in a]
        entry: dict[str, Any] = {"type": q.type, "label": q.label, "answered": len(values)}
        if q.type == "number":
            nums = [float(v) for v in values]
            entry.update(mean=sum(nums) / len(nums) if nums else None, min=min(nums, default=None),
                         max=max(nums, default=None))
        elif q.type == "text":
            entry["last"] = [str(v) for v in values[-10:]]
        else:
            counter: Counter[str] = Counter()
            for v in values:
                for item in (v if isinstance(v, list) else [v]):
                    counter["yes" if item is True else "no" if item is False else str(item)] += 1
            keys = ([c.code for c in q.choices] if q.choices else ["yes", "no"] if q.type == "yes_no"
                    else [str(i) for i in range(1, 6)])
            entry["counts"] = {k: counter.get(k, 0) for k in keys}
        out[q.name] = entry
    return out


def results_workbook(platform: Platform, actor: Actor, campaign_name: str, run_id: int | None = None,
                     language: str = "en") -> bytes:
    """Every reached person's answers as an Excel sheet (``campaigns.manage``): phone, name, agent, then one
    column per question."""
    from helpline.services.excel import workbook_bytes

    actor.require_permission("campaigns.manage")
    found = platform.metadata.objects.get("campaign", {}).get(campaign_name)
    if not isinstance(found, Campaign):
        raise AnswerError({"_": f"no campaign '{campaign_name}'"})
    with session():
        runs = [run_id] if run_id is not None else [r.id for r in CampaignRun.select(CampaignRun.id).where(
            CampaignRun.campaign == campaign_name)]
        numbers = list(CampaignNumber.select().where(CampaignNumber.run.in_(runs) &
                                                     CampaignNumber.answers.is_null(False)).order_by(CampaignNumber.id))
        audit(actor, "export", detail={"campaign": campaign_name, "rows": len(numbers)})
    headers = ["phone", "name", "agent", "attempts", *[q.label.get(language) for q in found.questions]]
    rows = ([n.phone, n.name, n.agent, n.attempts, *[(n.answers or {}).get(q.name) for q in found.questions]]
            for n in numbers)
    return workbook_bytes(found.display_name(language), headers, rows)
