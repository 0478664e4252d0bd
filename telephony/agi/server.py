"""``FastAGIServer``: a thread-per-call FastAGI server with a router by script path.

Asterisk runs ``AGI(agi://host:4573/ivr/main?x=1,arg1)``; the server accepts the connection, reads the
environment block, picks the handler registered for the script path (``route('ivr', h)`` serves ``ivr``
and ``ivr/<anything>``; the longest registered prefix wins) and calls ``handler(agi, env)`` in the call's
own thread, so pyst2's blocking helpers stay usable and a slow or silent peer never holds up another.

Whatever happens (the handler returns or raises, the caller hangs up, the peer breaks the protocol or
goes silent, the server stops) the socket is closed at the end: in dead mode Asterisk waits on it.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from asterisk.agi import AGIError, AGIHangup

from telephony.agi.channel import DEFAULT_HANGUP_GRACE, DEFAULT_READ_TIMEOUT, HelplineAGI
from telephony.agi.environment import AgiEnvironment
from telephony.agi.errors import AgiProtocolError, AgiSessionStopped

__all__ = ["DEFAULT_PORT", "RESULT_VARIABLE", "FastAGIServer", "Handler", "Session"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 4573
#: Channel variable the dialplan reads after ``AGI()`` returns (``error`` sends the call to a fallback).
RESULT_VARIABLE = "HELPLINE_RESULT"

Handler = Callable[[HelplineAGI, AgiEnvironment], None]


@dataclass
class Session:
    """One connection from Asterisk, as the server tracks it."""

    number: int
    sock: socket.socket
    peer: str
    started: float = field(default_factory=time.monotonic)
    agi: HelplineAGI | None = None
    thread: threading.Thread | None = None

    @property
    def uniqueid(self) -> str:
        """The call's uniqueid once the environment is read, else a connection label."""
        if self.agi is not None and self.agi.uniqueid:
            return self.agi.uniqueid
        return f"conn#{self.number} {self.peer}"


