"""End to end over FastAGI with the Asterisk test peer: caller → IVR → queue (music on hold) → agent
reserved → ``EXEC Dial`` → the answered sub-session → talk → hang-up → wrap-up → ready, with the call
record, the routing decisions and the agent's transitions checked; and the unhappy paths."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from ivr_helpers import record_of

from helpline.services import agents as agent_service
from helpline.services.platform import Platform
from telephony.agi import FastAGIServer
from telephony.agi.peermodel import Caller, DialScript
from telephony.agi.testpeer import AsteriskPeer
from telephony.ivr import IvrEngine
from telephony.ivr.agi_handler import make_agi_handler
from telephony.router import AgentProfile, AgentState, AgentStatus
from telephony.router.service import RouterService
from telephony.switch.answers import ANSWERS, make_answered_handler

ORDINARY = "13800000001"


@pytest.fixture
def router(ivr_platform: Platform) -> Iterator[RouterService]:
    service = RouterService.from_platform(ivr_platform, restore=False).start()
    service.do(lambda r: r.reconfigure(replace(r.settings, offer_timeout_s=5, wrap_up_s=0.3), r.policy))
    yield service
    service.stop()


@pytest.fixture
def server(ivr_platform: Platform, router: RouterService) -> Iterator[FastAGIServer]:
    srv = FastAGIServer(port=0, read_timeout=5.0, hangup_grace=0.25)
    srv.route("ivr", make_agi_handler(ivr_platform, engine=IvrEngine(ivr_platform, router=router)))
    srv.route("answered", make_answered_handler(ANSWERS))
    srv.start()
    yield srv
    srv.stop()


def add_agent(router: RouterService, number: str, *, ready: bool) -> None:
    profile = AgentProfile(number, endpoint=f"PJSIP/{number}", skills={"general": 1})
    router.do(lambda r: r.add_agent(profile))
    router.do(lambda r: r.sign_in(number, ready=ready, reason=None if ready else "meeting"))


def peer_for(server: FastAGIServer, caller: Caller, outcomes: list[DialScript]) -> AsteriskPeer:
    return AsteriskPeer(server.address, script="ivr/main", env={"callerid": ORDINARY, "dnid": "96266"},
                        caller=caller, timeout=10.0, dial_outcomes=outcomes, time_scale=1.0)


def wait_for(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)



def test_caller_waits_on_hold_then_an_agent_answers(server: FastAGIServer, router: RouterService) -> None:
    add_agent(router, "3001", ready=False)
    peer = peer_for(server, Caller("0"), [DialScript("ANSWER", ring_s=0.1, talk_s=0.2)])
    peer.start()
    wait_for(lambda: router.router.waiting)  # queued, on music on hold
    time.sleep(0.3)
    router.do(lambda r: r.set_ready("3001"))
    peer.join(15)
    commands = peer.commands
    assert "SET MUSIC ON default" in commands, peer.format_transcript()
    assert any(c.startswith("WAIT FOR DIGIT 250") for c in commands)
    dial = [c for c in commands if c.startswith("EXEC Dial")]
    call_id = peer.variables_set["HELPLINE_CALL_ID"]
    # g: the caller's channel goes on when the agent hangs up; U(): the answered sub-session
    assert dial == [f'EXEC Dial "PJSIP/3001,5,gU(helpline-answered^{call_id})"'], dial
    assert commands.index("SET MUSIC OFF") < commands.index(dial[0])
    assert [[line for line in s.env_lines if line.startswith("agi_network_script:")] for s in peer.subsessions] \
        == [[f"agi_network_script: answered?call={call_id}"]]
    record = record_of(peer)
    assert record["result"] == "connected" and record["routed"] == "answered" and record["agent"] == "3001"
    assert record["wait_s"] >= 0.3
    # wrap-up (0.3 s), then ready and idle again
    wait_for(lambda: router.agent("3001")["state"] == AgentState.IDLE)  # type: ignore[index]
    assert router.agent("3001")["status"] == AgentStatus.READY  # type: ignore[index]
    router.journal.flush()  # type: ignore[union-attr]
    kinds = [r["kind"] for r in agent_service.call_route(int(call_id))]
    assert kinds == ["queued", "offered", "answered", "ended"]
    states = [e["new"] for e in reversed(agent_service.agent_journal("3001")) if e["what"] == "state"]
    assert states == ["reserved", "ringing", "talking", "wrap_up", "idle"]


def test_the_recorded_talk_time_is_the_talk_alone(server: FastAGIServer, router: RouterService) -> None:
    """Asterisk 22's ANSWEREDTIME counts from the caller's answer (IVR, queue and ringing included): the call
    record's talk_s must count from the agent's answer."""
    add_agent(router, "3009", ready=False)
    peer = peer_for(server, Caller("0"), [DialScript("ANSWER", ring_s=0.3, talk_s=1.0)])
    peer.start()
    wait_for(lambda: router.router.waiting)
    time.sleep(0.8)  # on hold in the queue
    router.do(lambda r: r.set_ready("3009"))
    peer.join(15)
    record = record_of(peer)
    assert record["routed"] == "answered" and record["agent"] == "3009", peer.format_transcript()
    assert int(peer.channel.variables["ANSWEREDTIME_MS"]) >= 2000, "IVR + queue + ringing + talk, as Asterisk says"
    assert 0.95 <= record["talk_s"] < 1.8, record["talk_s"]  # not the 2 s and more Asterisk counts


def test_no_answer_puts_the_call_back_and_the_next_offer_is_answered(server: FastAGIServer,
                                                                     router: RouterService) -> None:
    add_agent(router, "3002", ready=True)
    add_agent(router, "3003", ready=False)
    peer = peer_for(server, Caller("0"), [DialScript("NOANSWER", ring_s=0.1), DialScript("ANSWER", talk_s=0.1)])
    peer.start()
    wait_for(lambda: router.agent("3002")["status"] == AgentStatus.NOT_READY)  # type: ignore[index]
    router.do(lambda r: r.set_ready("3003"))
    peer.join(15)
    record = record_of(peer)
    assert record["agent"] == "3003" and record["routed"] == "answered", peer.format_transcript()
    assert router.agent("3002")["reason"] == "no_answer"  # type: ignore[index]
    endpoints = [c.split()[2].strip('"').split(",")[0] for c in peer.commands if c.startswith("EXEC Dial")]
    assert endpoints == ["PJSIP/3002", "PJSIP/3003"]


def test_caller_hangs_up_on_hold(server: FastAGIServer, router: RouterService) -> None:
    add_agent(router, "3004", ready=False)
    peer = peer_for(server, Caller("0", hangup_at="WAIT FOR DIGIT"), [])
    peer.run()
    record = record_of(peer)
    assert record["result"] == "hangup" and record["routed"] == "abandoned"
    assert not router.router.waiting and peer.server_closed
    assert router.agent("3004")["state"] == AgentState.IDLE  # type: ignore[index]


def test_caller_hangs_up_while_the_agent_rings(server: FastAGIServer, router: RouterService) -> None:
    add_agent(router, "3005", ready=True)
    peer = peer_for(server, Caller("0"), [DialScript("NOANSWER", ring_s=0.1, caller_hangs_up=True)])
    peer.run()
    record = record_of(peer)
    assert record["result"] == "hangup" and record["routed"] == "abandoned", peer.format_transcript()
    wait_for(lambda: router.agent("3005")["state"] == AgentState.IDLE)  # type: ignore[index]
    assert router.agent("3005")["status"] == AgentStatus.READY  # type: ignore[index]
    assert not router.router.waiting and not router.router.active


def test_a_recorded_queue_starts_mixmonitor_before_the_dial(server: FastAGIServer, router: RouterService) -> None:
    router.do(lambda r: r.reconfigure(replace(r.settings, queues={
        **r.settings.queues, "general": replace(r.settings.queues["general"], record=True)}), r.policy))
    add_agent(router, "3006", ready=True)
    peer = peer_for(server, Caller("0"), [DialScript("ANSWER", talk_s=0.1)])
    peer.run()
    record = record_of(peer)
    mix = [c for c in peer.commands if c.startswith("EXEC MixMonitor")]
    assert mix == [f'EXEC MixMonitor "{record["call_recording"]},b"'], peer.format_transcript()
    assert peer.commands.index(mix[0]) < next(i for i, c in enumerate(peer.commands) if c.startswith("EXEC Dial"))


@pytest.fixture
def full_server(ivr_platform: Platform, router: RouterService) -> Iterator[FastAGIServer]:
    """The server as run.py starts it: ivr, answered and transfer routes."""
    from telephony.ivr.agi_handler import start_agi_server

    srv = start_agi_server(ivr_platform, "127.0.0.1", 0, router=router, read_timeout=5.0)
    yield srv
    srv.stop()


def test_a_caller_transferred_through_the_dialplan_reaches_the_queue(full_server: FastAGIServer,
                                                                    router: RouterService) -> None:
    first = peer_for(full_server, Caller("0"), [DialScript("ANSWER", talk_s=0.05)])
    add_agent(router, "3007", ready=True)
    first.run()
    original = int(first.variables_set["HELPLINE_CALL_ID"])
    router.do(lambda r: r.add_agent(replace(r.agents["3007"].profile, skills={"complaint": 1})))
    wait_for(lambda: router.agent("3007")["state"] == AgentState.IDLE)  # type: ignore[index]
    again = AsteriskPeer(full_server.address, script=f"transfer/queue/complaint?call={original}",
                         env={"callerid": ORDINARY, "dnid": "96266"}, caller=Caller(""), timeout=10.0,
                         dial_outcomes=[DialScript("ANSWER", talk_s=0.05)], time_scale=1.0)
    again.run()
    record = record_of(again)
    assert record["queue"] == "complaint" and record["agent"] == "3007", again.format_transcript()
    assert record["result"] == "connected" and record["variables"]["transferred_from"] == original
    gone = AsteriskPeer(full_server.address, script="transfer/nowhere", env={"callerid": ORDINARY},
                        caller=Caller(""), timeout=5.0)
    gone.run()
    assert gone.server_closed  # a malformed transfer is logged and the session closed


def test_a_call_moved_out_of_the_session_by_call_control_ends_when_the_caller_hangs_up(
        server: FastAGIServer, router: RouterService) -> None:
    from telephony.control.channels import CHANNELS

    add_agent(router, "3008", ready=True)
    peer = peer_for(server, Caller("0"), [DialScript("ANSWER", talk_s=0.4)])
    peer.start()
    wait_for(lambda: router.agent("3008")["state"] == AgentState.TALKING)  # type: ignore[index]
    call_id = router.agent("3008")["call_id"]  # type: ignore[index]
    CHANNELS.set_caller(call_id, "PJSIP/trunk-00000001")
    CHANNELS.update(call_id, detached=True)  # what AmiCallControl does before a Redirect (hold)
    peer.join(10)
    time.sleep(0.1)
    assert router.agent("3008")["state"] == AgentState.TALKING  # type: ignore[index]
    CHANNELS.channel_gone("PJSIP/trunk-00000001")  # the caller hangs up in the dialplan
    wait_for(lambda: router.agent("3008")["state"] == AgentState.WRAP_UP)  # type: ignore[index]
