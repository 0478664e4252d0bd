"""The evaluation page: qa1 picks a sampled call from the queue, the player, the IVR trail and transfer markers
and the contact record are shown, an incomplete sheet is refused with the item named, a complete one with a
service error is saved; agent1 then reads it; agents cannot open the page."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.agents import CallRoute
from helpline.data.base import centre_day_of, utcnow
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services import qa_sampling
from helpline.services.agents import ensure_demo_agents
from helpline.services.platform import Platform


def sampled_call(platform: Platform, folder: Path) -> int:
    ensure_demo_agents()
    at = utcnow() - timedelta(days=7)
    rel = "qa/one.wav"
    (folder / "qa").mkdir(parents=True, exist_ok=True)
    (folder / rel).write_bytes(b"RIFF....WAVEfmt ")
    trail = [{"node": "start", "type": "menu", "flow": "main", "at_ms": 0, "duration_ms": 4000, "digits": ["2"]},
             {"node": "to_agent", "type": "transfer", "flow": "main", "at_ms": 4000, "duration_ms": 0}]
    with session():
        call_id = int(Call.insert(uniqueid="qa-1", agent="1001", queue="general", started_at=at, flow="main",
                                  ended_at=at + timedelta(minutes=12), routed="answered", talk_s=700.0,
                                  wait_s=6.0, call_recording=rel, trail=trail).execute())
        CallRoute.insert(call_id=call_id, at=at + timedelta(seconds=10), kind="answered", agent="1001").execute()
        CallRoute.insert(call_id=call_id, at=at + timedelta(seconds=300), kind="transfer", agent="1002",
                         reason="to billing").execute()
    platform.records.create(Actor.system(), "contact_record", {
        "serial_no": "QA-S1", "agent": "1001", "started_at": at + timedelta(seconds=60), "remarks": "billing question"})
    card = platform.metadata.objects["scorecard"]["call_quality"]
    report = qa_sampling.sample_week(platform, card, centre_day_of(at))  # type: ignore[arg-type]
    assert report.queued["long"] == 1
    return call_id


async def test_qa1_evaluates_a_sampled_call(user: User, ui_platform: Platform, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_RECORDINGS", str(tmp_path / "rec"))
    call_id = sampled_call(ui_platform, tmp_path / "rec")
    await log_in(user, "qa1")
    user.find("Evaluate calls").click()
    await user.should_see(marker="qa-queue", retries=100)
    pick = user.find(marker="qa-queue").elements.pop()
    assert isinstance(pick, ui.select)
    for _ in range(100):
        if call_id in pick.options:
            break
        await asyncio.sleep(0.05)
    pick.value = call_id
    await user.should_see(marker="qa-audio", retries=100)
    audio = user.find(marker="qa-audio").elements.pop()
    assert isinstance(audio, ui.audio) and audio.source == f"/recordings/{call_id}"
    await see(user, "main:start")
    await see(user, "transfer 1002")  # the transfer on the timeline
    await see(user, "General service")  # the queue by its label
    await see(user, "billing question")  # the contact record beside it
    courtesy = user.find(marker="qa-score-handling.courtesy").elements.pop()
    courtesy.value = 2
    user.find(marker="qa-submit").click()
    await see(user, "handling.courtesy: a comment is required")
    user.find(marker="qa-comment-handling.courtesy").type("talked over the caller")
    user.find(marker="qa-errors").elements.pop().value = ["impolite"]
    user.find(marker="qa-submit").click()
    await see(user, "saved")
    model = ui_platform.models["qa_evaluation"]
    with session():
        row = model.select().where(model.call_id == call_id).dicts().get()
    assert row["evaluator"] == "qa1" and row["agent"] == "agent1" and row["errors"] == ["impolite"]
    assert row["status"] == "evaluated" and float(row["total"]) == pytest.approx(93.7)


async def test_agents_cannot_open_the_evaluation_page(user: User) -> None:
    await log_in(user, "agent1", path="/page/qa_evaluate")
    await see(user, "Not allowed")
    await user.should_not_see(marker="qa-queue")
