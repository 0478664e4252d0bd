"""``HelplineAGI``: a thin subclass of pyst2's ``asterisk.agi.AGI`` that fixes its known defects.

pyst2 0.5.1 keeps its command helpers (``answer``, ``say_digits``, ``set_variable``, ``verbose`` ...),
its result shape and its exception tree; this subclass replaces only what is broken (numbers refer to
docs/asterisk-agi.md):

1. ``__init__`` never installs a SIGHUP handler, so a session runs in any thread.
2. It talks through text-mode files, e.g. ``sock.makefile('r'/'w', encoding='utf-8', newline='\\n')``
   (``from_socket`` builds them).
3. A bare ``HANGUP`` line is consumed and remembered (``hangup_received``, ``dead``); the real reply
   is still read, so the stream never goes out of sync.
4. End of stream (or a broken pipe) raises ``AgiConnectionClosed`` (an ``AGIHangup``).
5. ``511`` raises ``AgiDeadChannel`` (an ``AGIHangup``).
6. Single-line ``520 ...`` raises ``AGIUsageError`` at once; the ``520-`` form is read to its end.
7. ``_quote`` escapes ``"`` and ``\\``.
8. ``exec_command`` sends the application arguments as one quoted, comma-separated argument.
9. ``stream_file`` returns ``SoundFileMissing`` for ``result=-1 endpos=0`` and raises
   ``AgiChannelHangup`` when ``HANGUP`` follows ``result=-1``.
10. ``get_data`` returns ``DigitsResult(digits, timed_out)``; ``record_file`` returns ``RecordResult``.

Reads happen on a small per-session reader thread that feeds a queue, which gives a per-read timeout
(``AgiTimeoutError``), a short look-ahead for the ``HANGUP`` line that follows ``result=-1``, and a way
for the server to wake a blocked session when it stops. Input is bounded: a line over ``MAX_LINE``,
non-UTF-8 data or an unparseable reply raises ``AgiProtocolError``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any, Literal, TextIO

from asterisk.agi import (
    AGI,
    DEFAULT_RECORD,
    DEFAULT_TIMEOUT,
    AGIAppError,
    AGIDBError,
    AGIError,
    AGIInvalidCommand,
    AGIUnknownError,
    AGIUsageError,
)

from telephony.agi.environment import MAX_LINE, AgiEnvironment, read_environment
from telephony.agi.errors import (
    AgiChannelHangup,
    AgiConnectionClosed,
    AgiDeadChannel,
    AgiProtocolError,
    AgiSessionStopped,
    AgiTimeoutError,
)
from telephony.agi.reply import (
    AgiReply,
    DigitsResult,
    PlaybackResult,
    RecordResult,
    SoundFileMissing,
    digit_of,
    parse_reply,
)

__all__ = ["DEFAULT_HANGUP_GRACE", "DEFAULT_READ_TIMEOUT", "HelplineAGI"]

log = logging.getLogger(__name__)

#: Seconds to wait for any line from Asterisk before giving up on the session.
DEFAULT_READ_TIMEOUT = 30.0
#: Seconds to wait, after ``result=-1``, for the ``HANGUP`` line that tells a hang-up from an error.
DEFAULT_HANGUP_GRACE = 0.25
#: Most lines accepted in one multi-line ``520-`` usage reply.
MAX_USAGE_LINES = 200

_Kind = Literal["line", "eof", "error", "wake"]
_Item = tuple[_Kind, Any]


class _NullStream:
    """Stands in for pyst2's ``stderr`` debug stream; Helpline logs through ``logging`` instead."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


