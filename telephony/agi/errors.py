"""Exceptions of the FastAGI layer, rooted in pyst2's own exception tree.

Everything derives from ``asterisk.agi.AGIError`` so code that already catches pyst2's exceptions keeps
working; the hang-up family derives from ``AGIHangup``:

```
AGIError
├── AgiProtocolError          the peer broke the protocol (malformed, oversized, non-UTF-8, garbage)
│   ├── AgiTimeoutError       the peer stopped answering within the read timeout
│   └── AgiNoEnvironment      the peer closed before sending any line (a health probe's connect-and-close)
├── AgiSessionStopped         the server is stopping; the session must wind up
└── AGIAppError
    └── AGIHangup
        ├── AgiConnectionClosed   end of stream / broken pipe              (pyst2 defect 4)
        ├── AgiDeadChannel        ``511``: command refused on a dead channel (pyst2 defect 5)
        └── AGIResultHangup
            └── AgiChannelHangup  ``result=-1`` followed by ``HANGUP``     (pyst2 defect 9)
```
"""

from __future__ import annotations

from asterisk.agi import AGIError, AGIHangup, AGIResultHangup

__all__ = [
    "AgiChannelHangup",
    "AgiConnectionClosed",
    "AgiDeadChannel",
    "AgiNoEnvironment",
    "AgiProtocolError",
    "AgiSessionStopped",
    "AgiTimeoutError",
]


class AgiProtocolError(AGIError):  # type: ignore[misc]
    """The peer sent something the AGI protocol does not allow; the session cannot go on."""


class AgiTimeoutError(AgiProtocolError):
    """No line arrived within the read timeout; the stream is no longer trusted."""


class AgiNoEnvironment(AgiProtocolError):
    """The connection closed before the first line of the environment block: a probe, not a call."""


class AgiSessionStopped(AGIError):  # type: ignore[misc]
    """The FastAGI server is stopping: the handler must give up the call."""


class AgiConnectionClosed(AGIHangup):  # type: ignore[misc]
    """Asterisk closed the connection (end of stream, broken pipe, reset)."""


class AgiDeadChannel(AGIHangup):  # type: ignore[misc]
    """Asterisk answered ``511``: the channel has hung up and the command is not allowed any more."""


class AgiChannelHangup(AGIResultHangup):  # type: ignore[misc]
    """The caller hung up while a command ran (``result=-1`` then ``HANGUP``, or a ``(hangup)`` flag)."""

