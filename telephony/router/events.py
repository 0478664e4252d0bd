"""What the router tells the world: one small frozen dataclass per kind of event.

Every event goes to the router's sinks in the order it happened (the service persists them and
pushes them to screens; the simulator counts them). ``Offer`` is the one that moves a call: the switch
must dial the agent's endpoint and report back ``answered`` / ``no_answer`` / ``abandon``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LeftHow = Literal["timeout", "empty", "abandoned", "answered"]


@dataclass(frozen=True)
class Offer:
    """Agent ``agent_id`` is reserved for call ``call_id``: dial ``endpoint``."""

    at: float
    call_id: int
    agent_id: str
    endpoint: str
    queue: str
    tier: str
    wait_s: float
    reason: str
    auto_answer: bool = False


@dataclass(frozen=True)
class CallLeft:
    """A call left the queue: ``timeout`` (max wait), ``empty`` (no agent signed in), ``abandoned``
    (caller hung up), ``answered`` (an agent answered). Timeout and empty go back to the IVR."""

    at: float
    call_id: int
    queue: str
    tier: str
    how: LeftHow
    wait_s: float
    reason: str = ""


@dataclass(frozen=True)
class CallDecision:
    """A step in a call's routing, with its reason (written to the call record)."""

    at: float
    call_id: int
    kind: str
    """``queued``, ``offered``, ``no_answer``, ``requeued``, ``overflow``, ``level``, ``region``,
    ``answered``, ``ended``, ``abandoned``, ``timeout``, ``empty``."""
    reason: str
    agent_id: str | None = None
    queue: str | None = None


@dataclass(frozen=True)
class AgentChanged:
    """An agent's status or state changed (every transition is recorded)."""

    at: float
    agent_id: str
    what: Literal["status", "state"]
    old: str
    new: str
    reason: str | None = None
    call_id: int | None = None
    by: str | None = None
    """Who made the change when it was not the agent (a supervisor, the router: ``router``)."""
    duration_s: float = 0.0
    """How long the old value lasted."""


@dataclass(frozen=True)
class AgentAlert:
    """Something a supervisor must see: ``no_answer`` or ``not_ready_over_limit``."""

    at: float
    agent_id: str
    kind: Literal["no_answer", "not_ready_over_limit", "disconnected"]
    message: str
    call_id: int | None = None


@dataclass(frozen=True)
class TierAlert:
    """A tier fell behind its service-level target (or caught up: ``behind`` False)."""

    at: float
    tier: str
    behind: bool
    service_level: float
    target: float


RouterEvent = Offer | CallLeft | CallDecision | AgentChanged | AgentAlert | TierAlert
