"""``AsteriskPeer``: plays Asterisk's side of a FastAGI session, for tests and call simulations.

The peer connects to a FastAGI server, sends the environment block exactly as Asterisk 22 does
(``agi_network: yes`` first, a blank line last), then answers each command from a ``ChannelModel``
(peermodel.py) driven by a ``Caller`` (key presses, pauses, a hang-up point). ``Override`` changes the
answer to chosen commands (by index or by command prefix): raw reply lines, a delay, or an action:
go silent, close the connection, hang up during or between commands, send garbage.

Everything is recorded: ``transcript`` (every line received and sent, with a timestamp), ``commands``,
``replies``, the variables the server set, the applications it ran, the files it played, and whether
the server closed the connection (``server_closed``).

```python
peer = AsteriskPeer(server.address, script="ivr/main", caller=Caller("1,", hangup_at="GET DATA"))
peer.run()                      # blocking; or peer.start() ... peer.join()
assert peer.variables_set["HELPLINE_RESULT"] == "queued" and peer.server_closed
```

``EXEC Dial`` plays out ``dial_outcomes`` (``DialScript``s, in order). When one is answered and the Dial
options hold ``U(sub^args)``, the peer does what Asterisk does on the agent's channel before the bridge:
it runs the subroutine, whose dialplan is modelled by ``subroutines`` (name to FastAGI script, ``${ARGn}``
filled in; by default ``helpline-answered`` runs ``answered?call=${ARG1}``), as a SECOND FastAGI
connection to the same server (``agi_channel`` is the called channel, e.g. ``PJSIP/1001-00000001``),
runs it to its end (``subsessions``), and only then talks and replies to the Dial. Ringing, talk and
WAIT FOR DIGIT timeouts take ``time_scale`` real seconds per second (default 0: no sleep); with a time
scale the real time between commands counts as call time too (``DIALEDTIME``, ``ANSWEREDTIME``).
``agi_status`` is what ``AGISTATUS`` would be after the session.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
import logging
import re
import socket
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from telephony.agi.peermodel import Caller, ChannelModel, DialCall, DialScript

__all__ = ["AsteriskPeer", "Override", "PeerAction", "TranscriptEntry", "environment_lines"]

log = logging.getLogger(__name__)

_uniqueids = itertools.count(1)

#: The dialplan subroutines the peer knows (``Dial U()``): name to the FastAGI script they run.
DEFAULT_SUBROUTINES: dict[str, str] = {"helpline-answered": "answered?call=${ARG1}"}

#: The environment block observed from Asterisk 22.10.1 (docs/asterisk-agi.md), in its order.
DOC_ENVIRONMENT: tuple[tuple[str, str], ...] = (
    ("agi_network", "yes"),
    ("agi_network_script", "ivr"),
    ("agi_request", "agi://127.0.0.1:4573/ivr"),
    ("agi_channel", "Local/ivr@ivr-test-00000000;2"),
    ("agi_language", "en"),
    ("agi_type", "Local"),
    ("agi_uniqueid", "1795382822.1"),
    ("agi_version", "22.10.1"),
    ("agi_callerid", "unknown"),
    ("agi_calleridname", "unknown"),
    ("agi_callingpres", "67"),
    ("agi_callingani2", "0"),
    ("agi_callington", "0"),
    ("agi_callingtns", "0"),
    ("agi_dnid", "unknown"),
    ("agi_rdnis", "unknown"),
    ("agi_context", "ivr-test"),
    ("agi_extension", "s"),
    ("agi_priority", "2"),
    ("agi_enhanced", "0.0"),
    ("agi_accountcode", ""),
    ("agi_threadid", "139775321507520"),
)


def environment_lines(
    script: str = "ivr",
    args: Sequence[str] = (),
    env: Mapping[str, str | None] | None = None,
    address: tuple[str, int] = ("127.0.0.1", 4573),
) -> list[str]:
    """The FastAGI environment block as lines (without the blank line); ``env`` overrides keys.

    Keys may be given with or without ``agi_`` (``callerid`` or ``agi_callerid``); None drops a key.
    A fresh ``agi_uniqueid`` is made for every call unless ``env`` sets one.
    """
    values = dict(DOC_ENVIRONMENT)
    values["agi_network_script"] = script
    values["agi_request"] = f"agi://{address[0]}:{address[1]}/{script}"
    values["agi_uniqueid"] = f"1795382822.{next(_uniqueids)}"
    for key, value in (env or {}).items():
        full = key if key.startswith("agi_") else f"agi_{key}"
        if value is None:
            values.pop(full, None)
        else:
            values[full] = value
    lines = [f"{key}: {value}" for key, value in values.items()]
    return lines + [f"agi_arg_{n}: {arg}" for n, arg in enumerate(args, start=1)]


class PeerAction(enum.Enum):
    """Something other than the modelled reply, at one command."""

    SILENT = "silent"  #: stop answering, but keep reading (to see whether the server closes)
    CLOSE = "close"  #: close the connection without answering (like AGIEXITONHANGUP)
    HANGUP_DURING = "hangup_during"  #: the command answers ``result=-1``, then a ``HANGUP`` line
    HANGUP_BETWEEN = "hangup_between"  #: a ``HANGUP`` line first, then the dead-mode reply
    GARBAGE = "garbage"  #: answer with a line that is not AGI


@dataclass
class Override:
    """Replace the reply to a command, chosen by index (0-based) or by case-insensitive prefix."""

    when: int | str
    reply: str | bytes | Sequence[str | bytes] | None = None
    action: PeerAction | None = None
    delay: float = 0.0
    times: int | None = 1  #: how many matching commands it applies to (None: all)

    def matches(self, index: int, line: str) -> bool:
        """True when this override applies to command ``index`` reading ``line``."""
        if self.times is not None and self.times <= 0:
            return False
        if isinstance(self.when, int):
            return index == self.when
        return line.upper().startswith(self.when.upper())


@dataclass(frozen=True)
class TranscriptEntry:
    """One line of the conversation: ``received`` from the server, ``sent`` to it, or an ``event``."""

    at: float
    direction: Literal["received", "sent", "event"]
    text: str


class AsteriskPeer:
    """Asterisk's side of one FastAGI call (see the module docstring)."""

    def __init__(
        self,
        address: tuple[str, int],
        *,
        script: str = "ivr",
        args: Sequence[str] = (),
        env: Mapping[str, str | None] | None = None,
        raw_env: bytes | None = None,
        caller: Caller | None = None,
        overrides: Iterable[Override] = (),
        missing_files: Iterable[str] = (),
        unknown_apps: Iterable[str] = (),
        app_results: Mapping[str, int] | None = None,
        variables: Mapping[str, str] | None = None,
        sound_lengths: Mapping[str, int] | None = None,
        usage_available: bool = True,
        sighup: bool = True,
        exit_on_hangup: bool = False,
        timeout: float = 5.0,
        dial_outcomes: Iterable[DialScript] = (),
        subroutines: Mapping[str, str] | None = None,
        time_scale: float = 0.0,
    ) -> None:
        self.address = address
        self.caller = caller if caller is not None else Caller()
        results = {app.lower(): -2 for app in unknown_apps}
        results.update({app.lower(): code for app, code in (app_results or {}).items()})
        self.channel = ChannelModel(
            caller=self.caller,
            variables=dict(variables or {}),
            missing_files=set(missing_files),
            app_results=results,
            sound_lengths=dict(sound_lengths or {}),
            usage_available=usage_available,
            dial_outcomes=list(dial_outcomes),
            on_dial_answer=self._run_answer_subroutine,
            pause=self._pause,
            real_time=time_scale > 0,
        )
        self.subroutines = dict(DEFAULT_SUBROUTINES if subroutines is None else subroutines)
        self.time_scale = time_scale
        self.subsessions: list[AsteriskPeer] = []
        """The FastAGI sessions the Dial ``U()`` subroutines opened, in order."""
        self.env_lines = environment_lines(script, args, env, address)
        self.raw_env = raw_env
        self.overrides = list(overrides)
        self.sighup = sighup
        self.exit_on_hangup = exit_on_hangup
        self.timeout = timeout
        self.transcript: list[TranscriptEntry] = []
        self.commands: list[str] = []
        self.replies: list[str] = []
        self.server_closed = False
        self.peer_closed = False
        self.timed_out = False
        self.silent = False
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._env_sent = False
        self._t0 = time.monotonic()

    # ------------------------------------------------------------------------- what happened
    @property
    def uniqueid(self) -> str:
        """The ``agi_uniqueid`` this call announces."""
        for line in self.env_lines:
            if line.startswith("agi_uniqueid:"):
                return line.partition(": ")[2]
        return ""

    @property
    def variables_set(self) -> dict[str, str]:
        """Channel variables the server set (last value wins)."""
        return dict(self.channel.variables_set)

    @property
    def exec_calls(self) -> list[tuple[str, str]]:
        """``(application, arguments)`` of every EXEC, as the application received them."""
        return self.channel.exec_calls

    @property
    def played(self) -> list[str]:
        """Sound files played (STREAM FILE, GET DATA and GET OPTION prompts), in order."""
        return self.channel.played

    @property
    def dials(self) -> list[DialCall]:
        """Every ``EXEC Dial`` the peer played out."""
        return self.channel.dials

    def env_value(self, key: str) -> str:
        """A value of the environment block this call sends ('' if absent)."""
        prefix = f"{key}: "
        return next((line[len(prefix):] for line in self.env_lines if line.startswith(prefix)), "")

    @property
    def agi_status(self) -> str:
        """What Asterisk would set ``AGISTATUS`` to after this session: ``FAILURE`` once a command returned
        RESULT_FAILURE (a STREAM FILE of a missing file), else ``HANGUP`` if the caller hung up, else ``SUCCESS``."""
        if self.channel.agi_status != "SUCCESS":
            return self.channel.agi_status
        return "HANGUP" if self.caller.hung_up else "SUCCESS"

    @property
    def dead(self) -> bool:
        """True once the channel hung up (dead mode)."""
        return self.channel.dead

    def sent_lines(self) -> list[str]:
        """Every line sent to the server, the environment block included."""
        return [e.text for e in self.transcript if e.direction == "sent"]

    # ----------------------------------------------------------------------------- running
    def start(self) -> AsteriskPeer:
        """Run the call in a background thread; returns self."""
        self._thread = threading.Thread(target=self.run, name="asterisk-peer", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the call to end; True if it did."""
        return self.finished.wait(timeout)

    def close(self) -> None:
        """Hang up the connection from this side (also ends a silent peer)."""
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def run(self) -> AsteriskPeer:
        """Connect, send the environment, answer until the connection ends; returns self."""
        try:
            self._t0 = time.monotonic()
            with socket.create_connection(self.address, timeout=self.timeout) as sock:
                self._sock = sock
                self._event("connected")
                if self.raw_env is not None:
                    self._send_raw(self.raw_env, "<raw environment>")
                else:
                    self._send([*self.env_lines, ""])
                self._env_sent = True
                self._serve(sock)
        except OSError as exc:
            self._event(f"socket error: {exc!r}")
            self.error = exc
        except Exception as exc:  # a bug in the peer must not hang the test
            log.exception("AsteriskPeer failed")
            self.error = exc
        finally:
            self._sock = None
            self.finished.set()
        return self

    def _serve(self, sock: socket.socket) -> None:
        buffer = b""
        while not self.peer_closed:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                self.timed_out = True
                self._event(f"the server sent nothing for {self.timeout} s")
                return
            except OSError as exc:
                self._event(f"recv failed: {exc!r}")
                return
            if not chunk:
                self.server_closed = not self.peer_closed
                self._event("server closed the connection" if self.server_closed else "closed")
                return
            buffer += chunk
            while b"\n" in buffer and not self.peer_closed:
                raw, buffer = buffer.split(b"\n", 1)
                self._on_command(raw.decode("utf-8", "replace").rstrip("\r"))

    def _on_command(self, line: str) -> None:
        index = len(self.commands)
        self.commands.append(line)
        self._record("received", line)
        if self.silent:
            return
        override = next((o for o in self.overrides if o.matches(index, line)), None)
        action: PeerAction | None = None
        if override is not None:
            if override.times is not None:
                override.times -= 1
            if override.delay:
                time.sleep(override.delay)
            action = override.action
        if action is None and not self.channel.dead and self.caller.hangs_up_at(index, line):
            mode = self.caller.hangup_mode
            action = PeerAction.HANGUP_BETWEEN if mode == "between" else PeerAction.HANGUP_DURING
        if action in (PeerAction.HANGUP_DURING, PeerAction.HANGUP_BETWEEN):
            self.caller.hung_up = True
        reply = override.reply if override is not None else None
        self._act(action, reply, line)

    def _act(self, action: PeerAction | None, reply: str | bytes | Sequence[str | bytes] | None,
             line: str) -> None:
        if action is PeerAction.SILENT:
            self.silent = True
            self._event("peer goes silent")
        elif action is PeerAction.CLOSE:
            self._close_from_peer("peer closes the connection")
        elif action is PeerAction.GARBAGE:
            self._send(["this is not an AGI reply"])
        elif action is PeerAction.HANGUP_BETWEEN:
            self._hangup_line()
            if not self.peer_closed:
                self._send_reply(reply, self.channel.answer(line)[1])
        elif action is PeerAction.HANGUP_DURING:
            self._send_reply(reply, self.channel.hangup_reply(line))
            self._hangup_line()
        else:
            was_dead = self.channel.dead
            self._send_reply(reply, self.channel.answer(line)[1] if reply is None else [])
            if self.channel.dead and not was_dead:  # the script's own HANGUP: a HANGUP line follows
                self._hangup_line()

    def _pause(self, seconds: float) -> None:
        if self.time_scale > 0:
            time.sleep(seconds * self.time_scale)

    def _run_answer_subroutine(self, call: DialCall) -> None:
        """The agent answered: run the ``U()`` subroutine's FastAGI session to its end (before the bridge)."""
        if not call.subroutine:
            return
        template = self.subroutines.get(call.subroutine)
        if template is None:
            self._event(f"Dial U({call.subroutine}): no such subroutine in the dialplan")
            return
        args = call.sub_args
        script = re.sub(r"\$\{ARG(\d+)\}",
                        lambda m: args[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(args) else "", template)
        inherited = ("agi_language", "agi_callerid", "agi_calleridname", "agi_dnid", "agi_rdnis")
        env: dict[str, str | None] = {key: self.env_value(key) for key in inherited}
        env.update({"agi_channel": call.channel, "agi_type": call.channel.partition("/")[0],
                    "agi_context": call.subroutine, "agi_extension": "s", "agi_priority": "1"})
        sub = AsteriskPeer(self.address, script=script, env=env, timeout=self.timeout, time_scale=self.time_scale)
        self.subsessions.append(sub)
        self._event(f"{call.channel} answered: U({call.subroutine}) runs AGI {script}")
        sub.run()
        self._event(f"U({call.subroutine}) returned" + (f" ({sub.error!r})" if sub.error else ""))

    def _hangup_line(self) -> None:
        """The channel hangs up: a ``HANGUP`` line (unless AGISIGHUP=no), then dead mode or close."""
        self.channel.dead = True
        self._event("caller hung up")
        if self.sighup:
            self._send(["HANGUP"])
        if self.exit_on_hangup:
            self._close_from_peer("AGIEXITONHANGUP: Asterisk closes the connection")

    def _send_reply(self, reply: str | bytes | Sequence[str | bytes] | None, modelled: list[str]) -> None:
        if reply is None:
            self._send(modelled)
        elif isinstance(reply, str | bytes):
            self._send([reply])
        else:
            self._send(list(reply))

    def _close_from_peer(self, why: str) -> None:
        self._event(why)
        self.peer_closed = True
        self.close()

    def _send(self, lines: Sequence[str | bytes]) -> None:
        for item in lines:
            data = item if isinstance(item, bytes) else item.encode("utf-8")
            text = item if isinstance(item, str) else item.decode("utf-8", "replace")
            self._send_raw(data if data.endswith(b"\n") else data + b"\n", text.rstrip("\n"))

    def _send_raw(self, data: bytes, text: str) -> None:
        sock = self._sock
        if sock is None or self.peer_closed:
            return
        try:
            sock.sendall(data)
        except OSError as exc:
            self._event(f"send failed: {exc!r}")
            self.peer_closed = True
            return
        self._record("sent", text)
        if self._env_sent:
            self.replies.append(text)

    def _record(self, direction: Literal["received", "sent", "event"], text: str) -> None:
        self.transcript.append(TranscriptEntry(time.monotonic() - self._t0, direction, text))

    def _event(self, text: str) -> None:
        self._record("event", text)

    def format_transcript(self) -> str:
        """The transcript as text (``<-`` from the server, ``->`` to it), for assertion messages."""
        arrows = {"received": "<-", "sent": "->", "event": "**"}
        return "\n".join(f"{e.at:7.3f} {arrows[e.direction]} {e.text}" for e in self.transcript)
