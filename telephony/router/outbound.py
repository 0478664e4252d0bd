"""Outbound and internal calls in the router: the agent is on a call, so no inbound offer reaches it.

A mixin of :class:`~telephony.router.core.Router` (same single writer). The desk (``telephony.desk.dialout``)
starts an outbound call with :meth:`OutboundOps.outbound_start`, a compare-and-set like ``_reserve``: only a
signed-in agent that is idle (or wrapping up, which ends) without a call gets it, and from then on its state
is ``reserved`` → ``ringing`` (its phone rings) → ``talking`` (it picked up: ring-back, then the talk) until
:meth:`OutboundOps.outbound_ended`, which ends in wrap-up like an inbound call. An internal call reserves
both agents at once, and is refused while callers wait in either agent's queues (the seed's rule), checked
under the same lock that queues calls.

```python
router.outbound_start("1001", 77)                      # RouterError if 1001 is busy
router.outbound_state(77, "1001", AgentState.TALKING)
router.outbound_ended(77)                              # 1001 wraps up (answered=False: idle)
router.outbound_start("1001", 78, other="1002")        # internal call; refused while callers wait
```
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .events import CallDecision, RouterEvent
from .indexes import CallIndex
from .model import Agent, AgentState, WaitingCall
from .settings import RouterSettings
from .timers import Timers

__all__ = ["OutboundOps"]

_STARTABLE = frozenset({AgentState.IDLE, AgentState.WRAP_UP})


class OutboundOps:
    """Outbound and internal calls (mixed into the Router)."""

    agents: dict[str, Agent]
    waiting: dict[int, WaitingCall]
    targeted: dict[str, list[WaitingCall]]
    call_index: CallIndex
    timers: Timers
    settings: RouterSettings
    outbound: dict[int, tuple[str, ...]]
    """Outbound or internal call id → the agents on it (the one who dialled first)."""

    if TYPE_CHECKING:
        def now(self) -> float: ...

        def emit(self, event: RouterEvent) -> None: ...

        def _agent(self, agent_id: str) -> Agent: ...

        def _set_state(self, agent: Agent, state: AgentState, call_id: int | None, *,
                       by: str | None = None) -> None: ...

    def callers_waiting_for(self, agent_id: str) -> int:
        """Callers waiting (not yet offered) in the queues of the agent's skills, or for this agent only."""
        agent = self._agent(agent_id)
        skills = set(agent.profile.skills)
        queues = {q.name for q in self.settings.queues.values() if q.skill in skills}
        count = sum(1 for call in self.waiting.values() if call.agent_id is None and call.queue in queues
                    and call.request.agent is None)
        return count + len(self.targeted.get(agent_id, ()))

    def outbound_start(self, agent_id: str, call_id: int, *, other: str | None = None) -> None:
        """Agent ``agent_id`` (and, for an internal call, agent ``other``) is on outbound call ``call_id``;
        ``RouterError`` saying why when it cannot be."""
        from .core import RouterError

        if call_id in self.outbound or call_id in self.waiting:
            raise RouterError(f"call {call_id} is already known")
        agents = [self._agent(agent_id)] + ([self._agent(other)] if other is not None else [])
        if other is not None and other == agent_id:
            raise RouterError("an agent cannot call itself")
        for agent in agents:
            if not agent.signed_in:
                raise RouterError(f"agent {agent.id} is not signed in")
            if agent.state not in _STARTABLE or agent.call_id is not None:
                raise RouterError(f"agent {agent.id} is on a call ({agent.state})")
        if other is not None:
            for agent in agents:
                waiting = self.callers_waiting_for(agent.id)
                if waiting:
                    who = "your" if agent.id == agent_id else f"agent {agent.id}'s"
                    raise RouterError(f"internal calls are refused while callers wait: {waiting} in {who} queues")
        self.outbound[call_id] = tuple(a.id for a in agents)
        for agent in agents:
            self.timers.cancel(("wrap_up", agent.id))
            agent.call_id = call_id
            self._set_state(agent, AgentState.RESERVED, call_id)
        kind = f"internal call to agent {other}" if other is not None else "outbound call"
        self.emit(CallDecision(self.now(), call_id, "outbound", f"agent {agent_id}: {kind}", agent_id))

    def outbound_state(self, call_id: int, agent_id: str, state: AgentState) -> bool:
        """The agent's phone rings (``ringing``), it picked up (``talking``), holds (``hold``)."""
        if agent_id not in self.outbound.get(call_id, ()):
            return False
        agent = self.agents[agent_id]
        if agent.call_id != call_id or state not in (AgentState.RINGING, AgentState.TALKING, AgentState.HOLD):
            return False
        self._set_state(agent, state, call_id)
        return True

    def outbound_ended(self, call_id: int, *, answered: bool = True) -> bool:
        """The outbound (or internal) call is over: its agents wrap up after a talk (``answered``: the far end
        picked up), else go idle at once (nothing to note after a busy or unanswered number)."""
        ids = self.outbound.pop(call_id, None)
        if ids is None:
            return False
        now = self.now()
        for agent_id in ids:
            agent = self.agents.get(agent_id)
            if agent is None or agent.call_id != call_id:
                continue
            talked = agent.state in (AgentState.TALKING, AgentState.HOLD)
            if talked:
                agent.talk_s += now - agent.state_since
            agent.call_id = None
            wrap = agent.profile.wrap_up_s if agent.profile.wrap_up_s is not None else self.settings.wrap_up_s
            if not answered or wrap <= 0:
                self._set_state(agent, AgentState.IDLE, call_id)
            else:
                self._set_state(agent, AgentState.WRAP_UP, call_id)
                self.timers.set(("wrap_up", agent.id), now + wrap)
        self.emit(CallDecision(now, call_id, "ended", "outbound call ended", ids[0]))
        return True
