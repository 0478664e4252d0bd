"""``AmiPeer``: a TCP server that plays Asterisk 22's side of the Asterisk Manager Interface, for tests.

It speaks AMI as Asterisk's ``main/manager.c`` does: the banner ``Asterisk Call Manager/9.0.0`` (CRLF, no
blank line), ``Key: Value`` lines ended by CRLF, a blank line ending each message, ``Response:`` first,
then the action's ``ActionID`` (only if it had one), then ``Message:``; header names are
case-insensitive. It answers ``Login`` (users and secrets given; a refused login answers
``Authentication failed`` and closes the connection, after ``auth_delay`` — Asterisk sleeps 1 s),
``Logoff`` (``Goodbye``, then closes), ``Ping``, and every action ``AmiCallControl`` sends: ``Redirect``,
``Bridge``, ``Hangup``, ``Setvar``, ``Getvar``, ``MuteAudio``, ``MixMonitor``, ``Originate``, ``PlayDTMF`` — validating
them and wording errors exactly as Asterisk does (:data:`MESSAGES`, one table), against a small model
of channels (:class:`PeerChannel`: variables, dialplan location, bridge partner, mute, recording).
Unknown actions, and actions before the login or outside the user's ``write=`` classes, get Asterisk's
errors too.

Every action received is recorded in ``actions`` (dicts, header names as sent). The peer can push
events (``emit``), drop every connection (``drop``), refuse logins (``refuse_logins``), refuse the
next connections (``reject_next``), accept without a banner (``mode = "silent"``), be slow
(``delay``, ``delays`` per action), never answer some actions (``ignore``; ``push`` can answer them
late), force an error
(``failures``), let an asynchronous ``Originate`` fail (``originate_reasons``: endpoint → Asterisk's
reason code, 5 busy, 8 congestion, 3 no answer, 0 failed), and answer actions out of order (``parallel``:
Asterisk answers in order; this stresses ``ActionID`` matching).

```python
with AmiPeer({"helpline": "s3cret"}) as peer:
    peer.add_channel("PJSIP/trunk-00000007")
    client = AmiClient(*peer.address, "helpline", "s3cret").connect()
    client.send("Hangup", Channel="PJSIP/trunk-00000007")
    assert peer.actions_named("Hangup")[0]["Channel"] == "PJSIP/trunk-00000007"
```
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Literal

from telephony.ami.peerwire import (
    Fields,
    PeerChannel,
    PeerSession,
    header,
    priority_ok,
    read_message,
    reply,
    true_value,
)

__all__ = ["BANNER", "MESSAGES", "PRIVILEGES", "AmiPeer", "PeerChannel"]

log = logging.getLogger(__name__)

BANNER = "Asterisk Call Manager/9.0.0"

#: Asterisk 22's texts (main/manager.c, main/features.c, res/res_mutestream.c, apps/app_mixmonitor.c).
MESSAGES: dict[str, str] = {
    "login_ok": "Authentication accepted",
    "login_again": "Already authenticated",
    "login_failed": "Authentication failed",
    "goodbye": "Thanks for all the fish.",
    "not_logged_in": "Permission denied",
    "not_permitted": "Permission denied",
    "no_action": "Missing action in request",
    "unknown_action": "Invalid/unknown command: {action}. Use Action: ListCommands to show available commands.",
    "redirect_no_channel": "Channel not specified",
    "redirect_no_context": "Context not specified",
    "redirect_no_exten": "Exten not specified",
    "redirect_no_priority": "Priority not specified",
    "redirect_bad_priority": "Priority is invalid",
    "redirect_no_extra_exten": "ExtraExten not specified",
    "redirect_no_extra_priority": "ExtraPriority not specified",
    "redirect_missing": "Channel does not exist: {channel}",
    "redirect_extra_missing": "ExtraChannel does not exist: {channel}",
    "redirect_ok": "Redirect successful",
    "redirect_dual_ok": "Dual Redirect successful",
    "hangup_no_channel": "No channel specified",
    "hangup_missing": "No such channel",
    "hangup_ok": "Channel Hungup",
    "var_no_name": "No variable specified",
    "var_missing": "No such channel",
    "setvar_ok": "Variable Set",
    "bridge_no_channel": "Missing channel parameter in request",
    "bridge_missing1": "Channel1 does not exist: {channel}",
    "bridge_missing2": "Channel2 does not exist: {channel}",
    "bridge_ok": "Channels have been bridged",
    "mute_no_channel": "Channel not specified",
    "mute_no_state": "State not specified",
    "mute_no_direction": "Direction not specified",
    "mute_missing": "No such channel",
    "mixmonitor_no_channel": "No channel specified",
    "mixmonitor_missing": "No such channel",
    "originate_no_channel": "Channel not specified",
    "originate_bad_channel": "Invalid channel",
    "originate_bad_timeout": "Invalid timeout",
    "originate_ok": "Originate successfully queued",
    "dtmf_missing": "Channel not found",
    "dtmf_no_digit": "No digit specified",
    "dtmf_ok": "DTMF successfully queued",
}

#: ``write=`` classes that allow each action (Asterisk: any one of them, or ``all``); none: always allowed.
PRIVILEGES: dict[str, frozenset[str]] = {
    "redirect": frozenset({"call"}), "bridge": frozenset({"call"}), "hangup": frozenset({"system", "call"}),
    "setvar": frozenset({"call"}), "getvar": frozenset({"call", "reporting"}),
    "muteaudio": frozenset({"system"}), "mixmonitor": frozenset({"system"}), "originate": frozenset({"originate"}),
    "playdtmf": frozenset({"call"}),
}

Mode = Literal["normal", "close", "silent"]


class AmiPeer:
    """Asterisk's side of AMI over TCP (see the module docstring)."""

    def __init__(self, users: Mapping[str, str] | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 banner: str = BANNER, auth_delay: float = 0.0, permissions: Mapping[str, str] | None = None) -> None:
        self.users = dict(users if users is not None else {"helpline": "secret"})
        self.permissions = {user.lower(): {p.strip() for p in perms.split(",")}
                            for user, perms in (permissions or {}).items()}
        self.host, self.requested_port, self.banner, self.auth_delay = host, port, banner, auth_delay
        self.actions: list[dict[str, str]] = []
        self.channels: dict[str, PeerChannel] = {}
        self.mode: Mode = "normal"
        self.reject_next = 0
        self.refuse_logins = False
        self.parallel = False
        self.delay = 0.0
        self.delays: dict[str, float] = {}
        self.ignore: set[str] = set()
        self.failures: dict[str, str] = {}
        self.originate_reasons: dict[str, str] = {}
        """Endpoint → the ``Reason`` of a failed asynchronous Originate to it (default: answered, 4)."""
        self.connections = 0
        self.logins = 0
        self._sessions: list[PeerSession] = []
        self._cond = threading.Condition()
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._handlers: dict[str, Callable[[PeerSession, dict[str, str]], Fields]] = {
            "ping": self._ping, "redirect": self._redirect, "bridge": self._bridge, "hangup": self._hangup,
            "setvar": self._setvar, "getvar": self._getvar, "muteaudio": self._mute, "mixmonitor": self._mixmonitor,
            "originate": self._originate, "playdtmf": self._playdtmf,
        }

    # ------------------------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1]) if self._listener is not None else self.requested_port

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def start(self) -> AmiPeer:
        self._stopping.clear()
        self._listener = socket.create_server((self.host, self.requested_port))
        self._listener.settimeout(0.05)
        threading.Thread(target=self._accept_loop, name="ami-peer-accept", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
        self.drop()

    def __enter__(self) -> AmiPeer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                assert self._listener is not None
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setblocking(True)
            with self._cond:
                self.connections += 1
                session = PeerSession(conn, self.connections)
                reject = self.reject_next > 0 or self.mode == "close"
                self.reject_next = max(0, self.reject_next - 1)
                if not reject:
                    self._sessions.append(session)
            if reject:
                session.close()
                continue
            threading.Thread(target=self._serve, args=(session,), name=f"ami-peer-{session.number}",
                             daemon=True).start()

    # ------------------------------------------------------------------------------ controls
    def add_channel(self, name: str, **variables: str) -> PeerChannel:
        """A channel that exists (as if a call had created it)."""
        channel = PeerChannel(name, dict(variables), uniqueid=f"1795382822.{next(self._ids)}")
        with self._cond:
            self.channels[name] = channel
        return channel

    def bridge(self, first: str, second: str) -> None:
        """Bridge two modelled channels (as an answered Dial does): their ``BRIDGEPEER``."""
        with self._cond:
            a, b = self.channels[first], self.channels[second]
            self._unbridge(a)
            self._unbridge(b)
            a.bridged_with, b.bridged_with = second, first

    def emit(self, event: str, *, privilege: str = "call,all", **headers: str) -> int:
        """Send an event to every logged-in session; the number of sessions reached."""
        return self.push({"Event": event, "Privilege": privilege, **headers})

    def push(self, message: Mapping[str, str]) -> int:
        """Send any message (an event, a late response ...) to every logged-in session; how many got it."""
        fields: Fields = [(key, str(value)) for key, value in message.items()]
        with self._cond:
            sessions = [s for s in self._sessions if s.authenticated and not s.closed]
        for session in sessions:
            session.send(fields)
        return len(sessions)

    def drop(self) -> int:
        """Close every connection at once (as a restart of Asterisk does); the number closed."""
        with self._cond:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        return len(sessions)

    @property
    def sessions(self) -> int:
        with self._cond:
            return sum(1 for s in self._sessions if not s.closed)

    def actions_named(self, action: str) -> list[dict[str, str]]:
        """The actions received with this name (case-insensitive), oldest first."""
        with self._cond:
            return [a for a in self.actions if header(a, "Action").lower() == action.lower()]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
        """Wait until ``predicate()`` holds (checked on every action received, and every 10 ms)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.01))
        return True

    # ------------------------------------------------------------------------------ a session
    def _serve(self, session: PeerSession) -> None:
        if self.mode == "silent":
            while not self._stopping.is_set() and not session.closed:
                time.sleep(0.01)
            return
        with session.write_lock, contextlib.suppress(OSError):
            session.sock.sendall(f"{self.banner}\r\n".encode())
        with contextlib.suppress(OSError), session.sock.makefile("rb") as rfile:
            while not session.closed:
                headers = read_message(rfile)
                if headers is None:
                    break
                with self._cond:
                    self.actions.append(headers)
                    self._cond.notify_all()
                if self.parallel:
                    threading.Thread(target=self._answer, args=(session, headers), daemon=True).start()
                else:
                    self._answer(session, headers)
        session.close()

    def _answer(self, session: PeerSession, headers: dict[str, str]) -> None:
        action = header(headers, "Action").lower()
        pause = self.delays.get(action, self.delays.get(header(headers, "Action"), self.delay))
        if pause:
            time.sleep(pause)
        if action in {a.lower() for a in self.ignore}:
            return
        close = False
        if not action:
            fields = reply(headers, "Error", MESSAGES["no_action"])
        elif action == "login":
            fields, close = self._login(session, headers)
        elif action == "logoff":
            fields, close = reply(headers, "Goodbye", MESSAGES["goodbye"]), True
        elif not session.authenticated:
            fields = reply(headers, "Error", MESSAGES["not_logged_in"])
        elif action not in self._handlers:
            fields = reply(headers, "Error", MESSAGES["unknown_action"].format(action=header(headers, "Action")))
        elif not self._permitted(session, action):
            fields = reply(headers, "Error", MESSAGES["not_permitted"])
        elif action in {a.lower() for a in self.failures}:
            forced = {a.lower(): m for a, m in self.failures.items()}[action]
            fields = reply(headers, "Error", forced)
        else:
            fields = self._handlers[action](session, headers)
        session.send(fields)
        if action == "hangup" and fields[0][1] == "Success":
            self._hangup_event(header(headers, "Channel"), header(headers, "Cause") or "16")
        if action == "originate" and fields[0][1] == "Success" and true_value(header(headers, "Async")):
            self._originate_event(headers)
        if close:
            session.close()

    def _permitted(self, session: PeerSession, action: str) -> bool:
        needed = PRIVILEGES.get(action, frozenset())
        granted = self.permissions.get(session.user.lower())
        return not needed or granted is None or "all" in granted or bool(needed & granted)

    def _login(self, session: PeerSession, headers: dict[str, str]) -> tuple[Fields, bool]:
        if session.authenticated:
            return reply(headers, "Success", MESSAGES["login_again"]), False
        username, secret = header(headers, "Username"), header(headers, "Secret")
        known = {user.lower(): (user, pw) for user, pw in self.users.items()}.get(username.lower())
        if self.refuse_logins or known is None or known[1] != secret:
            if self.auth_delay:
                time.sleep(self.auth_delay)
            return reply(headers, "Error", MESSAGES["login_failed"]), True
        session.authenticated, session.user = True, known[0]
        with self._cond:
            self.logins += 1
        return reply(headers, "Success", MESSAGES["login_ok"]), False

    # ------------------------------------------------------------------------------ actions
    def _ping(self, session: PeerSession, headers: dict[str, str]) -> Fields:
        return reply(headers, "Success", None, [("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")])

    def _redirect(self, session: PeerSession, headers: dict[str, str]) -> Fields:
        name, extra = header(headers, "Channel"), header(headers, "ExtraChannel")
        context, exten, priority = header(headers, "Context"), header(headers, "Exten"), header(headers, "Priority")
        x_context, x_exten, x_priority = (header(headers, "ExtraContext"), header(headers, "ExtraExten"),
                                          header(headers, "ExtraPriority"))
        problem = ("redirect_no_channel" if not name else "redirect_no_context" if not context
                   else "redirect_no_exten" if not exten else "redirect_no_priority" if not priority
                   else "redirect_bad_priority" if not priority_ok(priority) else None)
        if problem is None and extra and x_context:
            problem = ("redirect_no_extra_exten" if not x_exten else "redirect_no_extra_priority" if not x_priority
                       else None)
        if problem:
            return reply(headers, "Error", MESSAGES[problem])
        with self._cond:
            first = self.channels.get(name)
            if first is None:
                return reply(headers, "Error", MESSAGES["redirect_missing"].format(channel=name))
            if not extra:
                self._move(first, (context, exten, priority))
                return reply(headers, "Success", MESSAGES["redirect_ok"])
            second = self.channels.get(extra)
            if second is None:
                return reply(headers, "Error", MESSAGES["redirect_extra_missing"].format(channel=extra))
            self._move(first, (context, exten, priority))
            self._move(second, (x_context, x_exten, x_priority) if x_context else (context, exten, priority))
        return reply(headers, "Success", MESSAGES["redirect_dual_ok"])

    def _move(self, channel: PeerChannel, location: tuple[str, str, str]) -> None:
        self._unbridge(channel)
        channel.location = location

    def _unbridge(self, channel: PeerChannel) -> None:
        partner = self.channels.get(channel.bridged_with or "")
        if partner is not None:
            partner.bridged_with = None
        channel.bridged_with = None

    def _bridge(self, session: PeerSession, headers: dict[str, str]) -> Fields:
        name1, name2 = header(headers, "Channel1"), header(headers, "Channel2")
        if not name1 or not name2:
            return reply(headers, "Error", MESSAGES["bridge_no_channel"])
        with self._cond:
            first, second = self.channels.get(name1), self.channels.get(name2)
            if first is None:
                return reply(headers, "Error", MESSAGES["bridge_missing1"].format(channel=name1))
            if second is None:
                return reply(headers, "Error", MESSAGES["bridge_missing2"].format(channel=name2))
        self.bridge(name1, name2)
        return reply(headers, "Success", MESSAGES["bridge_ok"])

    def _hangup(self, session: PeerSession, headers: dict[str, str]) -> Fields:
        name = header(headers, "Channel")
        if not name:
            return reply(headers, "Error", MESSAGES["hangup_no_channel"])
        with self._cond:
            if name not in self.channels:
                return reply(headers, "Error", MESSAGES["hangup_missing"])
        return reply(headers, "Success", MESSAGES["hangup_ok"])

    def _hangup_event(self, name: str, cause: str) -> None:
        with self._cond:
            channel = self.channels.pop(name, None)
            if channel is not None:
                self._unbridge(channel)
        if channel is not None:
            self.emit("Hangup", Channel=name, Uniqueid=channel.uniqueid, Cause=cause,
                      **{"Cause-txt": "Normal Clearing" if cause == "16" else "Unknown"})

    def _variable_target(self, headers: dict[str, str]) -> tuple[PeerChannel | None, Fields | None]:
        if not header(headers, "Variable"):
            return None, reply(headers, "Error", MESSAGES["var_no_name"])
        channel = self.channels.get(header(headers, "Channel"))
        if channel is None:
            return None, reply(headers, "Error", MESSAGES["var_missing"])
        return channel, None

    def _setvar(self, session: PeerSession, headers: dict[str, str]) -> Fields:
        with self._cond:
            channel, error = self._variable_target(headers)
            if channel is None:
                return error or []
            channel.variables[header(headers, "Variable")] = header(headers, "Value")
        return reply(headers, "Success", MESSAGES["setvar_ok"])

    def _getvar(self, session: PeerSession, headers: dict[str, str]) -> Fields:
        name = header(headers, "Variable")
        with self._cond:
            channel, error = self._variable_target(headers)
            if channel is None:
                return error or []
            value = (channel.bridged_with or "" if name == "BRIDGEPEER" else
                     channel.uniqueid if name == "UNIQUEID" else channel.variables.get(name, ""))
        return reply(headers, "Success", None, [("Variable", name), ("Value", value)])

    def _mute(self, session: PeerSession, headers: dict[str, str]) -> Fields:
        name, state, direction = header(headers, "Channel"), header(headers, "State"), header(headers, "Direction")
        problem = ("mute_no_channel" if not name else "mute_no_state" if not state
                   else "mute_no_direction" if not direction else None)
        if problem:
            return reply(headers, "Error", MESSAGES[problem])
        with self._cond:
            channel = self.channels.get(name)
            if channel is None:
                return reply(headers, "Error", MESSAGES["mute_missing"])
            channel.muted[direction.lower()] = true_value(state)
        return reply(headers, "Success", None)  # res_mutestream answers without a Message

    def _mixmonitor(self, session: PeerSession, headers: dict[str, str]) -> Fields:
        name = header(headers, "Channel")
        if not name:
            return reply(headers, "Error", MESSAGES["mixmonitor_no_channel"])
        with self._cond:
            channel = self.channels.get(name)
            if channel is None:
                return reply(headers, "Error", MESSAGES["mixmonitor_missing"])
            channel.recording = header(headers, "File")
        return reply(headers, "Success", None, [("MixMonitorID", f"0x{id(channel):x}")])

    def _originate(self, session: PeerSession, headers: dict[str, str]) -> Fields:
        name, timeout = header(headers, "Channel"), header(headers, "Timeout")
        if not name:
            return reply(headers, "Error", MESSAGES["originate_no_channel"])
        if timeout and not timeout.lstrip("-").isdigit():
            return reply(headers, "Error", MESSAGES["originate_bad_timeout"])
        if "/" not in name:
            return reply(headers, "Error", MESSAGES["originate_bad_channel"])
        return reply(headers, "Success", MESSAGES["originate_ok"])

    def _playdtmf(self, session: PeerSession, headers: dict[str, str]) -> Fields:
        digit = header(headers, "Digit")
        with self._cond:
            channel = self.channels.get(header(headers, "Channel"))
            if channel is None:
                return reply(headers, "Error", MESSAGES["dtmf_missing"])
            if not digit:
                return reply(headers, "Error", MESSAGES["dtmf_no_digit"])
            channel.variables["DTMF_SENT"] = channel.variables.get("DTMF_SENT", "") + digit[0]
        return reply(headers, "Success", MESSAGES["dtmf_ok"])

    def _originate_event(self, headers: dict[str, str]) -> None:
        endpoint = header(headers, "Channel")
        extra = {"ActionID": header(headers, "ActionID")} if header(headers, "ActionID") else {}
        reason = self.originate_reasons.get(endpoint, "4")
        if reason != "4":  # Asterisk names the dial string, no channel is left
            self.emit("OriginateResponse", **extra, Response="Failure", Channel=endpoint,
                      Context=header(headers, "Context"), Exten=header(headers, "Exten"), Reason=reason,
                      Uniqueid="<null>", CallerIDNum="<unknown>", CallerIDName="<unknown>")
            return
        channel = self.add_channel(f"{endpoint}-{next(self._ids):08x}")
        self.emit("OriginateResponse", **extra, Response="Success", Channel=channel.name,
                  Context=header(headers, "Context"), Exten=header(headers, "Exten"),
                  Application=header(headers, "Application"), Data=header(headers, "Data"), Reason="4",
                  Uniqueid=channel.uniqueid, CallerIDNum="<unknown>", CallerIDName="<unknown>")
