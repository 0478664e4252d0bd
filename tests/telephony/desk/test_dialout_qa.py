"""Outbound calls are evaluated like inbound ones (issue 21 item 2): with the routing's ``record_outbound`` on, an
answered click-to-dial call is recorded on the switch, sampled by the QA desk's weekly rules and scored on the
scorecard; with it off the call is not recorded (and a sampled one is skipped for it)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_dialout import actor, control, desk, signed_in, until  # noqa: F401 - the desk fixture and helpers

from helpline.data.base import centre_today
from helpline.data.database import session
from helpline.data.qa import QaSample
from helpline.metadata.kinds.scorecard import Scorecard
from helpline.security.actor import Actor
from helpline.services import qa, qa_sampling
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.desk.dialout import outbound
from telephony.desk.service import DeskService

FULL = {
    "greeting.standard_greeting": 5, "greeting.verified_identity": 1,
    "handling.listened": 5, "handling.courtesy": 5, "handling.hold_etiquette": 5,
    "accuracy.correct_answer": 5, "accuracy.record_complete": 5,
    "closing.summary": 5, "closing.standard_closing": 5,
}


def answered_call(platform: Platform, desk: DeskService, number: str) -> tuple[int, str | None]:  # noqa: F811
    """agent1 dials ``number``, the customer answers and hangs up: the call's id and what the agent's phone was
    recording during the conversation."""
    who = actor(platform, "agent1")
    signed_in(desk, who)
    control(desk).outside.behave(number, ring_s=0.01)
    call_id = outbound(desk).dial(who, number)
    call = outbound(desk).get(call_id)
    assert call is not None
    until(lambda: call.answered_at is not None)
    until(lambda: call.recording is not None or not desk.router.router.settings.record_outbound)
    recording = control(desk).phones.phone(call.endpoint).recording
    assert control(desk).outside.hang_up(call_id)
    assert call.done.wait(2)
    return call_id, recording


def record_outbound(desk: DeskService, on: bool) -> None:  # noqa: F811
    desk.router.do(lambda r: r.reconfigure(replace(r.settings, record_outbound=on), r.policy))


def test_an_answered_outbound_call_is_recorded_sampled_and_evaluated(
        ivr_platform: Platform, desk: DeskService, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_RECORDINGS", str(tmp_path / "rec"))
    record_outbound(desk, True)
    call_id, recording = answered_call(ivr_platform, desk, "13800000201")
    record = CallService().get(call_id)
    assert record is not None and record["direction"] == "outbound"
    name = record["call_recording"]
    assert name == f"helpline/{centre_today().isoformat()}/{call_id}-{record['agent']}.wav"
    assert recording == name.removesuffix(".wav")  # the switch was told to record the conversation
    (tmp_path / "rec" / name).parent.mkdir(parents=True)
    (tmp_path / "rec" / name).write_bytes(b"RIFF....WAVE")  # what MixMonitor writes on Asterisk
    card = ivr_platform.metadata.objects["scorecard"]["call_quality"]
    assert isinstance(card, Scorecard)
    report = qa_sampling.sample_week(ivr_platform, card, centre_today())
    assert report.queued["random"] == 1 and not report.skipped
    with session():
        sample = QaSample.get(QaSample.call_id == call_id)
    assert (sample.agent, sample.status) == ("agent1", "queued")
    qa1 = Actor("qa1", roles=("qa",)).bind(ivr_platform.metadata)
    evaluation = qa.submit(ivr_platform, qa1, call_id, "call_quality", FULL)
    agent1 = Actor("agent1", roles=("agent",)).bind(ivr_platform.metadata)
    assert ivr_platform.records.get(agent1, "qa_evaluation", evaluation).values["agent"] == "agent1"


def test_without_record_outbound_the_call_is_not_recorded(ivr_platform: Platform, desk: DeskService  # noqa: F811
                                                          ) -> None:
    record_outbound(desk, False)
    call_id, recording = answered_call(ivr_platform, desk, "13800000202")
    assert recording is None
    record = CallService().get(call_id)
    assert record is not None and record["call_recording"] is None
    card = ivr_platform.metadata.objects["scorecard"]["call_quality"]
    assert isinstance(card, Scorecard)
    report = qa_sampling.sample_week(ivr_platform, card, centre_today())
    skipped = {s["call_id"]: s["reason"] for s in report.skipped}
    assert "no recording" in skipped[call_id]  # sampled, but there is nothing to listen to
