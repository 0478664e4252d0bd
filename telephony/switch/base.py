"""``Switch``: the one interface between the IVR interpreter and a telephone channel.

The IVR never speaks AGI (or anything else) itself: each node calls these methods, and a switch turns
them into commands for a real channel (``AgiSwitch``) or plays them out in memory (``SimulatedSwitch``).
A switch reports what happened on the channel and never decides where a call goes.

Two exceptions cross the interface: :class:`SwitchHangup` (the caller hung up; the channel is gone)
and :class:`SwitchError` (the channel misbehaved: protocol garbage, a silent peer, a failed command).
A prompt whose sound file is missing is not an error: the result says so (``missing``) and the call
goes on.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Literal

SayKind = Literal["digits", "number", "date"]
ESCAPE_ALL = "0123456789*#"


class SwitchHangup(Exception):
    """The caller hung up (during or between commands)."""


class SwitchError(Exception):
    """The channel cannot be used any more: protocol error, timeout, the server stopping."""


class CommandFailed(Exception):
    """One command failed but the channel is still usable (e.g. a recording could not be written):
    the IVR takes the node's fallback."""


@dataclass(frozen=True)
class PromptRef:
    """A prompt as the switch needs it: its name, the sound file, and its text per language."""

    name: str
    file: str
    text: dict[str, str] = field(default_factory=dict)

    def text_in(self, language: str) -> str:
        """The prompt's text in ``language``, else English, else the file name."""
        return self.text.get(language) or self.text.get("en") or self.file


@dataclass(frozen=True)
class PlayResult:
    """A playback finished: the key that interrupted it ('' if none), and prompts whose file is missing."""

    digit: str = ""
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigitsInput:
    """Digits collected after a prompt; ``timed_out`` when input ended by timeout, ``missing`` when the
    prompt's sound file does not exist (nothing was played or collected)."""

    digits: str
    timed_out: bool
    missing: bool = False


@dataclass(frozen=True)
class RecordingResult:
    """A recording finished: where it is, how it ended (``dtmf``, ``timeout``, ``hangup``)."""

    path: str
    ended_by: Literal["dtmf", "timeout", "hangup"]
    length: int = 0


class Switch(abc.ABC):
    """What the IVR can do with one call. Methods block until the channel answers."""

    kind: str = "switch"
    """``agi`` or ``simulated`` (stored on the call record)."""

    @property
    @abc.abstractmethod
    def alive(self) -> bool:
        """False once the caller hung up or the channel broke."""

    @abc.abstractmethod
    def answer(self) -> None:
        """Answer the channel."""

    @abc.abstractmethod
    def play(self, prompts: list[PromptRef], *, interruptible: bool = False) -> PlayResult:
        """Play prompts in order; an interruptible playback stops at the first key, which is returned."""

    @abc.abstractmethod
    def say(self, kind: SayKind, value: str, *, interruptible: bool = False) -> str:
        """Say digits, a number or a date (``YYYY-MM-DD``); returns the interrupting key or ''."""

    @abc.abstractmethod
    def get_digits(self, prompt: PromptRef, *, min_digits: int = 1, max_digits: int = 1, timeout: float = 5.0,
                   terminator: str = "#") -> DigitsInput:
        """Play ``prompt`` and collect up to ``max_digits`` keys, ended by ``terminator`` or ``timeout``
        seconds of silence. ``min_digits`` is for information; the IVR checks the length."""

    @abc.abstractmethod
    def record(self, path: str, *, max_duration: float = 60.0, silence: float = 0.0, beep: bool = True,
               fmt: str = "wav") -> RecordingResult:
        """Record the caller into ``path`` (without extension) until ``#``, silence or ``max_duration``.
        A hang-up ends the recording and keeps it (``ended_by='hangup'``)."""

    @abc.abstractmethod
    def set_variable(self, name: str, value: str) -> None:
        """Set a channel variable (allowed after a hang-up too, for the dialplan's ``h`` extension)."""

    @abc.abstractmethod
    def hangup(self) -> None:
        """Hang up the channel."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release the connection (the AGI switch closes its socket); idempotent."""
