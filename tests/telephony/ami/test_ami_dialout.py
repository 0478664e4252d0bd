"""Dialling out over AMI against the test peer: the ``Originate`` Asterisk receives, the events that follow
(the agent picks up → ring-back, the dialplan's HelplineOutbound user events → answered / ended), second
dialling as ``PlayDTMF``, the far end busy, congested or not answering, the agent's own phone busy, and the
manager link down (refused at once; through the desk, the attempt is recorded and the agent freed)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from ami_helpers import FAST_BACKOFF, SECRET, USER, sent

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services import agents as agent_service
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.ami.client import AmiClient
from telephony.ami.control import AmiCallControl
from telephony.ami.testpeer import AmiPeer
from telephony.control.base import ControlError, DialEvent
from telephony.control.channels import ChannelRegistry
from telephony.desk.dialout import outbound
from telephony.desk.service import DeskError, DeskService
from telephony.router.service import RouterService

EP, TRUNK = "PJSIP/1001", "PJSIP/trunk-0000000a"


class Events:
    def __init__(self) -> None:
        self.seen: list[DialEvent] = []
        self.cond = threading.Condition()

    def __call__(self, event: DialEvent) -> None:
        with self.cond:
            self.seen.append(event)
            self.cond.notify_all()

    def kinds(self) -> list[str]:
        return [e.kind for e in self.seen]

    def wait(self, kind: str, timeout: float = 2.0) -> DialEvent:
        with self.cond:
            assert self.cond.wait_for(lambda: any(e.kind == kind for e in self.seen), timeout), self.kinds()
            return next(e for e in self.seen if e.kind == kind)


@pytest.fixture
def control(client: AmiClient) -> Iterator[AmiCallControl]:
    made = AmiCallControl(client, ChannelRegistry())
    yield made
    made.dialout.close()


def user_event(peer: AmiPeer, call_id: int, state: str, **extra: str) -> None:
    peer.emit("UserEvent", UserEvent="HelplineOutbound", CallId=str(call_id), State=state, **extra)


def test_originate_rings_the_agent_then_the_number(peer: AmiPeer, control: AmiCallControl) -> None:
    events = Events()
    control.dial_out(7, EP, "13800000001", variables={"CAMPAIGN": "c1"}, timeout_s=25, on_event=events)
    originate = sent(peer)[0]
    assert {k: originate[k] for k in ("Action", "Channel", "Context", "Exten", "Priority", "Async")} == {
        "Action": "Originate", "Channel": EP, "Context": "helpline-outbound", "Exten": "13800000001",
        "Priority": "1", "Async": "true"}
    assert originate["Variable"] == "HELPLINE_CALL_ID=7,HELPLINE_DIAL_TIMEOUT=25,CAMPAIGN=c1"
    events.wait("ringback")  # the peer answered the agent's leg (OriginateResponse Success)
    agent = control.channels.get(7)
    assert agent is not None and agent.agent is not None and agent.agent.startswith(f"{EP}-")
    peer.add_channel(TRUNK)
    user_event(peer, 7, "answered", Channel=TRUNK)
    events.wait("answered")
    control.send_dtmf(7, EP, "80#")
    assert [a["Digit"] for a in sent(peer) if a["Action"] == "PlayDTMF"] == ["8", "0", "#"]
    assert peer.channels[TRUNK].variables["DTMF_SENT"] == "80#"
    user_event(peer, 7, "ended", DialStatus="ANSWER")
    ended = events.wait("ended")
    assert (ended.outcome, events.kinds()) == ("answered", ["agent_ringing", "ringback", "answered", "ended"])
    assert not control.dialout.active(7)


@pytest.mark.parametrize(("status", "outcome"), [("BUSY", "busy"), ("CONGESTION", "congestion"),
                                                 ("NOANSWER", "noanswer"), ("CHANUNAVAIL", "unavailable")])
def test_the_far_end_not_answering_ends_the_attempt(peer: AmiPeer, control: AmiCallControl, status: str,
                                                    outcome: str) -> None:
    events = Events()
    control.dial_out(8, EP, "13800000002", on_event=events)
    events.wait("ringback")
    with pytest.raises(ControlError, match="call 8 is not on Asterisk"):
        control.send_dtmf(8, EP, "1")
    user_event(peer, 8, "ended", DialStatus=status)
    assert events.wait("ended").outcome == outcome and "answered" not in events.kinds()


@pytest.mark.parametrize(("reason", "outcome"), [("5", "busy"), ("8", "congestion"), ("3", "noanswer"),
                                                 ("0", "unavailable")])
def test_the_agents_own_phone_not_taking_it(peer: AmiPeer, control: AmiCallControl, reason: str,
                                            outcome: str) -> None:
    peer.originate_reasons[EP] = reason
    events = Events()
    control.dial_out(9, EP, "13800000003", on_event=events)
    ended = events.wait("ended")
    assert ended.outcome == outcome and "ringback" not in events.kinds() and f"reason {reason}" in ended.detail


def test_hanging_up_while_the_number_rings_and_an_internal_call(peer: AmiPeer, control: AmiCallControl) -> None:
    events = Events()
    control.dial_out(10, EP, "13800000004", on_event=events)
    events.wait("ringback")
    control.hang_up(10, EP)  # Hangup of the agent's channel: the peer reports it
    assert events.wait("ended").outcome == "cancelled"
    internal = Events()
    control.dial_agent(11, EP, "PJSIP/1002", on_event=internal)
    assert sent(peer)[-1]["Context"] == "helpline-internal" and sent(peer)[-1]["Exten"] == "PJSIP-1002"
    with pytest.raises(ControlError, match="not a dialable endpoint"):
        control.dial_agent(12, EP, "1002")


def test_the_manager_link_down_refuses_at_once(peer: AmiPeer, control: AmiCallControl) -> None:
    control.client.close()
    events = Events()
    with pytest.raises(ControlError, match="cannot dial 13800000005: not connected"):
        control.dial_out(13, EP, "13800000005", on_event=events)
    assert events.seen == [] and not control.dialout.active(13)


def test_the_desk_records_an_attempt_the_link_refused(ivr_platform: Platform, peer: AmiPeer) -> None:
    with session():
        from helpline.data.agents import AgentEvent, AgentRecord

        AgentRecord.delete().execute()
        AgentEvent.delete().execute()
    agent_service.ensure_demo_agents()
    router = RouterService.from_platform(ivr_platform, restore=False).start()
    router.do(lambda r: r.reconfigure(replace(r.settings, wrap_up_s=30.0), r.policy))
    client = AmiClient(*peer.address, USER, SECRET, backoff=FAST_BACKOFF, connect_timeout=1.0,
                       action_timeout=1.0).connect()
    control = AmiCallControl(client, ChannelRegistry())
    desk = DeskService(ivr_platform, router, control)
    try:
        who = Actor("agent1", roles=("agent",)).bind(ivr_platform.metadata)
        number = desk.sign_in(who).number
        call_id = outbound(desk).dial(who, "13800000006")
        assert sent(peer)[-1]["Action"] == "Originate" and desk.view(number)["state"] == "ringing"
        peer.add_channel("PJSIP/trunk-0000000b")
        user_event(peer, call_id, "answered", Channel="PJSIP/trunk-0000000b")
        call = outbound(desk).get(call_id)
        assert call is not None
        user_event(peer, call_id, "ended", DialStatus="ANSWER")
        assert call.done.wait(2) and desk.view(number)["state"] == "wrap_up"
        desk.end_wrap_up(who)
        client.close()
        with pytest.raises(DeskError, match=r"the switch refused: .*not connected"):
            outbound(desk).dial(who, "13800000007")
        record = CallService().recent(1)[0]
        assert (record["direction"], record["dnid"], record["result"]) == ("outbound", "13800000007", "link_down")
        assert record["ended_at"] is not None and desk.view(number)["state"] == "idle"
    finally:
        outbound(desk).close()
        control.close()
        router.stop()


def test_consulting_an_outside_number_redirects_the_agent_to_dial_it(peer: AmiPeer, client: AmiClient) -> None:
    caller, agent = "PJSIP/trunk-00000007", "PJSIP/1001-00000008"
    registry = ChannelRegistry()
    registry.set_caller(42, caller)
    registry.set_agent(42, agent, EP)
    peer.add_channel(caller)
    peer.add_channel(agent)
    peer.bridge(caller, agent)
    control = AmiCallControl(client, registry)
    control.consult_out(42, EP, "13900000000")
    assert sent(peer)[-1] == {
        "Action": "Redirect", "Channel": caller, "Context": "helpline-hold", "Exten": "caller", "Priority": "1",
        "ExtraChannel": agent, "ExtraContext": "helpline-consult", "ExtraExten": "ext-13900000000",
        "ExtraPriority": "1"}
    entry = registry.get(42)
    assert entry is not None and entry.held and entry.consult == "external:13900000000"
    with pytest.raises(ControlError, match="cannot transfer to external:12ab"):
        control.consult_out(43, EP, "12ab")
    control.dialout.close()
