"""``FastAGIServer``: a thread-per-call FastAGI server with a router by script path.

Asterisk runs ``AGI(agi://host:4573/ivr/main?x=1,arg1)``; the server accepts the connection, reads the
environment block, picks the handler registered for the script path (``route('ivr', h)`` serves ``ivr``
and ``ivr/<anything>``; the longest registered prefix wins) and calls ``handler(agi, env)`` in the call's
own thread, so pyst2's blocking helpers stay usable and a slow or silent peer never holds up another.

Whatever happens (the handler returns or raises, the caller hangs up, the peer breaks the protocol or
goes silent, the server stops) the socket is closed at the end: in dead mode Asterisk waits on it.

Limits: the whole environment block must arrive within ``env_timeout`` seconds (5 by default; a peer
trickling a byte a second is closed, however short each read); a connection closed before its first line
(a health probe) is logged at debug only. With ``max_sessions``, a call arriving while that many are in
progress is refused at once: its environment is read, ``HELPLINE_RESULT`` is set to ``error`` (the
dialplan's fallback takes the caller) and ``on_refused(env)`` is told, so the application can record it.
``shutdown(grace)`` stops accepting, lets calls in progress finish for up to ``grace`` seconds, then sets
``grace_over`` (handlers wind up what is left) and stops.
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
from typing import TextIO

from asterisk.agi import AGIError, AGIHangup

from telephony.agi.channel import DEFAULT_HANGUP_GRACE, DEFAULT_READ_TIMEOUT, HelplineAGI
from telephony.agi.environment import MAX_LINE, AgiEnvironment, read_environment
from telephony.agi.errors import AgiNoEnvironment, AgiProtocolError, AgiSessionStopped, AgiTimeoutError

__all__ = ["DEFAULT_ENV_TIMEOUT", "DEFAULT_PORT", "REFUSED_RESULT", "RESULT_VARIABLE", "FastAGIServer", "Handler",
           "Session"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 4573
#: Channel variable the dialplan reads after ``AGI()`` returns (``error`` sends the call to a fallback).
RESULT_VARIABLE = "HELPLINE_RESULT"
#: ``HELPLINE_RESULT`` of a call refused over the session cap (the dialplan's fallback takes the caller).
REFUSED_RESULT = "error"
#: Seconds allowed for the whole environment block (however slowly it trickles in).
DEFAULT_ENV_TIMEOUT = 5.0
#: Seconds a refused session may wait for Asterisk's reply to its ``SET VARIABLE``.
REFUSE_REPLY_TIMEOUT = 2.0

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
    env_timed_out: bool = False
    """The environment block did not arrive within ``env_timeout``: the server closed the socket."""

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
        max_sessions: int | None = None,
        env_timeout: float = DEFAULT_ENV_TIMEOUT,
    ) -> None:
        if max_sessions is not None and max_sessions < 1:
            raise ValueError(f"max_sessions must be at least 1 (got {max_sessions})")
        if env_timeout <= 0:
            raise ValueError(f"env_timeout must be positive (got {env_timeout})")
        self.host = host
        self.requested_port = port
        self.on_rejected: Callable[[str, Exception], None] | None = None
        """Told (peer, error) when a session is closed because its environment block was malformed,
        oversized or too slow — before any handler ran — so the application can record the failed call."""
        self.on_refused: Callable[[AgiEnvironment], None] | None = None
        """Told the environment of a call refused over ``max_sessions`` (after its connection closed)."""
        self.on_session: Callable[[], object] | None = None
        """Called (in the accepting thread, keep it tiny) for every connection accepted, e.g. to tell the web
        process's garbage-collector tuning that calls are arriving (not a quiet moment for a full pass)."""
        self.read_timeout = read_timeout
        self.hangup_grace = hangup_grace
        self.backlog = backlog
        self.max_sessions = max_sessions
        self.env_timeout = env_timeout
        self.grace_over = threading.Event()
        """Set by ``shutdown()`` when the grace period ended with calls still in progress: they are being
        stopped, and their handlers should wind them up (set ``HELPLINE_RESULT``, close their records)."""
        self._routes: dict[str, Handler] = {}
        self._sessions: dict[int, Session] = {}
        self._refusing: dict[int, Session] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._stopping = threading.Event()
        self._draining = threading.Event()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._bound_port = 0
        self.completed_sessions = 0
        self.refused_sessions = 0
        self.failed_sessions = 0
        """Sessions ended by an error: a protocol error, a failed AGI command, a handler that raised."""

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
        return self._bound_port or self.requested_port

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
        """True between ``start()`` and ``stop()`` (or ``shutdown()``)."""
        return self._listener is not None and not self._stopping.is_set() and not self._draining.is_set()

    def start(self) -> FastAGIServer:
        """Bind, listen and accept in a background thread; returns self."""
        if self._listener is not None:
            raise RuntimeError("FastAGIServer already started")
        self._stopping.clear()
        self._draining.clear()
        self.grace_over.clear()
        listener = socket.create_server((self.host, self.requested_port), backlog=self.backlog)
        listener.settimeout(0.05)
        self._listener = listener
        self._bound_port = listener_port(listener)
        self._acceptor = threading.Thread(target=self._accept_loop, name="fastagi-accept", daemon=True)
        self._acceptor.start()
        self._watchdog = threading.Thread(target=self._watch_environments, name="fastagi-watchdog", daemon=True)
        self._watchdog.start()
        log.info("FastAGI server listening on %s:%d%s", self.host, self.port,
                 f" (at most {self.max_sessions} calls at once)" if self.max_sessions else "")
        return self

    def _close_listener(self) -> bool:
        """Stop accepting and close the listening socket (new connections are refused); False if not open."""
        listener, self._listener = self._listener, None
        if listener is None:
            return False
        self._draining.set()
        if self._acceptor is not None:
            self._acceptor.join(timeout=1.0)
        listener.close()
        return True

    def shutdown(self, grace: float, *, timeout: float = 5.0) -> int:
        """Stop gracefully: refuse new connections at once (Asterisk's ``AGI()`` fails over to the dialplan's
        fallback), let the calls in progress run for up to ``grace`` seconds, then set ``grace_over`` and
        stop the rest (their handlers wind them up) and wait up to ``timeout`` s for them.
        Returns how many calls were still in progress when the grace period ended."""
        if not self._close_listener() and not self._draining.is_set():
            return 0
        deadline = time.monotonic() + max(0.0, grace)
        with self._lock:
            busy = len(self._sessions) + len(self._refusing)
        if busy:
            log.info("FastAGI server stopping: %d call(s) in progress, waiting up to %g s", busy, grace)
        while busy and time.monotonic() < deadline:
            time.sleep(0.05)
            with self._lock:
                busy = len(self._sessions) + len(self._refusing)
        if busy:
            log.warning("FastAGI server: %d call(s) still in progress after the %g s grace: ending them", busy, grace)
            self.grace_over.set()
        self.stop(timeout=timeout)
        return busy

    def stop(self, timeout: float = 1.0) -> None:
        """Stop accepting, tell in-flight calls to stop, close what is left after ``timeout`` s."""
        if not self._close_listener() and (self._stopping.is_set() or not self._draining.is_set()):
            return
        port = self._bound_port
        self._stopping.set()
        with self._lock:
            sessions = [*self._sessions.values(), *self._refusing.values()]
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
    def _ending(self) -> bool:
        return self._stopping.is_set() or self._draining.is_set()

    def _accept_loop(self) -> None:
        while not self._ending():
            listener = self._listener
            if listener is None:
                return
            try:
                conn, address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._ending():
                    return
                log.exception("FastAGI accept failed")
                time.sleep(0.05)
                continue
            if self._ending():
                conn.close()
                return
            conn.setblocking(True)
            if self.on_session is not None:
                with contextlib.suppress(Exception):
                    self.on_session()
            with contextlib.suppress(OSError):  # small request/response lines: never wait for Nagle's ACK
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = Session(next(self._counter), conn, f"{address[0]}:{address[1]}")
            flood = False
            with self._lock:
                refuse = self.max_sessions is not None and len(self._sessions) >= self.max_sessions
                if refuse and len(self._refusing) >= max(16, self.max_sessions or 0):
                    flood = True  # not even the refusal is worth a thread
                elif refuse:
                    self._refusing[session.number] = session
                else:
                    self._sessions[session.number] = session
            if flood:
                log.warning("FastAGI: too many calls being refused at once; closing a connection unread")
                with contextlib.suppress(OSError):
                    conn.close()
                continue
            thread = threading.Thread(target=self._refuse if refuse else self._serve, args=(session,),
                                      name=f"fastagi-{session.number}", daemon=True)
            session.thread = thread
            thread.start()

    def _watch_environments(self) -> None:
        """Close sessions whose environment block has not arrived within ``env_timeout`` (slow peers)."""
        while not self._stopping.wait(min(0.25, self.env_timeout / 4)):
            now = time.monotonic()
            with self._lock:
                late = [s for s in (*self._sessions.values(), *self._refusing.values())
                        if s.agi is None and not s.env_timed_out and now - s.started > self.env_timeout]
                for session in late:
                    session.env_timed_out = True
            for session in late:
                with contextlib.suppress(OSError):
                    session.sock.shutdown(socket.SHUT_RDWR)

    def _open(self, session: Session, read_timeout: float | None) -> HelplineAGI:
        """Read the environment block in the session's own thread (no hand-off per line to a reader thread:
        under load each one waited for the GIL), then wrap the socket in a ``HelplineAGI`` that goes on
        reading from the same buffered file. The watchdog bounds the whole block (``env_timeout``)."""
        sock = session.sock
        sock.settimeout(None)
        rfile = sock.makefile("r", encoding="utf-8", newline="\n")
        wfile = sock.makefile("w", encoding="utf-8", newline="\n")
        try:
            env = read_environment(lambda: _env_line(rfile))
            return HelplineAGI(rfile, wfile, env=env, sock=sock, read_timeout=read_timeout,
                               hangup_grace=self.hangup_grace, stop_event=self._stopping)
        except BaseException:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            for stream in (rfile, wfile):
                with contextlib.suppress(OSError, ValueError):
                    stream.close()
            raise

    def _refuse(self, session: Session) -> None:
        """Over ``max_sessions``: read the environment, set ``HELPLINE_RESULT=error``, close, tell ``on_refused``."""
        env: AgiEnvironment | None = None
        try:
            session.agi = self._open(session, REFUSE_REPLY_TIMEOUT)
            env = session.agi.environment
            log.warning("[%s] refused: %d calls in progress, the most allowed (HELPLINE_AGI_MAX_SESSIONS)",
                        session.uniqueid, self.max_sessions)
            session.agi.set_variable(RESULT_VARIABLE, REFUSED_RESULT)
        except AgiNoEnvironment:
            log.debug("[%s] closed before its environment block (a probe?) while over the cap", session.uniqueid)
        except (AGIError, OSError, ValueError) as exc:
            log.info("[%s] refusing the session: %r", session.uniqueid, exc)
        finally:
            if session.agi is not None:
                session.agi.close()
            else:
                with contextlib.suppress(OSError):
                    session.sock.close()
            with self._lock:
                self._refusing.pop(session.number, None)
                self.refused_sessions += 1
        if env is not None and self.on_refused is not None:
            try:
                self.on_refused(env)
            except Exception:
                log.exception("[%s] recording the refused session failed", session.uniqueid)

    def _serve(self, session: Session) -> None:
        try:
            session.agi = self._open(session, self.read_timeout)
            self._dispatch(session.agi)
        except AgiSessionStopped:
            log.info("[%s] session stopped: the server is shutting down", session.uniqueid)
        except AGIHangup as exc:
            log.info("[%s] caller hung up: %s", session.uniqueid, exc)
        except AgiProtocolError as error:
            if session.agi is None and session.env_timed_out:
                problem: AgiProtocolError = AgiTimeoutError(
                    f"no complete environment block within {self.env_timeout:g} s")
                log.warning("[%s] FastAGI session closed: %s", session.uniqueid, problem)
            elif isinstance(error, AgiNoEnvironment):  # connect-and-close: a health probe, not a call
                log.debug("[%s] connection closed before its environment block (a probe?)", session.uniqueid)
                return
            else:
                problem = error
                log.error("[%s] FastAGI protocol error, closing the session: %s", session.uniqueid, error)
                with self._lock:
                    self.failed_sessions += 1
            if session.agi is None and self.on_rejected is not None:
                try:
                    self.on_rejected(session.peer, problem)
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

    def _report_error(self, session: Session) -> None:
        """Best effort: let the dialplan see ``HELPLINE_RESULT=error`` (it then falls back); counted."""
        with self._lock:
            self.failed_sessions += 1
        agi = session.agi
        if agi is None or agi.broken:
            return
        try:
            agi.set_variable(RESULT_VARIABLE, "error")
        except (AGIError, ValueError) as exc:
            log.debug("[%s] could not set %s: %r", session.uniqueid, RESULT_VARIABLE, exc)


def _env_line(rfile: TextIO) -> str:
    """One line of the environment block, bounded like every AGI line; '' at the end of the stream."""
    try:
        line = rfile.readline(MAX_LINE + 2)
    except UnicodeDecodeError as exc:
        raise AgiProtocolError(f"data from Asterisk is not UTF-8: {exc.reason}") from None
    except (OSError, ValueError):
        return ""
    if len(line.rstrip("\r\n")) > MAX_LINE:
        raise AgiProtocolError(f"line longer than {MAX_LINE} characters")
    return line


def listener_port(listener: socket.socket) -> int:
    """Port of a (possibly closed) listening socket, 0 when it can no longer tell."""
    try:
        return int(listener.getsockname()[1])
    except OSError:
        return 0
