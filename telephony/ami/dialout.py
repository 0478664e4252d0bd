"""Dialling out over AMI: ``Originate`` to the agent's phone, then the dialplan dials the number and bridges.

:class:`~telephony.ami.control.AmiCallControl` delegates ``dial_out`` / ``dial_agent`` / ``send_dtmf`` to
:class:`AmiDialOut`. The manager actions and the events that follow (the sample dialplan,
telephony/asterisk/extensions.conf, contexts ``helpline-outbound`` and ``helpline-internal``):

1. ``Originate`` Channel=<agent endpoint> Context=helpline-outbound Exten=<number> Priority=1 Async=true
   Timeout=<ms> CallerID=… Variable=HELPLINE_CALL_ID=<id>,HELPLINE_DIAL_TIMEOUT=<s>[,…]
   ActionID=helpline-dial-<id>. Asterisk rings the agent's endpoint (``agent_ringing``); a refusal (link
   down, bad channel) raises ``ControlError``.
2. ``OriginateResponse`` with that ActionID: ``Success`` — the agent picked up, its channel enters the
   context and ``Dial`` s the trunk: the agent hears ring-back (``ringback``); the agent's channel is the
   call's ``agent`` in :data:`~telephony.control.channels.CHANNELS`. ``Failure`` — the agent's phone did not
   take it: ``Reason`` 5 busy, 8 congestion, 3 no answer, 1 rejected (cancelled), else unavailable (``ended``).
3. ``UserEvent`` HelplineOutbound (CallId, State=answered) from the ``Dial`` ``U()`` subroutine on the
   called channel (its ``Channel`` is the call's ``caller`` now): ``answered``; from then on hold, transfer,
   consult … act on the call like on an inbound one.
4. ``UserEvent`` HelplineOutbound (CallId, State=ended, DialStatus=${DIALSTATUS}) after ``Dial``: ``ended``
   with ANSWER → answered, BUSY → busy, CONGESTION → congestion, NOANSWER → noanswer, CHANUNAVAIL →
   unavailable, CANCEL → cancelled. The agent's channel hanging up (AMI ``Hangup``) before that also ends it.

Second dialling: ``PlayDTMF`` Channel=<called channel> Digit=<d>, one action per digit.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from telephony.ami.client import AmiClient, AmiError, AmiEvent
from telephony.control.base import ControlError, DialEvent, DialEventKind, DialListener, DialOutcome
from telephony.control.channels import ChannelRegistry

__all__ = ["DIAL_STATUS", "ORIGINATE_REASONS", "AmiDialOut"]

log = logging.getLogger(__name__)

ORIGINATE_REASONS: dict[str, DialOutcome] = {"1": "cancelled", "3": "noanswer", "5": "busy", "8": "congestion"}
"""``OriginateResponse`` Reason (the agent's own phone) → outcome; others: unavailable."""
DIAL_STATUS: dict[str, DialOutcome] = {
    "ANSWER": "answered", "BUSY": "busy", "CONGESTION": "congestion", "NOANSWER": "noanswer",
    "CHANUNAVAIL": "unavailable", "CANCEL": "cancelled", "DONTCALL": "cancelled", "TORTURE": "cancelled",
    "INVALIDARGS": "failed"}
"""``Dial`` 's ``DIALSTATUS`` → outcome."""
_ACTION_PREFIX = "helpline-dial-"


@dataclass
class _Pending:
    call_id: int
    endpoint: str
    on_event: DialListener | None
    answered: bool = False
    ended: bool = False


class AmiDialOut:
    """Outbound and internal calls on Asterisk (see the module docstring)."""

    def __init__(self, client: AmiClient, channels: ChannelRegistry, *, outbound_context: str = "helpline-outbound",
                 internal_context: str = "helpline-internal", agent_ring_s: float = 30.0) -> None:
        self.client, self.channels = client, channels
        self.outbound_context, self.internal_context = outbound_context, internal_context
        self.agent_ring_s = agent_ring_s
        """How long the agent's own phone rings before the attempt ends (``noanswer``)."""
        self._lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._unsubscribe = [client.on_event("OriginateResponse", self._on_originate),
                             client.on_event("UserEvent", self._on_user_event),
                             client.on_event("Hangup", self._on_hangup)]

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    def active(self, call_id: int) -> bool:
        with self._lock:
            return call_id in self._pending

    # ---------------------------------------------------------------------------------- placing
    def dial(self, call_id: int, endpoint: str, exten: str, *, internal: bool, caller_id: str | None,
             variables: dict[str, str] | None, timeout_s: float, on_event: DialListener | None) -> None:
        """``Originate`` the agent's endpoint into the outbound (or internal) context at ``exten``."""
        pairs = {"HELPLINE_CALL_ID": str(call_id), "HELPLINE_DIAL_TIMEOUT": str(max(1, round(timeout_s))),
                 **(variables or {})}
        bad = [k for k, v in pairs.items() if not k.replace("_", "").isalnum() or any(c in v for c in ",\r\n")]
        if bad:
            raise ControlError(f"call {call_id}: channel variables must be names with values without commas or "
                               f"line breaks: {', '.join(bad)}")
        pending = _Pending(call_id, endpoint, on_event)
        with self._lock:
            if call_id in self._pending:
                raise ControlError(f"call {call_id} is already being dialled")
            self._pending[call_id] = pending
        headers: dict[str, str | int | bool] = {
            "Channel": endpoint, "Context": self.internal_context if internal else self.outbound_context,
            "Exten": exten, "Priority": 1, "Async": "true", "Timeout": int(self.agent_ring_s * 1000),
            "Variable": ",".join(f"{k}={v}" for k, v in pairs.items()), "ActionID": f"{_ACTION_PREFIX}{call_id}",
            "CallerID": caller_id or f'"Helpline" <{call_id}>'}
        try:
            self.client.send("Originate", **headers)
        except (AmiError, ValueError) as exc:
            with self._lock:
                self._pending.pop(call_id, None)
            raise ControlError(f"call {call_id}: cannot dial {exten}: {exc}") from exc
        self._emit(pending, "agent_ringing")

    def send_dtmf(self, call_id: int, digits: str) -> None:
        call = self.channels.get(call_id)
        if call is None or call.caller is None:
            raise ControlError(f"call {call_id} has no answered far end to send digits to")
        for digit in digits:
            try:
                self.client.send("PlayDTMF", Channel=call.caller, Digit=digit)
            except AmiError as exc:
                raise ControlError(f"call {call_id}: cannot send the digit {digit}: {exc}") from exc

    # ----------------------------------------------------------------------------------- events
    def _emit(self, pending: _Pending, kind: DialEventKind, outcome: DialOutcome | None = None,
              detail: str = "") -> None:
        if kind == "ended":
            with self._lock:
                if pending.ended:
                    return
                pending.ended = True
                self._pending.pop(pending.call_id, None)
        if pending.on_event is not None:
            pending.on_event(DialEvent(pending.call_id, kind, outcome, time.monotonic(), detail))

    def _find(self, call_id_text: str) -> _Pending | None:
        if not call_id_text.strip().isdigit():
            return None
        with self._lock:
            return self._pending.get(int(call_id_text))

    def _on_originate(self, event: AmiEvent) -> None:
        action = event.get("ActionID", "")
        if not action.startswith(_ACTION_PREFIX):
            return
        pending = self._find(action[len(_ACTION_PREFIX):])
        if pending is None:
            return
        if event.get("Response") == "Success":
            self.channels.set_agent(pending.call_id, event.get("Channel", ""), pending.endpoint)
            self._emit(pending, "ringback")
            return
        reason = event.get("Reason", "0")
        self._emit(pending, "ended", ORIGINATE_REASONS.get(reason, "unavailable"),
                   f"the agent's phone {pending.endpoint}: Originate failed (reason {reason})")

    def _on_user_event(self, event: AmiEvent) -> None:
        if event.get("UserEvent", "").lower() != "helplineoutbound":
            return
        pending = self._find(event.get("CallId", ""))
        if pending is None:
            return
        state = event.get("State", "").lower()
        if state == "answered" and not pending.answered:
            pending.answered = True
            channel = event.get("Channel", "")
            if channel:
                self.channels.set_caller(pending.call_id, channel)
            self._emit(pending, "answered")
        elif state == "ended":
            status = event.get("DialStatus", "").upper()
            outcome = "answered" if pending.answered else DIAL_STATUS.get(status, "failed")
            self._emit(pending, "ended", outcome, f"DIALSTATUS {status or 'unknown'}")

    def _on_hangup(self, event: AmiEvent) -> None:
        channel = event.get("Channel", "")
        found = self.channels.find(channel) if channel else None
        if found is None:
            return
        with self._lock:
            pending = self._pending.get(found.call_id)
        if pending is None or channel not in (found.agent, found.caller):
            return
        who = "the agent" if channel == found.agent else "the far end"
        self._emit(pending, "ended", "answered" if pending.answered else "cancelled", f"{who} hung up")
