"""Exams and training: the question bank, exams drawn from it with a time limit, attempts graded automatically,
short answers marked by hand, results per agent, and the required training of a skill level.

- Questions (``users.manage``): ``single`` (one option index), ``multiple`` (a set of indexes; all or nothing),
  ``truefalse`` and ``short`` (free text, marked by hand from 0 to its points).
- An exam draws ``count`` questions of a topic at random, or takes the ids given; ``time_limit_s`` bounds an
  attempt. :func:`start` opens an attempt with its deadline and returns the questions **without** their answers;
  :func:`submit` refuses an attempt after its deadline (plus :data:`GRACE_S` for the network) with
  :class:`ExamError` and records it ``late``; otherwise it grades the closed questions at once and, with short
  answers to mark, leaves the attempt ``marking`` until :func:`mark` has scored each.
- An exam with ``skill`` and ``level`` is the **required training** of that skill level: :func:`require_training`
  refuses a level that good (or better: a lower number) to an agent without a passed attempt — the skills page
  calls it before saving (docs/staff.md).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from helpline.data.base import utcnow
from helpline.data.database import session, write_transaction
from helpline.data.exams import Attempt, Exam, Question
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

KINDS = ("single", "multiple", "truefalse", "short")
GRACE_S = 5
MANAGE = "users.manage"


class ExamError(ValueError):
    """An exam action that cannot be done (the message says why)."""


def add_question(actor: Actor, kind: str, text: str, *, options: list[str] | None = None, answer: Any = None,
                 points: float = 1.0, topic: str = "") -> int:
    actor.require_permission(MANAGE)
    options = list(options or [])
    if kind not in KINDS:
        raise ExamError(f"question kind '{kind}' is not one of {', '.join(KINDS)}")
    if not text.strip():
        raise ExamError("a question needs its text")
    if kind == "single" and not (isinstance(answer, int) and 0 <= answer < len(options) >= 2):
        raise ExamError("a single-choice question needs two options or more and the index of the right one")
    if kind == "multiple":
        if not isinstance(answer, list) or not answer or not all(isinstance(a, int) and 0 <= a < len(options)
                                                                 for a in answer):
            raise ExamError("a multiple-choice question needs the indexes of its right options")
        answer = sorted(set(answer))
    if kind == "truefalse" and not isinstance(answer, bool):
        raise ExamError("a true/false question needs true or false as its answer")
    if kind == "short":
        answer = None
    with write_transaction():
        return int(Question.insert(kind=kind, text=text, options=options, answer=answer, points=points,
                                   topic=topic).execute())


def create_exam(actor: Actor, name: str, *, time_limit_s: int, topic: str = "", count: int | None = None,
                question_ids: list[int] | None = None, pass_mark: float = 60.0, skill: str | None = None,
                level: int | None = None, seed: int | None = None) -> int:
    actor.require_permission(MANAGE)
    if time_limit_s <= 0:
        raise ExamError("the time limit must be positive")
    with write_transaction():
        if question_ids is None:
            pool = [q.id for q in Question.select(Question.id).where(Question.topic == topic).order_by(Question.id)]
            if count is None or count > len(pool):
                raise ExamError(f"the bank has {len(pool)} questions of topic '{topic}', {count} asked for")
            question_ids = random.Random(seed).sample(pool, count)
        exam_id = int(Exam.insert(name=name, questions=question_ids, time_limit_s=time_limit_s, pass_mark=pass_mark,
                                  skill=skill, level=level).execute())
        audit(actor, "exam.create", entity="hl_exam", record_id=exam_id,
              detail={"questions": len(question_ids), "skill": skill, "level": level})
        return exam_id


def _public(q: Question) -> dict[str, Any]:
    return {"id": q.id, "kind": q.kind, "text": q.text, "options": q.options, "points": q.points}


def start(actor: Actor, exam_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """Open an attempt; the questions without their answers and the deadline (UTC)."""
    now = now or utcnow()
    with write_transaction():
        exam = Exam.get_or_none(Exam.id == exam_id)
        if exam is None:
            raise ExamError(f"no exam {exam_id}")
        deadline = now + timedelta(seconds=exam.time_limit_s)
        attempt_id = int(Attempt.insert(exam_id=exam_id, username=actor.username, started_at=now,
                                        deadline=deadline).execute())
        questions = {q.id: q for q in Question.select().where(Question.id.in_(exam.questions))}
    return {"attempt": attempt_id, "exam": exam.name, "deadline": deadline, "time_limit_s": exam.time_limit_s,
            "questions": [_public(questions[i]) for i in exam.questions if i in questions]}


def _right(q: Question, given: Any) -> bool:
    if q.kind == "single":
        return isinstance(given, int) and given == q.answer
    if q.kind == "multiple":
        return isinstance(given, list) and sorted(set(given)) == q.answer
    if q.kind == "truefalse":
        return isinstance(given, bool) and given == q.answer
    return False


def _finish(attempt: Attempt, exam: Exam, questions: dict[int, Question]) -> None:
    total = sum(questions[i].points for i in exam.questions if i in questions)
    got = attempt.auto_points + sum(float(v) for v in (attempt.manual_points or {}).values())
    attempt.score = round(100 * got / total, 1) if total else 0.0
    attempt.passed = attempt.score >= exam.pass_mark
    attempt.status = "graded"


def submit(actor: Actor, attempt_id: int, answers: dict[str, Any], *, now: datetime | None = None
           ) -> dict[str, Any]:
    """Grade the attempt (see the module docstring); ``answers`` maps question ids (as text) to answers."""
    now = now or utcnow()
    with write_transaction():
        attempt = Attempt.get_or_none(Attempt.id == attempt_id)
        if attempt is None or attempt.username != actor.username:
            raise ExamError(f"no attempt {attempt_id} of user '{actor.username}'")
        if attempt.status != "started":
            raise ExamError(f"attempt {attempt_id} was already submitted ({attempt.status})")
        late = (now - attempt.deadline).total_seconds()
        if late > GRACE_S:
            Attempt.update(status="late", submitted_at=now, answers=answers, score=0.0, passed=False) \
                .where(Attempt.id == attempt_id).execute()
            audit(actor, "exam.late", entity="hl_exam_attempt", record_id=attempt_id, detail={"late_s": late})
        else:
            return _grade(attempt, answers, now)
    raise ExamError(f"submitted {late:.0f} s after the time limit: the attempt is refused")


def _grade(attempt: Attempt, answers: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Grade the closed questions (inside the caller's transaction); short answers leave it ``marking``."""
    exam = Exam.get_by_id(attempt.exam_id)
    questions = {q.id: q for q in Question.select().where(Question.id.in_(exam.questions))}
    attempt.answers = {str(k): v for k, v in answers.items()}
    attempt.submitted_at = now
    attempt.auto_points = sum(q.points for i, q in questions.items() if _right(q, attempt.answers.get(str(i))))
    if any(q.kind == "short" for q in questions.values()):
        attempt.status = "marking"
    else:
        _finish(attempt, exam, questions)
    attempt.save()
    return {"status": attempt.status, "score": attempt.score, "passed": attempt.passed}


