"""The Asterisk side of an AGI session, modelled for tests: the caller, the channel, the commands.

``Caller`` is the person on the line: a queue of key presses and pauses (``","``: the next command
that listens for keys gets none, so a prompt plays to its end or an input times out) and an optional
hang-up point (a command index, or a command prefix such as ``"GET DATA"`` or ``"STREAM FILE bye"``).
``ChannelModel`` holds the channel's state (variables, AstDB, which sound files and applications
exist, dead mode) and answers each AGI command the way Asterisk 22 does (docs/asterisk-agi.md), byte
for byte. ``parse_agi_args`` splits a command line like
res_agi.c's ``parse_args`` (whitespace, double quotes, backslash escapes).

``EXEC Dial <endpoint>,<timeout>,<options>`` plays out (peerdial.py) the next :class:`DialScript` of ``dial_outcomes``
(none left: ``CHANUNAVAIL``) as app_dial does: ``DIALSTATUS`` (CANCEL when the caller hangs up while it
rings), for answered calls ``DIALEDTIME`` (the caller channel's age) and ``ANSWEREDTIME`` (its up time since
ITS answer, IVR and queue included, not the talk alone) with ``_MS``, on the model's clock (``now``:
modelled waits, plus real time when ``real_time``); ``200 result=0``, or
``result=-1`` and a dead channel when the caller hung up or the agent did and the options lack ``g``.
``on_dial_answer`` runs on answer, before the talk (the peer's ``U()`` session); ``pause`` sleeps call time.
A ``STREAM FILE`` or ``GET OPTION`` of a missing file answers ``result=-1 endpos=<offset>`` and makes
``agi_status`` ``FAILURE``; ``GET DATA`` of one answers ``200 result=-1`` at once, as Asterisk 22 does.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from telephony.agi.peerdial import DialCall, DialScript, dial_reply

__all__ = [
    "DEAD_OK",
    "PAUSE",
    "Caller",
    "ChannelModel",
    "CommandSpec",
    "DialCall",
    "DialScript",
    "find_command",
    "parse_agi_args",
]

#: In a key sequence, a pause: the next command that waits for input times out.
PAUSE = ","
KEYS = frozenset("0123456789*#ABCD")
HangupMode = Literal["during", "between"]

INVALID = "510 Invalid or unknown command"
DEAD = "511 Command Not Permitted on a dead channel or intercept routine"
USAGE_FIRST = "520-Invalid command syntax.  Proper usage follows:"
USAGE_LAST = "520 End of proper usage."
USAGE_NONE = "520 Invalid command syntax.  Proper usage not available."


@dataclass
class Caller:
    """The caller: keys they will press (in order) and where they hang up (or None)."""

    keys: str | Iterable[str] = ""
    hangup_at: int | str | None = None
    hangup_mode: HangupMode = "during"
    hung_up: bool = field(default=False, init=False)
    _queue: deque[str] = field(default_factory=deque, init=False, repr=False)

    def __post_init__(self) -> None:
        self.press(self.keys)

    def press(self, keys: str | Iterable[str]) -> None:
        """Queue more key presses; ``","`` queues a pause."""
        for key in keys:
            if key not in KEYS and key != PAUSE:
                raise ValueError(f"not a DTMF key: {key!r}")
            self._queue.append(key)

    @property
    def pending(self) -> str:
        """Key presses not used yet."""
        return "".join(self._queue)

    def take_escape(self, escape: str) -> str | None:
        """During a playback that listens for ``escape`` keys: take the next key if it is one of them.

        A pause is taken too (the caller let this prompt play to the end); a playback with no escape
        digits does not listen, and takes nothing.
        """
        if not escape or not self._queue:
            return None
        key = self._queue[0]
        if key == PAUSE:
            self._queue.popleft()
            return None
        return self._queue.popleft() if key in escape else None

    def take_wait(self, accept: str | None = None) -> str | None:
        """While waiting for a key: take it (a pause is taken and means timeout); None on timeout."""
        if not self._queue:
            return None
        key = self._queue[0]
        if key == PAUSE:
            self._queue.popleft()
            return None
        if accept is None or key in accept:
            return self._queue.popleft()
        return None

    def collect(self, max_digits: int) -> tuple[str, bool]:
        """GET DATA: digits up to ``#`` or ``max_digits``; the flag is True when input timed out."""
        digits = ""
        while len(digits) < max_digits:
            key = self.take_wait()
            if key is None:
                return digits, True
            if key == "#":
                return digits, False
            digits += key
        return digits, False

    def hangs_up_at(self, index: int, command: str) -> bool:
        """True (once) when the caller hangs up at this command."""
        if self.hung_up or self.hangup_at is None:
            return False
        if isinstance(self.hangup_at, int):
            due = index == self.hangup_at
        else:
            due = command.upper().startswith(self.hangup_at.upper())
        self.hung_up = due
        return due


