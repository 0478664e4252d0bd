"""``DialOut``: the agent's outbound calls — click-to-dial, second dialling, consulting an outside number,
internal calls — checked, recorded and kept in step with the router.

``outbound(desk)`` (one :class:`DialOut` per :class:`~telephony.desk.service.DeskService`) is what the desktop
and other services call. Each function checks like every desk function (agent profile, permission and the
agent's state from the one table, :mod:`telephony.desk.actions`: ``dial`` needs ``agent.outbound``, ``internal_call``
``agent.internal_call``), then:

1. puts the agent on the call in the router (``Router.outbound_start``: compare-and-set, so no inbound offer
   reaches an agent that is dialling; an internal call is refused while callers wait in either agent's queues);
2. opens the call record (``hl_call``: ``direction`` outbound or internal, ``dnid`` the number dialled,
   ``started_at`` when it was dialled) and the contact record (serial number, customer, direction), audited;
3. asks the switch (``CallControl.dial_out`` / ``dial_agent``) and follows its
   :class:`~telephony.control.base.DialEvent` s: the agent's state goes ringing → talking, the record gets
   ``answered_at``, and at the end ``ended_at``, ``result`` (the outcome: answered, busy, congestion, noanswer,
   unavailable, failed, cancelled, link_down) and ``talk_s``; the agent wraps up.

A refusal raises ``DeskError`` / ``PermissionDenied`` before anything changed; a switch that refuses at once
(link down) still leaves the attempt recorded (``result`` failed or link_down) and the agent free again.

```python
call_id = outbound(desk).dial(actor, "13800000001", customer_id=31)     # returns at once
outbound(desk).get(call_id).ringback.wait(1)                             # the agent hears it ring
outbound(desk).send_dtmf(actor, "8001#")                                 # an extension after the far IVR
outbound(desk).consult_out(actor, "13900000000"); desk.conference(actor) # three-way with an outside number
outbound(desk).call_agent(actor, "1002")                                 # internal call
```

Other services (call-back tasks, campaigns) call :meth:`DialOut.dial` with ``purpose`` (``callback``,
``campaign``...) and ``variables``; ``on_end`` receives the finished :class:`OutboundCall` before its ``done``
event is set (whoever waits for ``done`` sees what ``on_end`` recorded).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from helpline.data.base import utcnow
from helpline.security.actor import Actor
from helpline.services.calls import CallService
from helpline.services.lookup import find_customer_by_phone
from helpline.services.recordings import recording_name
from telephony.control.base import ControlError, DialEvent
from telephony.router.events import AgentAlert, RouterEvent
from telephony.router.model import AgentState

if TYPE_CHECKING:
    from telephony.desk.service import AgentRef, DeskService

__all__ = ["DialOut", "OutboundCall", "check_number", "outbound"]

log = logging.getLogger(__name__)
Direction = Literal["outbound", "internal"]
MAX_DIGITS = 20


def check_number(number: str, *, what: str = "phone number") -> str:
    """The number to dial, spaces and dashes removed; ``ValueError`` with a readable message if it is none."""
    text = "".join(ch for ch in str(number) if ch not in " -()")
    body = text[1:] if text.startswith("+") else text
    if not body.isdigit() or not 3 <= len(body) <= MAX_DIGITS:
        raise ValueError(f"'{number}' is not a {what} (3 to {MAX_DIGITS} digits, optionally after +)")
    return text


@dataclass
class OutboundCall:
    """One outbound or internal call placed by an agent (times are ``time.monotonic()``)."""

    call_id: int
    agent: str
    endpoint: str
    number: str
    direction: Direction
    username: str
    purpose: str = "manual"
    other: str | None = None
    """The agent called (internal calls)."""
    contact_record: int | None = None
    dialled_at: float = field(default_factory=time.monotonic)
    ringback_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    outcome: str | None = None
    detail: str = ""
    ringback: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    answered_wall: datetime | None = None
    recording: str | None = None
    """The conversation's recording (relative to the recordings folder), when the routing records outbound."""


