"""Exams and training: the bank refuses malformed questions, an exam hides its answers, closed questions are
graded at once, short answers marked by hand, an attempt submitted after its time limit is refused, results per
agent, and a skill level whose required training is not passed is refused on the skills service."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from helpline.security.actor import Actor, PermissionDenied
from helpline.services import exams, skills
from helpline.services.agents import ensure_demo_agents
from helpline.services.platform import Platform

T0 = datetime(2026, 12, 7, 9, 0)


def _bank(admin: Actor) -> list[int]:
    return [
        exams.add_question(admin, "single", "Which queue records calls?", options=["general", "complaint"],
                           answer=1, topic="basics"),
        exams.add_question(admin, "multiple", "Which tiers are VIP?", options=["ordinary", "gold", "platinum"],
                           answer=[2, 1], topic="basics"),
        exams.add_question(admin, "truefalse", "A fault is answered within 10 minutes.", answer=True,
                           topic="basics"),
        exams.add_question(admin, "short", "Say how you greet a caller.", points=2, topic="basics"),
    ]


def test_exam_graded_marked_late_refused_and_results(platform: Platform) -> None:
    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    agent1 = Actor("agent1", roles=("agent",)).bind(platform.metadata)
    with pytest.raises(PermissionDenied):
        exams.add_question(agent1, "truefalse", "x", answer=True)
    for kind, kw, message in (("single", {"options": ["a"], "answer": 0}, "two options"),
                              ("multiple", {"options": ["a", "b"], "answer": [5]}, "indexes"),
                              ("truefalse", {"answer": "yes"}, "true or false"), ("essay", {}, "not one of")):
        with pytest.raises(exams.ExamError, match=message):
            exams.add_question(admin, kind, "q", **kw)
    ids = _bank(admin)
    with pytest.raises(exams.ExamError, match="the bank has 4 questions"):
        exams.create_exam(admin, "too many", time_limit_s=600, topic="basics", count=9)
    exam = exams.create_exam(admin, "Basics", time_limit_s=600, topic="basics", count=4, seed=1)
    paper = exams.start(agent1, exam, now=T0)
    assert sorted(q["id"] for q in paper["questions"]) == sorted(ids)
    assert all("answer" not in q for q in paper["questions"]) and paper["deadline"] == T0 + timedelta(minutes=10)
    got = exams.submit(agent1, paper["attempt"], {str(ids[0]): 1, str(ids[1]): [1, 2], str(ids[2]): False,
                                                  str(ids[3]): "Hello, agent 1001 speaking"},
                       now=T0 + timedelta(minutes=9))
    assert got == {"status": "marking", "score": None, "passed": None}
    with pytest.raises(exams.ExamError, match="already submitted"):
        exams.submit(agent1, paper["attempt"], {}, now=T0 + timedelta(minutes=9))
    with pytest.raises(exams.ExamError, match="not between 0 and 2"):
        exams.mark(admin, paper["attempt"], ids[3], 3)
    done = exams.mark(admin, paper["attempt"], ids[3], 1.5)
    assert done == {"status": "graded", "score": round(100 * 3.5 / 5, 1), "passed": True}
    late = exams.start(agent1, exam, now=T0)
    with pytest.raises(exams.ExamError, match="after the time limit: the attempt is refused"):
        exams.submit(agent1, late["attempt"], {str(ids[0]): 1}, now=T0 + timedelta(minutes=10, seconds=30))
    history = exams.results("agent1")
    assert [(r["status"], r["passed"]) for r in history] == [("late", False), ("graded", True)]


def test_a_skill_level_needs_its_training(platform: Platform) -> None:
    ensure_demo_agents()
    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    agent1 = Actor("agent1", roles=("agent",)).bind(platform.metadata)
    q = exams.add_question(admin, "truefalse", "VIP callers skip the menu.", answer=True, topic="vip")
    exam = exams.create_exam(admin, "VIP desk", time_limit_s=300, question_ids=[q], skill="vip", level=1)
    with pytest.raises(PermissionDenied, match="skill vip level 1 needs the training 'VIP desk' passed"):
        skills.save_skills(admin, platform.metadata, "1001", {"general": 1, "vip": 1})
    skills.save_skills(admin, platform.metadata, "1001", {"general": 1, "vip": 2})  # level 2: no training asked
    paper = exams.start(agent1, exam)
    assert exams.submit(agent1, paper["attempt"], {str(q): True})["passed"] is True
    saved = skills.save_skills(admin, platform.metadata, "1001", {"general": 1, "vip": 1})
    assert saved["skills"] == {"general": 1, "vip": 1}
