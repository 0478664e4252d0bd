"""Predictive campaigns on the simulated switch: customers are rung without an agent (the pacer's count, never
over the campaign's ``max_lines``), an answered one is offered through the router to a free agent of the
campaign's queue, whose desktop shows the campaign card; nobody free within the drop time → ``abandoned``, recorded
and not dialled again in the same window; on Asterisk (the AMI test peer) the lines are the reminders' Originate
and the link going down pauses the run as for progressive campaigns."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from dialler_helpers import (
    MONDAY_10,
    agent,
    close_desk,
    control,
    make_desk,
    number_row,
    start_campaign,
    until,
)
from pydantic import ValidationError

from helpline.data.calls import Call
from helpline.data.campaigns import CampaignAttempt
from helpline.data.database import session
from helpline.metadata.kinds.campaign import Campaign
from helpline.services.platform import Platform
from telephony.agi import FastAGIServer
from telephony.agi.peermodel import Caller
from telephony.agi.testpeer import AsteriskPeer
from telephony.ami.client import AmiClient
from telephony.ami.testpeer import AmiPeer
from telephony.desk.dialout import outbound
from telephony.desk.screenpop import open_contact_record, screen_pop
from telephony.desk.service import DeskService
from telephony.outbound.dialler import Dialler
from telephony.outbound.pacing import DialState
from telephony.outbound.predictive import (
    DROP_AFTER_S,
    AmiCustomerDialer,
    CustomerDialer,
    Predictive,
    make_campaign_handler,
)
from telephony.router.model import AgentState

ROOT = Path(__file__).resolve().parents[3]

CAMPAIGN = """\
kind: campaign
name: test_calls
strategy: predictive
list: {import: campaign_numbers, phone: phone, name: name}
queue: general
windows:
  - {days: [mon, tue, wed, thu, fri, sat, sun], from: '09:00', to: '18:00'}
max_attempts: 3
max_lines: 2
hopper: 6
script: {en: 'Hello {name}, a short survey.', zh_CN: '您好 {name}，做个简短回访。'}
questions:
  - {name: solved, type: yes_no, required: true, label: {en: Solved?, zh_CN: 解决了吗}}
