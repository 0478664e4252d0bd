"""Dialling out on the simulated phones: the outside world's numbers and one thread per outbound call.

:class:`~telephony.control.simulated.SimulatedCallControl` places outbound and internal calls through
:func:`start_dial_out` / :func:`start_dial_agent`. The agent's phone (``telephony.switch.phones``) rings
first, as Asterisk's ``Originate`` rings the agent's endpoint first; once the agent picks up, the far end
rings (``ringback``) and behaves as :data:`OUTSIDE` says for that number: answer after ``ring_s`` seconds
and talk for ``talk_s`` (None: until the agent hangs up), or refuse ``busy`` / ``congestion`` /
``unavailable``, or never answer (``noanswer``: rings until the dial's timeout). Unknown numbers answer after
:attr:`SimulatedOutside.default_ring_s`. Digits sent during the call (second dialling) are kept per call.

```python
OUTSIDE.behave("13800000001", result="busy")
OUTSIDE.behave("13800000002", ring_s=0.05, talk_s=None)       # answers, talks until the agent hangs up
control.dial_out(7, "PJSIP/1001", "13800000002", on_event=print)
OUTSIDE.leg(7).digits                                         # '' until control.send_dtmf(7, ..., "123#")
OUTSIDE.hang_up(7)                                            # the far end hangs up
```
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from telephony.control.base import ControlError, DialEvent, DialEventKind, DialListener, DialOutcome
from telephony.switch.phones import SimulatedPhone, SimulatedPhones

__all__ = ["OUTSIDE", "Behaviour", "OutsideLeg", "SimulatedOutside", "start_dial_agent", "start_dial_out"]

FarResult = Literal["answer", "busy", "congestion", "unavailable", "noanswer"]
_POLL_S = 0.005


@dataclass(frozen=True)
class Behaviour:
    """What an outside number does when called."""

    result: FarResult = "answer"
    ring_s: float = 0.0
    """Seconds it rings before answering or refusing."""
    talk_s: float | None = None
    """Seconds the far end talks before hanging up (None: until the agent hangs up)."""


@dataclass
class OutsideLeg:
    """The far end of one outbound call (simulated)."""

    call_id: int
    number: str
    state: Literal["ringing", "talking", "ended"] = "ringing"
    digits: str = ""
    hung_up: threading.Event = field(default_factory=threading.Event)


class SimulatedOutside:
    """Outside numbers' behaviours and the legs of calls in progress. Thread-safe."""

    def __init__(self, default_ring_s: float = 0.0) -> None:
        self.default_ring_s = default_ring_s
        self._lock = threading.Lock()
        self._behaviours: dict[str, Behaviour] = {}
        self._legs: dict[int, OutsideLeg] = {}

    def behave(self, number: str, *, result: FarResult = "answer", ring_s: float = 0.0,
               talk_s: float | None = None) -> None:
        """How ``number`` answers from now on."""
        with self._lock:
            self._behaviours[number] = Behaviour(result, ring_s, talk_s)

    def behaviour(self, number: str) -> Behaviour:
        with self._lock:
            return self._behaviours.get(number) or Behaviour(ring_s=self.default_ring_s)

    def leg(self, call_id: int) -> OutsideLeg | None:
        """The far end of ``call_id`` (kept after the call ended, until :meth:`clear`)."""
        with self._lock:
            return self._legs.get(call_id)

    def hang_up(self, call_id: int) -> bool:
        """The far end of ``call_id`` hangs up; False when there is no such call."""
        leg = self.leg(call_id)
        if leg is None or leg.state == "ended":
            return False
        leg.hung_up.set()
        return True

    def _open(self, call_id: int, number: str) -> OutsideLeg:
        with self._lock:
            leg = self._legs[call_id] = OutsideLeg(call_id, number)
            return leg

    def clear(self) -> None:
        with self._lock:
            self._behaviours.clear()
            self._legs.clear()


#: The process-wide outside world of the simulated switch.
OUTSIDE = SimulatedOutside()


class _Dial:
    """One outbound or internal call on the simulated phones (runs on its own thread)."""

    def __init__(self, call_id: int, phone: SimulatedPhone, timeout_s: float, on_event: DialListener | None) -> None:
        self.call_id, self.phone, self.timeout_s, self.on_event = call_id, phone, timeout_s, on_event
        self.outcome: DialOutcome | None = None
        self.detail = ""

    def emit(self, kind: DialEventKind, outcome: DialOutcome | None = None, detail: str = "") -> None:
        if self.on_event is not None:
            self.on_event(DialEvent(self.call_id, kind, outcome, time.monotonic(), detail))

    def agent_gone(self) -> bool:
        return self.phone.call_id != self.call_id

    def run(self, far: _FarEnd) -> None:
        self.emit("agent_ringing")
        try:
            result = self.phone.take_call(self.call_id, self.timeout_s, caller_gone=far.gone,
                                          on_answer=lambda: far.connect(self))
        except Exception as exc:  # a simulated fault: the call still ends with an outcome
            self.emit("ended", "failed", f"{type(exc).__name__}: {exc}")
            return
        if not result.answered:
            outcome: DialOutcome = ("noanswer" if result.status == "noanswer" else "unavailable"
                                    if result.status == "unavailable" else "cancelled")
            self.emit("ended", outcome, f"the agent's phone: {result.status}")
            return
        far.finish()
        detail = self.detail or (f"transferred to {result.transfer}" if result.transfer else
                                 f"hung up by the {'far end' if result.hung_up_by == 'caller' else 'agent'}")
        self.emit("ended", self.outcome or "answered", detail)