def parse_agi_args(line: str) -> list[str]:
    """Split a command line as Asterisk does: whitespace separates, quotes group, ``\\`` escapes."""
    args: list[str] = []
    current: list[str] = []
    started = quoted = escaped = False
    for ch in line:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = started = True
        elif ch == '"':
            quoted = not quoted
            started = True
        elif ch in " \t" and not quoted:
            if started:
                args.append("".join(current))
                current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        args.append("".join(current))
    return args


Replier = Callable[["ChannelModel", list[str]], list[str]]


@dataclass(frozen=True)
class CommandSpec:
    """An AGI command: its words, allowed argument count, dead-mode permission and reply function."""

    words: tuple[str, ...]
    min_args: int
    max_args: int
    reply: Replier
    dead_ok: bool = False
    media: bool = False
    syntax: str = ""

    @property
    def name(self) -> str:
        """The command's words joined (``STREAM FILE``)."""
        return " ".join(self.words)

    def usage(self, available: bool) -> list[str]:
        """The ``520`` reply: the multi-line form, or the single line when no usage is available."""
        if not available:
            return [USAGE_NONE]
        return [USAGE_FIRST, f" Usage: {self.name} {self.syntax}".rstrip(), USAGE_LAST]


@dataclass
class ChannelModel:
    """The channel Asterisk runs the AGI on, and what it answers to each command."""

    caller: Caller = field(default_factory=Caller)
    variables: dict[str, str] = field(default_factory=dict)
    database: dict[tuple[str, str], str] = field(default_factory=dict)
    missing_files: set[str] = field(default_factory=set)
    app_results: dict[str, int] = field(default_factory=dict)
    sound_lengths: dict[str, int] = field(default_factory=dict)
    usage_available: bool = True
    dead: bool = False
    answered: bool = False
    played: list[str] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)
    exec_calls: list[tuple[str, str]] = field(default_factory=list)
    variables_set: list[tuple[str, str]] = field(default_factory=list)
    dial_outcomes: list[DialScript] = field(default_factory=list)
    default_dial: DialScript = field(default_factory=lambda: DialScript("CHANUNAVAIL"))
    dials: list[DialCall] = field(default_factory=list)
    on_dial_answer: Callable[[DialCall], None] | None = None
    pause: Callable[[float], None] | None = None
    real_time: bool = False
    """Count the real time between commands as call time too (set when the peer runs in real time)."""
    agi_status: str = "SUCCESS"
    """``AGISTATUS`` as far as the commands go: a STREAM FILE or GET OPTION of a missing file returns
    RESULT_FAILURE in res_agi.c, which makes the whole AGI end with ``FAILURE``."""
    answered_at: float | None = None
    """Call time (``now()``) when the caller's channel was answered (ANSWER, or Dial when the agent answers)."""
    _modelled: float = field(default=0.0, init=False, repr=False)
    _paused: float = field(default=0.0, init=False, repr=False)
    _created: float = field(default_factory=time.monotonic, init=False, repr=False)

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of call time pass: the clock (``now``) moves on; real time passes through ``pause``."""
        if seconds <= 0:
            return
        began = time.monotonic()
        if self.pause is not None:
            self.pause(seconds)
        self._paused += time.monotonic() - began
        self._modelled += seconds

    def now(self) -> float:
        """Seconds of call time since the channel was created: the modelled waits (ringing, talk, WAIT FOR
        DIGIT timeouts), plus, with ``real_time``, the real time between them."""
        real = time.monotonic() - self._created - self._paused if self.real_time else 0.0
        return self._modelled + max(0.0, real)

    def answer_channel(self) -> None:
        """The caller's channel is answered (once): Asterisk's up time, and so ANSWEREDTIME, count from here."""
        self.answered = True
        if self.answered_at is None:
            self.answered_at = self.now()

    def length_of(self, name: str) -> int:
        """Samples in a sound file (3520 unless ``sound_lengths`` says otherwise)."""
        return self.sound_lengths.get(name, 3520)

    def answer(self, line: str) -> tuple[CommandSpec | None, list[str]]:
        """The reply lines Asterisk sends for ``line``, honouring dead mode and argument counts."""
        argv = parse_agi_args(line)
        found = find_command(argv)
        if found is None:
            return None, [INVALID]
        spec, args = found
        if self.dead and not spec.dead_ok:
            return spec, [DEAD]
        if not spec.min_args <= len(args) <= spec.max_args:
            return spec, spec.usage(self.usage_available)
        return spec, spec.reply(self, args)

    def hangup_reply(self, line: str) -> list[str]:
        """The reply of a command during which the caller hangs up; the channel is dead afterwards.

        Instant commands (SET VARIABLE, VERBOSE ...) still complete; media commands answer
        ``result=-1`` (RECORD FILE adds ``(hangup)``, playbacks an ``endpos`` past the start).
        """
        found = find_command(parse_agi_args(line))
        if found is None or not found[0].media:
            replies = self.answer(line)[1]
            self.dead = True
            return replies
        spec, args = found
        self.dead = True
        if spec.words == ("EXEC",) and args and args[0].lower() == "dial":  # hung up while it rang
            self.exec_calls.append((args[0], args[1] if len(args) > 1 else ""))
            self.variables["DIALSTATUS"] = "CANCEL"
        if spec.words == ("RECORD", "FILE"):
            return ["200 result=-1 (hangup) endpos=1600"]
        if spec.words[-1] in ("FILE", "OPTION"):
            name = args[0] if args else ""
            return [f"200 result=-1 endpos={max(1, self.length_of(name) // 3)}"]
        return ["200 result=-1"]

    def expand(self, expression: str) -> str:
        """``GET FULL VARIABLE``: substitute ``${NAME}`` from the channel variables."""
        return re.sub(r"\$\{([^}]*)\}", lambda m: self.variables.get(m.group(1), ""), expression)


# ------------------------------------------------------------------------------ command replies
def _key_result(key: str | None) -> str:
    return str(ord(key)) if key else "0"


def _answer(ch: ChannelModel, args: list[str]) -> list[str]:
    ch.answer_channel()
    return ["200 result=0"]


def _stream(ch: ChannelModel, args: list[str]) -> list[str]:
    name = args[0]
    if name in ch.missing_files:  # res_agi.c: RESULT_FAILURE, so AGISTATUS ends FAILURE
        ch.agi_status = "FAILURE"
        offset = args[2] if len(args) > 2 and args[2].isdigit() else "0"
        return [f"200 result=-1 endpos={offset}"]
    ch.played.append(name)
    key = ch.caller.take_escape(args[1])
    endpos = ch.length_of(name) // 2 if key else ch.length_of(name)
    return [f"200 result={_key_result(key)} endpos={endpos}"]


def _get_option(ch: ChannelModel, args: list[str]) -> list[str]:
    name = args[0]
    if name in ch.missing_files:
        ch.agi_status = "FAILURE"
        return ["200 result=-1 endpos=0"]
    ch.played.append(name)
    key = ch.caller.take_wait(args[1])
    return [f"200 result={_key_result(key)} endpos={ch.length_of(name)}"]


def _get_data(ch: ChannelModel, args: list[str]) -> list[str]:
    name = args[0]
    if name in ch.missing_files:  # at once, no key taken, no time passes; GET DATA still RESULT_SUCCESS
        return ["200 result=-1"]
    ch.played.append(name)
    max_digits = int(args[2]) if len(args) > 2 and args[2].isdigit() else 1024
    digits, timed_out = ch.caller.collect(max_digits)
    return [f"200 result={digits}" + (" (timeout)" if timed_out else "")]


def _wait_digit(ch: ChannelModel, args: list[str]) -> list[str]:
    key = ch.caller.take_wait()
    if key is None and args[0].isdigit():
        ch.sleep(int(args[0]) / 1000)
    return [f"200 result={_key_result(key)}"]


def _say(ch: ChannelModel, args: list[str]) -> list[str]:
    return [f"200 result={_key_result(ch.caller.take_escape(args[1]))}"]


def _record(ch: ChannelModel, args: list[str]) -> list[str]:
    ch.recorded.append(f"{args[0]}.{args[1]}")
    key = ch.caller.take_wait(args[2])
    if key:
        return [f"200 result={ord(key)} (dtmf) endpos=0"]
    return ["200 result=0 (timeout) endpos=0"]


def _exec(ch: ChannelModel, args: list[str]) -> list[str]:
    app, options = args[0], (args[1] if len(args) > 1 else "")  # Asterisk passes argv[2] only
    ch.exec_calls.append((app, options))
    if app.lower() == "dial" and "dial" not in ch.app_results:
        return dial_reply(ch, options)
    return [f"200 result={ch.app_results.get(app.lower(), 0)}"]


def _set_variable(ch: ChannelModel, args: list[str]) -> list[str]:
    ch.variables[args[0]] = args[1]
    ch.variables_set.append((args[0], args[1]))
    return ["200 result=1"]


def _value(value: str | None) -> list[str]:
    return ["200 result=0"] if not value else [f"200 result=1 ({value})"]


def _get_variable(ch: ChannelModel, args: list[str]) -> list[str]:
    return _value(ch.variables.get(args[0]))


def _get_full_variable(ch: ChannelModel, args: list[str]) -> list[str]:
    return _value(ch.expand(args[0]))


def _hangup(ch: ChannelModel, args: list[str]) -> list[str]:
    if not args:
        ch.dead = True
    return ["200 result=1"]


def _db_get(ch: ChannelModel, args: list[str]) -> list[str]:
    return _value(ch.database.get((args[0], args[1])))


def _db_put(ch: ChannelModel, args: list[str]) -> list[str]:
    ch.database[(args[0], args[1])] = args[2]
    return ["200 result=1"]


def _db_del(ch: ChannelModel, args: list[str]) -> list[str]:
    return ["200 result=1" if ch.database.pop((args[0], args[1]), None) is not None else "200 result=0"]


def _db_deltree(ch: ChannelModel, args: list[str]) -> list[str]:
    doomed = [k for k in ch.database if k[0] == args[0] and (len(args) < 2 or k[1].startswith(args[1]))]
    for key in doomed:
        del ch.database[key]
    return ["200 result=1" if doomed else "200 result=0"]


def _status(ch: ChannelModel, args: list[str]) -> list[str]:
    return [f"200 result={6 if ch.answered else 4}"]


def _gosub(ch: ChannelModel, args: list[str]) -> list[str]:
    return ["100 result=0 Trying...", "200 result=0 Gosub complete"]


def _fixed(line: str) -> Replier:
    return lambda ch, args: [line]


_OK0, _OK1 = _fixed("200 result=0"), _fixed("200 result=1")
_BIG = 1024

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(("ANSWER",), 0, 0, _answer, media=True),
    CommandSpec(("STREAM", "FILE"), 2, 3, _stream, media=True, syntax="<filename> <escape_digits> [offset]"),
    CommandSpec(("CONTROL", "STREAM", "FILE"), 2, 7, _stream, media=True, syntax="<filename> <escape>"),
    CommandSpec(("GET", "OPTION"), 2, 3, _get_option, media=True, syntax="<filename> <escape> [timeout]"),
    CommandSpec(("GET", "DATA"), 1, 3, _get_data, media=True, syntax="<file> [timeout] [maxdigits]"),
    CommandSpec(("WAIT", "FOR", "DIGIT"), 1, 1, _wait_digit, media=True, syntax="<timeout>"),
    CommandSpec(("SAY", "DIGITS"), 2, 2, _say, media=True, syntax="<number> <escape_digits>"),
    CommandSpec(("SAY", "NUMBER"), 2, 3, _say, media=True, syntax="<number> <escape_digits> [gender]"),
    CommandSpec(("SAY", "ALPHA"), 2, 3, _say, media=True, syntax="<number> <escape_digits>"),
    CommandSpec(("SAY", "PHONETIC"), 2, 2, _say, media=True, syntax="<string> <escape_digits>"),
    CommandSpec(("SAY", "DATE"), 2, 2, _say, media=True, syntax="<date> <escape_digits>"),
    CommandSpec(("SAY", "TIME"), 2, 2, _say, media=True, syntax="<time> <escape_digits>"),
    CommandSpec(("SAY", "DATETIME"), 2, 5, _say, media=True, syntax="<time> <escape_digits> [format] [tz]"),
    CommandSpec(("RECORD", "FILE"), 4, 7, _record, media=True,
                syntax="<filename> <format> <escape_digits> <timeout> [offset] [BEEP] [s=silence]"),
    CommandSpec(("EXEC",), 1, _BIG, _exec, dead_ok=True, media=True, syntax="<application> <options>"),
    CommandSpec(("SET", "VARIABLE"), 2, 2, _set_variable, dead_ok=True, syntax="<variablename> <value>"),
    CommandSpec(("GET", "VARIABLE"), 1, 1, _get_variable, dead_ok=True, syntax="<variablename>"),
    CommandSpec(("GET", "FULL", "VARIABLE"), 1, 2, _get_full_variable, dead_ok=True,
                syntax="<expression> [channelname]"),
    CommandSpec(("VERBOSE",), 1, 2, _OK1, dead_ok=True, syntax="<message> <level>"),
    CommandSpec(("NOOP",), 0, _BIG, _OK0, dead_ok=True),
    CommandSpec(("DATABASE", "GET"), 2, 2, _db_get, dead_ok=True, syntax="<family> <key>"),
    CommandSpec(("DATABASE", "PUT"), 3, 3, _db_put, dead_ok=True, syntax="<family> <key> <value>"),
    CommandSpec(("DATABASE", "DEL"), 2, 2, _db_del, dead_ok=True, syntax="<family> <key>"),
    CommandSpec(("DATABASE", "DELTREE"), 1, 2, _db_deltree, dead_ok=True, syntax="<family> [keytree]"),
    CommandSpec(("ASYNCAGI", "BREAK"), 0, 0, _fixed("200 result=-1"), dead_ok=True),
    CommandSpec(("HANGUP",), 0, 1, _hangup, syntax="[channelname]"),
    CommandSpec(("CHANNEL", "STATUS"), 0, 1, _status, syntax="[channelname]"),
    CommandSpec(("SET", "CONTEXT"), 1, 1, _OK0, syntax="<desired context>"),
    CommandSpec(("SET", "EXTENSION"), 1, 1, _OK0, syntax="<new extension>"),
    CommandSpec(("SET", "PRIORITY"), 1, 1, _OK0, syntax="<priority>"),
    CommandSpec(("SET", "AUTOHANGUP"), 1, 1, _OK0, syntax="<time>"),
    CommandSpec(("SET", "CALLERID"), 1, 1, _OK1, syntax="<number>"),
    CommandSpec(("SET", "MUSIC"), 1, 2, _OK0, syntax="<on|off> <class>"),
    CommandSpec(("SEND", "TEXT"), 1, 1, _OK0, syntax="<text to send>"),
    CommandSpec(("GOSUB",), 2, 4, _gosub, media=True, syntax="<context> <extension> <priority> [argument]"),
)

#: Commands Asterisk still accepts once the channel has hung up (dead mode).
DEAD_OK = frozenset(spec.name for spec in COMMANDS if spec.dead_ok)


def find_command(argv: list[str]) -> tuple[CommandSpec, list[str]] | None:
    """The command named by the first words of ``argv`` (case-insensitive) and its arguments."""
    words = [word.upper() for word in argv]
    best: CommandSpec | None = None
    for spec in COMMANDS:
        size = len(spec.words)
        if tuple(words[:size]) == spec.words and (best is None or size > len(best.words)):
            best = spec
    if best is None:
        return None
    return best, argv[len(best.words):]
