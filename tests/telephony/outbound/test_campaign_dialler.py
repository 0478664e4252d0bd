"""The campaign dialler on the simulated switch: an agent works progressive and preview campaign calls (busy retried,
an answered call filed with the questionnaire, a contact record per call), a number put on the do-not-call list is
not dialled, the agent's browser closing mid-call ends the call with its attempt recorded, and the AMI link going
down pauses the campaign and its coming back resumes it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from dialler_helpers import (
    MONDAY_10,
    agent,
    campaign_metadata,
    close_desk,
    control,
    make_desk,
    number_row,
    start_campaign,
    until,
)

from helpline.data.campaigns import CampaignAttempt
from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services.campaigns import AnswerError, CampaignError
from helpline.services.platform import Platform
from telephony.ami.client import AmiClient
from telephony.ami.testpeer import AmiPeer
from telephony.desk.dialout import outbound
from telephony.desk.service import DeskService
from telephony.outbound.dialler import Dialler

ROOT = Path(__file__).resolve().parents[3]


class Clock:
    def __init__(self) -> None:
        self.at = MONDAY_10

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.at


def _platform(base: Path, strategy: str) -> Platform:
    metadata = base / "metadata"
    shutil.copytree(ROOT / "metadata", metadata)
    campaign_metadata(metadata, strategy)
    platform = Platform()
    platform.start(f"sqlite:///{base}/helpline.db", str(metadata))
    return platform


@pytest.fixture
def setup(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Platform, DeskService, Clock]]:
    platform = _platform(tmp_path, getattr(request, "param", "progressive"))
    desk = make_desk(platform)
    yield platform, desk, Clock()
    close_desk(desk)


def test_an_agent_works_progressive_campaign_calls(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform, desk, clock = setup
    service, run_id = start_campaign(platform, clock, tmp_path, ["13800000201", "13800000202", "13800000203"])
    outside = control(desk).outside
    outside.behave("13800000201", result="busy")
    outside.behave("13800000202", ring_s=0.01)
    dialler = Dialler(platform, desk, service, now=clock)
    agent1 = agent(platform, desk, "agent1")
    dialler.join(agent1, run_id)
    dialler.tick()  # ready and idle: the first number is dialled
    until(lambda: number_row("13800000201").status == "ready" and number_row("13800000201").attempts == 1)
    assert number_row("13800000201").last_outcome == "busy"
    assert number_row("13800000201").next_at == MONDAY_10 + timedelta(minutes=10)
    until(lambda: dialler._free(agent1))
    dialler.tick()  # the next number answers
    call = until(lambda: dialler.current("agent1"))
    assert call.claim.phone == "13800000202" and call.campaign.script is not None
    placed = until(lambda: outbound(desk).get(call.call_id or 0))
    until(lambda: placed.answered_at is not None)
    with pytest.raises(AnswerError, match="reason: an answer is required"):
        dialler.finish(agent1, {"solved": "no"})
    dialler.finish(agent1, {"solved": "no", "reason": "still no signal"})
    assert outside.hang_up(call.call_id)
    until(lambda: number_row("13800000202").status == "done")
    number = number_row("13800000202")
    assert number.answers == {"solved": False, "reason": "still no signal"} and number.agent == "agent1"
    with session():
        attempt = CampaignAttempt.get(CampaignAttempt.number == number.id)
    assert (attempt.outcome, attempt.call_id, attempt.agent) == ("answered", call.call_id, "agent1")
    record = platform.records.get(agent1, "contact_record", call.contact_record or 0)
    assert record.values["direction"] == "outbound" and record.values["caller_number"] == "13800000202"
    figures = service.monitor(run_id)
    assert figures["outcomes"] == {"busy": 1, "answered": 1, "claimed": 1}  # 203 waits in the hopper
    assert figures["contact_rate"] == 0.5 and figures["agents"] == ["agent1"]
    dialler.stop()  # the hopper's claimed numbers go back
    assert number_row("13800000203").status == "ready" and number_row("13800000203").attempts == 0


@pytest.mark.parametrize("setup", ["predictive", "progressive"], indirect=True)
def test_a_run_whose_campaign_is_gone_is_left_and_the_round_goes_on(  # type: ignore[no-untyped-def]
        setup, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A campaign's definition removed while agents work its run (its hopper already made): the round warns,
    the run's agents leave it, and the next rounds run (it raised out of every round and logged an error)."""
    from helpline.data.campaigns import CampaignRun

    platform, desk, clock = setup
    service, run_id = start_campaign(platform, clock, tmp_path, [f"138000003{i:02d}" for i in range(6)])
    dialler = Dialler(platform, desk, service, now=clock)
    agent1 = agent(platform, desk, "agent1")
    dialler.join(agent1, run_id)
    assert dialler.hopper(run_id).refill(clock()) == 4  # made and filled while the campaign was defined
    with session():
        CampaignRun.update(campaign="gone_campaign").where(CampaignRun.id == run_id).execute()
    with caplog.at_level("WARNING", logger="telephony.outbound.dialler"):
        dialler.tick()
        dialler.tick()
    assert "agent1" not in dialler.members
    assert any("no campaign 'gone_campaign'" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    dialler.stop()


@pytest.mark.parametrize("setup", ["preview"], indirect=True)
def test_preview_refuses_a_number_put_on_the_do_not_call_list(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform, desk, clock = setup
    service, run_id = start_campaign(platform, clock, tmp_path, ["13800000301", "13800000302"])
    dialler = Dialler(platform, desk, service, now=clock)
    agent1 = agent(platform, desk, "agent1")
    with pytest.raises(CampaignError, match="join a campaign first"):
        dialler.next(agent1)
    dialler.join(agent1, run_id)
    dialler.tick()
    assert dialler.current("agent1") is None  # preview: nothing is dialled by itself
    shown = dialler.next(agent1)
    assert shown is not None and shown.state == "preview"
    service.add_dnc(Actor("sup1", roles=("supervisor",)).bind(platform.metadata), [shown.claim.phone])
    with pytest.raises(CampaignError, match="do-not-call"):
        dialler.dial(agent1)
    assert number_row(shown.claim.phone).status == "dnc" and number_row(shown.claim.phone).attempts == 0
    with session():  # its attempt was withdrawn: it was never dialled
        assert not CampaignAttempt.select().where(CampaignAttempt.id == shown.claim.attempt_id).exists()
    second = dialler.next(agent1)
    assert second is not None and second.claim.phone != shown.claim.phone
    dialler.skip(agent1)
    assert number_row(second.claim.phone).status == "ready"
    dialler.stop()


def test_the_browser_closing_during_a_campaign_call(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform, desk, clock = setup
    service, run_id = start_campaign(platform, clock, tmp_path, ["13800000701", "13800000702"])
    dialler = Dialler(platform, desk, service, now=clock)
    agent1 = agent(platform, desk, "agent1")
    dialler.join(agent1, run_id)
    dialler.tick()
    call = until(lambda: dialler.current("agent1"))
    placed = until(lambda: outbound(desk).get(call.call_id or 0))
    until(lambda: placed.answered_at is not None)
    number = desk.agent_of(agent1).number
    desk.router.do(lambda r: r.agent_disconnected(number))  # the browser closed (grace 0.05 s)
    assert placed.done.wait(2)
    until(lambda: number_row(call.claim.phone).status == "done")
    with session():
        attempt = CampaignAttempt.get(CampaignAttempt.id == call.claim.attempt_id)
    assert (attempt.outcome, attempt.call_id) == ("answered", call.call_id) and attempt.ended_at is not None
    assert dialler.current("agent1") is call and call.state == "ended"  # still to be filed when the agent is back
    dialler.tick()  # not ready now (disconnected): nothing more is dialled for the agent
    assert dialler.current("agent1") is call and outbound(desk).current(number) is None
    dialler.finish(agent1, {"solved": "yes"})
    assert number_row(call.claim.phone).answers == {"solved": True}
    dialler.stop()


def test_the_ami_link_down_pauses_and_resumes(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform, desk, clock = setup
    service, run_id = start_campaign(platform, clock, tmp_path, ["13800000401", "13800000402"])
    with AmiPeer({"helpline": "s3cret"}) as peer:
        client = AmiClient(*peer.address, "helpline", "s3cret", backoff=(0.01,)).connect()
        try:
            dialler = Dialler(platform, desk, service, link=lambda: client.connected, now=clock)
            agent1 = agent(platform, desk, "agent1")
            control(desk).outside.behave("13800000401", result="busy")
            control(desk).outside.behave("13800000402", result="busy")
            dialler.join(agent1, run_id)
            peer.reject_next = 1000  # Asterisk is gone: reconnections fail
            peer.drop()
            until(lambda: not client.connected)
            dialler.tick()
            assert service.status(run_id) == "paused" and service.runs()[0]["reason"] == "link"
            assert dialler.current("agent1") is None
            with session():
                assert CampaignAttempt.select().count() == 0  # nothing claimed, nothing lost
            peer.reject_next = 0
            assert client.wait_connected(3)
            dialler.tick()
            assert service.status(run_id) == "running"
            until(lambda: number_row("13800000401").attempts == 1 and number_row("13800000401").status == "ready")
            # a supervisor's own pause is not lifted by the link coming back
            sup = Actor("sup1", roles=("supervisor",)).bind(platform.metadata)
            service.pause(sup, run_id)
            peer.reject_next = 1000
            peer.drop()
            until(lambda: not client.connected)
            dialler.tick()
            peer.reject_next = 0
            assert client.wait_connected(3)
            dialler.tick()
            assert service.status(run_id) == "paused" and service.runs()[0]["reason"] == "user"
            dialler.stop()
        finally:
            client.close()
