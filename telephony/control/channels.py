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
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["CHANNELS", "CallChannels", "ChannelRegistry", "endpoint_of"]

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

    # ---------------------------------------------------------------------------------- feeding
    def set_caller(self, call_id: int, channel: str) -> CallChannels:
        """The caller of ``call_id`` is on ``channel``."""
        return self._change(call_id, caller=_channel(channel))

    def set_agent(self, call_id: int, channel: str, endpoint: str | None = None) -> CallChannels:
        """The agent of ``call_id`` answered on ``channel`` (endpoint: derived from the channel if not given)."""
        name = _channel(channel)
        return self._change(call_id, agent=name, endpoint=endpoint or endpoint_of(name))

    def clear_agent(self, call_id: int) -> CallChannels | None:
        """The agent's leg of ``call_id`` ended (the caller may go on elsewhere); None if unknown."""
        with self._lock:
            entry = self._calls.get(call_id)
            if entry is None:
                return None
            self._calls[call_id] = entry = replace(entry, agent=None, endpoint=None, consult=None)
            return entry

    def update(self, call_id: int, **changes: Any) -> CallChannels | None:
        """Change fields of the entry of ``call_id``, e.g. ``held=True``; None (and no entry made) if unknown."""
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
        with self._lock:
            return self._calls.get(call_id)

    def find(self, channel: str) -> CallChannels | None:
        """The call whose caller or agent is on ``channel``, None if none."""
        with self._lock:
            for entry in self._calls.values():
                if channel in (entry.caller, entry.agent):
                    return entry
        return None

    def calls(self) -> list[CallChannels]:
        """Every call known, oldest change first (diagnostics and tests)."""
        with self._lock:
            return list(self._calls.values())

    def __contains__(self, call_id: object) -> bool:
        with self._lock:
            return call_id in self._calls

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)

    # ---------------------------------------------------------------------------------- forgetting
    def forget(self, call_id: int) -> None:
        """Drop ``call_id``; idempotent."""
        with self._lock:
            self._calls.pop(call_id, None)

    def session_ended(self, call_id: int) -> bool:
        """The caller's IVR session is over: forget the call unless it is ``detached``; True if forgotten."""
        with self._lock:
            entry = self._calls.get(call_id)
            if entry is None or entry.detached:
                return False
            del self._calls[call_id]
            return True

    def when_gone(self, call_id: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` once when the caller's channel of ``call_id`` hangs up (a detached call's end)."""
        with self._lock:
            self._on_gone[call_id] = callback

    def channel_gone(self, channel: str) -> CallChannels | None:
        """``channel`` hung up: the caller's channel forgets its call (and runs its ``when_gone`` callback),
        an agent's channel clears the agent (and forgets a call that has no caller channel).

        Returns the entry as it was, None if no call used the channel.
        """
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
