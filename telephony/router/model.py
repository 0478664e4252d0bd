"""What the router keeps in memory: agents (profile, status, state) and waiting calls.

An agent's **status** is what the agent chose (logged out, ready, not ready with a reason, study); its
**state** is where it is on a call (idle, reserved, ringing, talking, hold, wrap-up), as FreeSWITCH's
mod_callcenter keeps them apart. An agent receives an offer only when ready *and* idle.

Skills carry a level: 1 is the agent's first skill, 2 the second, ... A waiting call may reach agents
up to its current ``max_level`` (opened over time by the tier strategy).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal


class AgentStatus(enum.StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"
    STUDY = "study"


class AgentState(enum.StrEnum):
    IDLE = "idle"
    RESERVED = "reserved"
    RINGING = "ringing"
    TALKING = "talking"
    HOLD = "hold"
    WRAP_UP = "wrap_up"


ON_CALL = frozenset({AgentState.RESERVED, AgentState.RINGING, AgentState.TALKING, AgentState.HOLD})
SIGNED_IN = frozenset({AgentStatus.READY, AgentStatus.NOT_READY, AgentStatus.STUDY})


@dataclass(frozen=True)
class AgentProfile:
    """What an agent is: number (工号), endpoint to dial, skills with levels, groups and region."""

    id: str
    """The agent number, e.g. ``1001`` (decisions say "agent 1001")."""
    name: str = ""
    endpoint: str = ""
    """What the switch dials, e.g. ``PJSIP/1001``."""
    skills: dict[str, int] = field(default_factory=dict)
    """Skill → level (1 = first skill)."""
    groups: frozenset[str] = frozenset()
    """Agent groups (e.g. ``vip_team``): a queue with a ``group`` only reaches agents of it."""
    region: str | None = None
    """The county (or city) code the agent serves, for region routing."""
    city: str | None = None
    auto_answer: bool = False
    wrap_up_s: float | None = None
    """Own wrap-up time; None uses the routing's."""
    user: str | None = None
    """The login name of the agent's user account."""


@dataclass(eq=False)
class Agent:
    """An agent as the router tracks it (mutated by the router only)."""

    profile: AgentProfile
    status: AgentStatus = AgentStatus.LOGGED_OUT
    state: AgentState = AgentState.IDLE
    reason: str | None = None
    """The not-ready reason (a code of ``not_ready_reason``)."""
    status_since: float = 0.0
    state_since: float = 0.0
    ready_since: float = 0.0
    """When the agent last became available (ready and idle): longest ready is served first."""
    call_id: int | None = None
    calls_answered: int = 0
    talk_s: float = 0.0
    wrap_s: float = 0.0
    """Seconds spent in wrap-up (since the process started)."""
    alerted: bool = False
    """The not-ready time limit alert was raised for the current not-ready period."""
    disconnected_at: float | None = None
    """When the agent's desktop went away (not ready after the grace period)."""
    manual_wrap_up: bool = False
    """The agent may wrap up until they end it on queues with ``manual_wrap_up`` (the desk sets it from the
    ``agent.wrapup`` permission at sign-in)."""

    @property
    def id(self) -> str:
        return self.profile.id

    @property
    def available(self) -> bool:
        return self.status is AgentStatus.READY and self.state is AgentState.IDLE

    @property
    def signed_in(self) -> bool:
        return self.status is not AgentStatus.LOGGED_OUT

    def as_dict(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.profile.name, "status": str(self.status), "state": str(self.state),
            "reason": self.reason, "in_status_s": round(now - self.status_since, 1),
            "in_state_s": round(now - self.state_since, 1), "call_id": self.call_id,
            "skills": dict(self.profile.skills), "calls_answered": self.calls_answered,
            "talk_s": round(self.talk_s, 1),
        }


@dataclass(frozen=True)
class CallRequest:
    """A call the IVR hands to the router."""

    call_id: int
    queue: str
    tier: str = "ordinary"
    priority: int = 0
    """Extra priority from the IVR (the transfer node or a rule's ``set priority``)."""
    region: str | None = None
    """The caller's county (or city) code, for region routing."""
    city: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    """What the tier strategy's rules read: ``caller``, ``customer`` (see the ``tier`` place of use)."""
    caller_number: str = ""
    agent: str | None = None
    """Only this agent may answer (a transfer to an agent, an intercept): the call waits for it."""
    callback: bool = False
    """A call-back task (``telephony.callbacks``, call id ``-task id``), not a caller on the line: it waits
    with no maximum, even while nobody is signed in, is offered only when no caller of the agent's skills
    waits, ordered by ``due_at``, and is left out of the service levels."""
    due_at: float | None = None
    """A call-back task's due time on the router's clock (the earliest due is offered first)."""


QueueResult = Literal["queued", "empty", "unknown_queue", "duplicate"]
RegionScope = Literal["county", "city", "province"]


@dataclass(eq=False)
class WaitingCall:
    """A call waiting in a queue (mutated by the router only)."""

    request: CallRequest
    queue: str
    skill: str
    enqueued_at: float
    """When the call joined the router (its wait counts from here, across overflows and requeues)."""
    queue_since: float
    """When it joined its current queue (max wait and region steps count from here)."""
    priority: float = 0.0
    max_level: int = 1
    gap: float = 0.0
    starving: bool = False
    reserve: int = 0
    """Agent reservation: takes an agent only while more than this many it could take are idle."""
    requeued: int = 0
    """Offers not answered: a returned call goes back to the head of its queue."""
    agent_id: str | None = None
    """The agent it is offered to (None while waiting)."""
    offered_at: float | None = None
    answered_at: float | None = None
    region_scope: RegionScope = "province"
    sort_key: tuple[float, ...] = ()
    next_refresh: float | None = None
    evaluated_at: float = float("-inf")
    """When the policy last evaluated the call (a tier's sweep skips calls evaluated since the move)."""
    reason: str = ""
    """How the last decision was reached (for the call record)."""

    @property
    def call_id(self) -> int:
        return self.request.call_id

    @property
    def tier(self) -> str:
        return self.request.tier

    def wait(self, now: float) -> float:
        return now - self.enqueued_at
