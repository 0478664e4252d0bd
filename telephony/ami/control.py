"""``AmiCallControl``: :class:`~telephony.control.base.CallControl` on Asterisk 22 through AMI.

A call answered through Helpline's router has two channels: the caller's (C, where the IVR's AGI
session runs ``Dial``) and the agent's (A, the channel ``Dial`` created; the ``answered`` FastAGI session
ran on it). :data:`~telephony.control.channels.CHANNELS` maps the call id to both. Every method is a few
manager actions on them, steering the channels into the sample dialplan's contexts
(telephony/asterisk/extensions.conf): ``helpline-hold`` (exten ``caller``: MusicOnHold; exten
``agent``: Wait), ``helpline-consult`` (exten ``PJSIP-1002``: Dial the consulted endpoint, then back to
the caller), ``helpline-transfer`` (exten ``<kind>-<value>``) and ``helpline-conference`` (exten
``<call id>``: ConfBridge).

One line per method (C caller, A agent, T consulted party; contexts abbreviated: hold, consult ...):

- hold: ``Redirect`` C → hold,caller with ExtraChannel A → hold,agent (one dual redirect: neither hangs up).
- unhold: ``Bridge`` Channel1=C Channel2=A (pulls both out of the hold context into a new bridge).
- mute: ``MuteAudio`` Channel=A Direction=in State=on|off (what the agent says stops reaching the caller).
- hang_up: ``Hangup`` A (and C too when the caller was on hold: nobody would take it off hold).
- transfer: ``Setvar`` C HELPLINE_CALL_ID; ``Redirect`` C → transfer,<exten>; ``Hangup`` A. Extensions:
  ``agent-1002``, ``queue-billing``, ``ivr-main``, ``ext-13800000000``, ``endpoint-PJSIP-1009``.
- consult: ``Setvar`` A HELPLINE_CALLER=C; ``Redirect`` C → hold,caller + A → consult,``PJSIP-1002``.
- cancel_consult: ``Bridge`` C, A (A leaves the consultation; Asterisk hangs up the consulted leg, alone).
- complete_transfer: ``Getvar`` A BRIDGEPEER (T); ``Setvar`` A HELPLINE_CONSULT=done; ``Bridge`` C, T.
- conference: ``Getvar`` A BRIDGEPEER (T); ``Redirect`` A + ExtraChannel T, then C → conference,<call id>.
- spy: ``Originate`` Channel=<supervisor> Application=ChanSpy Data=``A,q`` | ``A,qw`` | ``A,qB`` (+E), Async.
- intercept: transfer to ``Target("endpoint", <supervisor>)`` (exten ``endpoint-PJSIP-1009``).
- start_recording: ``MixMonitor`` Channel=C File=<path> (on the caller: survives hold and transfers).
- dial_out / dial_agent / send_dtmf: ``Originate`` into ``helpline-outbound`` / ``helpline-internal``, then
  ``PlayDTMF`` (``telephony.ami.dialout``); the called party is C once it answers.
- consult_out: as consult, A → consult,``ext-13900000000`` (the consult context dials the trunk).

Why Redirect + Bridge for hold rather than Asterisk's own hold: Asterisk 22 has no AMI action that puts
a bridged channel on music on hold (``MusicOnHold`` is a dialplan application; the SIP phone's own
hold button is not visible to Helpline), and redirecting only the caller would make Asterisk hang up
the agent, whose bridge partner left. The dual ``Redirect`` moves both channels out of the bridge
together; ``Bridge`` joins two channels wherever they are (features.c ``action_bridge``). Moving the
caller out of its AGI ``Dial`` ends the IVR session (Asterisk sends ``HANGUP`` to FastAGI on the async
goto), so the call is marked ``detached`` in the registry and forgotten on the caller's AMI ``Hangup``
event instead of at the end of the session.

Records: ``channel_alive`` asks ``Getvar`` ``UNIQUEID`` of a channel (a record left open by an earlier process
stays open while its channel lives); the sample dialplan's ``h`` extension sends
``UserEvent(HelplineHangup,Uniqueid: …,Result: …,Cause: …)``, on which a call record of that uniqueid still
open is closed as ``interrupted`` (``IVR-LOST``: the FastAGI session ended without closing it).

Every failure raises :class:`~telephony.control.base.ControlError` naming the call: an unknown call id
or a call without the channel needed, an endpoint that is not the call's agent, Asterisk's refusal
(its ``Message``), a timeout, or a lost manager connection.
"""

