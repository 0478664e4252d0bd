"""``ChannelRegistry``: which Asterisk channels carry a call, by the router's call id.

Call control over AMI (``telephony.ami.control``) acts on channels, the desktop names calls. The registry
is fed from the FastAGI side and read by the AMI side:

- ``telephony.ivr.agi_handler`` (through ``IvrEngine.run_call(on_open=...)``), when the call record
  opens: the caller's channel (the ``agi_channel`` of the IVR session);
- ``telephony.switch.answers.AnswerRegistry.answered``, when the agent picks up (``Dial U()``): the
  agent's channel (the ``agi_channel`` of the ``answered`` session) and its endpoint;
- ``AmiCallControl``: ``held``, ``consult`` and ``detached`` as it acts, and on AMI ``Hangup`` events it
  forgets the call (the caller's channel) or its agent (the agent's channel).

```python
CHANNELS.set_caller(42, "PJSIP/trunk-00000007")
CHANNELS.set_agent(42, "PJSIP/1001-00000008", "PJSIP/1001")
CHANNELS.get(42)      # CallChannels(call_id=42, caller='PJSIP/trunk-00000007', agent='PJSIP/1001-00000008', ...)
CHANNELS.session_ended(42)   # the IVR session is over: forgotten unless AMI moved the caller out of it
```

An entry normally lives as long as the caller's IVR session. Once AMI redirects the caller out of that
session (hold, consult, transfer: Asterisk then ends the AGI session while the call goes on in the
dialplan) the entry is ``detached`` and lives until the caller's channel hangs up. The registry keeps at
most ``limit`` calls (the oldest go first), so missed hang-up events cannot make it grow without end.

Cluster mode: ``CHANNELS.share(SharedChannels(url, instance))`` (``telephony.control.shared_channels``) keeps
the entries in PostgreSQL, so the call control of any instance finds the channels of a call whose FastAGI
session runs on another. Every method then reads or writes the shared table; the registry keeps a copy of what
this instance wrote, used when the table cannot be reached (logged) and by :meth:`find` when the table has no
row (another instance's hang-up handling deleted it first: this instance's dial-out still hears of the hang-up).
``when_gone`` callbacks stay in the process that registered them and run when the caller's channel (as it was
then) hangs up, whichever instance deleted the row.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from telephony.control.shared_channels import SharedChannels

__all__ = ["CHANNELS", "CallChannels", "ChannelRegistry", "endpoint_of"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_SUFFIX = re.compile(r"^(?P<endpoint>.+)-[0-9a-fA-F]{8}(?:;[12])?$")


def endpoint_of(channel: str) -> str:
    """The endpoint a channel belongs to: ``PJSIP/1001-0000000a`` → ``PJSIP/1001``,
    ``Local/1001@agents-00000001;1`` → ``Local/1001@agents``; other names are returned as they are."""
    match = _SUFFIX.match(channel)
    return match.group("endpoint") if match else channel


@dataclass(frozen=True)
class CallChannels:
    """The channels of one call (a snapshot; the registry replaces it on every change)."""

    call_id: int
    caller: str | None = None
    """The caller's channel (the IVR's AGI session ran on it)."""
    agent: str | None = None
    """The channel the agent answered on, None before the answer and after the agent left."""
    endpoint: str | None = None
    """The agent's endpoint (``PJSIP/1001``)."""
    held: bool = False
    """The caller waits on music on hold (moved there by call control)."""
    consult: str | None = None
    """The endpoint the agent is consulting, if any."""
    detached: bool = False
    """Call control moved the caller out of its AGI session: the entry outlives the session."""


