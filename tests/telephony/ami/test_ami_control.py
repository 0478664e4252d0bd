"""``AmiCallControl``: every CallControl method → the exact AMI actions and headers Asterisk (the peer)
received, the registry kept in step, and every failure mapped to a ControlError naming the call."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ami_helpers import SECRET, USER, sent

from telephony.ami.client import AmiClient
from telephony.ami.control import AmiCallControl, endpoint_exten, transfer_exten
from telephony.ami.testpeer import AmiPeer
from telephony.control.base import ControlError, Target
from telephony.control.channels import ChannelRegistry

CALLER, AGENT, CONSULTED = "PJSIP/trunk-00000007", "PJSIP/1001-00000008", "PJSIP/1002-00000009"
EP, OTHER, SUPERVISOR = "PJSIP/1001", "PJSIP/1002", "PJSIP/1009"


@pytest.fixture
def registry() -> ChannelRegistry:
    channels = ChannelRegistry()
    channels.set_caller(42, CALLER)
    channels.set_agent(42, AGENT, EP)
    return channels


@pytest.fixture
def control(peer: AmiPeer, client: AmiClient, registry: ChannelRegistry) -> Iterator[AmiCallControl]:
    peer.add_channel(CALLER)
    peer.add_channel(AGENT)
    peer.bridge(CALLER, AGENT)
    yield AmiCallControl(client, registry)


HOLD = {"Action": "Redirect", "Channel": CALLER, "Context": "helpline-hold", "Exten": "caller", "Priority": "1",
        "ExtraChannel": AGENT, "ExtraContext": "helpline-hold", "ExtraExten": "agent", "ExtraPriority": "1"}
BRIDGE_BACK = {"Action": "Bridge", "Channel1": CALLER, "Channel2": AGENT, "Tone": "no"}


def _consulting(peer: AmiPeer, control: AmiCallControl, *, answered: bool = True) -> int:
    """Start a consultation of OTHER; returns how many actions it took."""
    control.consult(42, EP, OTHER)
    if answered:
        peer.add_channel(CONSULTED)
        peer.bridge(AGENT, CONSULTED)
    return len(sent(peer))


# ------------------------------------------------------------------------------------------- hold
def test_hold_is_one_dual_redirect(peer: AmiPeer, control: AmiCallControl, registry: ChannelRegistry) -> None:
    control.hold(42, EP)
    assert sent(peer) == [HOLD]
    assert peer.channels[CALLER].location == ("helpline-hold", "caller", "1")
    assert peer.channels[AGENT].location == ("helpline-hold", "agent", "1")
    entry = registry.get(42)
    assert entry is not None and entry.held and entry.detached
    assert not registry.session_ended(42) and 42 in registry, "a held call outlives its AGI session"
    with pytest.raises(ControlError, match="call 42 is already on hold"):
        control.hold(42, EP)


def test_unhold_bridges_caller_and_agent(peer: AmiPeer, control: AmiCallControl, registry: ChannelRegistry) -> None:
    with pytest.raises(ControlError, match="call 42 is not on hold"):
        control.unhold(42, EP)
    control.hold(42, EP)
    control.unhold(42, EP)
    assert sent(peer) == [HOLD, BRIDGE_BACK]
    assert peer.channels[CALLER].bridged_with == AGENT
    entry = registry.get(42)
    assert entry is not None and not entry.held


@pytest.mark.parametrize(("on", "state"), [(True, "on"), (False, "off")])
def test_mute(peer: AmiPeer, control: AmiCallControl, on: bool, state: str) -> None:
    control.mute(42, EP, on)
    assert sent(peer) == [{"Action": "MuteAudio", "Channel": AGENT, "Direction": "in", "State": state}]
    assert peer.channels[AGENT].muted == {"in": on}


def test_hang_up_ends_the_agents_leg(peer: AmiPeer, control: AmiCallControl, registry: ChannelRegistry) -> None:
    control.hang_up(42, EP)
    assert sent(peer) == [{"Action": "Hangup", "Channel": AGENT, "Cause": "16"}]
    entry = registry.get(42)
    assert entry is not None and entry.agent is None and entry.caller == CALLER


def test_hang_up_on_hold_also_ends_the_waiting_caller(peer: AmiPeer, control: AmiCallControl,
                                                       registry: ChannelRegistry) -> None:
    control.hold(42, EP)
    control.hang_up(42, EP)
    assert sent(peer)[1:] == [{"Action": "Hangup", "Channel": AGENT, "Cause": "16"},
                              {"Action": "Hangup", "Channel": CALLER, "Cause": "16"}]
    assert peer.wait_for(lambda: 42 not in registry), "the caller's Hangup event forgets the call"


# -------------------------------------------------------------------------------------- transfers
@pytest.mark.parametrize(("target", "exten"), [
    (Target("agent", "1002"), "agent-1002"), (Target("queue", "billing"), "queue-billing"),
    (Target("ivr", "main"), "ivr-main"), (Target("external", "13800000000"), "ext-13800000000"),
    (Target("endpoint", "PJSIP/1009"), "endpoint-PJSIP-1009"),
])
def test_blind_transfer(peer: AmiPeer, control: AmiCallControl, registry: ChannelRegistry, target: Target,
                        exten: str) -> None:
    control.transfer(42, EP, target)
    assert sent(peer) == [
        {"Action": "Setvar", "Channel": CALLER, "Variable": "HELPLINE_CALL_ID", "Value": "42"},
        {"Action": "Redirect", "Channel": CALLER, "Context": "helpline-transfer", "Exten": exten, "Priority": "1"},
        {"Action": "Hangup", "Channel": AGENT, "Cause": "16"},
    ]
    entry = registry.get(42)
    assert entry is not None and entry.caller == CALLER and entry.agent is None and entry.detached


def test_transfer_when_asterisk_already_hung_up_the_agent(peer: AmiPeer, control: AmiCallControl) -> None:
    del peer.channels[AGENT]  # Asterisk hangs up the agent whose bridge partner left
    control.transfer(42, EP, Target("queue", "billing"))
    assert sent(peer)[-1] == {"Action": "Hangup", "Channel": AGENT, "Cause": "16"}


@pytest.mark.parametrize("target", [Target("agent", "10 02"), Target("external", "138-0000"),
                                    Target("queue", "bill;ing"), Target("endpoint", "1009")])
def test_targets_the_dialplan_cannot_take_are_refused(peer: AmiPeer, control: AmiCallControl,
                                                      target: Target) -> None:
    with pytest.raises(ControlError, match=r"cannot transfer to|not a dialable endpoint"):
        control.transfer(42, EP, target)
    assert sent(peer) == []


def test_intercept_is_a_transfer_to_the_supervisors_endpoint(peer: AmiPeer, control: AmiCallControl) -> None:
    control.intercept(42, EP, SUPERVISOR)
    assert [a["Action"] for a in sent(peer)] == ["Setvar", "Redirect", "Hangup"]
    assert sent(peer)[1]["Exten"] == "endpoint-PJSIP-1009"


def test_consult_holds_the_caller_and_the_agents_line_dials(peer: AmiPeer, control: AmiCallControl,
                                                           registry: ChannelRegistry) -> None:
    control.consult(42, EP, OTHER)
    assert sent(peer) == [
        {"Action": "Setvar", "Channel": AGENT, "Variable": "HELPLINE_CALLER", "Value": CALLER},
        {"Action": "Redirect", "Channel": CALLER, "Context": "helpline-hold", "Exten": "caller", "Priority": "1",
         "ExtraChannel": AGENT, "ExtraContext": "helpline-consult", "ExtraExten": "PJSIP-1002",
         "ExtraPriority": "1"},
    ]
    entry = registry.get(42)
    assert entry is not None and entry.held and entry.consult == OTHER
    with pytest.raises(ControlError, match="already consulting PJSIP/1002"):
        control.consult(42, EP, "PJSIP/1003")
    with pytest.raises(ControlError, match="consultation with PJSIP/1002: cancel it"):
        control.unhold(42, EP)


def test_consult_from_hold_moves_only_the_agent(peer: AmiPeer, control: AmiCallControl) -> None:
    control.hold(42, EP)
    control.consult(42, EP, OTHER)
    assert sent(peer)[2] == {"Action": "Redirect", "Channel": AGENT, "Context": "helpline-consult",
                             "Exten": "PJSIP-1002", "Priority": "1"}


def test_cancel_consult_bridges_back(peer: AmiPeer, control: AmiCallControl, registry: ChannelRegistry) -> None:
    with pytest.raises(ControlError, match="call 42: no consultation in progress"):
        control.cancel_consult(42, EP)
    before = _consulting(peer, control)
    control.cancel_consult(42, EP)
    assert sent(peer, since=before) == [BRIDGE_BACK]
    entry = registry.get(42)
    assert entry is not None and not entry.held and entry.consult is None


def test_complete_transfer_bridges_caller_and_consulted(peer: AmiPeer, control: AmiCallControl,
                                                       registry: ChannelRegistry) -> None:
    before = _consulting(peer, control)
    control.complete_transfer(42, EP)
    assert sent(peer, since=before) == [
        {"Action": "Getvar", "Channel": AGENT, "Variable": "BRIDGEPEER"},
        {"Action": "Setvar", "Channel": AGENT, "Variable": "HELPLINE_CONSULT", "Value": "done"},
        {"Action": "Bridge", "Channel1": CALLER, "Channel2": CONSULTED, "Tone": "no"},
    ]
    entry = registry.get(42)
    assert entry is not None and (entry.agent, entry.endpoint, entry.consult) == (CONSULTED, OTHER, None)
    control.hold(42, OTHER)  # the consulted agent now owns the call


def test_complete_before_the_consulted_agent_answers(peer: AmiPeer, control: AmiCallControl) -> None:
    _consulting(peer, control, answered=False)
    with pytest.raises(ControlError, match="call 42: PJSIP/1002 has not answered the consultation yet"):
        control.complete_transfer(42, EP)
    with pytest.raises(ControlError, match="has not answered"):
        control.conference(42, EP)


def test_conference_redirects_the_three_channels(peer: AmiPeer, control: AmiCallControl,
                                                registry: ChannelRegistry) -> None:
    before = _consulting(peer, control)
    control.conference(42, EP)
    assert sent(peer, since=before) == [
        {"Action": "Getvar", "Channel": AGENT, "Variable": "BRIDGEPEER"},
        {"Action": "Redirect", "Channel": AGENT, "ExtraChannel": CONSULTED, "Context": "helpline-conference",
         "Exten": "42", "Priority": "1"},
        {"Action": "Redirect", "Channel": CALLER, "Context": "helpline-conference", "Exten": "42", "Priority": "1"},
    ]
    assert {peer.channels[c].location for c in (CALLER, AGENT, CONSULTED)} == {("helpline-conference", "42", "1")}
    entry = registry.get(42)
    assert entry is not None and not entry.held and entry.consult is None


# ------------------------------------------------------------------------------------ supervisors
@pytest.mark.parametrize(("mode", "options"), [("listen", "qE"), ("whisper", "qwE"), ("barge", "qBE")])
def test_spy_originates_chanspy(peer: AmiPeer, control: AmiCallControl, mode: str, options: str) -> None:
    control.spy(42, EP, SUPERVISOR, mode)  # type: ignore[arg-type]
    assert sent(peer) == [{"Action": "Originate", "Channel": SUPERVISOR, "Application": "ChanSpy",
                           "Data": f"{AGENT},{options}", "Async": "true", "Timeout": "30000",
                           "CallerID": f'"Helpline {mode}" <42>'}]


def test_spy_options_can_be_changed(peer: AmiPeer, client: AmiClient, registry: ChannelRegistry) -> None:
    control = AmiCallControl(client, registry, spy_extra_options="")
    peer.add_channel(AGENT)
    control.spy(42, EP, SUPERVISOR, "listen")
    assert sent(peer)[0]["Data"] == f"{AGENT},q"
    with pytest.raises(ValueError, match="option letters"):
        AmiCallControl(client, registry, spy_extra_options="q,x")


def test_start_recording(peer: AmiPeer, control: AmiCallControl) -> None:
    control.start_recording(42, EP, "/var/spool/asterisk/monitor/42.wav")
    assert sent(peer) == [{"Action": "MixMonitor", "Channel": CALLER, "File": "/var/spool/asterisk/monitor/42.wav"}]
    assert peer.channels[CALLER].recording == "/var/spool/asterisk/monitor/42.wav"
    with pytest.raises(ControlError, match="line break"):
        control.start_recording(42, EP, "x.wav\r\nAction: Hangup")
    with pytest.raises(ControlError, match="no recording file name"):
        control.start_recording(42, EP, " ")


# ----------------------------------------------------------------------------------------- errors
def test_unknown_calls_and_wrong_endpoints(peer: AmiPeer, control: AmiCallControl,
                                          registry: ChannelRegistry) -> None:
    with pytest.raises(ControlError, match="call 99 is not on Asterisk"):
        control.hold(99, EP)
    registry.set_caller(43, "PJSIP/trunk-0000000a")
    with pytest.raises(ControlError, match="call 43 has no agent channel"):
        control.mute(43, EP, True)
    with pytest.raises(ControlError, match="call 42 is answered on PJSIP/1001, not on PJSIP/1005"):
        control.hang_up(42, "PJSIP/1005")
    with pytest.raises(ControlError, match="call 42: unknown spy mode"):
        control.spy(42, EP, SUPERVISOR, "shout")  # type: ignore[arg-type]
    with pytest.raises(ControlError, match="not a dialable endpoint"):
        control.consult(42, EP, "1002")
    assert sent(peer) == []


def test_asterisk_refusals_name_the_call(peer: AmiPeer, control: AmiCallControl, registry: ChannelRegistry) -> None:
    del peer.channels[CALLER]
    with pytest.raises(ControlError) as caught:
        control.hold(42, EP)
    assert str(caught.value) == ("call 42: cannot hold: Asterisk refused Redirect: Channel does not exist: "
                                 "PJSIP/trunk-00000007")
    entry = registry.get(42)
    assert entry is not None and not entry.detached and not entry.held, "a refused redirect changes nothing"
    del peer.channels[AGENT]
    with pytest.raises(ControlError, match="call 42: cannot mute: Asterisk refused MuteAudio: No such channel"):
        control.mute(42, EP, True)


def test_forced_errors_and_a_lost_connection(peer: AmiPeer, control: AmiCallControl, client: AmiClient) -> None:
    peer.failures = {"MixMonitor": "Could not start monitoring channel"}
    with pytest.raises(ControlError, match=r"cannot start recording: .*Could not start monitoring channel"):
        control.start_recording(42, EP, "42.wav")
    peer.failures = {"Hangup": "Permission denied"}
    with pytest.raises(ControlError, match=r"call 42: cannot hang up: .*Permission denied"):
        control.hang_up(42, EP)
    client.close()
    with pytest.raises(ControlError, match="call 42: cannot mute: not connected to the Asterisk manager"):
        control.mute(42, EP, True)


def test_a_silent_asterisk_times_out(peer: AmiPeer, registry: ChannelRegistry) -> None:
    client = AmiClient(*peer.address, USER, SECRET, action_timeout=0.05).connect()
    try:
        peer.add_channel(CALLER)
        peer.add_channel(AGENT)
        control = AmiCallControl(client, registry)
        control.hold(42, EP)
        peer.ignore = {"Bridge"}
        with pytest.raises(ControlError, match=r"call 42: cannot unhold: Asterisk did not answer Bridge within 0\.05"):
            control.unhold(42, EP)
    finally:
        client.close()


# ----------------------------------------------------------------------------------- hang-up events
def test_hangup_events_keep_the_registry_in_step(peer: AmiPeer, control: AmiCallControl,
                                                 registry: ChannelRegistry) -> None:
    peer.emit("Hangup", Channel=AGENT, Cause="16")
    assert peer.wait_for(lambda: getattr(registry.get(42), "agent", "?") is None)
    peer.emit("Hangup", Channel="PJSIP/other-00000001")
    peer.emit("Hangup", Channel=CALLER, Cause="16")
    assert peer.wait_for(lambda: 42 not in registry)


def test_close_unsubscribes_and_logs_off(peer: AmiPeer, control: AmiCallControl, registry: ChannelRegistry) -> None:
    control.close()
    assert peer.actions[-1]["Action"] == "Logoff"


def test_extensions() -> None:
    assert endpoint_exten("PJSIP/agent-1001") == "PJSIP-agent-1001"
    assert transfer_exten(Target("external", "+8613800000000")) == "ext-+8613800000000"
    with pytest.raises(ControlError):
        endpoint_exten("PJSIP/1001,t")