from __future__ import annotations

import logging
import re
import threading

from telephony.ami.client import AmiActionError, AmiClient, AmiError, AmiEvent
from telephony.ami.dialout import AmiDialOut
from telephony.control.base import CallControl, ControlError, DialListener, SpyMode, Target
from telephony.control.channels import CHANNELS, CallChannels, ChannelRegistry

__all__ = ["SPY_OPTIONS", "AmiCallControl", "endpoint_exten", "transfer_exten"]

log = logging.getLogger(__name__)

#: ChanSpy options per mode: q quiet (no beep, no name), w whisper to the agent, B barge (both hear).
SPY_OPTIONS: dict[str, str] = {"listen": "q", "whisper": "qw", "barge": "qB"}
_ENDPOINT = re.compile(r"(?P<tech>[A-Za-z][A-Za-z0-9]*)/(?P<resource>[A-Za-z0-9_.+-]+)")
_VALUES: dict[str, re.Pattern[str]] = {
    "agent": re.compile(r"[A-Za-z0-9_.]+"), "queue": re.compile(r"[A-Za-z0-9_.-]+"),
    "ivr": re.compile(r"[A-Za-z0-9_.-]+"), "external": re.compile(r"\+?[0-9*#]+"),
}
_GONE = ("No such channel", "does not exist")


def endpoint_exten(endpoint: str) -> str:
    """An endpoint as a dialplan extension: ``PJSIP/1002`` → ``PJSIP-1002`` (the dialplan cuts it apart)."""
    match = _ENDPOINT.fullmatch(endpoint.strip())
    if match is None:
        raise ControlError(f"not a dialable endpoint: {endpoint!r} (expected TECH/resource, e.g. PJSIP/1002)")
    return f"{match['tech']}-{match['resource']}"


def transfer_exten(target: Target) -> str:
    """The ``helpline-transfer`` extension of a target: ``agent-1002``, ``queue-billing``, ``ivr-main``,
    ``ext-13800000000``, ``endpoint-PJSIP-1009``."""
    if target.kind == "endpoint":
        return f"endpoint-{endpoint_exten(target.value)}"
    pattern = _VALUES.get(target.kind)
    if pattern is None or not pattern.fullmatch(target.value):
        raise ControlError(f"cannot transfer to {target}: not a valid {target.kind} for the dialplan")
    return f"{'ext' if target.kind == 'external' else target.kind}-{target.value}"


