"""The wire format and channel model of :class:`~telephony.ami.testpeer.AmiPeer` (Asterisk's side of AMI).

Messages are ``Key: Value`` lines ended by CRLF and a blank line; header names are matched
case-insensitively (Asterisk's ``astman_get_header``); a response is ``Response:`` first, then the
action's ``ActionID`` if it had one, then ``Message:`` (``astman_send_response_full``).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Fields", "PeerChannel", "PeerSession", "header", "priority_ok", "read_message", "reply",
           "true_value"]

Fields = list[tuple[str, str]]


@dataclass
class PeerChannel:
    """A channel as the peer models it."""

    name: str
    variables: dict[str, str] = field(default_factory=dict)
    location: tuple[str, str, str] | None = None
    """(context, exten, priority) after a Redirect."""
    bridged_with: str | None = None
    muted: dict[str, bool] = field(default_factory=dict)
    """Direction (in/out/all) to the last MuteAudio state."""
    recording: str | None = None
    uniqueid: str = ""


class PeerSession:
    """One client connection."""

    def __init__(self, sock: socket.socket, number: int) -> None:
        self.sock = sock
        self.number = number
        self.authenticated = False
        self.user = ""
        self.closed = False
        self.write_lock = threading.Lock()

    def send(self, fields: Fields) -> None:
        data = "".join(f"{key}: {value}\r\n" for key, value in fields) + "\r\n"
        with self.write_lock:
            if self.closed:
                return
            try:
                self.sock.sendall(data.encode("utf-8"))
            except OSError:
                self.close()

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()


def read_message(rfile: Any) -> dict[str, str] | None:
    """The next action's headers (names as sent), None at the end of the stream."""
    headers: dict[str, str] = {}
    while True:
        raw = rfile.readline(64 * 1024)
        if not raw:
            return None
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if headers:
                return headers
            continue
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        headers[key] = f"{headers[key]}\n{value}" if key in headers else value


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name, '' when missing (as Asterisk's ``astman_get_header``)."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""


def reply(headers: Mapping[str, str], response: str, message: str | None,
           extra: Sequence[tuple[str, str]] = ()) -> Fields:
    fields: Fields = [("Response", response)]
    if header(headers, "ActionID"):
        fields.append(("ActionID", header(headers, "ActionID")))
    if message is not None:
        fields.append(("Message", message))
    return fields + list(extra)


def priority_ok(priority: str) -> bool:
    return priority.isdigit() and int(priority) >= 1


def true_value(value: str) -> bool:
    return value.strip().lower() in ("1", "yes", "true", "on", "y", "t")
