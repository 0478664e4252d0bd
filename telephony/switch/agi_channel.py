"""``AgiSwitch``: the switch interface over one FastAGI session (``telephony.agi.HelplineAGI``).

Each method is one or a few AGI commands. Hang-ups of every form (``result=-1`` + ``HANGUP``, ``511``,
a closed socket) become :class:`SwitchHangup`; a peer that breaks the protocol, goes silent past the
read timeout, or a server that is stopping become :class:`SwitchError`. A missing sound file is
reported in the result and the call goes on; Asterisk 22 answers ``GET DATA`` of a missing file at once
with ``result=-1``, so ``get_digits`` then collects the keys itself (``WAIT FOR DIGIT`` per key, with the
input's timeout) instead of reading it as a timeout.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable
from datetime import date, datetime, time
from time import monotonic
from typing import TypeVar

from asterisk.agi import AGIAppError, AGIError, AGIHangup

from telephony.agi import DigitsResult, HelplineAGI, PlaybackResult, SoundFileMissing
from telephony.switch.answers import ANSWERS, AnswerRegistry
from telephony.switch.base import (
    ESCAPE_ALL,
    CommandFailed,
    DialResult,
    DialStatus,
    DigitsInput,
    HungUpBy,
    PlayResult,
    PromptRef,
    RecordingResult,
    SayKind,
    Switch,
    SwitchError,
    SwitchHangup,
)

__all__ = ["AgiSwitch"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: DIALSTATUS values and what they mean to the router (anything else counts as ``unavailable``).
DIAL_STATUSES: dict[str, DialStatus] = {
    "ANSWER": "answer", "NOANSWER": "noanswer", "BUSY": "busy", "CHANUNAVAIL": "unavailable",
    "CONGESTION": "unavailable", "CANCEL": "hangup",
}
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_ENDPOINT = re.compile(r"[^\s,()^\"\\]+")


class AgiSwitch(Switch):
    """A call on Asterisk, driven through ``HelplineAGI``."""

    kind = "agi"

    def __init__(self, agi: HelplineAGI, *, hold_slice_s: float = 0.25, answer_sub: str = "helpline-answered",
                 dial_flags: str = "g", answers: AnswerRegistry | None = None) -> None:
        if hold_slice_s <= 0:
            raise ValueError("hold_slice_s must be positive")
        if not _NAME.fullmatch(answer_sub):
            raise ValueError(f"not a dialplan context name: {answer_sub!r}")
        if not re.fullmatch(r"[A-Za-z]*", dial_flags):
            raise ValueError(f"dial_flags must be plain Dial option letters: {dial_flags!r}")
        self.agi = agi
        self.hold_slice_s = hold_slice_s
        self.answer_sub = answer_sub
        self.dial_flags = dial_flags
        self.answers = answers if answers is not None else ANSWERS
        self.music_class: str | None = None
        """The music on hold class playing (``SET MUSIC ON`` sent), or None."""
        self._wake = threading.Event()

    @property
    def alive(self) -> bool:
        return not (self.agi.dead or self.agi.broken)

    def _run(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except AGIHangup as exc:
            raise SwitchHangup(f"{what}: {exc}") from exc
        except AGIAppError as exc:
            if self.agi.dead:
                raise SwitchHangup(f"{what}: {exc}") from exc
            raise CommandFailed(f"{what}: {exc}") from exc
        except AGIError as exc:  # protocol error, timeout, server stopping, 510/520
            raise SwitchError(f"{what}: {type(exc).__name__}: {exc}") from exc

    def answer(self) -> None:
        self._run("ANSWER", self.agi.answer)

    def play(self, prompts: list[PromptRef], *, interruptible: bool = False) -> PlayResult:
        missing: list[str] = []
        escape = ESCAPE_ALL if interruptible else ""
        for prompt in prompts:
            if not prompt.file:
                missing.append(prompt.name)
                continue
            file = prompt.file

            def stream(file: str = file) -> PlaybackResult | SoundFileMissing:
                found: PlaybackResult | SoundFileMissing = self.agi.stream_file(file, escape)
                return found

            result = self._run(f"STREAM FILE {file}", stream)
            if isinstance(result, SoundFileMissing):  # logged by the IVR with the flow and node
                log.debug("[%s] sound file %r of prompt %s is missing", self.agi.uniqueid, prompt.file, prompt.name)
                missing.append(prompt.name)
            elif isinstance(result, PlaybackResult) and result.digit:
                return PlayResult(result.digit, tuple(missing))
        return PlayResult("", tuple(missing))

    def say(self, kind: SayKind, value: str, *, interruptible: bool = False) -> str:
        escape = ESCAPE_ALL if interruptible else ""
        if kind == "digits":
            digits = "".join(ch for ch in value if ch in ESCAPE_ALL)
            return str(self._run("SAY DIGITS", lambda: self.agi.say_digits(digits, escape)))
        if kind == "number":
            number = str(int(float(value)))
            return str(self._run("SAY NUMBER", lambda: self.agi.say_number(number, escape)))
        day = date.fromisoformat(value[:10])
        seconds = int(datetime.combine(day, time(12, 0)).timestamp())
        return str(self._run("SAY DATE", lambda: self.agi.say_date(seconds, escape)))

    def get_digits(self, prompt: PromptRef, *, min_digits: int = 1, max_digits: int = 1, timeout: float = 5.0,
                   terminator: str = "#") -> DigitsInput:
        ms = max(1, int(timeout * 1000))
        if prompt.file:
            result = self._run(f"GET DATA {prompt.file}", lambda: self.agi.get_data(prompt.file, ms, max_digits))
            if isinstance(result, DigitsResult):
                return DigitsInput(result.digits, result.timed_out)
        # Asterisk 22 answers GET DATA of a missing file at once with result=-1 (no timeout has passed):
        # the caller still gets the node's time to press a key, as GET DATA would have given
        log.debug("[%s] sound file %r of prompt %s is missing: waiting for keys", self.agi.uniqueid, prompt.file,
                  prompt.name)
        digits, timed_out = self._collect_keys(ms, max_digits, terminator)
        return DigitsInput(digits, timed_out, missing=True)

    def _collect_keys(self, ms: int, max_digits: int, terminator: str) -> tuple[str, bool]:
        """Keys as GET DATA collects them, with ``WAIT FOR DIGIT <ms>`` per key: up to ``max_digits``, ended by
        ``terminator`` or ``ms`` of silence (then the flag says it timed out)."""
        digits = ""
        while len(digits) < max_digits:
            key = self._wait_for_digit(ms)
            if not key:
                return digits, True
            if terminator and key == terminator:
                break
            digits += key
        return digits, False

    def record(self, path: str, *, max_duration: float = 60.0, silence: float = 0.0, beep: bool = True,
               fmt: str = "wav") -> RecordingResult:
        result = self._run(f"RECORD FILE {path}", lambda: self.agi.record_file(
            path, fmt, "#", int(max_duration * 1000), 0, "beep" if beep else "", int(silence)))
        if result.hung_up:
            return RecordingResult(path, "hangup", result.endpos)
        return RecordingResult(path, "dtmf" if result.digit else "timeout", result.endpos)

    def set_variable(self, name: str, value: str) -> None:
        self._run("SET VARIABLE", lambda: self.agi.set_variable(name, value))

    def hangup(self) -> None:
        if self.agi.dead:
            return
        with contextlib.suppress(SwitchHangup):
            self._run("HANGUP", self.agi.hangup)

    # -- the router's side --------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def hold(self, seconds: float, *, music_class: str = "default") -> None:
        if not _NAME.fullmatch(music_class):
            raise ValueError(f"not a music on hold class: {music_class!r}")
        if self.agi.dead:
            raise SwitchHangup("hold: the caller has hung up")
        if self._wake.is_set():
            self._wake.clear()
            return
        if self.music_class != music_class:
            self._run(f"SET MUSIC ON {music_class}", lambda: self.agi.execute("SET MUSIC", "ON", music_class))
            self.music_class = music_class
        started = monotonic()
        credited = 0.0  # slices that timed out count in full, so a peer that answers at once ends too
        while True:
            if self._wake.is_set():
                self._wake.clear()
                return
            left = seconds - max(credited, monotonic() - started)
            if left <= 0:
                return
            ms = max(1, min(round(self.hold_slice_s * 1000), round(left * 1000)))
            began = monotonic()
            digit = self._wait_for_digit(ms)
            credited += monotonic() - began if digit else ms / 1000

    def _wait_for_digit(self, ms: int) -> str:
        """One hold slice: ``WAIT FOR DIGIT <ms>``; the key pressed, or '' on timeout.

        ``result=-1`` means a hang-up even when the ``HANGUP`` line is late (it is read with the next reply).
        """
        try:
            return str(self._run("WAIT FOR DIGIT", lambda: self.agi.wait_for_digit(ms)))
        except CommandFailed as exc:
            raise SwitchHangup(f"hold: {exc}") from exc

    def music_off(self) -> None:
        if self.music_class is None:
            return
        self.music_class = None
        if not self.agi.dead:
            self._run("SET MUSIC OFF", lambda: self.agi.execute("SET MUSIC", "OFF"))

    def dial(self, endpoint: str, timeout: float, *, call_id: int,
             on_answer: Callable[[], None] | None = None) -> DialResult:
        if not _ENDPOINT.fullmatch(endpoint):
            raise ValueError(f"not a dialable endpoint: {endpoint!r}")
        if self.agi.dead:
            raise SwitchHangup(f"dial {endpoint}: the caller has hung up")
        seconds = max(1, round(timeout))
        options = f"{self.dial_flags}U({self.answer_sub}^{int(call_id)})"
        answered_at: list[float] = []

        def answered() -> None:  # the U() subroutine's FastAGI session: the agent picked up
            answered_at.append(monotonic())
            if on_answer is not None:
                on_answer()

        self.answers.expect(call_id, answered)
        began = monotonic()
        try:
            caller_gone = self._exec_dial(endpoint, seconds, options)
            ended = monotonic()
            return self._dial_outcome(endpoint, caller_gone, began, answered_at[0] if answered_at else None, ended)
        finally:
            self.answers.forget(call_id)

    def _exec_dial(self, endpoint: str, seconds: int, options: str) -> bool:
        """Run Dial (no read timeout: it lasts the ringing and the talk); True if it ended with a hang-up."""
        what = f"EXEC Dial {endpoint}"
        try:
            with self.agi.reply_timeout(None):
                self.agi.exec_command("Dial", endpoint, seconds, options)
        except AGIHangup:  # result=-1 + HANGUP, or the connection closed (then the reads below fail)
            return True
        except AGIAppError as exc:
            if self.agi.dead:
                return True
            if "Unable to find application" in str(exc):
                raise CommandFailed(f"{what}: {exc}") from exc
            # result=-1 without a HANGUP line (AGISIGHUP=no): Asterisk ends the session in dead mode
            log.info("[%s] Dial returned -1: the caller's channel is gone", self.agi.uniqueid)
            return True
        except AGIError as exc:
            raise SwitchError(f"{what}: {type(exc).__name__}: {exc}") from exc
        return False

    def _variable(self, name: str) -> str:
        return str(self._run(f"GET VARIABLE {name}", lambda: self.agi.get_variable(name)))

    def _dial_outcome(self, endpoint: str, caller_gone: bool, began: float, answered_at: float | None,
                      ended: float) -> DialResult:
        """How the Dial ended. Talk counts from the agent's answer (the ``answered`` session), not from
        ``ANSWEREDTIME``: Asterisk measures that from the CALLER's channel answer (app_dial.c), so it holds the
        IVR and the queue too. Without the answered session (Helpline unreachable from the agent's channel)
        the talk is the Dial's time, capped by ``ANSWEREDTIME``, and the ringing cannot be told apart."""
        raw = self._variable("DIALSTATUS").strip().upper()
        status = DIAL_STATUSES.get(raw)
        if status is None:
            log.warning("[%s] Dial %s ended with DIALSTATUS=%r", self.agi.uniqueid, endpoint, raw)
            status = "hangup" if caller_gone else "unavailable"
        hung_up_by: HungUpBy = "caller" if caller_gone else ""
        if status != "answer":  # measure the ringing
            return DialResult(status, ring_s=round(ended - began, 3), hung_up_by=hung_up_by)
        hung_up_by = hung_up_by or "agent"
        if answered_at is not None:
            return DialResult("answer", ring_s=round(answered_at - began, 3), talk_s=round(ended - answered_at, 3),
                              hung_up_by=hung_up_by)
        up = _seconds(self._variable("ANSWEREDTIME_MS")) / 1000
        talk = min(up, ended - began) if up else ended - began
        log.info("[%s] Dial %s answered without the answered session: talk %.1f s includes the ringing",
                 self.agi.uniqueid, endpoint, talk)
        return DialResult("answer", ring_s=round(ended - began - talk, 3), talk_s=round(talk, 3),
                          hung_up_by=hung_up_by)

    def record_call(self, path: str) -> None:
        """``MixMonitor <path>.wav,b``: both directions, only while bridged (from the agent's answer on)."""
        result = self._run("EXEC MixMonitor", lambda: self.agi.exec_command("MixMonitor", f"{path}.wav,b"))
        if str(result).strip() == "-2":
            raise CommandFailed("Asterisk has no MixMonitor application")

    def close(self) -> None:
        self.agi.close()


def _seconds(value: str) -> float:
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0
