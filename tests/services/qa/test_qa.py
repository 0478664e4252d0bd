"""The quality desk: scoring on a scorecard, sampling the week's calls (a call without a recording skipped with a
reason), submitting needs qa.evaluate, the agent sees and appeals, a supervisor decides, calibration spread."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from helpline.data.agents import AgentRecord
from helpline.data.base import centre_today
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.qa import QaSample
from helpline.metadata.kinds.scorecard import Scorecard
from helpline.security.actor import Actor, PermissionDenied
from helpline.services import qa, qa_sampling
from helpline.services.platform import Platform

WEEK = date(2026, 11, 16)  # a Monday

FULL = {
    "greeting.standard_greeting": 5, "greeting.verified_identity": 1,
    "handling.listened": 5, "handling.courtesy": 5, "handling.hold_etiquette": 5,
    "accuracy.correct_answer": 5, "accuracy.record_complete": 5,
    "closing.summary": 5, "closing.standard_closing": 5,
}


def card(p: Platform) -> Scorecard:
    c = p.metadata.objects["scorecard"]["call_quality"]
    assert isinstance(c, Scorecard)
    return c


@pytest.fixture
def rec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HELPLINE_RECORDINGS", str(tmp_path / "rec"))
    (tmp_path / "rec").mkdir()
    return tmp_path / "rec"


def _call(rec: Path, agent: str, at: datetime, talk_s: float, *, recorded: bool = True) -> int:
    name = None
    with session():
        call_id = int(Call.insert(uniqueid="u", started_at=at, ended_at=at + timedelta(seconds=talk_s + 20),
                                  agent=agent, routed="answered", talk_s=talk_s).execute())
        if recorded:
            name = f"q/{call_id}.wav"
            (rec / "q").mkdir(exist_ok=True)
            (rec / name).write_bytes(b"RIFF....WAVE")
            Call.update(call_recording=name).where(Call.id == call_id).execute()
    return call_id


def test_score_weights_fatal_na_and_comments(platform: Platform) -> None:
    c = card(platform)
    assert qa.score(c, FULL).total == 100.0
    half = {**FULL, "closing.summary": 0}
    r = qa.score(c, half)
    assert r.total == 92.5 and r.passed and r.sections["closing"] == 50.0
    na = {**FULL, "handling.hold_etiquette": {"na": True}, "handling.listened": 0}
    assert qa.score(c, na).total == pytest.approx(100 - 35 * 40 / 70, abs=0.05)
    fatal = qa.score(c, {**FULL, "greeting.verified_identity": 0})
    assert (fatal.total, fatal.passed, fatal.fatal) == (0.0, False, True)
    with pytest.raises(qa.EvaluationError) as bad:
        qa.score(c, {**FULL, "handling.courtesy": 3, "closing.summary": 9, "greeting.standard_greeting": {"na": True},
                     "nope.x": 1, "accuracy.record_complete": None})
    text = str(bad.value)
    for part in ("handling.courtesy: a comment is required", "closing.summary: 9 is not between 0 and 5",
                 "greeting.standard_greeting: N/A is not allowed", "nope.x: not an item",
                 "accuracy.record_complete: no score"):
        assert part in text


def test_sampling_rules_and_a_call_without_recording(platform: Platform, rec: Path) -> None:
    with session():
        AgentRecord.create(number="1001", username="agent1", name="Agent 1")
    t0 = datetime(2026, 11, 17, 9, 0)
    long_call = _call(rec, "1001", t0, 11 * 60)
    complaint = _call(rec, "1001", t0 + timedelta(hours=1), 120)
    unhappy = _call(rec, "1002", t0 + timedelta(hours=2), 90)
    silent = _call(rec, "1002", t0 + timedelta(hours=3), 15 * 60, recorded=False)
    plain = [_call(rec, "1001", t0 + timedelta(days=1, minutes=i * 10), 60) for i in range(8)]
    _call(rec, "1001", t0 + timedelta(days=7), 60)  # next week: not sampled
    system = Actor.system()
    for i, (agent, at, extra) in enumerate([
            ("1001", t0 + timedelta(hours=1, minutes=1), {"complaint_types": ["service_attitude"]}),
            ("1002", t0 + timedelta(hours=2, minutes=1), {"satisfaction": "dissatisfied"})]):
        cat = platform.metadata.categories["complaint_types"]
        if "complaint_types" in extra:
            extra = {"complaint_types": [cat.nodes[-1].code]}
        platform.records.create(system, "contact_record", {"serial_no": f"S{i}", "agent": agent, "started_at": at,
                                                           **extra})
    report = qa_sampling.sample_week(platform, card(platform), WEEK + timedelta(days=3))
    assert report.week == WEEK
    assert report.queued == {"long": 1, "complaint": 1, "unsatisfied": 1, "random": 5}
    assert report.skipped == [{"call_id": silent, "rule": "long", "reason": qa_sampling._skip_reason(
        Call.get_by_id(silent))}]
    assert "no recording" in report.skipped[0]["reason"]
    with session():
        rows = {r.call_id: r for r in QaSample.select()}
    assert rows[long_call].rule == "long" and rows[long_call].agent == "agent1"
    assert rows[complaint].rule == "complaint" and rows[unhappy].rule == "unsatisfied"
    assert rows[silent].status == "skipped"
    assert sum(1 for c in plain if c in rows) == 5
    again = qa_sampling.sample_week(platform, card(platform), WEEK)
    assert sum(again.queued.values()) == 0 and not again.skipped, "a call is sampled once"
    assert [r["call_id"] for r in qa_sampling.queue(agent="agent1")][:2] == [long_call, complaint]


def test_evaluate_appeal_and_decide(platform: Platform, rec: Path) -> None:
    with session():
        AgentRecord.create(number="1001", username="agent1", name="Agent 1")
    call_id = _call(rec, "1001", datetime(2026, 11, 17, 9, 0), 11 * 60)
    qa_sampling.sample_week(platform, card(platform), WEEK)
    qa1 = Actor("qa1", roles=("qa",)).bind(platform.metadata)
    agent1 = Actor("agent1", roles=("agent",)).bind(platform.metadata)
    agent2 = Actor("agent2", roles=("agent",)).bind(platform.metadata)
    boss = Actor("supervisor1", roles=("supervisor",)).bind(platform.metadata)
    with pytest.raises(PermissionDenied):
        qa.submit(platform, agent1, call_id, "call_quality", FULL)
    answers = {**FULL, "handling.courtesy": {"score": 2, "comment": "interrupted the caller twice"}}
    ev = qa.submit(platform, qa1, call_id, "call_quality", answers, errors=["impolite"], comment="tone")
    with pytest.raises(qa.EvaluationError, match="already evaluated"):
        qa.submit(platform, qa1, call_id, "call_quality", FULL)
    mine = platform.records.get(agent1, "qa_evaluation", ev)
    assert mine.values["errors"] == ["impolite"] and float(mine.values["total"]) == pytest.approx(93.7)
    assert mine.values["status"] == "evaluated"
    from helpline.services.records import RecordNotFound

    with pytest.raises(RecordNotFound):
        platform.records.get(agent2, "qa_evaluation", ev)
    platform.workflows.take(agent1, "qa_evaluation", ev, "appeal", {"appeal_reason": "the caller was shouting"})
    names = {a.name for a in platform.workflows.actions(boss, "qa_evaluation", ev) if a.enabled}
    assert names == {"uphold", "amend"}
    platform.workflows.take(boss, "qa_evaluation", ev, "amend", {"decision": "courtesy re-scored"})
    assert platform.records.get(agent1, "qa_evaluation", ev).values["status"] == "amended"
    with session():
        assert QaSample.get(QaSample.call_id == call_id).evaluation_id == ev


def test_calibration_spread(platform: Platform, rec: Path) -> None:
    call_id = _call(rec, "1001", datetime(2026, 11, 17, 9, 0), 300)
    for name, courtesy in (("qa1", 5), ("qa2", 3), ("qa3", 1)):
        who = Actor(name, roles=("qa",)).bind(platform.metadata)
        qa.submit(platform, who, call_id, "call_quality",
                  {**FULL, "handling.courtesy": {"score": courtesy, "comment": "c"}}, calibration="cal-1")
    spread = qa.calibration_spread(platform, Actor("qa1", roles=("qa",)).bind(platform.metadata), "cal-1")
    assert set(spread.evaluators) == {"qa1", "qa2", "qa3"}
    assert spread.range == pytest.approx(35 * 30 / 100 * 80 / 100, abs=0.1)
    assert spread.items["handling.courtesy"] == 80.0 and spread.items["closing.summary"] == 0.0
    with pytest.raises(qa.EvaluationError, match="no evaluations"):
        qa.calibration_spread(platform, Actor("qa1", roles=("qa",)).bind(platform.metadata), "none")


def test_sampling_runs_as_a_weekly_scheduled_job(platform: Platform, rec: Path) -> None:
    from helpline.cli.common import start_scheduler
    from helpline.config import Settings

    last_week = qa_sampling.monday(centre_today()) - timedelta(days=7)
    call_id = _call(rec, "1001", datetime.combine(last_week, datetime.min.time()) + timedelta(hours=10), 11 * 60)
    scheduler = start_scheduler(platform, Settings(), router=None)
    try:
        job = next(j for j in scheduler.jobs() if j.name == "qa_sampling")
        assert job.cron == "0 2 * * 1"
        run = scheduler.run("qa_sampling")
    finally:
        scheduler.stop()
    assert run.status == "ok", run.error
    assert run.result["call_quality"]["queued"]["long"] == 1
    assert [r["call_id"] for r in qa_sampling.queue()] == [call_id]
