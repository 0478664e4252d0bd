"""System table of the quality desk: the evaluation queue (``hl_qa_sample``).

The weekly ``qa_sampling`` job writes one row per call a scorecard's sampling rules chose (a call is sampled
once); a call without a usable recording is written ``skipped`` with the reason, so the desk sees why it is not
on the queue. Submitting an evaluation marks its row ``evaluated`` with the ``qa_evaluation`` record's id.
"""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, CharField, DateField, DateTimeField

from .base import SystemModel, utcnow


class QaSample(SystemModel):
    """A call chosen for evaluation (``hl_qa_sample``)."""

    id = AutoField()
    call_id = BigIntegerField(unique=True)
    agent = CharField(max_length=64, index=True)
    """The agent's user name (the agent number when no user is known)."""
    agent_no = CharField(max_length=32, default="")
    scorecard = CharField(max_length=64)
    week = DateField(index=True)
    """The Monday of the sampled week."""
    rule = CharField(max_length=32)
    """``random``, ``complaint``, ``long``, ``unsatisfied`` or ``manual``."""
    status = CharField(max_length=16, default="queued", index=True)
    """``queued``, ``skipped`` or ``evaluated``."""
    reason = CharField(max_length=255, default="")
    """Why a skipped call is not on the queue."""
    evaluation_id = BigIntegerField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "hl_qa_sample"


QA_MODELS = [QaSample]