class DialOut:
    """The agents' outbound calls (see the module docstring)."""

    def __init__(self, desk: DeskService, calls: CallService | None = None, *, timeout_s: float = 30.0) -> None:
        self.desk = desk
        self.calls = calls or CallService()
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._calls: dict[int, OutboundCall] = {}
        self._listeners: list[Callable[[OutboundCall, DialEvent], None]] = []
        self._unsubscribe = desk.router.subscribe(self._router_event)

    # ------------------------------------------------------------------------------------ reading
    def get(self, call_id: int) -> OutboundCall | None:
        with self._lock:
            return self._calls.get(call_id)

    def current(self, agent: str) -> OutboundCall | None:
        """The agent's outbound call in progress, if any."""
        with self._lock:
            return next((c for c in self._calls.values() if not c.done.is_set() and agent in (c.agent, c.other)),
                        None)

    def listen(self, listener: Callable[[OutboundCall, DialEvent], None]) -> Callable[[], None]:
        """Every dial event with its call (on a switch thread: hand over and return)."""
        with self._lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
        return stop

    # ---------------------------------------------------------------------------------- functions
    def dial(self, actor: Actor, number: str, *, customer_id: int | None = None, purpose: str = "manual",
             caller_id: str | None = None, variables: dict[str, str] | None = None,
             on_end: Callable[[OutboundCall], None] | None = None) -> int:
        """Click-to-dial: the actor's phone rings, then ``number``; returns the call id at once."""
        from telephony.desk.service import DeskError

        ref = self.desk.agent_of(actor)
        self.desk.check(actor, ref.number, "dial")
        try:
            dialled = check_number(number)
        except ValueError as exc:
            raise DeskError(str(exc)) from exc
        call = self._start(actor, ref, dialled, "outbound", customer_id=customer_id, purpose=purpose)
        self._audit(actor, "desk.dial", call, number=dialled, purpose=purpose)
        self._place(call, on_end, lambda listener: self.desk.control.dial_out(
            call.call_id, ref.endpoint, dialled, caller_id=caller_id, variables=variables,
            timeout_s=self.timeout_s, on_event=listener))
        return call.call_id

    def call_agent(self, actor: Actor, other: str) -> int:
        """An internal call to agent ``other``, refused while callers wait in either agent's queues."""
        from telephony.desk.service import DeskError

        ref = self.desk.agent_of(actor)
        self.desk.check(actor, ref.number, "internal_call")
        target = self.desk.router.router.agents.get(str(other))
        if target is None:
            raise DeskError(f"there is no agent {other}")
        call = self._start(actor, ref, target.id, "internal", other=target.id)
        self._audit(actor, "desk.internal_call", call, to_agent=target.id)
        self._place(call, None, lambda listener: self.desk.control.dial_agent(
            call.call_id, ref.endpoint, target.profile.endpoint, timeout_s=self.timeout_s, on_event=listener))
        return call.call_id

    def send_dtmf(self, actor: Actor, digits: str) -> None:
        """Second dialling: ``digits`` (0-9 * # A-D) to the far end of the agent's call."""
        from telephony.desk.service import DeskError

        ref = self.desk.agent_of(actor)
        _, call_id = self.desk._call(actor, ref.number, "dtmf")
        text = digits.strip().upper()
        if not text or len(text) > 32 or any(ch not in "0123456789*#ABCD" for ch in text):
            raise DeskError(f"'{digits}' are not digits to send (0-9, *, #)")
        self.desk._control(lambda: self.desk.control.send_dtmf(call_id, ref.endpoint, text))
        self.desk._audit(actor, "desk.dtmf", call_id, agent=ref.number, digits=len(text))

    def consult_out(self, actor: Actor, number: str) -> None:
        """External help: the caller is held while the agent calls the outside ``number``; then the desk's
        ``complete_transfer``, ``conference`` or ``cancel_consult``."""
        from telephony.desk.service import DeskError

        ref = self.desk.agent_of(actor)
        _, call_id = self.desk._call(actor, ref.number, "consult_out")
        try:
            dialled = check_number(number)
        except ValueError as exc:
            raise DeskError(str(exc)) from exc
        self.desk._control(lambda: self.desk.control.consult_out(call_id, ref.endpoint, dialled))
        self.desk._write("hold", ref.number)
        self.desk.consulting[ref.number] = f"external:{dialled}"
        self.desk._audit(actor, "desk.consult_out", call_id, agent=ref.number, number=dialled)

    def hang_up(self, call_id: int, why: str) -> bool:
        """End an outbound call in progress (the agent's desktop is gone...); False if it is not running."""
        call = self.get(call_id)
        if call is None or call.done.is_set():
            return False
        call.detail = why
        try:
            self.desk.control.hang_up(call_id, call.endpoint)
        except ControlError as exc:  # already over (the switch's events finish it), or not reachable now
            log.info("outbound call %s: hang-up (%s) refused: %s", call_id, why, exc)
        return True

    def close(self) -> None:
        self._unsubscribe()

    # ---------------------------------------------------------------------------------- internals
    def _start(self, actor: Actor, ref: AgentRef, number: str, direction: Direction, *,
               customer_id: int | None = None, purpose: str = "manual", other: str | None = None) -> OutboundCall:
        from telephony.desk.service import DeskError

        if customer_id is None and direction == "outbound":  # the contact record shows whom the agent called
            try:
                found = find_customer_by_phone(self.desk.platform, number)
            except Exception:
                log.exception("outbound call to %s: the customer look-up failed", number)
                found = None
            customer_id = int(found["id"]) if found and found.get("id") is not None else None
        call_id = self.calls.open(switch=self.desk.control.kind, direction=direction, dnid=number,
                                  caller_number=ref.number if direction == "internal" else None, agent=ref.number,
                                  customer_id=customer_id, variables={"purpose": purpose})
        call = OutboundCall(call_id, ref.number, ref.endpoint, number, direction, actor.username, purpose, other)
        try:
            self.desk._write("outbound_start", ref.number, call_id, other=other)
        except DeskError as exc:
            self.calls.close(call_id, result="refused", error={"message": str(exc)})
            raise
        with self._lock:
            self._calls[call_id] = call
        call.contact_record = self._contact_record(actor, call, customer_id)
        return call

    def _place(self, call: OutboundCall, on_end: Callable[[OutboundCall], None] | None,
               start: Callable[[Callable[[DialEvent], None]], None]) -> None:
        from telephony.desk.service import DeskError

        def listener(event: DialEvent) -> None:
            try:
                self._event(call, event, on_end)
            except Exception:
                log.exception("outbound call %s: handling %s failed", call.call_id, event.kind)

        try:
            start(listener)
        except ControlError as exc:
            down = any(w in str(exc).lower() for w in ("not connected", "connection", "link", "unavailable"))
            self._event(call, DialEvent(call.call_id, "ended", "link_down" if down else "failed", time.monotonic(),
                                        str(exc)), on_end)
            raise DeskError(f"the switch refused: {exc}") from exc

    def _event(self, call: OutboundCall, event: DialEvent, on_end: Callable[[OutboundCall], None] | None) -> None:
        agents = [a for a in (call.agent, call.other) if a]
        if event.kind == "agent_ringing":
            self._state(call.call_id, call.agent, AgentState.RINGING)
        elif event.kind == "ringback":
            call.ringback_at = event.at
            self._state(call.call_id, call.agent, AgentState.TALKING)
            if call.other:
                self._state(call.call_id, call.other, AgentState.RINGING)
            call.ringback.set()
        elif event.kind == "answered":
            call.answered_at, call.answered_wall = event.at, utcnow()
            for agent in agents:
                self._state(call.call_id, agent, AgentState.TALKING)
            self._record(call)
        elif event.kind == "ended" and not call.done.is_set():
            call.ended_at, call.outcome = event.at, event.outcome or "failed"
            call.detail = "; ".join(text for text in (call.detail, event.detail) if text)
            self.desk.router.call("outbound_ended", call.call_id, answered=call.answered_at is not None)
            talk = round(event.at - call.answered_at, 3) if call.answered_at is not None else None
            self.calls.close(call.call_id, result=call.outcome, answered_at=call.answered_wall, talk_s=talk,
                             variables={"purpose": call.purpose, "detail": call.detail[:200]},
                             **({"call_recording": call.recording} if call.recording else {}))
            self._end_contact_record(call)
            try:
                for listener in list(self._listeners):
                    listener(call, event)
                if on_end is not None:
                    on_end(call)
            finally:
                call.done.set()  # after on_end: whoever waits for the end sees what on_end recorded
            return
        for listener in list(self._listeners):
            listener(call, event)

    def _record(self, call: OutboundCall) -> None:
        """Record the answered outbound conversation when the routing says so (``record_outbound``): the QA desk
        samples and evaluates it like a recorded queue's call. A switch that cannot record leaves it unrecorded."""
        if call.direction != "outbound" or not self.desk.router.router.settings.record_outbound:
            return
        path = recording_name(call.call_id, call.agent)
        try:
            self.desk.control.start_recording(call.call_id, call.endpoint, path)
            call.recording = f"{path}.wav"
        except ControlError as exc:
            log.warning("outbound call %s: the conversation cannot be recorded: %s", call.call_id, exc)

    def _state(self, call_id: int, agent: str, state: AgentState) -> None:
        self.desk.router.call("outbound_state", call_id, agent, state)

    def _router_event(self, event: RouterEvent) -> None:
        """The router's grace timer says an agent's desktop is gone: its outbound call ends (on its own thread,
        the router's lock is held here)."""
        if isinstance(event, AgentAlert) and event.kind == "disconnected" and event.call_id is not None:
            call = self.get(event.call_id)
            if call is not None and not call.done.is_set():
                threading.Thread(target=self.hang_up, args=(call.call_id, "the agent's desktop is gone"),
                                 daemon=True).start()

    def _contact_record(self, actor: Actor, call: OutboundCall, customer_id: int | None) -> int | None:
        from telephony.desk.screenpop import serial_number

        values: dict[str, Any] = {
            "serial_no": serial_number(call.call_id), "customer": customer_id, "direction": call.direction,
            "caller_number": call.number if call.direction == "outbound" else None, "agent": actor.username,
            "started_at": datetime.now().replace(microsecond=0)}
        try:
            record = self.desk.platform.records.create(
                actor, "contact_record", {k: v for k, v in values.items() if v is not None})
            return int(record.id)
        except Exception:
            log.exception("outbound call %s: the contact record could not be created", call.call_id)
            return None

    def _end_contact_record(self, call: OutboundCall) -> None:
        if call.contact_record is None:
            return
        try:
            self.desk.platform.records.update(Actor.system(), "contact_record", call.contact_record,
                                              {"ended_at": datetime.now().replace(microsecond=0)})
        except Exception:
            log.exception("outbound call %s: the contact record's end could not be written", call.call_id)

    def _audit(self, actor: Actor, action: str, call: OutboundCall, **detail: Any) -> None:
        self.desk._audit(actor, action, call.call_id, agent=call.agent, **detail)


_DIALOUTS: weakref.WeakKeyDictionary[DeskService, DialOut] = weakref.WeakKeyDictionary()
_DIALOUTS_LOCK = threading.Lock()


def outbound_talk_s(desk: DeskService, agent: str) -> float:
    """Seconds since the far end answered agent ``agent``'s outbound call in progress (0.0: none, or not answered
    yet); ``desk``'s dial-out is not made for it."""
    with _DIALOUTS_LOCK:
        found = _DIALOUTS.get(desk)
    call = found.current(agent) if found is not None else None
    return round(time.monotonic() - call.answered_at, 1) if call is not None and call.answered_at is not None \
        else 0.0


def outbound(desk: DeskService) -> DialOut:
    """The :class:`DialOut` of ``desk`` (made on first use, one per desk service)."""
    with _DIALOUTS_LOCK:
        found = _DIALOUTS.get(desk)
        if found is None:
            found = _DIALOUTS[desk] = DialOut(desk)
        return found
