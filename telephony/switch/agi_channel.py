"""``AgiSwitch``: the switch interface over one FastAGI session (``telephony.agi.HelplineAGI``).

Each method is one or a few AGI commands. Hang-ups of every form (``result=-1`` + ``HANGUP``, ``511``,
a closed socket) become :class:`SwitchHangup`; a peer that breaks the protocol, goes silent past the
read timeout, or a server that is stopping become :class:`SwitchError`. A missing sound file is
reported in the result and the call goes on.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import date, datetime, time
from typing import TypeVar

from asterisk.agi import AGIAppError, AGIError, AGIHangup

from telephony.agi import DigitsResult, HelplineAGI, PlaybackResult, SoundFileMissing
from telephony.switch.base import (
    ESCAPE_ALL,
    CommandFailed,
    DigitsInput,
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


class AgiSwitch(Switch):
    """A call on Asterisk, driven through ``HelplineAGI``."""

    kind = "agi"

    def __init__(self, agi: HelplineAGI) -> None:
        self.agi = agi

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
            if isinstance(result, SoundFileMissing):
                log.warning("[%s] sound file %r of prompt %s is missing", self.agi.uniqueid, prompt.file,
                            prompt.name)
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
        if not prompt.file:
            return DigitsInput("", True, missing=True)
        result = self._run(f"GET DATA {prompt.file}",
                           lambda: self.agi.get_data(prompt.file, max(1, int(timeout * 1000)), max_digits))
        if isinstance(result, SoundFileMissing):
            log.warning("[%s] sound file %r of prompt %s is missing", self.agi.uniqueid, prompt.file, prompt.name)
            return DigitsInput("", True, missing=True)
        assert isinstance(result, DigitsResult)
        return DigitsInput(result.digits, result.timed_out)

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

    def close(self) -> None:
        self.agi.close()
