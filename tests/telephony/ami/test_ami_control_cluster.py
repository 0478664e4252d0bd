"""Call control across instances (cluster mode): a call whose FastAGI session (its caller's channel, the agent's
answered session) ran on instance A is held, taken off hold, muted, consulted and transferred from instance B's
call control, through the registry shared in PostgreSQL (``telephony.control.shared_channels``). Asterisk (the
AMI test peer) receives exactly the actions, header for header and in order, that A's own call control sends
for the same steps (the ActionID aside: each manager connection numbers its own)."""

from __future__ import annotations

import pytest
from ami_helpers import FAST_BACKOFF, SECRET, USER

from telephony.ami.client import AmiClient
from telephony.ami.control import AmiCallControl
from telephony.ami.testpeer import AmiPeer
from telephony.control.base import ControlError, Target
from telephony.control.channels import CallChannels, ChannelRegistry
from telephony.control.shared_channels import SharedChannels
from telephony.switch.answers import AnswerRegistry

CALLER, AGENT, CONSULTED = "PJSIP/trunk-00000007", "PJSIP/1001-00000008", "PJSIP/1002-00000009"
EP, OTHER = "PJSIP/1001", "PJSIP/1002"


def _steps_from(url: str, acting: str) -> tuple[list[list[tuple[str, str]]], CallChannels | None]:
    """Instances a and b (a registry and a call control each, one Asterisk); the call's session on a; the
    desktop's functions through ``acting``'s call control. The actions Asterisk received and the entry at the end."""
    with AmiPeer({USER: SECRET}) as peer:
        peer.add_channel(CALLER)
        peer.add_channel(AGENT)
        peer.bridge(CALLER, AGENT)
        registries = {n: ChannelRegistry().share(SharedChannels(url, n)) for n in "ab"}
        controls: dict[str, AmiCallControl] = {}
        try:
            for name, registry in registries.items():
                client = AmiClient(*peer.address, USER, SECRET, backoff=FAST_BACKOFF, connect_timeout=1.0,
                                   action_timeout=1.0).connect()
                controls[name] = AmiCallControl(client, registry)
            a = registries["a"]
            a.set_caller(42, CALLER)  # a's IVR session opened the call record
            AnswerRegistry(a).answered(42, AGENT)  # the agent's answered session reached a too
            control = controls[acting]
            control.hold(42, EP)
            assert not a.session_ended(42), "the hold ended a's AGI session: the held call stays known"
            control.unhold(42, EP)
            control.mute(42, EP, True)
            control.consult(42, EP, OTHER)
            peer.add_channel(CONSULTED)
            peer.bridge(AGENT, CONSULTED)
            control.cancel_consult(42, EP)
            control.transfer(42, EP, Target("queue", "billing"))
            assert peer.wait_for(lambda: all(r.get(42) is not None and r.get(42).agent is None  # type: ignore[union-attr]
                                             for r in registries.values()))
            actions = [[(k, v) for k, v in action.items() if k != "ActionID"] for action in peer.actions
                       if action.get("Action") not in ("Login", "Logoff")]
            entry = registries["b"].get(42)
            a.forget(42)
            return actions, entry
        finally:
            for name, registry in registries.items():
                if name in controls:
                    controls[name].close()
                if registry.shared is not None:
                    registry.shared.close()


@pytest.mark.postgres
def test_hold_and_transfer_from_another_instance_send_what_the_sessions_instance_sends(pg_url: str) -> None:
    on_a, entry_a = _steps_from(pg_url, "a")
    on_b, entry_b = _steps_from(pg_url, "b")
    assert on_b == on_a
    names = [dict(action)["Action"] for action in on_a]
    assert names == ["Redirect", "Bridge", "MuteAudio", "Setvar", "Redirect", "Bridge", "Setvar", "Redirect",
                     "Hangup"]
    assert dict(on_a[0]) == {"Action": "Redirect", "Channel": CALLER, "Context": "helpline-hold", "Exten": "caller",
                             "Priority": "1", "ExtraChannel": AGENT, "ExtraContext": "helpline-hold",
                             "ExtraExten": "agent", "ExtraPriority": "1"}
    assert dict(on_a[7])["Exten"] == "queue-billing" and dict(on_a[8])["Channel"] == AGENT
    assert entry_a == entry_b == CallChannels(42, caller=CALLER, detached=True)


def test_without_the_shared_registry_another_instance_cannot_find_the_call() -> None:
    """What cluster mode did before (and single-process mode still does): the registry is per process."""
    with AmiPeer({USER: SECRET}) as peer:
        a, b = ChannelRegistry(), ChannelRegistry()
        a.set_caller(42, CALLER)
        a.set_agent(42, AGENT, EP)
        client = AmiClient(*peer.address, USER, SECRET, backoff=FAST_BACKOFF, connect_timeout=1.0,
                           action_timeout=1.0).connect()
        control = AmiCallControl(client, b)
        try:
            with pytest.raises(ControlError, match="call 42 is not on Asterisk"):
                control.hold(42, EP)
        finally:
            control.close()
