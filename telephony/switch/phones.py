"""Agents' phones in memory, for the simulated switch: ring, answer, reject, talk, hang up.

``SimulatedSwitch.dial(endpoint, ...)`` rings the :class:`SimulatedPhone` of that endpoint in a
:class:`SimulatedPhones` registry (``PHONES``, the process-wide one, unless the switch is given its own).
A phone is ``idle``, ``ringing`` or ``talking``; whoever plays the agent (a test, the simulator, the
browser) calls ``answer()``, ``reject()`` (busy) or ``hang_up()`` (ends the talk) from any thread.
``auto_answer`` makes a phone pick up at once and ``talk_s`` makes the agent hang up after that many
real seconds (None: talk until ``hang_up()`` or the caller hangs up). ``registered = False`` makes the
endpoint unreachable (``unavailable``); a phone that is not idle answers ``busy``.

```python
phone = PHONES.phone("PJSIP/1001")
phone.auto_answer, phone.talk_s = True, 0.0
switch.dial("PJSIP/1001", 15, call_id=42)          # DialResult("answer", hung_up_by="agent")
```
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from telephony.switch.base import DialResult

__all__ = ["PHONES", "PhoneState", "SimulatedPhone", "SimulatedPhones"]

PhoneState = Literal["idle", "ringing", "talking"]
_EndedBy = Literal["", "rejected", "agent", "caller", "timeout", "transfer"]


@dataclass
class _Call:
    """The call a phone is busy with."""

    call_id: int
    rang_at: float
    answered_at: float | None = None
    ended_by: _EndedBy = ""
    transfer: str | None = None


class SimulatedPhone:
    """One agent's endpoint (see the module docstring). All methods are thread-safe."""

    def __init__(self, endpoint: str, *, auto_answer: bool = False, talk_s: float | None = None,
                 registered: bool = True) -> None:
        self.endpoint = endpoint
        self.auto_answer = auto_answer
        self.talk_s = talk_s
        self.registered = registered
        self.rings = 0
        """Calls that rang this phone."""
        self.answered_calls = 0
        self.held = False
        self.muted = False
        self.consulting: str | None = None
        """The endpoint this phone is consulting (internal help), or None."""
        self.conference: set[str] = set()
        """Endpoints joined to this phone's call (three-way)."""
        self.spies: dict[str, str] = {}
        """Supervisor endpoint → ``listen`` / ``whisper`` / ``barge``."""
        self.recording: str | None = None
        self._cond = threading.Condition()
        self._state: PhoneState = "idle"
        self._call: _Call | None = None

    def __repr__(self) -> str:
        return f"SimulatedPhone({self.endpoint!r}, {self._state})"

    @property
    def state(self) -> PhoneState:
        """``idle``, ``ringing`` or ``talking``."""
        return self._state

    @property
    def call_id(self) -> int | None:
        """The call ringing or talking on this phone, or None."""
        call = self._call
        return call.call_id if call is not None else None

    # -- the agent's side -------------------------------------------------------------------------
    def answer(self) -> bool:
        """Pick up a ringing call; False when nothing rings."""
        with self._cond:
            if self._state != "ringing" or self._call is None:
                return False
            self._pick_up(self._call)
            return True

    def reject(self) -> bool:
        """Decline a ringing call (the dial ends ``busy``); False when nothing rings."""
        return self._end("ringing", "rejected")

    def hang_up(self) -> bool:
        """End the talk (the dial returns ``answer`` with ``hung_up_by='agent'``); a ringing call is
        rejected. False when the phone is idle."""
        with self._cond:
            if self._state == "ringing":
                return self._end("ringing", "rejected")
            return self._end("talking", "agent")

    def transfer(self, target: str) -> bool:
        """The agent transfers the caller to ``target`` (``queue:billing`` ...): the talk ends and the dial
        returns ``answer`` with ``transfer`` set. False when the phone is not talking."""
        with self._cond:
            call = self._call
            if self._state != "talking" or call is None:
                return False
            call.transfer = target
            self._end_locked(call, "transfer")
            return True

    def wait_for(self, state: PhoneState, timeout: float = 5.0) -> bool:
        """Block until the phone is in ``state`` (e.g. ``ringing``); False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._state != state:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    # -- the switch's side ------------------------------------------------------------------------
    def poke(self) -> None:
        """Wake a dial waiting on this phone (the caller hung up)."""
        with self._cond:
            self._cond.notify_all()

    def take_call(self, call_id: int, timeout: float, *, caller_gone: Callable[[], bool],
                  on_answer: Callable[[], None] | None = None) -> DialResult:
        """Ring for up to ``timeout`` seconds and, if answered, talk until someone hangs up.

        ``caller_gone`` tells whether the caller hung up (the switch calls :meth:`poke` when that
        happens). ``on_answer`` runs once in the calling thread right after the agent picks up.
        """
        with self._cond:
            if not self.registered:
                return DialResult("unavailable")
            if self._state != "idle":
                return DialResult("busy")
            call = _Call(call_id, time.monotonic())
            self._call = call
            self._state = "ringing"
            self.rings += 1
            self._cond.notify_all()
            if self.auto_answer:
                self._pick_up(call)
            deadline = call.rang_at + timeout
            while self._call is call and self._state == "ringing" and not caller_gone():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if call.answered_at is None:
                ring_s = round(time.monotonic() - call.rang_at, 3)
                if call.ended_by == "rejected":
                    return DialResult("busy", ring_s=ring_s)
                gone = caller_gone()
                self._end_locked(call, "caller" if gone else "timeout")
                return DialResult("hangup", ring_s=ring_s, hung_up_by="caller") if gone else \
                    DialResult("noanswer", ring_s=ring_s)
        if on_answer is not None:
            on_answer()
        return self._talk(call, caller_gone)

    def _talk(self, call: _Call, caller_gone: Callable[[], bool]) -> DialResult:
        assert call.answered_at is not None
        with self._cond:
            talk_s = self.talk_s
            ends_at = None if talk_s is None else call.answered_at + talk_s
            while not call.ended_by:
                if caller_gone():
                    self._end_locked(call, "caller")
                    break
                left = None if ends_at is None else ends_at - time.monotonic()
                if left is not None and left <= 0:
                    self._end_locked(call, "agent")
                    break
                self._cond.wait(left)
            now = time.monotonic()
            return DialResult("answer", ring_s=round(call.answered_at - call.rang_at, 3),
                              talk_s=round(now - call.answered_at, 3),
                              hung_up_by="caller" if call.ended_by == "caller" else "agent",
                              transfer=call.transfer)

    # -- helpers (called with the lock held) ------------------------------------------------------
    def _pick_up(self, call: _Call) -> None:
        call.answered_at = time.monotonic()
        self._state = "talking"
        self.answered_calls += 1
        self._cond.notify_all()

    def _end(self, state: PhoneState, ended_by: _EndedBy) -> bool:
        with self._cond:
            call = self._call
            if self._state != state or call is None:
                return False
            self._end_locked(call, ended_by)
            return True

    def _end_locked(self, call: _Call, ended_by: _EndedBy) -> None:
        if not call.ended_by:
            call.ended_by = ended_by
        if self._call is call:
            self._call = None
            self._state = "idle"
            self.held = self.muted = False
            self.consulting, self.recording = None, None
            self.conference.clear()
            self.spies.clear()
        self._cond.notify_all()


class SimulatedPhones:
    """The simulated phones by endpoint; ``phone()`` creates one on first use. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._phones: dict[str, SimulatedPhone] = {}

    def phone(self, endpoint: str) -> SimulatedPhone:
        """The phone of ``endpoint`` (``PJSIP/1001``), created idle and registered if new."""
        with self._lock:
            found = self._phones.get(endpoint)
            if found is None:
                found = self._phones[endpoint] = SimulatedPhone(endpoint)
            return found

    def get(self, endpoint: str) -> SimulatedPhone | None:
        """The phone of ``endpoint`` if it was ever used, else None."""
        with self._lock:
            return self._phones.get(endpoint)

    def ringing(self) -> list[SimulatedPhone]:
        """Phones ringing right now, by endpoint."""
        return [p for p in self.all() if p.state == "ringing"]

    def all(self) -> list[SimulatedPhone]:
        """Every phone, by endpoint."""
        with self._lock:
            return [self._phones[k] for k in sorted(self._phones)]

    def clear(self) -> None:
        """Forget every phone (tests); calls in progress keep their phone objects."""
        with self._lock:
            self._phones.clear()


#: The process-wide phones ``SimulatedSwitch`` dials unless given another registry.
PHONES = SimulatedPhones()
