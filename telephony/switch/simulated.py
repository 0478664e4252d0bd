"""``SimulatedSwitch``: a call in memory, for tests, ``run.py`` without Asterisk and the IVR console.

The caller is a queue of key presses (``press("1")``; ``","`` is a pause: the next input times out, a
prompt plays to its end). Every operation is recorded as an :class:`SimEvent` with the prompt's text in
the call's language, so a transcript reads like what the caller heard.

Non-interactive (the default) an empty key queue means silence: input times out at once. Interactive
(``interactive=True``, the browser console) an input waits up to its timeout for ``press()`` from
another thread. ``hang_up()`` hangs up from the caller's side; ``hangup_at`` does it at an operation
(its 0-based index, or a prefix of its description such as ``"get_digits main_menu"``), and
``fail_at`` makes the channel break there (like a peer that stops answering).

For the router: ``hold`` waits (interactive: up to its time, until ``wake()`` or a hang-up;
non-interactive: returns at once) and records one ``hold`` event per stretch of holding; ``dial`` rings a
:class:`~telephony.switch.phones.SimulatedPhone` of ``phones`` (the process-wide ``PHONES`` unless
another registry is given) in real time, whatever the mode, and records ``dial``, ``answered`` and
``dial_end`` events. The caller's ``hang_up()`` during ringing gives ``hangup``, during the talk
``answer`` with ``hung_up_by='caller'``.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from telephony.switch.base import (
    ESCAPE_ALL,
    DialResult,
    DigitsInput,
    PlayResult,
    PromptRef,
    RecordingResult,
    SayKind,
    Switch,
    SwitchError,
    SwitchHangup,
)
from telephony.switch.phones import PHONES, SimulatedPhone, SimulatedPhones

__all__ = ["PAUSE", "SimEvent", "SimulatedSwitch"]

PAUSE = ","
_ids = itertools.count(1)


@dataclass(frozen=True)
class SimEvent:
    """One operation on the simulated channel: ``op`` (answer, play, say, input, record, set, hangup, hold,
    music_off, dial, answered, dial_end)."""

    index: int
    op: str
    text: str = ""
    prompt: str = ""
    digits: str = ""
    detail: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        """A human-readable line (``▶ 欢迎致电…``, ``⌨ 1``)."""
        if self.op in ("play", "input") and self.text:
            shown = f"▶ {self.text}"
            return shown + (f"  ⌨ {self.digits}" if self.digits else "")
        if self.op == "say":
            return f"🔊 {self.text}"
        return f"[{self.op}] {self.text}".rstrip()


class SimulatedSwitch(Switch):
    """A simulated channel driven by key presses (see the module docstring)."""

    kind = "simulated"

    def __init__(self, keys: str = "", *, language: str = "zh_CN", interactive: bool = False,
                 hangup_at: int | str | None = None, fail_at: int | str | None = None,
                 missing_files: set[str] | None = None, uniqueid: str | None = None,
                 phones: SimulatedPhones | None = None) -> None:
        self.language = language
        self.interactive = interactive
        self.hangup_at = hangup_at
        self.fail_at = fail_at
        self.missing_files = set(missing_files or ())
        self.uniqueid = uniqueid or f"sim-{int(time.time())}.{next(_ids)}"
        self.events: list[SimEvent] = []
        self.variables: dict[str, str] = {}
        self.call_recording: str | None = None
        """Where ``record_call`` would have recorded the conversation."""
        self.answered = False
        self.hung_up_by_caller = False
        self.hung_up_by_ivr = False
        self._keys: deque[str] = deque()
        self._cond = threading.Condition()
        self._ops = 0
        self.phones = phones if phones is not None else PHONES
        self.music_class: str | None = None
        """The hold music playing, or None."""
        self._woken = False
        self._dialing: SimulatedPhone | None = None
        self.press(keys)

    # -- the caller's side ----------------------------------------------------------------------
    def press(self, keys: str) -> None:
        """Queue key presses (``","`` is a pause); wakes an interactive input."""
        with self._cond:
            for key in keys:
                if key not in ESCAPE_ALL and key != PAUSE:
                    raise ValueError(f"not a DTMF key: {key!r}")
                self._keys.append(key)
            self._cond.notify_all()

    def hang_up(self) -> None:
        """The caller hangs up: the current or next operation raises :class:`SwitchHangup`."""
        with self._cond:
            self.hung_up_by_caller = True
            self._cond.notify_all()
        phone = self._dialing
        if phone is not None:
            phone.poke()

    @property
    def pending(self) -> str:
        """Key presses not used yet."""
        return "".join(self._keys)

    def transcript(self) -> list[str]:
        """What happened, one line per event."""
        return [e.line() for e in self.events]

    @property
    def prompts_heard(self) -> list[str]:
        """Names of the prompts played (in order)."""
        return [e.prompt for e in self.events if e.prompt]

    # -- helpers ----------------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return not (self.hung_up_by_caller or self.hung_up_by_ivr)

    def _due(self, trigger: int | str | None, index: int, description: str) -> bool:
        if trigger is None:
            return False
        if isinstance(trigger, int):
            return trigger == index
        return description.startswith(trigger)

    def _begin(self, op: str, description: str, *, dead_ok: bool = False) -> int:
        index = self._ops
        self._ops += 1
        if self._due(self.fail_at, index, description):
            raise SwitchError(f"simulated channel failure at {description}")
        if self._due(self.hangup_at, index, description):
            self.hung_up_by_caller = True
        if self.hung_up_by_caller and not dead_ok:
            self.events.append(SimEvent(index, "hangup", f"caller hung up during {description}"))
            raise SwitchHangup(f"caller hung up during {description}")
        if self.hung_up_by_ivr and not dead_ok:
            raise SwitchHangup(f"{description} on a channel the IVR hung up")
        return index

    def _take(self, accept: str, wait: float) -> str | None:
        """Next key if it is in ``accept``; a pause or (non-interactive) an empty queue gives None."""
        with self._cond:
            if not self._keys and self.interactive and wait > 0:
                deadline = time.monotonic() + wait
                while not self._keys and not self.hung_up_by_caller:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            if self.hung_up_by_caller:
                raise SwitchHangup("caller hung up while entering digits")
            if not self._keys:
                return None
            key = self._keys[0]
            if key == PAUSE:
                self._keys.popleft()
                return None
            if key in accept:
                return self._keys.popleft()
            return None

    # -- the switch interface -------------------------------------------------------------------
    def answer(self) -> None:
        index = self._begin("answer", "answer")
        self.answered = True
        self.events.append(SimEvent(index, "answer", "answered"))

    def play(self, prompts: list[PromptRef], *, interruptible: bool = False) -> PlayResult:
        missing: list[str] = []
        for prompt in prompts:
            index = self._begin("play", f"play {prompt.name}")
            if prompt.file in self.missing_files or (not prompt.file and not prompt.text):
                missing.append(prompt.name)
                self.events.append(SimEvent(index, "play", "", prompt.name, detail={"missing": prompt.file}))
                continue
            digit = self._take(ESCAPE_ALL, 0.0) if interruptible else None
            self.events.append(SimEvent(index, "play", prompt.text_in(self.language), prompt.name, digit or ""))
            if digit:
                return PlayResult(digit, tuple(missing))
        return PlayResult("", tuple(missing))

    def say(self, kind: SayKind, value: str, *, interruptible: bool = False) -> str:
        index = self._begin("say", f"say {kind} {value}")
        digit = self._take(ESCAPE_ALL, 0.0) if interruptible else None
        self.events.append(SimEvent(index, "say", f"{kind}: {value}", digits=digit or ""))
        return digit or ""

    def get_digits(self, prompt: PromptRef, *, min_digits: int = 1, max_digits: int = 1, timeout: float = 5.0,
                   terminator: str = "#") -> DigitsInput:
        index = self._begin("input", f"get_digits {prompt.name}")
        missing = prompt.file in self.missing_files  # nothing is heard, but keys are still taken (as on AGI)
        digits = ""
        timed_out = False
        accept = ESCAPE_ALL
        while len(digits) < max_digits:
            key = self._take(accept, timeout)
            if key is None:
                timed_out = True
                break
            if terminator and key == terminator:
                break
            digits += key
        detail = {"timed_out": "yes" if timed_out else "no", **({"missing": prompt.file} if missing else {})}
        self.events.append(SimEvent(index, "input", "" if missing else prompt.text_in(self.language), prompt.name,
                                    digits, detail))
        return DigitsInput(digits, timed_out, missing)

    def record(self, path: str, *, max_duration: float = 60.0, silence: float = 0.0, beep: bool = True,
               fmt: str = "wav") -> RecordingResult:
        index = self._begin("record", f"record {path}", dead_ok=True)
        if self.hung_up_by_caller:
            self.events.append(SimEvent(index, "record", f"{path}.{fmt} (caller hung up)"))
            return RecordingResult(path, "hangup", 1600)
        key = self._take("#", max_duration)
        self.events.append(SimEvent(index, "record", f"{path}.{fmt}", digits=key or ""))
        return RecordingResult(path, "dtmf" if key else "timeout", 8000)

    def set_variable(self, name: str, value: str) -> None:
        index = self._begin("set", f"set {name}", dead_ok=True)
        self.variables[name] = value
        self.events.append(SimEvent(index, "set", f"{name}={value}"))

    def hangup(self) -> None:
        if not self.alive:
            return
        index = self._begin("hangup", "hangup")
        self.hung_up_by_ivr = True
        self.events.append(SimEvent(index, "hangup", "IVR hung up"))

    # -- the router's side ------------------------------------------------------------------------
    def wake(self) -> None:
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def hold(self, seconds: float, *, music_class: str = "default") -> None:
        index = self._begin("hold", f"hold {music_class}")
        last = self.events[-1] if self.events else None
        if last is None or last.op != "hold" or last.detail.get("class") != music_class:
            self.events.append(SimEvent(index, "hold", f"music on hold ({music_class})",
                                        detail={"class": music_class}))
        self.music_class = music_class
        with self._cond:
            if self.interactive and seconds > 0:
                deadline = time.monotonic() + seconds
                while not self._woken and not self.hung_up_by_caller:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            self._woken = False
            gone = self.hung_up_by_caller
        if gone:
            self.events.append(SimEvent(index, "hangup", "caller hung up during hold"))
            raise SwitchHangup("caller hung up during hold")

    def record_call(self, path: str) -> None:
        index = self._begin("record_call", f"record_call {path}", dead_ok=True)
        self.call_recording = f"{path}.wav"
        self.events.append(SimEvent(index, "record_call", f"recording {path}.wav"))

    def music_off(self) -> None:
        if self.music_class is None:
            return
        self.music_class = None
        if self.alive:
            index = self._begin("music_off", "music_off", dead_ok=True)
            self.events.append(SimEvent(index, "music_off", "music off"))

    def dial(self, endpoint: str, timeout: float, *, call_id: int,
             on_answer: Callable[[], None] | None = None) -> DialResult:
        index = self._begin("dial", f"dial {endpoint}")
        self.events.append(SimEvent(index, "dial", f"dial {endpoint}", detail={"call_id": str(call_id)}))
        phone = self.phones.phone(endpoint)

        def answered() -> None:
            self.events.append(SimEvent(index, "answered", f"answered by {endpoint}"))
            if on_answer is not None:
                on_answer()

        self._dialing = phone
        try:
            if self.hung_up_by_caller:  # hung up between _begin and here
                result = DialResult("hangup", hung_up_by="caller")
            else:
                result = phone.take_call(call_id, timeout, caller_gone=lambda: self.hung_up_by_caller,
                                         on_answer=answered)
        finally:
            self._dialing = None
        text = result.status + (f" ({result.hung_up_by} hung up)" if result.hung_up_by else "")
        self.events.append(SimEvent(index, "dial_end", text, detail={
            "status": result.status, "ring_s": f"{result.ring_s:.3f}", "talk_s": f"{result.talk_s:.3f}",
            "hung_up_by": result.hung_up_by}))
        return result