class HelplineAGI(AGI):  # type: ignore[misc]
    """One AGI session with Asterisk, over text-mode files (see the module docstring for the fixes)."""

    def __init__(
        self,
        rfile: TextIO,
        wfile: TextIO,
        *,
        env: AgiEnvironment | None = None,
        read_timeout: float | None = DEFAULT_READ_TIMEOUT,
        hangup_grace: float = DEFAULT_HANGUP_GRACE,
        stop_event: threading.Event | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        # Defect 1: AGI.__init__ is deliberately not called (it installs a SIGHUP handler, which
        # raises ValueError outside the main thread, and reads the environment with no limits).
        self.stdin = rfile
        self.stdout = wfile
        self.stderr = _NullStream()
        self._got_sighup = False
        self.read_timeout = read_timeout
        self.hangup_grace = hangup_grace
        self.hangup_received = False
        self.dead = False
        self._sock = sock
        self._stop_event = stop_event if stop_event is not None else threading.Event()
        self._stop_requested = False
        self._closed = False
        self._failure: AGIError | None = None
        self._pending: deque[_Item] = deque()
        self._lines: queue.Queue[_Item] = queue.Queue()
        self._reader = threading.Thread(target=self._pump, name="agi-reader", daemon=True)
        self._reader.start()
        try:
            self.environment = env if env is not None else read_environment(self._env_readline)
        except BaseException:
            self.close()
            raise
        self.env: dict[str, str] = dict(self.environment.raw)

    @classmethod
    def from_socket(cls, sock: socket.socket, **options: Any) -> HelplineAGI:
        """Wrap a connected socket in text-mode files (defect 2) and read the environment block."""
        sock.settimeout(None)
        rfile = sock.makefile("r", encoding="utf-8", newline="\n")
        wfile = sock.makefile("w", encoding="utf-8", newline="\n")
        try:
            return cls(rfile, wfile, sock=sock, **options)
        except BaseException:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            _close_quietly(sock, rfile, wfile)
            raise

    # ----------------------------------------------------------------------------------- reading
    @property
    def uniqueid(self) -> str:
        """The call's ``agi_uniqueid`` ('' before the environment is read)."""
        env = getattr(self, "environment", None)
        return env.uniqueid if env is not None else ""

    @property
    def broken(self) -> bool:
        """True once the stream can no longer be trusted (timeout, protocol error, closed)."""
        return self._failure is not None or self._closed

    def _pump(self) -> None:
        """Reader thread: move bounded, decoded lines from ``stdin`` into the queue."""
        try:
            while True:
                line = self.stdin.readline(MAX_LINE + 2)
                if line == "":
                    self._lines.put(("eof", None))
                    return
                text = line.rstrip("\r\n")
                if len(text) > MAX_LINE:
                    self._lines.put(("error", AgiProtocolError(f"line longer than {MAX_LINE} characters")))
                    return
                self._lines.put(("line", text))
        except UnicodeDecodeError as exc:
            self._lines.put(("error", AgiProtocolError(f"data from Asterisk is not UTF-8: {exc.reason}")))
        except (OSError, ValueError):
            self._lines.put(("eof", None))

    def _next_item(self, timeout: float | None) -> _Item | None:
        if self._pending:
            return self._pending.popleft()
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def _check_usable(self) -> None:
        if self._stop_requested or self._stop_event.is_set():
            raise AgiSessionStopped("the FastAGI server is stopping")
        if self._failure is not None:
            raise type(self._failure)(*self._failure.args)

    def _fail(self, exc: AGIError) -> AGIError:
        self._failure = exc
        return exc

    def _read_line(self) -> str:
        """Next line without its newline; raises on end of stream, timeout, bad data or stop."""
        while True:
            self._check_usable()
            item = self._next_item(self.read_timeout)
            if item is None:
                raise self._fail(AgiTimeoutError(f"no line from Asterisk within {self.read_timeout} s"))
            kind, payload = item
            if kind == "line":
                return str(payload)
            if kind == "eof":  # defect 4: end of stream is a hang-up, and stays one
                self._pending.appendleft(item)
                self.dead = True
                raise AgiConnectionClosed("Asterisk closed the connection")
            if kind == "error":
                raise self._fail(payload)

    def _env_readline(self) -> str:
        try:
            return self._read_line() + "\n"
        except AgiConnectionClosed:
            return ""

    def _note_hangup(self) -> None:
        if not self.hangup_received:
            log.info("[%s] HANGUP received from Asterisk: channel is dead", self.uniqueid)
        self.hangup_received = True
        self.dead = True

    def _hangup_follows(self) -> bool:
        """After ``result=-1``: did the channel hang up (HANGUP line, closed stream, already dead)?"""
        if self.dead:
            return True
        item = self._next_item(self.hangup_grace)
        if item is None:
            return False
        if item == ("line", "HANGUP"):
            self._note_hangup()
            return True
        self._pending.appendleft(item)
        return item[0] == "eof"

    def _read_reply(self) -> AgiReply:
        """Read one reply, consuming ``HANGUP`` lines (defect 3) and mapping error codes."""
        while True:
            line = self._read_line()
            if line == "HANGUP":
                self._note_hangup()
                continue
            try:
                reply = parse_reply(line)
            except AgiProtocolError as exc:
                raise self._fail(exc) from None
            log.debug("[%s] <- %s", self.uniqueid, line)
            if reply.code == 200:
                return reply
            if reply.code == 100:  # "100 result=0 Trying..." precedes the real reply (GOSUB)
                continue
            if reply.code == 510:
                raise AGIInvalidCommand(reply.text)
            if reply.code == 511:  # defect 5
                self.dead = True
                raise AgiDeadChannel(reply.text)
            if reply.code == 520:  # defect 6
                raise AGIUsageError(self._read_usage(line))
            raise AGIUnknownError(reply.code, "Unhandled code or undefined response")

    def _read_usage(self, first: str) -> str:
        if not first.startswith("520-"):
            return first + "\n"
        usage = [first]
        while len(usage) <= MAX_USAGE_LINES:
            line = self._read_line()
            usage.append(line)
            if line.startswith("520 "):
                return "\n".join(usage) + "\n"
        raise self._fail(AgiProtocolError(f"520 usage reply longer than {MAX_USAGE_LINES} lines"))

    @contextlib.contextmanager
    def reply_timeout(self, seconds: float | None) -> Iterator[None]:
        """Temporarily change the read timeout (None waits forever), e.g. around ``EXEC Dial``."""
        saved = self.read_timeout
        self.read_timeout = seconds
        try:
            yield
        finally:
            self.read_timeout = saved

    # ----------------------------------------------------------------------------------- writing
    def _quote(self, string: object) -> str:
        """Quote one argument, escaping backslash and double quote (defect 7); CR/LF become spaces."""
        text = str(string).replace("\\", "\\\\").replace('"', '\\"')
        return '"' + text.replace("\r", " ").replace("\n", " ") + '"'

    def _arg(self, value: object) -> str:
        """A bare argument when that is safe (``beep``), else a quoted one."""
        text = str(value)
        if text and not any(ch in text for ch in ' \t"\\\r\n'):
            return text
        return self._quote(text)

    def send_command(self, command: str, *args: object) -> None:
        """Write one command line; a dead connection raises ``AgiConnectionClosed``."""
        self._check_usable()
        if self._closed:
            raise AgiConnectionClosed("the session is closed")
        text = " ".join([command.strip(), *map(str, args)]).strip()
        if "\n" in text or "\r" in text:
            raise ValueError(f"AGI command contains a line break: {text[:80]!r}")
        if len(text) > MAX_LINE:
            raise ValueError(f"AGI command longer than {MAX_LINE} characters")
        log.debug("[%s] -> %s", self.uniqueid, text)
        try:
            self.stdout.write(text + "\n")
            self.stdout.flush()
        except (OSError, ValueError) as exc:
            self.dead = True
            raise AgiConnectionClosed(f"cannot write to Asterisk: {exc}") from exc

    def _transact(self, command: str, *args: object) -> tuple[AgiReply, bool]:
        """Send and read the reply; the flag says the caller hung up during the command."""
        self.send_command(command, *args)
        reply = self._read_reply()
        hung_up = reply.result == "-1" and (reply.data == "hangup" or self._hangup_follows())
        if hung_up:
            self.dead = True
        return reply, hung_up

    def command(self, command: str, *args: object) -> AgiReply:
        """Send a command and return the parsed reply; a hang-up during it raises ``AgiChannelHangup``."""
        reply, hung_up = self._transact(command, *args)
        if hung_up:
            raise AgiChannelHangup(f"caller hung up during {command}")
        return reply

    def get_result(self, stdin: object = None) -> dict[str, tuple[str, str]]:
        """pyst2-compatible: read one reply (after a ``send_command``) in pyst2's dict shape."""
        reply = self._read_reply()
        if reply.result == "-1":
            if reply.data == "hangup" or self._hangup_follows():
                raise AgiChannelHangup("caller hung up")
            raise AGIAppError("Error executing application, or hangup")
        return reply.as_pyst2()

    def execute(self, command: str, *args: object) -> dict[str, tuple[str, str]]:
        """pyst2-compatible: like ``command`` but ``result=-1`` raises ``AGIAppError``."""
        reply = self.command(command, *args)
        if reply.result == "-1":
            raise AGIAppError(f"Error executing {command.strip()}, or hangup")
        return reply.as_pyst2()

    # ------------------------------------------------------------------------- fixed helpers
    def exec_command(self, application: str, *args: object) -> int:
        """Run a dialplan application: ``EXEC Playback "a,b"`` (defect 8); returns its result code.

        The arguments travel as one quoted argument, joined by ``,`` as Asterisk applications expect.
        An unknown application (``-2``) raises ``AGIAppError``.
        """
        options = [self._quote(",".join(map(str, args)))] if args else []
        result = self.execute("EXEC", self._arg(application), *options)["result"][0]
        if result == "-2":
            raise AGIAppError(f"Unable to find application: {application}")
        return int(result) if result.lstrip("-").isdigit() else 0

    def stream_file(
        self, filename: str, escape_digits: object = "", sample_offset: int = 0
    ) -> PlaybackResult | SoundFileMissing:
        """Play a sound file; a missing file is a result, a hang-up an exception (defect 9)."""
        args = [self._arg(filename), self._process_digit_list(escape_digits)]
        if sample_offset:
            args.append(str(int(sample_offset)))
        reply = self.command("STREAM FILE", *args)
        if reply.result == "-1":
            if reply.endpos == 0:
                return SoundFileMissing(filename)
            self.dead = True  # playback stopped half way with an error: the channel went away
            raise AgiChannelHangup(f"playback of {filename} failed at {reply.endpos}")
        return PlaybackResult(digit=digit_of(reply.result), endpos=reply.endpos)

    def get_data(
        self, filename: str, timeout: int = DEFAULT_TIMEOUT, max_digits: int = 255
    ) -> DigitsResult | SoundFileMissing:
        """Play a prompt and collect digits, keeping the ``(timeout)`` flag (defect 10)."""
        reply = self.command("GET DATA", self._arg(filename), int(timeout), int(max_digits))
        if reply.result == "-1":
            return SoundFileMissing(filename)
        return DigitsResult(digits=reply.result, timed_out=reply.data == "timeout")

    def record_file(
        self,
        filename: str,
        format: str = "wav",
        escape_digits: object = "#",
        timeout: int = DEFAULT_RECORD,
        offset: int = 0,
        beep: str = "beep",
        silence: int = 0,
    ) -> RecordResult:
        """Record the caller, reporting ``(timeout)`` / ``(dtmf)`` / ``(hangup)`` (defect 10).

        A hang-up ends the recording without raising, so a message left before hanging up is kept;
        the channel is then dead (``self.dead``) and further media commands raise.
        """
        args: list[object] = [self._arg(filename), self._arg(format), self._process_digit_list(escape_digits)]
        args += [int(timeout), int(offset)]
        if beep:
            args.append("BEEP")
        if silence:
            args.append(f"s={int(silence)}")
        extra = max(int(timeout), 0) / 1000 + max(int(silence), 0)
        base_timeout = self.read_timeout
        with self.reply_timeout(None if base_timeout is None else base_timeout + extra):
            reply, hung_up = self._transact("RECORD FILE", *args)
        if hung_up:
            return RecordResult(digit="", endpos=reply.endpos, hung_up=True)
        if reply.result == "-1" or reply.data in ("writefile", "randomerror"):
            raise AGIAppError(f"RECORD FILE {filename} failed: {reply.data or reply.text}")
        digit = digit_of(reply.result) if reply.data == "dtmf" else ""
        return RecordResult(digit=digit, endpos=reply.endpos, timed_out=reply.data == "timeout")

    def get_variable(self, name: str) -> str:
        """Value of a channel variable, '' when unset (a value spelt ``hangup`` is just a value)."""
        reply = self.command("GET VARIABLE", self._quote(name))
        return reply.data if reply.result == "1" else ""

    def get_full_variable(self, name: str, channel: str | None = None) -> str:
        """Evaluate an expression such as ``${CALLERID(num)}``; '' when it is empty."""
        args = [self._quote(name)] + ([self._quote(channel)] if channel else [])
        reply = self.command("GET FULL VARIABLE", *args)
        return reply.data if reply.result == "1" else ""

    def database_get(self, family: str, key: str) -> str:
        """Value of an AstDB key; raises ``AGIDBError`` when it is not set."""
        reply = self.command("DATABASE GET", self._quote(family), self._quote(key))
        if reply.result != "1":
            raise AGIDBError(f"Key not found in database: family={family}, key={key}")
        return reply.data

    def hangup(self, channel: str = "") -> None:
        """Hang up this channel (or ``channel``); this channel is dead afterwards."""
        self.execute("HANGUP", self._quote(channel) if channel else "")
        if not channel:
            self.dead = True

    # ------------------------------------------------------------------------------- lifecycle
    def request_stop(self) -> None:
        """Make the session's next (or current, blocked) read raise ``AgiSessionStopped``."""
        self._stop_requested = True
        self._lines.put(("wake", None))

    def close(self) -> None:
        """Close the connection (idempotent). Asterisk waits on the socket in dead mode."""
        if self._closed:
            return
        self._closed = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._reader.join(timeout=1.0)
            _close_quietly(self._sock, self.stdin, self.stdout)

    def __enter__(self) -> HelplineAGI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _close_quietly(sock: socket.socket, *files: TextIO) -> None:
    for stream in files:
        with contextlib.suppress(OSError, ValueError):
            stream.close()
    sock.close()