class FastAGIServer:
    """Threaded FastAGI server: ``route()`` handlers, then ``start()`` / ``stop()`` (or ``with``)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        read_timeout: float | None = DEFAULT_READ_TIMEOUT,
        hangup_grace: float = DEFAULT_HANGUP_GRACE,
        backlog: int = 128,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.on_rejected: Callable[[str, Exception], None] | None = None
        """Told (peer, error) when a session is closed because its environment block was malformed or
        oversized — before any handler ran — so the application can record the failed call."""
        self.read_timeout = read_timeout
        self.hangup_grace = hangup_grace
        self.backlog = backlog
        self._routes: dict[str, Handler] = {}
        self._sessions: dict[int, Session] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self.completed_sessions = 0

    # ------------------------------------------------------------------------------- routing
    def route(self, prefix: str, handler: Handler) -> None:
        """Serve script path ``prefix`` and ``prefix/<anything>`` with ``handler(agi, env)``."""
        key = prefix.strip("/")
        if not key:
            raise ValueError("a FastAGI route needs a non-empty script path")
        with self._lock:
            self._routes[key] = handler

    def resolve(self, script_path: str) -> Handler | None:
        """The handler of the longest registered prefix of ``script_path`` (by ``/`` segments)."""
        parts = script_path.strip("/").split("/")
        with self._lock:
            for size in range(len(parts), 0, -1):
                handler = self._routes.get("/".join(parts[:size]))
                if handler is not None:
                    return handler
        return None

    # ----------------------------------------------------------------------------- lifecycle
    @property
    def port(self) -> int:
        """The bound port (useful with port 0); the requested one before ``start()``."""
        if self._listener is not None:
            return int(self._listener.getsockname()[1])
        return self.requested_port

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` to connect to."""
        return self.host, self.port

    @property
    def active_sessions(self) -> int:
        """Number of calls being served right now."""
        with self._lock:
            return len(self._sessions)

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._listener is not None and not self._stopping.is_set()

    def start(self) -> FastAGIServer:
        """Bind, listen and accept in a background thread; returns self."""
        if self._listener is not None:
            raise RuntimeError("FastAGIServer already started")
        self._stopping.clear()
        listener = socket.create_server((self.host, self.requested_port), backlog=self.backlog)
        listener.settimeout(0.05)
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept_loop, name="fastagi-accept", daemon=True)
        self._acceptor.start()
        log.info("FastAGI server listening on %s:%d", self.host, self.port)
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Stop accepting, tell in-flight calls to stop, close what is left after ``timeout`` s."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        port = listener_port(listener)
        self._stopping.set()
        if self._acceptor is not None:
            self._acceptor.join(timeout=1.0)
        listener.close()
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            if session.agi is not None:
                session.agi.request_stop()
        deadline = time.monotonic() + timeout
        for session in sessions:
            if session.thread is not None:
                session.thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for session in sessions:
            if session.thread is not None and session.thread.is_alive():
                log.warning("[%s] still busy at shutdown: closing its connection", session.uniqueid)
                with contextlib.suppress(OSError):
                    session.sock.shutdown(socket.SHUT_RDWR)
        log.info("FastAGI server on %s:%d stopped", self.host, port)

    def serve_forever(self) -> None:
        """Start (if needed) and block until ``stop()`` is called from another thread."""
        if self._listener is None:
            self.start()
        self._stopping.wait()

    def __enter__(self) -> FastAGIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --------------------------------------------------------------------------------- calls
    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                conn, address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                log.exception("FastAGI accept failed")
                time.sleep(0.05)
                continue
            if self._stopping.is_set():
                conn.close()
                return
            conn.setblocking(True)
            session = Session(next(self._counter), conn, f"{address[0]}:{address[1]}")
            thread = threading.Thread(
                target=self._serve, args=(session,), name=f"fastagi-{session.number}", daemon=True
            )
            session.thread = thread
            with self._lock:
                self._sessions[session.number] = session
            thread.start()

    def _serve(self, session: Session) -> None:
        try:
            session.agi = HelplineAGI.from_socket(
                session.sock,
                read_timeout=self.read_timeout,
                hangup_grace=self.hangup_grace,
                stop_event=self._stopping,
            )
            self._dispatch(session.agi)
        except AgiSessionStopped:
            log.info("[%s] session stopped: the server is shutting down", session.uniqueid)
        except AGIHangup as exc:
            log.info("[%s] caller hung up: %s", session.uniqueid, exc)
        except AgiProtocolError as exc:
            log.error("[%s] FastAGI protocol error, closing the session: %s", session.uniqueid, exc)
            if session.agi is None and self.on_rejected is not None:
                try:
                    self.on_rejected(session.peer, exc)
                except Exception:
                    log.exception("[%s] recording the rejected session failed", session.uniqueid)
        except AGIError as exc:
            log.error("[%s] AGI command failed: %r", session.uniqueid, exc)
            self._report_error(session)
        except Exception:
            log.exception("[%s] FastAGI handler raised", session.uniqueid)
            self._report_error(session)
        finally:
            if session.agi is not None:
                session.agi.close()
            else:
                with contextlib.suppress(OSError):
                    session.sock.close()
            with self._lock:
                self._sessions.pop(session.number, None)
                self.completed_sessions += 1

    def _dispatch(self, agi: HelplineAGI) -> None:
        env = agi.environment
        handler = self.resolve(env.script_path)
        if handler is None:
            log.warning("[%s] no FastAGI handler for script %r", env.uniqueid, env.network_script)
            agi.verbose(f"Helpline: no handler for AGI script {env.script_path!r}", 1)
            agi.set_variable(RESULT_VARIABLE, "error")
            return
        log.debug("[%s] script %r -> %s", env.uniqueid, env.network_script, handler)
        handler(agi, env)

    @staticmethod
    def _report_error(session: Session) -> None:
        """Best effort: let the dialplan see ``HELPLINE_RESULT=error`` (it then falls back)."""
        agi = session.agi
        if agi is None or agi.broken:
            return
        try:
            agi.set_variable(RESULT_VARIABLE, "error")
        except (AGIError, ValueError) as exc:
            log.debug("[%s] could not set %s: %r", session.uniqueid, RESULT_VARIABLE, exc)


def listener_port(listener: socket.socket) -> int:
    """Port of a (possibly closed) listening socket, 0 when it can no longer tell."""
    try:
        return int(listener.getsockname()[1])
    except OSError:
        return 0
