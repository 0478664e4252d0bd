"""``AmiClient``: a logged-in Asterisk Manager Interface connection that comes back by itself.

Built on :class:`~telephony.ami.manager.HelplineManager` (pyst2's ``asterisk.manager.Manager`` with its
defects fixed; the list is in that module's docstring). On top of one connection it adds what a
long-running Helpline process needs:

- ``connect()`` connects and logs in; wrong credentials raise :class:`AmiLoginError` with a message
  that says what to check (no retry: retrying a wrong secret only fills Asterisk's security log), an
  unreachable or silent host raises :class:`AmiUnavailable`;
- ``send(action, **headers)`` returns the response's headers, raises :class:`AmiActionError` with
  Asterisk's ``Message`` on ``Response: Error``, :class:`AmiTimeout` when Asterisk does not answer in
  time and :class:`AmiUnavailable` while disconnected. Header values with line breaks are refused;
- ``on_event(name or "*", callback)`` subscribes to events (callbacks get the headers as a dict, run on
  the event thread, and may call ``send``). Subscriptions belong to the client, not the connection;
- when the connection drops, a thread reconnects after ``backoff`` delays (0.5, 1, 2, 5, 10, 30 s, the
  last repeating) and the subscriptions keep working; ``close()`` logs off and stops it.

```python
client = AmiClient("127.0.0.1", 5038, "helpline", secret).connect()
client.on_event("Hangup", lambda event: print(event["Channel"]))
client.send("Redirect", Channel="PJSIP/trunk-00000007", Context="helpline-hold", Exten="caller", Priority=1)
client.close()
```
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from asterisk.manager import ManagerAuthException, ManagerException

from telephony.ami.manager import HelplineManager, ManagerTimeout

__all__ = [
    "DEFAULT_BACKOFF", "AmiActionError", "AmiClient", "AmiError", "AmiEvent", "AmiLoginError", "AmiTimeout",
    "AmiUnavailable", "EventCallback",
]

log = logging.getLogger(__name__)

#: Seconds between reconnection attempts; the last one repeats.
DEFAULT_BACKOFF: tuple[float, ...] = (0.5, 1, 2, 5, 10, 30)

AmiEvent = dict[str, str]
"""An event's headers (``Event``, ``Privilege``, ``Channel`` ...). A ``ChanVariable: NAME=value`` header
becomes the key ``ChanVariable(NAME)``."""
EventCallback = Callable[[AmiEvent], object]


class AmiError(Exception):
    """Base of the AMI client's errors."""


class AmiUnavailable(AmiError):
    """No usable connection to the Asterisk manager (cannot connect, or the connection was lost)."""


class AmiLoginError(AmiError):
    """Asterisk refused the login (wrong user or secret, or a host not permitted in manager.conf)."""


class AmiTimeout(AmiError):
    """Asterisk did not answer an action in time."""


class AmiActionError(AmiError):
    """Asterisk answered ``Response: Error``; ``message`` is Asterisk's ``Message`` header."""

    def __init__(self, action: str, message: str, response: dict[str, str]) -> None:
        super().__init__(f"Asterisk refused {action}: {message or 'no reason given'}")
        self.action = action
        self.message = message
        self.response = response


