"""System tables of exams and training: the question bank, exams, attempts (``hl_question``, ``hl_exam``,
``hl_exam_attempt``). An exam may be the required training of a skill level: the level is granted only to an
agent with a passed attempt (:mod:`helpline.services.exams`)."""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, BooleanField, CharField, DateTimeField, FloatField, IntegerField

from .base import SystemModel, utcnow
from .jsonfield import JSONField


class Question(SystemModel):
    id = AutoField()
    kind = CharField(max_length=16)
    """``single``, ``multiple``, ``truefalse`` or ``short`` (marked by hand)."""
    text = CharField(max_length=2000)
    options = JSONField(default=list)
    answer = JSONField(null=True)
    """Index (single), sorted indexes (multiple), true/false; None for short answers."""
    points = FloatField(default=1.0)
    topic = CharField(max_length=64, default="", index=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_question"


class Exam(SystemModel):
    id = AutoField()
    name = CharField(max_length=128, unique=True)
    questions = JSONField(default=list)
    time_limit_s = IntegerField()
    pass_mark = FloatField(default=60.0)
    """Per cent of the points."""
    skill = CharField(max_length=64, null=True)
    level = IntegerField(null=True)
    """With ``skill``: the exam is the required training of this level (and better, i.e. lower numbers)."""
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_exam"


class Attempt(SystemModel):
    id = AutoField()
    exam_id = BigIntegerField(index=True)
    username = CharField(max_length=64, index=True)
    started_at = DateTimeField(default=utcnow)
    deadline = DateTimeField()
    submitted_at = DateTimeField(null=True)
    answers = JSONField(default=dict)
    auto_points = FloatField(default=0.0)
    manual_points = JSONField(default=dict)
    """Question id → points given by hand (short answers)."""
    status = CharField(max_length=16, default="started")
    """``started``, ``marking`` (short answers to mark), ``graded``, ``late`` (refused)."""
    score = FloatField(null=True)
    passed = BooleanField(null=True)

    class Meta:
        table_name = "hl_exam_attempt"


EXAM_MODELS = [Question, Exam, Attempt]
