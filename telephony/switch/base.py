"""``Switch``: the one interface between the IVR interpreter and a telephone channel.

The IVR never speaks AGI (or anything else) itself: each node calls these methods, and a switch turns
them into commands for a real channel (``AgiSwitch``) or plays them out in memory (``SimulatedSwitch``).
A switch reports what happened on the channel and never decides where a call goes.

For the router (ACD) a switch also holds a queued caller on music on hold (``hold``, interrupted by
``wake`` from another thread, ``music_off`` before dialing) and rings an agent's endpoint (``dial``),
reporting how the attempt ended as a :class:`DialResult`.

Two exceptions cross the interface: :class:`SwitchHangup` (the caller hung up; the channel is gone)
and :class:`SwitchError` (the channel misbehaved: protocol garbage, a silent peer, a failed command).
A prompt whose sound file is missing is not an error: the result says so (``missing``) and the call
goes on; an input whose prompt is missing still waits its timeout for keys.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

SayKind = Literal["digits", "number", "date"]
DialStatus = Literal["answer", "noanswer", "busy", "unavailable", "hangup"]
HungUpBy = Literal["caller", "agent", ""]
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
    prompt's sound file does not exist (nothing was played; keys were still collected for the timeout)."""

    digits: str
    timed_out: bool
    missing: bool = False


@dataclass(frozen=True)
class RecordingResult:
    """A recording finished: where it is, how it ended (``dtmf``, ``timeout``, ``hangup``)."""

    path: str
    ended_by: Literal["dtmf", "timeout", "hangup"]
    length: int = 0


@dataclass(frozen=True)
class DialResult:
    """How ringing an agent's endpoint ended.

    ``status``: ``answer`` (the agent picked up; the talk is over when ``dial`` returns), ``noanswer``
    (rang for the whole timeout), ``busy`` (the agent rejected it or was on another call),
    ``unavailable`` (the endpoint is not reachable, or congestion), ``hangup`` (the CALLER hung up
    before the agent answered). ``ring_s`` and ``talk_s`` are seconds of ringing and of talk;
    ``hung_up_by`` says who ended an answered call (``caller`` or ``agent``) and is ``caller`` too for a
    ``hangup``; a caller who hangs up during the talk still gives ``answer`` (never an exception).
    ``transfer``: the agent transferred the caller (``queue:billing``, ``agent:1002``, ``ivr:main``,
    ``external:138...``, ``endpoint:PJSIP/1009``); the IVR takes the call on from there.
    """

    status: DialStatus
    ring_s: float = 0.0
    talk_s: float = 0.0
    hung_up_by: HungUpBy = ""
    transfer: str | None = None

    @property
    def answered(self) -> bool:
        """True when the agent picked up."""
        return self.status == "answer"


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

    # -- the router's side: hold a queued caller, ring an agent ----------------------------------
    @abc.abstractmethod
    def hold(self, seconds: float, *, music_class: str = "default") -> None:
        """Keep the caller on music on hold (``music_class``) for up to ``seconds``.

        Returns early when :meth:`wake` is called from another thread (a wake-up that arrives while no
        hold runs makes the next ``hold`` return at once, so none is lost). Raises
        :class:`SwitchHangup` if the caller hangs up. Repeated calls keep the music playing.
        """

    def music_off(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Stop the hold music (before dialing an agent); does nothing when it is not playing."""

    @abc.abstractmethod
    def dial(self, endpoint: str, timeout: float, *, call_id: int,
             on_answer: Callable[[], None] | None = None) -> DialResult:
        """Ring ``endpoint`` (e.g. ``PJSIP/1001``) for up to ``timeout`` seconds and connect the caller.

        ``on_answer`` is called once (from whatever thread) the moment the agent answers. Blocks until
        the attempt ends unanswered, or, when answered, until the talk ends. Raises
        :class:`SwitchHangup` only when the caller was already gone or the outcome cannot be read.
        """

    def wake(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Interrupt a ``hold`` in progress (thread-safe). On AGI the current hold slice ends first."""

    def record_call(self, path: str) -> None:
        """Record the conversation that follows (both directions, from the answer on) into ``path``
        (without extension; ``.wav`` is added). Raises :class:`CommandFailed` if it cannot."""
        raise CommandFailed(f"this switch cannot record calls ({type(self).__name__})")

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release the connection (the AGI switch closes its socket); idempotent."""