class _FarEnd:
    """The party called: an outside number or another agent's phone."""

    def gone(self) -> bool:
        raise NotImplementedError

    def connect(self, dial: _Dial) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """The agent's leg ended: end this one too."""


class _Number(_FarEnd):
    def __init__(self, leg: OutsideLeg, behaviour: Behaviour) -> None:
        self.leg, self.behaviour = leg, behaviour

    def gone(self) -> bool:
        return self.leg.hung_up.is_set()

    def connect(self, dial: _Dial) -> None:
        """The agent picked up: ring the number, then answer, refuse or ring out (runs in on_answer)."""
        dial.emit("ringback")
        b, leg = self.behaviour, self.leg
        ring_for = dial.timeout_s if b.result == "noanswer" else min(b.ring_s, dial.timeout_s)
        deadline = time.monotonic() + ring_for
        while time.monotonic() < deadline:
            if dial.agent_gone():
                leg.state, dial.outcome, dial.detail = "ended", "cancelled", "the agent hung up while it rang"
                return
            time.sleep(min(_POLL_S, max(deadline - time.monotonic(), 0.0)))
        if b.result != "answer" or ring_for < b.ring_s:
            leg.state = "ended"
            refused: dict[str, DialOutcome] = {"busy": "busy", "congestion": "congestion",
                                               "unavailable": "unavailable"}
            dial.outcome = refused.get(b.result, "noanswer")
            dial.detail = f"{leg.number}: {dial.outcome}"
            self.leg.hung_up.set()  # the agent's leg ends with it
            dial.phone.poke()
            return
        leg.state = "talking"
        dial.emit("answered")
        if b.talk_s is not None:
            timer = threading.Timer(b.talk_s, self._far_hang_up, args=(dial,))
            timer.daemon = True
            timer.start()
        threading.Thread(target=self._watch, args=(dial,), daemon=True, name=f"outside-{leg.call_id}").start()

    def _far_hang_up(self, dial: _Dial) -> None:
        self.leg.hung_up.set()
        dial.phone.poke()

    def _watch(self, dial: _Dial) -> None:
        """Wake the agent's talk when the far end hangs up (``OUTSIDE.hang_up``)."""
        while not dial.agent_gone():
            if self.leg.hung_up.wait(0.05):
                dial.phone.poke()
                return

    def finish(self) -> None:
        self.leg.state = "ended"


class _Agent(_FarEnd):
    def __init__(self, other: SimulatedPhone) -> None:
        self.other = other
        self.ended = threading.Event()

    def gone(self) -> bool:
        return self.ended.is_set()

    def connect(self, dial: _Dial) -> None:
        dial.emit("ringback")
        watcher = threading.Thread(target=self._watch, args=(dial,), daemon=True)
        watcher.start()
        result = self.other.take_call(dial.call_id, dial.timeout_s, caller_gone=dial.agent_gone,
                                      on_answer=lambda: dial.emit("answered"))
        self.ended.set()
        if not result.answered:
            dial.outcome = ("busy" if result.status == "busy" else "unavailable" if result.status == "unavailable"
                            else "cancelled" if result.status == "hangup" else "noanswer")
            dial.detail = f"{self.other.endpoint}: {result.status}"
        dial.phone.poke()

    def _watch(self, dial: _Dial) -> None:
        while not self.ended.is_set():
            if dial.agent_gone():
                self.other.poke()
                if self.ended.wait(0.05):
                    return
            self.ended.wait(_POLL_S * 4)


def _check_number(number: str) -> str:
    text = number.strip()
    if not text or not all(ch.isdigit() or ch in "+*#" for ch in text) or len(text) > 32:
        raise ControlError(f"not a number to dial: {number!r}")
    return text


def _agent_phone(phones: SimulatedPhones, endpoint: str) -> SimulatedPhone:
    phone = phones.phone(endpoint)
    if phone.state != "idle":
        raise ControlError(f"{endpoint} is busy ({phone.state})")
    return phone


def start_dial_out(phones: SimulatedPhones, outside: SimulatedOutside, call_id: int, endpoint: str, number: str,
                   timeout_s: float, on_event: DialListener | None) -> None:
    """Start an outbound call on the simulated phones (see ``CallControl.dial_out``)."""
    dialled = _check_number(number)
    phone = _agent_phone(phones, endpoint)
    far = _Number(outside._open(call_id, dialled), outside.behaviour(dialled))
    dial = _Dial(call_id, phone, timeout_s, on_event)
    threading.Thread(target=dial.run, args=(far,), daemon=True, name=f"dial-out-{call_id}").start()


def start_dial_agent(phones: SimulatedPhones, call_id: int, endpoint: str, target_endpoint: str, timeout_s: float,
                     on_event: DialListener | None) -> None:
    """Start an internal call between two simulated phones (see ``CallControl.dial_agent``)."""
    if target_endpoint == endpoint:
        raise ControlError("an agent cannot call itself")
    phone = _agent_phone(phones, endpoint)
    other = phones.phone(target_endpoint)
    if other.state != "idle":
        raise ControlError(f"{target_endpoint} is busy ({other.state})")
    dial = _Dial(call_id, phone, timeout_s, on_event)
    threading.Thread(target=dial.run, args=(_Agent(other),), daemon=True, name=f"dial-agent-{call_id}").start()
