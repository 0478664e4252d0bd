"""``HelplineManager``: a subclass of pyst2's ``asterisk.manager.Manager`` that fixes its defects.

pyst2 0.5.1 keeps its message and event classes (``ManagerMsg``, ``Event``), its exceptions
(``ManagerException`` > ``ManagerSocketException``, ``ManagerAuthException``), its action helpers
(``login``, ``logoff``, ``ping``, ``hangup``, ``redirect``, ``originate`` ...) and ``register_event``;
this subclass replaces the connection machinery, which is broken in these ways (all reproduced by
reading site-packages/asterisk/manager.py and in tests/telephony/ami):

1. ``send_action(cdict={})`` has a mutable default that it updates: the headers and the ``ActionID`` of
   one call leak into every later call made without a dict, so every later action reuses the first
   ``ActionID``. Here each call builds its own headers.
2. Responses are not matched by ``ActionID``: one FIFO queue feeds every caller, so two threads acting
   at once can receive each other's response, and a response that arrives after its caller gave up
   is handed to the next action. Here every action waits for the response carrying its ``ActionID``;
   responses nobody waits for are logged and dropped.
3. Socket writes are not serialized (the "lock the socket" comment has no lock): concurrent actions
   can interleave bytes. Here one lock guards each whole write.
4. Nothing times out: ``socket.connect`` has no timeout, ``connect()`` waits forever for the banner
   (and forever if the server closes before sending it), ``send_action`` waits forever for a
   response. Here connecting, the banner and every action have a timeout (``ManagerTimeout``).
5. A caller is registered as waiting only after its write, so a connection lost in between leaves it
   blocked forever. Here the waiter exists before the write and every waiter is woken when the
   connection ends (``ManagerSocketException``).
6. ``ManagerMsg.parse`` calls ``dict.has_key`` (Python 2): a message with a ``ChanVariable`` header
   (``channelvars=`` in manager.conf) raises AttributeError in the reader thread, which dies and leaves
   the client deaf and every caller blocked. Fixed in :class:`HelplineMessage`, which also keeps
   repeated headers (joined by newlines) instead of only the last.
7. An exception in an event callback ends the event thread: every later event is silently dropped.
   Here callbacks run guarded; a failure is logged.
8. A dropped connection is invisible (the threads just end). Here ``on_disconnect(manager)`` is called
   once when the connection ends without ``close()``; ``AmiClient`` reconnects from it.
9. A ``Manager`` cannot reconnect: its threads are created in ``__init__`` and can start only once.
   ``AmiClient`` makes a new manager per connection; this class starts its threads in ``connect()``.
10. ``close()`` never closes the socket and joins the reader thread, so it hangs when the logoff fails
    or the peer keeps the connection open; ``__del__`` calls it during garbage collection. Here
    ``close()`` logs off with a short timeout, shuts the socket down and joins with a timeout;
    ``__del__`` only closes the socket.
11. Reads go one byte per ``recv`` (unbuffered ``makefile('rwb', buffering=0)``). Here reads are
    buffered and a line is capped at ``MAX_LINE`` bytes.
12. Header values are written unchecked: a CR or LF in a value (a channel name, a file path) injects
    headers or whole actions. Here such values are refused with ValueError, as are odd header names.
13. Deprecated threading calls (``setDaemon``, ``isSet``, ``currentThread``) and ``print()`` of
    unparseable messages to stdout: replaced by current calls and ``logging``.

Not supported (not used by Helpline, and gone from Asterisk 22's AMI): ``Response: Follows`` multi-line
command output ended by ``--END COMMAND--`` (Asterisk 14+ sends ``Output:`` headers instead).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

from asterisk.manager import (
    Event,
    Manager,
    ManagerException,
    ManagerMsg,
    ManagerSocketException,
)

__all__ = ["BANNER_PREFIX", "MAX_LINE", "HelplineManager", "HelplineMessage", "ManagerTimeout", "encode_action"]

log = logging.getLogger(__name__)

EOL = "\r\n"
#: What the first line from Asterisk starts with (``Asterisk Call Manager/9.0.0``).
BANNER_PREFIX = "Asterisk Call Manager/"
#: Longest line accepted from Asterisk, in bytes.
MAX_LINE = 64 * 1024
_HEADER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class ManagerTimeout(ManagerException):  # type: ignore[misc]
    """Asterisk did not answer in time (the connection may still be fine)."""


class HelplineMessage(ManagerMsg):  # type: ignore[misc]
    """pyst2's message with a parser that works on Python 3 (defect 6)."""

    def parse(self, response: list[str]) -> None:
        data: list[str] = []
        for n, line in enumerate(response):
            key, sep, value = line.partition(":")
            if not line.endswith(EOL) or not sep:
                data.extend(response[n:])  # the start of a multi-line data block, as pyst2 has it
                break
            key, value = key.strip(), value.strip()
            if "ChanVariable" in key:  # ChanVariable: NAME=value, once per variable
                name, _, var_value = value.partition("=")
                self.headers.setdefault(key, {})[name.strip()] = var_value.strip()
            elif key in self.headers:
                self.headers[key] = f"{self.headers[key]}\n{value}"
            else:
                self.headers[key] = value
        self.data = "".join(data)


