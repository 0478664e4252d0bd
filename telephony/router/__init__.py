"""The router (ACD): decides which agent answers which waiting call.

In memory, event-driven, single writer. :class:`~telephony.router.core.Router` is the pure, synchronous
decision core (one clock, no threads, no database); :class:`~telephony.router.service.RouterService`
runs it on one thread for live calls and persists its events; ``telephony.simulate`` drives the same
core on a virtual clock. See ``docs/routing.md``.
"""

from telephony.router.clock import Clock, ManualClock, WallClock
from telephony.router.core import Router
from telephony.router.events import (
    AgentAlert,
    AgentChanged,
    CallDecision,
    CallLeft,
    Offer,
    RouterEvent,
    TierAlert,
)
from telephony.router.model import (
    Agent,
    AgentProfile,
    AgentState,
    AgentStatus,
    CallRequest,
    QueueResult,
    WaitingCall,
)
from telephony.router.policy import AppQueuePolicy, HelplinePolicy, ModCallcenterPolicy, Policy
from telephony.router.settings import QueueSettings, RegionSteps, RouterSettings

__all__ = [
    "Agent", "AgentAlert", "AgentChanged", "AgentProfile", "AgentState", "AgentStatus", "AppQueuePolicy",
    "CallDecision", "CallLeft", "CallRequest", "Clock", "HelplinePolicy", "ManualClock", "ModCallcenterPolicy",
    "Offer", "Policy", "QueueResult", "QueueSettings", "RegionSteps", "Router", "RouterEvent", "RouterSettings",
    "TierAlert", "WaitingCall", "WallClock",
]
