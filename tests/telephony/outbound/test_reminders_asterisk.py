"""Reminder campaigns on Asterisk: AMI ``Originate`` into the reminder context (the AMI test peer), the answered
customer's FastAGI session saying the amount and the due date with ``SAY NUMBER`` / ``SAY DATE`` (the AGI test
peer), a failed originate's reason as the outcome, and the AMI link down: the campaign pauses, no attempt is
lost, and it resumes when the link is back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest

from helpline.security.actor import Actor
from helpline.services import reminders
from helpline.services.platform import Platform
from telephony.agi import FastAGIServer
from telephony.agi.peermodel import Caller
from telephony.agi.testpeer import AsteriskPeer
from telephony.ami.client import AmiClient
from telephony.ami.testpeer import AmiPeer
from telephony.ivr import IvrEngine
from telephony.outbound.reminders import AmiReminderDialer, ReminderRunner, make_reminder_handler

SYSTEM = Actor.system()
USER, SECRET = "helpline", "s3cret"
DUE = date(2026, 12, 31)


@pytest.fixture
def ami() -> Iterator[tuple[AmiPeer, AmiClient]]:
    peer = AmiPeer({USER: SECRET}).start()
    client = AmiClient(*peer.address, USER, SECRET, backoff=(0.01, 0.02, 0.04), connect_timeout=1.0,
                       action_timeout=1.0).connect()
    yield peer, client
    client.close()
    peer.stop()


def wait_until(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def campaign_of(phones: list[str]) -> int:
    listed = [{"phone": p, "amount": 88.0, "due_date": DUE.isoformat()} for p in phones]
    campaign = reminders.create_campaign(SYSTEM, "On Asterisk", listed)
    reminders.start(SYSTEM, campaign)
    return campaign


def runner(platform: Platform, client: AmiClient) -> ReminderRunner:
    return ReminderRunner(platform, AmiReminderDialer(client), local_now=lambda: datetime(2026, 12, 7, 10, 0))


def test_originate_then_the_customer_hears_the_amount_and_date_over_fastagi(
        ivr_platform: Platform, ami: tuple[AmiPeer, AmiClient]) -> None:
    peer, client = ami
    phones = ["13700000001", "13700000002"]
    peer.originate_reasons["Local/13700000002@helpline-reminder-dial"] = "5"  # busy
    campaign = campaign_of(phones)
    run = runner(ivr_platform, client)
    assert run.run_once(campaign=campaign)["dialled"] == 2
    originates = peer.actions_named("Originate")
    assert [(o["Channel"], o["Context"], o["Exten"]) for o in originates] == [
        (f"Local/{p}@helpline-reminder-dial", "helpline-reminder", "s") for p in phones]
    first = int(originates[0]["Variable"].split("=")[1])
    # the busy one is ended by its OriginateResponse
    wait_until(lambda: reminders.summary(campaign)["attempts"].get("busy") == 1)
    # Asterisk runs the reminder context for the answered one: AGI(agi://…/reminder?attempt=<id>)
    server = FastAGIServer(port=0, read_timeout=5.0, hangup_grace=0.25)
    server.route("reminder", make_reminder_handler(ivr_platform, engine=IvrEngine(ivr_platform)))
    server.start()
    try:
        agi = AsteriskPeer(server.address, script=f"reminder?attempt={first}", env={"callerid": phones[0]},
                           caller=Caller("1"), timeout=10.0, time_scale=1.0)
        agi.start()
        agi.join(10)
    finally:
        server.stop()
    commands = agi.commands
    noon = int(datetime(DUE.year, DUE.month, DUE.day, 12, 0).timestamp())
    assert 'SAY NUMBER "88" ""' in commands and f'SAY DATE {noon} ""' in commands, agi.format_transcript()
    summary = reminders.summary(campaign)
    assert summary["attempts"] == {"confirmed": 1, "busy": 1}
    assert summary["targets"] == {"confirmed": 1, "pending": 1}


def test_a_session_for_an_unknown_attempt_plays_nothing(ivr_platform: Platform) -> None:
    server = FastAGIServer(port=0, read_timeout=5.0, hangup_grace=0.25)
    server.route("reminder", make_reminder_handler(ivr_platform, engine=IvrEngine(ivr_platform)))
    server.start()
    try:
        agi = AsteriskPeer(server.address, script="reminder?attempt=999999", env={"callerid": "13700000009"},
                           caller=Caller("1"), timeout=5.0, time_scale=1.0)
        agi.start()
        agi.join(5)
    finally:
        server.stop()
    assert not any(c.startswith("SAY") for c in agi.commands)


def test_the_ami_link_down_pauses_the_campaign_without_losing_attempts(
        ivr_platform: Platform, ami: tuple[AmiPeer, AmiClient]) -> None:
    peer, client = ami
    phones = ["13700000011", "13700000012", "13700000013"]
    campaign = campaign_of(phones)
    run = runner(ivr_platform, client)
    peer.mode = "close"  # Asterisk goes away: connections dropped, new ones closed at once
    peer.drop()
    wait_until(lambda: not client.connected)
    assert run.run_once(campaign=campaign) == {"dialled": 0, "refused": 0, "paused": 1}
    state = reminders.campaign(campaign)
    assert state["status"] == "paused" and state["pause_reason"].startswith("link: ")
    summary = reminders.summary(campaign)
    assert summary["targets"] == {"pending": 3}  # nobody lost, no attempt used
    assert [a["outcome"] for a in reminders.attempts(campaign)] == ["failed"]
    assert reminders.attempts(campaign)[0]["detail"].startswith("not dialled")
    assert run.run_once(campaign=campaign)["dialled"] == 0  # still down: stays paused
    peer.mode = "normal"  # back: the client reconnects, the next pass resumes the campaign
    assert client.wait_connected(3)
    assert run.run_once(campaign=campaign)["dialled"] == 3
    assert reminders.campaign(campaign)["status"] == "running"
    assert len(peer.actions_named("Originate")) == 3


def test_a_customer_hanging_up_during_say_date_is_called_again(ivr_platform: Platform,
                                                                  ami: tuple[AmiPeer, AmiClient]) -> None:
    peer, client = ami
    campaign = campaign_of(["13700000021"])
    assert runner(ivr_platform, client).run_once(campaign=campaign)["dialled"] == 1
    attempt = int(peer.actions_named("Originate")[-1]["Variable"].split("=")[1])
    server = FastAGIServer(port=0, read_timeout=5.0, hangup_grace=0.25)
    server.route("reminder", make_reminder_handler(ivr_platform, engine=IvrEngine(ivr_platform)))
    server.start()
    try:
        agi = AsteriskPeer(server.address, script=f"reminder?attempt={attempt}", env={"callerid": "13700000021"},
                           caller=Caller("1", hangup_at="SAY DATE"), timeout=10.0, time_scale=1.0)
        agi.start()
        agi.join(10)
    finally:
        server.stop()
    [row] = reminders.attempts(campaign)
    assert row["outcome"] == "hung_up" and row["detail"] == "hung up at due_date", agi.format_transcript()
    assert reminders.summary(campaign)["targets"] == {"pending": 1}  # called again after retry_days