"""


class Clock:
    def __init__(self) -> None:
        self.at = MONDAY_10

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.at


class Fixed:
    """A pacer that asks for ``n`` lines and keeps the states it was shown."""

    method = "fixed"

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen: list[DialState] = []

    def lines_to_dial(self, state: DialState) -> int:
        self.seen.append(state)
        return self.n


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Platform, DeskService, Clock]]:
    metadata = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", metadata)
    (metadata / "campaigns" / "test_calls.yaml").write_text(CAMPAIGN, encoding="utf-8")
    platform = Platform()
    platform.start(f"sqlite:///{tmp_path}/helpline.db", str(metadata))
    desk = make_desk(platform)
    yield platform, desk, Clock()
    close_desk(desk)


def _attempt(phone: str) -> CampaignAttempt:
    with session():
        return CampaignAttempt.get(CampaignAttempt.phone == phone)


def _predictive(dialler: Dialler) -> Predictive:
    assert dialler.predictive is not None
    return dialler.predictive


def test_an_answered_customer_is_offered_to_a_free_agent(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform, desk, clock = setup
    service, run_id = start_campaign(platform, clock, tmp_path, ["13800000801", "13800000802"])
    outside = control(desk).outside
    outside.behave("13800000801", ring_s=0.01)
    dialler = Dialler(platform, desk, service, now=clock)
    agent1 = agent(platform, desk, "agent1")
    dialler.join(agent1, run_id)
    assert outbound(desk).current(desk.agent_of(agent1).number) is None
    dialler.tick()  # the predictive pacer has no answer rate yet: one line for the one free agent
    card = until(lambda: dialler.current("agent1"))
    assert card.claim.phone == "13800000801" and card.campaign.script is not None
    number = desk.agent_of(agent1).number
    until(lambda: desk.router.do(lambda r: r.agents[number].state) == AgentState.TALKING)
    assert outbound(desk).current(number) is None  # the customer came first: no agent dial-out
    pop = screen_pop(platform, agent1, card.call_id or 0)  # the desktop's screen pop of the offered call
    assert (pop["caller_number"], pop["queue"], pop["direction"]) == ("13800000801", "general", "outbound")
    assert open_contact_record(platform, agent1, pop).values["direction"] == "outbound"
    assert len(_predictive(dialler).active(run_id)) == 1
    dialler.tick()  # the only agent is talking: the pacer dials nothing more (802 waits in the hopper)
    assert len(_predictive(dialler).active(run_id)) == 1
    with session():
        assert Call.select().where(Call.dnid == "13800000802").count() == 0
    assert outside.hang_up(card.call_id or 0)
    until(lambda: _attempt("13800000801").outcome == "answered")
    attempt = _attempt("13800000801")
    assert (attempt.agent, attempt.call_id) == ("agent1", card.call_id)
    with session():
        call = Call.get_by_id(card.call_id)
    assert (call.direction, call.dnid, call.result, call.agent) == ("outbound", "13800000801", "answered", number)
    dialler.finish(agent1, {"solved": "yes"})
    assert number_row("13800000801").answers == {"solved": True} and number_row("13800000801").status == "done"
    dialler.stop()


def test_no_agent_within_the_drop_time_is_abandoned_and_not_retried_in_the_window(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform, desk, clock = setup
    service, run_id = start_campaign(platform, clock, tmp_path, ["13800000901"])
    assert DROP_AFTER_S == 2.0
    pacer = Fixed(1)
    dialler = Dialler(platform, desk, service, now=clock,
                      predictive=lambda d, c: Predictive(d, c, drop_after_s=0.1, pacer=lambda _: pacer))
    agent1 = agent(platform, desk, "agent1")
    dialler.join(agent1, run_id)
    desk.not_ready(agent1, "rest")  # signed in (the queue takes the call) but nobody free
    dialler.tick()
    until(lambda: _attempt("13800000901").outcome == "abandoned")
    assert pacer.seen[0].agents_free == 0
    number = number_row("13800000901")
    assert number.status == "ready" and number.attempts == 1
    assert number.next_at == MONDAY_10 + timedelta(hours=23)  # tomorrow 09:00 in Shanghai, not later today
    with session():
        call = Call.get_by_id(_attempt("13800000901").call_id)
    assert call.result == "abandoned" and call.agent is None
    assert service.monitor(run_id)["abandoned"] == 1
    assert dialler.current("agent1") is None
    clock.at = MONDAY_10 + timedelta(hours=2)  # later in the same window, the agent ready: still not dialled
    desk.ready(agent1)
    assert service.claim(run_id, 5, now=clock.at) == []
    clock.at = MONDAY_10 + timedelta(hours=23, minutes=1)  # the next window
    assert [c.phone for c in service.claim(run_id, 5, now=clock.at)] == ["13800000901"]
    dialler.stop()


def test_the_pacers_count_is_dialled_never_over_max_lines(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform, desk, clock = setup
    phones = [f"1380000100{i}" for i in range(5)]
    service, run_id = start_campaign(platform, clock, tmp_path, phones)
    outside = control(desk).outside
    for phone in phones:
        outside.behave(phone, ring_s=10)  # they ring while we count
    pacer = Fixed(1)
    dialler = Dialler(platform, desk, service, now=clock,
                      predictive=lambda d, c: Predictive(d, c, pacer=lambda _: pacer))
    dialler.join(agent(platform, desk, "agent1"), run_id)
    predictive = _predictive(dialler)
    dialler.tick()
    assert len(predictive.active(run_id)) == 1
    dialler.tick()
    assert len(predictive.active(run_id)) == 2
    assert (pacer.seen[1].ringing, pacer.seen[1].agents_free, pacer.seen[1].lines_free) == (1, 1, 1)
    pacer.n = 3
    dialler.tick()  # max_lines: 2 in flight already
    lines = predictive.active(run_id)
    assert len(lines) == 2 and pacer.seen[-1].lines_free == 0
    with session():
        assert Call.select().count() == 2  # dialled (the hopper's other claims wait undialled)
    pacer.n = 0
    for line in lines:
        outside.hang_up(line.call_id)  # never answered
    until(lambda: not predictive.active(run_id))
    assert sorted(_attempt(line.claim.phone).outcome for line in lines) == ["no_answer", "no_answer"]
    pacer.n = 3
    dialler.tick()
    assert len(predictive.active(run_id)) == 2  # the cap again, with the next numbers
    for line in predictive.active(run_id):
        outside.hang_up(line.call_id)
    until(lambda: not predictive.active(run_id))
    dialler.stop()


def test_max_lines_is_checked() -> None:
    base = {"kind": "campaign", "name": "c", "list": {"import": "x", "phone": "phone"}, "queue": "general",
            "windows": [{"days": ["mon"], "from": "09:00", "to": "18:00"}]}
    assert Campaign.model_validate(base).max_lines == 20
    with pytest.raises(ValidationError, match="max_lines"):
        Campaign.model_validate({**base, "max_lines": 0})


def test_on_asterisk_lines_are_originated_and_the_link_down_pauses(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform, desk, clock = setup
    service, run_id = start_campaign(platform, clock, tmp_path, ["13800001101", "13800001102", "13800001103"])
    with AmiPeer({"helpline": "s3cret"}) as peer:
        client = AmiClient(*peer.address, "helpline", "s3cret", backoff=(0.01,)).connect()
        customers: CustomerDialer = AmiCustomerDialer(client)
        try:
            peer.originate_reasons["Local/13800001101@helpline-reminder-dial"] = "5"  # busy
            dialler = Dialler(platform, desk, service, link=lambda: client.connected, now=clock, customers=customers)
            dialler.join(agent(platform, desk, "agent1"), run_id)
            dialler.tick()
            originate = until(lambda: peer.actions_named("Originate"))[0]
            assert (originate["Channel"], originate["Context"]) == (
                "Local/13800001101@helpline-reminder-dial", "helpline-campaign")
            until(lambda: _attempt("13800001101").outcome == "busy")  # its OriginateResponse
            assert originate["Variable"] == f"HELPLINE_CAMPAIGN_CALL={_attempt('13800001101').call_id}"
            peer.reject_next = 1000  # Asterisk is gone
            peer.drop()
            until(lambda: not client.connected)
            dialler.tick()
            assert service.status(run_id) == "paused" and service.runs()[0]["reason"] == "link"
            assert len(peer.actions_named("Originate")) == 1
            with session():
                assert Call.select().count() == 1  # nothing dialled while down
                assert CampaignAttempt.select().where(CampaignAttempt.outcome == "").count() == 2  # in the hopper
            peer.reject_next = 0
            assert client.wait_connected(3)
            dialler.tick()
            assert service.status(run_id) == "running"
            until(lambda: len(peer.actions_named("Originate")) == 2)
            dialler.stop()
        finally:
            client.close()


def test_on_asterisk_an_answered_customer_without_an_agent_is_hung_up_over_fastagi(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform, desk, clock = setup
    service, run_id = start_campaign(platform, clock, tmp_path, ["13800001201"])
    with AmiPeer({"helpline": "s3cret"}) as peer:
        client = AmiClient(*peer.address, "helpline", "s3cret", backoff=(0.01,)).connect()
        customers = AmiCustomerDialer(client)
        server = FastAGIServer(port=0, read_timeout=5.0, hangup_grace=0.25)
        server.route("campaign", make_campaign_handler(lambda: customers))
        server.start()
        try:
            dialler = Dialler(platform, desk, service, link=lambda: client.connected, now=clock, customers=customers,
                              predictive=lambda d, c: Predictive(d, c, drop_after_s=0.1, pacer=lambda _: Fixed(1)))
            agent1 = agent(platform, desk, "agent1")
            dialler.join(agent1, run_id)
            desk.not_ready(agent1, "rest")
            dialler.tick()
            originate = until(lambda: peer.actions_named("Originate"))[0]
            script = "campaign?call=" + originate["Variable"].split("=")[1]
            # Asterisk runs [helpline-campaign] for the answered customer
            agi = AsteriskPeer(server.address, script=script, env={"callerid": "13800001201"}, caller=Caller(""),
                               timeout=5.0, time_scale=1.0)
            agi.start()
            agi.join(5)
            assert "HANGUP" in agi.commands, agi.format_transcript()
            until(lambda: _attempt("13800001201").outcome == "abandoned")
            assert number_row("13800001201").next_at == MONDAY_10 + timedelta(hours=23)
            dialler.stop()
        finally:
            server.stop()
            client.close()


def test_a_second_call_taken_before_the_first_is_filed_waits_its_turn(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform, desk, clock = setup
    service, run_id = start_campaign(platform, clock, tmp_path, ["13800001301", "13800001302"])
    outside = control(desk).outside
    for phone in ("13800001301", "13800001302"):
        outside.behave(phone, ring_s=0.01, talk_s=0.05)  # the customers hang up after a short talk
    dialler = Dialler(platform, desk, service, now=clock)
    agent1 = agent(platform, desk, "agent1")
    dialler.join(agent1, run_id)
    dialler.tick()
    first = until(lambda: dialler.current("agent1"))
    until(lambda: _attempt(first.claim.phone).outcome == "answered")
    until(lambda: dialler._free(agent1))
    dialler.tick()  # the agent is free again though the first card is not filed: the next customer comes
    other = "13800001302" if first.claim.phone == "13800001301" else "13800001301"
    until(lambda: _attempt(other).outcome == "answered")
    assert dialler.current("agent1") is first  # the first card stays until it is filed
    dialler.finish(agent1, {"solved": "yes"})
    second = dialler.current("agent1")
    assert second is not None and second.claim.phone == other
    dialler.finish(agent1, {"solved": "no"})
    assert dialler.current("agent1") is None
    assert {number_row(p).answers["solved"] for p in ("13800001301", "13800001302")} == {True, False}
    dialler.stop()