class AmiClient:
    """A reconnecting, logged-in AMI connection (see the module docstring)."""

    def __init__(self, host: str, port: int = 5038, username: str = "helpline", secret: str = "", *,
                 reconnect: bool = True, backoff: Sequence[float] = DEFAULT_BACKOFF,
                 connect_timeout: float = 3.0, action_timeout: float = 5.0) -> None:
        if not backoff or any(delay < 0 for delay in backoff):
            raise ValueError("backoff needs at least one delay, none negative")
        self.host = host
        self.port = int(port)
        self.username = username
        self.secret = secret
        self.reconnect = reconnect
        self.backoff = tuple(float(delay) for delay in backoff)
        self.connect_timeout = connect_timeout
        self.action_timeout = action_timeout
        self.reconnect_delays: list[float] = []
        """Every back-off delay waited, in order (diagnostics and tests)."""
        self.connections = 0
        """Successful logins so far (1 after ``connect()``, +1 per reconnection)."""
        self._lock = threading.RLock()
        self._manager: HelplineManager | None = None
        self._subscriptions: dict[str, list[EventCallback]] = {}
        self._stop = threading.Event()
        self._up = threading.Event()
        self._reconnector: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        manager = self._manager
        return manager is not None and manager.connected()

    def wait_connected(self, timeout: float) -> bool:
        """Wait until logged in (after a reconnection); True if connected. Right after a drop the reader
        thread may not have noticed it yet (the "up" flag still set): keep waiting for a live connection."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if self._up.wait(max(remaining, 0.0)) and self.connected:
                return True
            if remaining <= 0:
                return False
            time.sleep(0.02)

    # ------------------------------------------------------------------------------- connecting
    def connect(self) -> AmiClient:
        """Connect and log in; returns self. Raises :class:`AmiLoginError` or :class:`AmiUnavailable`."""
        self._stop.clear()
        self._open()
        return self

    def connect_in_background(self) -> AmiClient:
        """Start the reconnection loop now (for a start before Asterisk is up); returns self."""
        self._stop.clear()
        self._start_reconnecting()
        return self

    def _open(self) -> None:
        manager = HelplineManager(action_timeout=self.action_timeout, on_disconnect=self._lost)
        try:
            manager.connect(self.host, self.port, timeout=self.connect_timeout)
        except ManagerException as exc:
            raise AmiUnavailable(f"cannot reach the Asterisk manager at {self.address}: {_reason(exc)}") from exc
        try:
            manager.login(self.username, self.secret)
        except ManagerAuthException as exc:
            manager.close(logoff_timeout=0)
            raise AmiLoginError(
                f"Asterisk refused the manager login for user '{self.username}': {_reason(exc)} — check "
                f"manager.conf on {self.host} (the [{self.username}] section, its secret and permit=) and "
                f"Helpline's HELPLINE_AMI_USER / HELPLINE_AMI_SECRET") from exc
        except ManagerException as exc:
            manager.close(logoff_timeout=0)
            raise AmiUnavailable(f"the Asterisk manager at {self.address} did not complete the login: "
                                 f"{_reason(exc)}") from exc
        manager.register_event("*", self._dispatch)
        with self._lock:
            if self._stop.is_set():  # close() ran while this attempt was logging in
                manager.close(logoff_timeout=0)
                raise AmiUnavailable(f"the AMI client for {self.address} was closed")
            old, self._manager = self._manager, manager
            self.connections += 1
        if old is not None and old is not manager:
            old.close(logoff_timeout=0)
        self._up.set()
        log.info("AMI: logged in to %s as %s (%s %s)", self.address, self.username, manager.title, manager.version)

    def _lost(self, manager: HelplineManager) -> None:
        """The reader thread of ``manager`` saw the connection end without ``close()``."""
        with self._lock:
            if manager is not self._manager:
                return
            self._up.clear()
        log.warning("AMI: the connection to %s was lost", self.address)
        if self.reconnect and not self._stop.is_set():
            self._start_reconnecting()

    def _start_reconnecting(self) -> None:
        with self._lock:
            if self._reconnector is not None and self._reconnector.is_alive():
                return
            self._reconnector = threading.Thread(target=self._reconnect_loop, name=f"ami-reconnect {self.address}",
                                                 daemon=True)
            self._reconnector.start()

    def _reconnect_loop(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            delay = self.backoff[min(attempt, len(self.backoff) - 1)]
            self.reconnect_delays.append(delay)
            if self._stop.wait(delay):
                return
            attempt += 1
            try:
                self._open()
            except AmiLoginError as exc:
                log.error("AMI: %s (still retrying)", exc)
            except AmiUnavailable as exc:
                log.warning("AMI: reconnection attempt %d failed: %s", attempt, exc)
            else:
                log.info("AMI: reconnected to %s after %d attempt(s)", self.address, attempt)
                return

    def close(self) -> None:
        """Stop reconnecting, log off and close; idempotent."""
        self._stop.set()
        self._up.clear()
        with self._lock:
            manager, self._manager = self._manager, None
            reconnector = self._reconnector
        if manager is not None:
            manager.close()
        if reconnector is not None and reconnector is not threading.current_thread():
            reconnector.join(timeout=self.connect_timeout + 1.0)

    def __enter__(self) -> AmiClient:
        return self.connect()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------- actions
    def send(self, action: str, **headers: str | int | bool) -> dict[str, str]:
        """Send ``action`` with ``headers``; the response's headers (see the module docstring for errors)."""
        manager = self._manager
        if manager is None or not manager.connected():
            state = "reconnecting" if self._reconnector is not None and self._reconnector.is_alive() else "closed"
            raise AmiUnavailable(f"not connected to the Asterisk manager at {self.address} ({state})")
        try:
            response = manager.send_action({"Action": action, **headers})
        except ManagerTimeout as exc:
            raise AmiTimeout(f"Asterisk did not answer {action} within {self.action_timeout} s") from exc
        except ManagerException as exc:
            raise AmiUnavailable(f"{action}: the connection to the Asterisk manager at {self.address} failed: "
                                 f"{_reason(exc)}") from exc
        result = _flatten(response.headers)
        if result.get("Response") == "Error":
            raise AmiActionError(action, result.get("Message", ""), result)
        return result

    # ----------------------------------------------------------------------------------- events
    def on_event(self, name: str, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(headers)`` for every event ``name`` (``"*"``: every event); returns an unsubscribe."""
        with self._lock:
            self._subscriptions.setdefault(name, []).append(callback)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscriptions.get(name, []).remove(callback)

        return unsubscribe

    def _dispatch(self, event: Any, manager: HelplineManager) -> None:
        with self._lock:
            callbacks = list(self._subscriptions.get(event.name, [])) + list(self._subscriptions.get("*", []))
        if not callbacks:
            return
        headers = _flatten(event.headers)
        for callback in callbacks:
            try:
                callback(dict(headers))
            except Exception:
                log.exception("AMI event callback %r failed on %s", callback, event.name)


def _flatten(headers: dict[str, Any]) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in headers.items():
        if isinstance(value, dict):
            for name, var_value in value.items():
                result[f"{key}({name})"] = str(var_value)
        else:
            result[key] = str(value)
    return result


def _reason(exc: BaseException) -> str:
    """pyst2's exceptions carry (errno, strerror) or one message; the readable part."""
    args = [arg for arg in exc.args if arg not in (None, 0, "")]
    return str(args[-1]) if args else type(exc).__name__