def encode_action(headers: Mapping[str, Any]) -> bytes:
    """One action as bytes (``Key: Value`` lines, a blank line); lists repeat the header (defect 12)."""
    lines: list[str] = []
    for key, value in headers.items():
        if not _HEADER_NAME.fullmatch(key):
            raise ValueError(f"not an AMI header name: {key!r}")
        for item in value if isinstance(value, (list, tuple)) else [value]:
            text = ("true" if item else "false") if isinstance(item, bool) else str(item)
            if "\r" in text or "\n" in text:
                raise ValueError(f"AMI header {key} must not contain a line break: {text!r}")
            lines.append(f"{key}: {text}")
    return (EOL.join(lines) + EOL + EOL).encode("utf-8")


class HelplineManager(Manager):  # type: ignore[misc]
    """One AMI connection with pyst2's API (see the module docstring for what differs)."""

    def __init__(self, *, action_timeout: float = 5.0,
                 on_disconnect: Callable[[HelplineManager], None] | None = None) -> None:
        # Manager.__init__ is deliberately not called: it builds single-use threads with deprecated calls.
        self._sock: socket.socket | None = None
        self._rfile: Any = None
        self.title: str | None = None
        self.version: str | None = None
        self.hostname = socket.gethostname()
        self._connected = threading.Event()
        self._running = threading.Event()
        self._closing = False
        self._event_callbacks: dict[str, list[Callable[..., Any]]] = {}
        self._seqlock = threading.Lock()
        self._seq = 0
        self._write_lock = threading.Lock()
        self._waiters_lock = threading.Lock()
        self._waiters: dict[str, queue.Queue[HelplineMessage | None]] = {}
        self._event_queue: queue.Queue[Event | None] = queue.Queue()
        self.message_thread: threading.Thread | None = None
        self.event_dispatch_thread: threading.Thread | None = None
        self.action_timeout = action_timeout
        self.on_disconnect = on_disconnect

    def __del__(self) -> None:  # defect 10: never log off or join threads during garbage collection
        _close(getattr(self, "_rfile", None), getattr(self, "_sock", None))

    def connected(self) -> bool:
        return self._connected.is_set()

    # ------------------------------------------------------------------------------------ connect
    def connect(self, host: str, port: int = 5038, timeout: float = 3.0) -> HelplineMessage:
        """Connect, read the banner (both within ``timeout``), start the reader and event threads."""
        if self._connected.is_set():
            raise ManagerException("Already connected to manager")
        try:
            sock = socket.create_connection((host, int(port)), timeout=timeout)
        except OSError as exc:
            raise ManagerSocketException(exc.errno or 0, exc.strerror or str(exc)) from exc
        rfile = sock.makefile("rb")
        try:
            banner = rfile.readline(MAX_LINE).decode("utf-8", "replace")
        except OSError as exc:  # includes the timeout
            _close(rfile, sock)
            raise ManagerSocketException(0, f"no banner from {host}:{port} within {timeout} s") from exc
        if not banner.startswith(BANNER_PREFIX):
            _close(rfile, sock)
            what = f"it sent {banner.strip()[:80]!r}" if banner else "it closed the connection"
            raise ManagerSocketException(0, f"{host}:{port} is not an Asterisk manager ({what})")
        sock.settimeout(None)
        self.title, _, self.version = banner.strip().partition("/")
        self._sock, self._rfile = sock, rfile
        self._connected.set()
        self._running.set()
        self.message_thread = threading.Thread(target=self.message_loop, name=f"ami-reader {host}:{port}",
                                               daemon=True)
        self.event_dispatch_thread = threading.Thread(target=self.event_dispatch, name=f"ami-events {host}:{port}",
                                                      daemon=True)
        self.message_thread.start()
        self.event_dispatch_thread.start()
        return HelplineMessage(["Response: Generated Header\r\n", banner])

    # ------------------------------------------------------------------------------------ actions
    def send_action(self, cdict: Mapping[str, Any] | None = None, **kwargs: Any) -> HelplineMessage:
        """Send an action and return its response (defects 1–5, 12); pyst2's helpers all come here."""
        headers = {**(cdict or {}), **kwargs}
        return self.send_with_timeout(headers, self.action_timeout)

    def send_with_timeout(self, headers: Mapping[str, Any], timeout: float | None) -> HelplineMessage:
        """``send_action`` with an explicit timeout (None: wait as long as the connection lasts)."""
        fields = dict(headers)
        action_id = str(fields.setdefault("ActionID", f"{self.hostname}-{self.next_seq():08x}"))
        data = encode_action(fields)
        waiter: queue.Queue[HelplineMessage | None] = queue.Queue(maxsize=1)
        with self._waiters_lock:
            if not self._connected.is_set() or self._sock is None:
                raise ManagerSocketException(0, "Not connected")
            if action_id in self._waiters:
                raise ManagerException(f"ActionID {action_id} is already waiting for a response")
            self._waiters[action_id] = waiter
            sock = self._sock
        try:
            try:
                with self._write_lock:
                    sock.sendall(data)
            except OSError as exc:
                raise ManagerSocketException(exc.errno or 0, exc.strerror or str(exc)) from exc
            try:
                response = waiter.get(timeout=timeout)
            except queue.Empty:
                raise ManagerTimeout(f"no response to {fields.get('Action')} within {timeout} s") from None
            if response is None:
                raise ManagerSocketException(0, "Connection Terminated")
            return response
        finally:
            with self._waiters_lock:
                self._waiters.pop(action_id, None)

    # ------------------------------------------------------------------------------------ threads
    def _read_message(self) -> list[str] | None:
        """The lines of the next message (each ending in CRLF), None at the end of the stream."""
        lines: list[str] = []
        while True:
            raw = self._rfile.readline(MAX_LINE + 1)
            if not raw:
                return None
            if len(raw) > MAX_LINE:
                raise ValueError(f"a line from Asterisk is longer than {MAX_LINE} bytes")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                if lines:
                    return lines
                continue  # blank lines between messages
            lines.append(line + EOL)

    def message_loop(self) -> None:
        """The reader thread: parse messages, hand responses to their waiters and events to the queue."""
        try:
            while self._running.is_set():
                lines = self._read_message()
                if lines is None:
                    break
                self._route(HelplineMessage(lines))
        except (OSError, ValueError) as exc:
            if not self._closing:
                log.warning("AMI connection failed: %s", exc)
        finally:
            self._connection_ended()

    def _route(self, message: HelplineMessage) -> None:
        if message.has_header("Event"):
            self._event_queue.put(Event(message))
            return
        action_id = message.get_header("ActionID")
        with self._waiters_lock:
            waiter = self._waiters.get(action_id) if action_id is not None else None
        if waiter is None:
            log.info("AMI response nobody waits for (late or unasked): %s", message.headers)
            return
        with contextlib.suppress(queue.Full):
            waiter.put_nowait(message)

    def _connection_ended(self) -> None:
        self._connected.clear()
        self._running.clear()
        with self._waiters_lock:
            waiters = list(self._waiters.values())
        for waiter in waiters:
            with contextlib.suppress(queue.Full):
                waiter.put_nowait(None)
        self._event_queue.put(None)
        _close(self._rfile, self._sock)
        if not self._closing and self.on_disconnect is not None:
            try:
                self.on_disconnect(self)
            except Exception:
                log.exception("the AMI disconnect callback failed")

    def event_dispatch(self) -> None:
        """The event thread: run the callbacks of each event, guarded (defect 7)."""
        while True:
            event = self._event_queue.get()
            if event is None:
                return
            callbacks = list(self._event_callbacks.get(event.name, [])) + list(self._event_callbacks.get("*", []))
            for callback in callbacks:
                try:
                    if callback(event, self):
                        break
                except Exception:
                    log.exception("AMI event callback %r failed on %s", callback, event.name)

    # ------------------------------------------------------------------------------------- close
    def close(self, logoff_timeout: float = 1.0) -> None:
        """Log off (briefly), close the socket and stop the threads; idempotent (defect 10)."""
        self._closing = True
        if self._connected.is_set():
            with contextlib.suppress(ManagerException, ValueError):
                self.send_with_timeout({"Action": "Logoff"}, logoff_timeout)
        self._running.clear()
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        current = threading.current_thread()
        for thread in (self.message_thread, self.event_dispatch_thread):
            if thread is not None and thread is not current and thread.is_alive():
                thread.join(timeout=1.0)
        if self.message_thread is None or not self.message_thread.is_alive():
            _close(self._rfile, sock)


def _close(*streams: Any) -> None:
    """Close socket files and sockets, ignoring errors (a socket's descriptor stays open while a file
    made from it is open, so both are closed)."""
    for stream in streams:
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