class AmiCallControl(CallControl):
    """Call control over AMI (see the module docstring for the actions of each method)."""

    kind = "asterisk"

    def __init__(self, client: AmiClient, channels: ChannelRegistry = CHANNELS, *,
                 moh_context: str = "helpline-hold", transfer_context: str = "helpline-transfer",
                 consult_context: str = "helpline-consult", conference_context: str = "helpline-conference",
                 spy_extra_options: str = "E", spy_timeout_ms: int = 30_000) -> None:
        if not re.fullmatch(r"[A-Za-z]*", spy_extra_options):
            raise ValueError(f"spy_extra_options must be ChanSpy option letters: {spy_extra_options!r}")
        self.client = client
        self.channels = channels
        self.moh_context = moh_context
        self.transfer_context = transfer_context
        self.consult_context = consult_context
        self.conference_context = conference_context
        self.spy_extra_options = spy_extra_options
        """Appended to every ChanSpy (default ``E``: the spy ends when the agent's channel hangs up)."""
        self.spy_timeout_ms = spy_timeout_ms
        self._stripes = [threading.RLock() for _ in range(64)]
        self.dialout = AmiDialOut(client, channels)
        """Outbound and internal calls (subscribed first: it reads a hung-up channel before it is forgotten)."""
        self._unsubscribe = [client.on_event("Hangup", self._on_hangup),
                             client.on_event("OriginateResponse", self._on_originate),
                             client.on_event("UserEvent", self._on_user_event)]

    # ------------------------------------------------------------------------------------ hold
    def hold(self, call_id: int, endpoint: str) -> None:
        with self._lock(call_id):
            call = self._call(call_id, endpoint)
            if call.held:
                raise ControlError(f"call {call_id} is already on hold")
            self._redirect(call, "hold", Channel=call.caller, Context=self.moh_context, Exten="caller", Priority=1,
                           ExtraChannel=call.agent, ExtraContext=self.moh_context, ExtraExten="agent", ExtraPriority=1)
            self.channels.update(call_id, held=True)

    def unhold(self, call_id: int, endpoint: str) -> None:
        with self._lock(call_id):
            call = self._call(call_id, endpoint)
            if not call.held or call.consult:
                raise ControlError(f"call {call_id} is not on hold" if not call.held else
                                   f"call {call_id} is in a consultation with {call.consult}: cancel it instead")
            self._bridge(call_id, "unhold", call.caller, call.agent)
            self.channels.update(call_id, held=False)

    def mute(self, call_id: int, endpoint: str, on: bool) -> None:
        with self._lock(call_id):
            call = self._call(call_id, endpoint)
            self._send(call_id, "mute" if on else "unmute", "MuteAudio", Channel=call.agent, Direction="in",
                       State="on" if on else "off")

    def hang_up(self, call_id: int, endpoint: str) -> None:
        with self._lock(call_id):
            placed = self.channels.get(call_id)
            if placed is not None and placed.caller is None and placed.agent and self.dialout.active(call_id):
                self._hangup(call_id, "hang up while it rings", placed.agent)  # an outbound call not answered yet
                return
            call = self._call(call_id, endpoint)
            self._hangup(call_id, "hang up", call.agent)
            if call.held:
                self._hangup(call_id, "hang up the held caller", call.caller)
            self.channels.clear_agent(call_id)

    # -------------------------------------------------------------------------------- transfers
    def transfer(self, call_id: int, endpoint: str, target: Target) -> None:
        with self._lock(call_id):
            call = self._call(call_id, endpoint)
            exten = transfer_exten(target)
            self._send(call_id, f"transfer to {target}", "Setvar", Channel=call.caller, Variable="HELPLINE_CALL_ID",
                       Value=str(call_id))
            self._redirect(call, f"transfer to {target}", Channel=call.caller, Context=self.transfer_context,
                           Exten=exten, Priority=1)
            self._hangup(call_id, f"end the agent's leg after the transfer to {target}", call.agent)
            self.channels.update(call_id, held=False)
            self.channels.clear_agent(call_id)

    def intercept(self, call_id: int, agent_endpoint: str, supervisor_endpoint: str) -> None:
        self.transfer(call_id, agent_endpoint, Target("endpoint", supervisor_endpoint))

    def consult(self, call_id: int, endpoint: str, target_endpoint: str) -> None:
        self._consult(call_id, endpoint, target_endpoint, endpoint_exten(target_endpoint))

    def consult_out(self, call_id: int, endpoint: str, number: str) -> None:
        self._consult(call_id, endpoint, f"external:{number}", transfer_exten(Target("external", number)))

    def _consult(self, call_id: int, endpoint: str, target_endpoint: str, exten: str) -> None:
        with self._lock(call_id):
            call = self._call(call_id, endpoint)
            if call.consult:
                raise ControlError(f"call {call_id}: already consulting {call.consult}")
            what = f"consult {target_endpoint}"
            self._send(call_id, what, "Setvar", Channel=call.agent, Variable="HELPLINE_CALLER", Value=call.caller or "")
            if call.held:  # the caller already waits on music: only the agent's channel moves
                self._redirect(call, what, Channel=call.agent, Context=self.consult_context, Exten=exten, Priority=1)
            else:
                self._redirect(call, what, Channel=call.caller, Context=self.moh_context, Exten="caller", Priority=1,
                               ExtraChannel=call.agent, ExtraContext=self.consult_context, ExtraExten=exten,
                               ExtraPriority=1)
            self.channels.update(call_id, held=True, consult=target_endpoint)

    def cancel_consult(self, call_id: int, endpoint: str) -> None:
        with self._lock(call_id):
            call = self._consulting(call_id, endpoint)
            self._bridge(call_id, "cancel the consultation", call.caller, call.agent)
            self.channels.update(call_id, held=False, consult=None)

    def complete_transfer(self, call_id: int, endpoint: str) -> None:
        with self._lock(call_id):
            call = self._consulting(call_id, endpoint)
            consulted = self._consulted_channel(call)
            what = f"complete the transfer to {call.consult}"
            self._send(call_id, what, "Setvar", Channel=call.agent, Variable="HELPLINE_CONSULT", Value="done")
            self._bridge(call_id, what, call.caller, consulted)
            self.channels.update(call_id, held=False, consult=None)
            self.channels.set_agent(call_id, consulted, call.consult)

    def conference(self, call_id: int, endpoint: str) -> None:
        with self._lock(call_id):
            call = self._consulting(call_id, endpoint)
            consulted = self._consulted_channel(call)
            what = f"conference with {call.consult}"
            room = str(call_id)
            self._send(call_id, what, "Redirect", Channel=call.agent, ExtraChannel=consulted,
                       Context=self.conference_context, Exten=room, Priority=1)
            self._send(call_id, what, "Redirect", Channel=call.caller, Context=self.conference_context, Exten=room,
                       Priority=1)
            self.channels.update(call_id, held=False, consult=None)

    # ------------------------------------------------------------------------------ supervisors
    def spy(self, call_id: int, agent_endpoint: str, supervisor_endpoint: str, mode: SpyMode) -> None:
        with self._lock(call_id):
            call = self._call(call_id, agent_endpoint)
            options = SPY_OPTIONS.get(mode)
            if options is None:
                raise ControlError(f"call {call_id}: unknown spy mode {mode!r} (listen, whisper, barge)")
            endpoint_exten(supervisor_endpoint)  # validates
            self._send(call_id, f"{mode} from {supervisor_endpoint}", "Originate", Channel=supervisor_endpoint,
                       Application="ChanSpy", Data=f"{call.agent},{options}{self.spy_extra_options}",
                       Async="true", Timeout=self.spy_timeout_ms, CallerID=f'"Helpline {mode}" <{call_id}>')

    def start_recording(self, call_id: int, endpoint: str, path: str) -> None:
        with self._lock(call_id):
            call = self._call(call_id, endpoint)
            if not path.strip():
                raise ControlError(f"call {call_id}: no recording file name")
            self._send(call_id, "start recording", "MixMonitor", Channel=call.caller, File=path)

    def dial_out(self, call_id: int, endpoint: str, number: str, *, caller_id: str | None = None,
                 variables: dict[str, str] | None = None, timeout_s: float = 30.0,
                 on_event: DialListener | None = None) -> None:
        exten = transfer_exten(Target("external", number)).removeprefix("ext-")
        endpoint_exten(endpoint)  # validates
        self.dialout.dial(call_id, endpoint, exten, internal=False, caller_id=caller_id, variables=variables,
                          timeout_s=timeout_s, on_event=on_event)

    def dial_agent(self, call_id: int, endpoint: str, target_endpoint: str, *, timeout_s: float = 30.0,
                   on_event: DialListener | None = None) -> None:
        endpoint_exten(endpoint)
        self.dialout.dial(call_id, endpoint, endpoint_exten(target_endpoint), internal=True, caller_id=None,
                          variables=None, timeout_s=timeout_s, on_event=on_event)

    def send_dtmf(self, call_id: int, endpoint: str, digits: str) -> None:
        with self._lock(call_id):
            self._call(call_id, endpoint)
            self.dialout.send_dtmf(call_id, digits)

    def channel_alive(self, switch: str, channel: str, uniqueid: str) -> bool | None:
        """``Getvar UNIQUEID`` on the channel: alive when Asterisk knows it (with this uniqueid, if given);
        None when Asterisk cannot be asked (not connected, refused for another reason)."""
        if switch == "simulated":
            return False
        if not channel:
            return None
        try:
            response = self.client.send("Getvar", Channel=channel, Variable="UNIQUEID")
        except AmiActionError as exc:
            return False if any(text in exc.message for text in _GONE) else None
        except (AmiError, ValueError):
            return None
        value = response.get("Value", "").strip()
        return not uniqueid or not value or value == uniqueid

    def _on_user_event(self, event: AmiEvent) -> None:
        if event.get("UserEvent", "").lower() != "helplinehangup":
            return
        uniqueid = event.get("Uniqueid", "").strip()
        if not uniqueid:
            return
        from helpline.services.calls import CallService

        closed = CallService().close_open(
            uniqueid=uniqueid, result="interrupted",
            error={"id": "IVR-LOST", "message": "closed on Asterisk's HelplineHangup event (HELPLINE_RESULT "
                   f"{event.get('Result', '') or 'empty'}, cause {event.get('Cause', '') or 'unknown'}): the FastAGI "
                   "session had ended without closing it"})
        if closed:
            log.warning("%d call record(s) of %s closed on the HelplineHangup event", closed, uniqueid)

    def _lock(self, call_id: int) -> threading.RLock:
        """The lock of a call: two actions on one call never interleave their AMI actions."""
        return self._stripes[call_id % len(self._stripes)]

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.dialout.close()
        self.client.close()

    # ---------------------------------------------------------------------------------- helpers
    def _call(self, call_id: int, endpoint: str) -> CallChannels:
        """The call's channels, with the caller and the agent on ``endpoint``, or ControlError."""
        call = self.channels.get(call_id)
        if call is None or call.caller is None:
            raise ControlError(f"call {call_id} is not on Asterisk (no caller channel known: never seen, or over)")
        if call.agent is None:
            raise ControlError(f"call {call_id} has no agent channel (not answered yet, or the agent left)")
        if endpoint and call.endpoint and endpoint != call.endpoint:
            raise ControlError(f"call {call_id} is answered on {call.endpoint}, not on {endpoint}")
        return call

    def _consulting(self, call_id: int, endpoint: str) -> CallChannels:
        call = self._call(call_id, endpoint)
        if not call.consult:
            raise ControlError(f"call {call_id}: no consultation in progress")
        return call

    def _consulted_channel(self, call: CallChannels) -> str:
        """The channel of the consulted party, bridged with the agent's channel (its ``BRIDGEPEER``)."""
        response = self._send(call.call_id, f"find {call.consult}'s channel", "Getvar", Channel=call.agent,
                              Variable="BRIDGEPEER")
        peer = response.get("Value", "").strip()
        if not peer:
            raise ControlError(f"call {call.call_id}: {call.consult} has not answered the consultation yet")
        return peer

    def _bridge(self, call_id: int, what: str, first: str | None, second: str | None) -> None:
        self._send(call_id, what, "Bridge", Channel1=first or "", Channel2=second or "", Tone="no")

    def _redirect(self, call: CallChannels, what: str, **headers: str | int | None) -> None:
        """``Redirect``, marking the call ``detached`` first: the redirect ends the caller's AGI session, whose
        end must not forget the call (undone if Asterisk refuses)."""
        self.channels.update(call.call_id, detached=True)
        try:
            self._send(call.call_id, what, "Redirect", **headers)
        except ControlError:
            self.channels.update(call.call_id, detached=call.detached)
            raise

    def _hangup(self, call_id: int, what: str, channel: str | None) -> None:
        """``Hangup``; a channel that is already gone counts as hung up."""
        try:
            self.client.send("Hangup", Channel=channel or "", Cause=16)
        except AmiActionError as exc:
            if any(text in exc.message for text in _GONE):
                log.info("call %s: %s was already gone", call_id, channel)
                return
            raise ControlError(f"call {call_id}: cannot {what}: {exc}") from exc
        except AmiError as exc:
            raise ControlError(f"call {call_id}: cannot {what}: {exc}") from exc

    def _send(self, call_id: int, what: str, action: str, **headers: str | int | None) -> dict[str, str]:
        try:
            return self.client.send(action, **{k: v for k, v in headers.items() if v is not None})
        except AmiError as exc:
            raise ControlError(f"call {call_id}: cannot {what}: {exc}") from exc
        except ValueError as exc:  # a header value with a line break
            raise ControlError(f"call {call_id}: cannot {what}: {exc}") from exc

    def _on_originate(self, event: AmiEvent) -> None:
        if event.get("Response") != "Success":  # a supervisor's phone did not answer the spy call
            log.warning("Originate %s to %s(%s) failed (reason %s)", event.get("Channel"), event.get("Application"),
                        event.get("Data"), event.get("Reason"))

    def _on_hangup(self, event: AmiEvent) -> None:
        channel = event.get("Channel", "")
        gone = self.channels.channel_gone(channel) if channel else None
        if gone is not None:
            log.info("call %s: %s hung up (%s)", gone.call_id, channel, event.get("Cause-txt", event.get("Cause", "")))