def mark(actor: Actor, attempt_id: int, question_id: int, points: float) -> dict[str, Any]:
    """Score one short answer by hand; the attempt is graded when every short answer has its points."""
    actor.require_permission(MANAGE)
    with write_transaction():
        attempt = Attempt.get_or_none(Attempt.id == attempt_id)
        if attempt is None or attempt.status != "marking":
            raise ExamError(f"attempt {attempt_id} has nothing to mark")
        exam = Exam.get_by_id(attempt.exam_id)
        questions = {q.id: q for q in Question.select().where(Question.id.in_(exam.questions))}
        q = questions.get(question_id)
        if q is None or q.kind != "short":
            raise ExamError(f"question {question_id} is not a short answer of this exam")
        if not 0 <= points <= q.points:
            raise ExamError(f"{points:g} is not between 0 and {q.points:g}")
        manual = dict(attempt.manual_points or {})
        manual[str(question_id)] = points
        attempt.manual_points = manual
        if all(str(i) in manual for i, qq in questions.items() if qq.kind == "short"):
            _finish(attempt, exam, questions)
        attempt.save()
        audit(actor, "exam.mark", entity="hl_exam_attempt", record_id=attempt_id,
              detail={"question": question_id, "points": points})
        return {"status": attempt.status, "score": attempt.score, "passed": attempt.passed}


def results(username: str) -> list[dict[str, Any]]:
    """The agent's attempts, newest first, with the exam's name."""
    with session():
        names = {e.id: e.name for e in Exam.select(Exam.id, Exam.name)}
        return [{"attempt": a.id, "exam": names.get(a.exam_id, str(a.exam_id)), "started_at": a.started_at,
                 "status": a.status, "score": a.score, "passed": a.passed}
                for a in Attempt.select().where(Attempt.username == username).order_by(Attempt.id.desc())]


def require_training(username: str, skills: dict[str, int]) -> None:
    """Refuse (PermissionDenied) a skill level whose required training ``username`` has not passed."""
    with session():
        exams = list(Exam.select().where(Exam.skill.in_(list(skills)) & Exam.level.is_null(False)))
        passed = {a.exam_id for a in Attempt.select(Attempt.exam_id).where(
            (Attempt.username == username) & (Attempt.passed == True))}  # noqa: E712 - peewee expression
    for exam in exams:
        level = skills.get(str(exam.skill))
        if level is not None and exam.level is not None and level <= exam.level and exam.id not in passed:
            raise PermissionDenied(f"skill {exam.skill} level {level} needs the training '{exam.name}' passed "
                                   f"(user '{username}' has not)")


def list_exams() -> list[dict[str, Any]]:
    """Every exam: id, name, number of questions, time limit, pass mark, the skill level it is training for."""
    with session():
        return [{"id": e.id, "name": e.name, "questions": len(e.questions or []), "time_limit_s": e.time_limit_s,
                 "pass_mark": e.pass_mark, "skill": e.skill, "level": e.level}
                for e in Exam.select().order_by(Exam.name)]