class ChannelRegistry:
    """Thread-safe map of call id to :class:`CallChannels` (see the module docstring)."""

    def __init__(self, *, limit: int = 10_000) -> None:
        if limit < 1:
            raise ValueError("limit must be positive")
        self.limit = limit
        self._lock = threading.Lock()
        self._calls: dict[int, CallChannels] = {}
        self._on_gone: dict[int, Callable[[], None]] = {}
        self._shared: SharedChannels | None = None
        self._gone_caller: dict[int, str | None] = {}
        """Shared: the caller's channel of each ``when_gone`` callback, as it was when registered."""

    def share(self, store: SharedChannels | None) -> ChannelRegistry:
        """Cluster mode: keep the entries in ``store`` (shared by the instances, see the module docstring);
        None: back to this process's memory alone."""
        self._shared = store
        return self

    @property
    def shared(self) -> SharedChannels | None:
        return self._shared

    def _via(self, remote: Callable[[SharedChannels], T], local: Callable[[], T], *, mirror: int | None = None) -> T:
        """Shared: ``remote(store)`` (its entry copied here when ``mirror`` names the call), or ``local()`` when the
        table cannot be reached; otherwise ``local()``."""
        store = self._shared
        if store is None:
            return local()
        try:
            result = remote(store)
        except Exception as exc:
            log.warning("call channels: the shared registry failed (%s); this instance's own entries used", exc)
            return local()
        if mirror is not None:
            with self._lock:
                if isinstance(result, CallChannels):
                    self._calls.pop(mirror, None)
                    self._calls[mirror] = result
                    while len(self._calls) > self.limit:
                        del self._calls[next(iter(self._calls))]
                else:
                    self._calls.pop(mirror, None)
        return result

    # ---------------------------------------------------------------------------------- feeding
    def set_caller(self, call_id: int, channel: str) -> CallChannels:
        """The caller of ``call_id`` is on ``channel``."""
        name = _channel(channel)
        return self._via(lambda s: s.set(call_id, caller=name), lambda: self._change(call_id, caller=name),
                         mirror=call_id)

    def set_agent(self, call_id: int, channel: str, endpoint: str | None = None) -> CallChannels:
        """The agent of ``call_id`` answered on ``channel`` (endpoint: derived from the channel if not given)."""
        name = _channel(channel)
        values = {"agent": name, "endpoint": endpoint or endpoint_of(name)}
        return self._via(lambda s: s.set(call_id, **values), lambda: self._change(call_id, **values), mirror=call_id)

    def clear_agent(self, call_id: int) -> CallChannels | None:
        """The agent's leg of ``call_id`` ended (the caller may go on elsewhere); None if unknown."""
        return self._via(lambda s: s.update(call_id, agent=None, endpoint=None, consult=None),
                         lambda: self._clear_agent(call_id), mirror=call_id)

    def _clear_agent(self, call_id: int) -> CallChannels | None:
        with self._lock:
            entry = self._calls.get(call_id)
            if entry is None:
                return None
            self._calls[call_id] = entry = replace(entry, agent=None, endpoint=None, consult=None)
            return entry

    def update(self, call_id: int, **changes: Any) -> CallChannels | None:
        """Change fields of the entry of ``call_id``, e.g. ``held=True``; None (and no entry made) if unknown."""
        return self._via(lambda s: s.update(call_id, **changes), lambda: self._update(call_id, **changes),
                         mirror=call_id)

    def _update(self, call_id: int, **changes: Any) -> CallChannels | None:
        with self._lock:
            entry = self._calls.get(call_id)
            if entry is None:
                return None
            self._calls[call_id] = entry = replace(entry, **changes)
            return entry

    def _change(self, call_id: int, **changes: Any) -> CallChannels:
        with self._lock:
            current = self._calls.pop(call_id, None) or CallChannels(call_id)
            entry = replace(current, **changes)
            self._calls[call_id] = entry  # re-inserted: the most recently changed calls are evicted last
            while len(self._calls) > self.limit:
                del self._calls[next(iter(self._calls))]
            return entry

    # ----------------------------------------------------------------------------------- reading
    def get(self, call_id: int) -> CallChannels | None:
        """The channels of ``call_id``, None if unknown."""
        return self._via(lambda s: s.get(call_id), lambda: self._local_get(call_id))

    def _local_get(self, call_id: int) -> CallChannels | None:
        with self._lock:
            return self._calls.get(call_id)

    def find(self, channel: str) -> CallChannels | None:
        """The call whose caller or agent is on ``channel``, None if none."""
        return self._via(lambda s: s.find(channel) or self._local_find(channel), lambda: self._local_find(channel))

    def _local_find(self, channel: str) -> CallChannels | None:
        with self._lock:
            for entry in self._calls.values():
                if channel in (entry.caller, entry.agent):
                    return entry
        return None

    def calls(self) -> list[CallChannels]:
        """Every call known, oldest change first (diagnostics and tests)."""
        return self._via(lambda s: s.calls(), self._local_calls)

    def _local_calls(self) -> list[CallChannels]:
        with self._lock:
            return list(self._calls.values())

    def __contains__(self, call_id: object) -> bool:
        if self._shared is not None and isinstance(call_id, int):
            return self.get(call_id) is not None
        with self._lock:
            return call_id in self._calls

    def __len__(self) -> int:
        if self._shared is not None:
            return len(self.calls())
        with self._lock:
            return len(self._calls)

    # ---------------------------------------------------------------------------------- forgetting
    def forget(self, call_id: int) -> None:
        """Drop ``call_id``; idempotent."""
        self._via(lambda s: (s.delete(call_id), None)[1], lambda: self._forget(call_id), mirror=call_id)

    def _forget(self, call_id: int) -> None:
        with self._lock:
            self._calls.pop(call_id, None)

    def session_ended(self, call_id: int) -> bool:
        """The caller's IVR session is over: forget the call unless it is ``detached``; True if forgotten."""
        if self._shared is not None:
            def remote(s: SharedChannels) -> bool:
                gone = s.delete(call_id, unless_detached=True) is not None
                if gone:
                    self._forget(call_id)
                return gone

            return self._via(remote, lambda: self._session_ended(call_id))
        return self._session_ended(call_id)

    def _session_ended(self, call_id: int) -> bool:
        with self._lock:
            entry = self._calls.get(call_id)
            if entry is None or entry.detached:
                return False
            del self._calls[call_id]
            return True

    def when_gone(self, call_id: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` once when the caller's channel of ``call_id`` hangs up (a detached call's end)."""
        caller = None
        if self._shared is not None:
            entry = self.get(call_id)
            caller = entry.caller if entry is not None else None
        with self._lock:
            self._on_gone[call_id] = callback
            self._gone_caller[call_id] = caller

    def channel_gone(self, channel: str) -> CallChannels | None:
        """``channel`` hung up: the caller's channel forgets its call (and runs its ``when_gone`` callback),
        an agent's channel clears the agent (and forgets a call that has no caller channel).

        Returns the entry as it was, None if no call used the channel.
        """
        if self._shared is not None:
            return self._shared_channel_gone(channel)
        callback: Callable[[], None] | None = None
        try:
            with self._lock:
                for call_id, entry in self._calls.items():
                    if entry.caller == channel:
                        del self._calls[call_id]
                        callback = self._on_gone.pop(call_id, None)
                        return entry
                return self._agent_gone(channel)
        finally:
            if callback is not None:
                callback()

    def _shared_channel_gone(self, channel: str) -> CallChannels | None:
        """Shared: the table's row (the first instance to handle the hang-up gets it), this instance's copy, and
        the callbacks registered here for a caller on ``channel``."""
        local = self._local_find(channel)
        gone = self._via(lambda s: s.channel_gone(channel), lambda: None)
        with self._lock:
            if local is not None:
                if local.caller == channel or local.caller is None:
                    self._calls.pop(local.call_id, None)
                else:
                    self._calls[local.call_id] = replace(local, agent=None, endpoint=None, consult=None)
            due = {c for c, caller in self._gone_caller.items() if caller == channel}
            if gone is not None and gone.caller == channel and gone.call_id in self._on_gone:
                due.add(gone.call_id)
            callbacks = [self._on_gone.pop(c) for c in sorted(due) if c in self._on_gone]
            for call_id in due:
                self._gone_caller.pop(call_id, None)
        for callback in callbacks:
            callback()
        return gone or local

    def _agent_gone(self, channel: str) -> CallChannels | None:
        """(lock held) The agent's channel hung up."""
        for call_id, entry in self._calls.items():
            if entry.agent == channel:
                if entry.caller is None:  # nothing left of the call
                    del self._calls[call_id]
                else:
                    self._calls[call_id] = replace(entry, agent=None, endpoint=None, consult=None)
                return entry
        return None


def _channel(channel: str) -> str:
    name = channel.strip()
    if not name or any(ch in name for ch in "\r\n"):
        raise ValueError(f"not a channel name: {channel!r}")
    return name


#: The process-wide registry (the FastAGI handlers feed it, ``AmiCallControl`` reads it).
CHANNELS = ChannelRegistry()
