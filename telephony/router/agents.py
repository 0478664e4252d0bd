"""Agent events of the router: sign in/out, ready, not ready, study, hold, wrap-up, desktop gone.

A mixin of :class:`~telephony.router.core.Router` (same single writer). Every status or state change
goes through :meth:`AgentOps._set_status` / :meth:`AgentOps._set_state`, which emit an
``AgentChanged`` with how long the old value lasted, and keep the availability index right: an agent
is offered calls only while ready and idle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from .events import AgentAlert, AgentChanged, RouterEvent
from .indexes import AgentIndex, CallIndex
from .model import ON_CALL, Agent, AgentState, AgentStatus, WaitingCall
from .settings import QueueSettings, RouterSettings
from .timers import Timers


class AgentOps:
    """Agent events (mixed into the Router, which provides the attributes and methods declared here)."""

    agents: dict[str, Agent]
    targeted: dict[str, list[WaitingCall]]
    agent_index: AgentIndex
    call_index: CallIndex
    timers: Timers
    settings: RouterSettings

    if TYPE_CHECKING:
        def now(self) -> float: ...

        def emit(self, event: RouterEvent) -> None: ...

        def _find_call(self, agent: Agent) -> WaitingCall | None: ...

        def _offer(self, call: WaitingCall, agent: Agent) -> None: ...

        def _leave(self, call: WaitingCall, how: str, reason: str) -> None: ...

        def _staffed(self, queue: QueueSettings) -> bool: ...

        def _reevaluate(self, call: WaitingCall) -> None: ...

        def _try_offer(self, call: WaitingCall) -> None: ...

        def _on_task(self, agent_id: str) -> bool: ...

    def _agent(self, agent_id: str) -> Agent:
        from .core import RouterError

        agent = self.agents.get(agent_id)
        if agent is None:
            raise RouterError(f"unknown agent {agent_id}")
        return agent

    # ------------------------------------------------------------------------------ status events
    def sign_in(self, agent_id: str, *, ready: bool = True, reason: str | None = None,
                by: str | None = None) -> Agent:
        """Sign in: ready at once, or not ready with ``reason``."""
        agent = self._agent(agent_id)
        if agent.signed_in:
            return agent
        self.agent_index.sign_in(agent)
        if ready:
            self._set_status(agent, AgentStatus.READY, None, by)
        else:
            self._set_status(agent, AgentStatus.NOT_READY, reason or "sign_in", by)
        return agent

    def sign_out(self, agent_id: str, *, by: str | None = None) -> Agent:
        """Sign out (refused during a call; ends wrap-up). Callers of a queue left without agents leave;
        calls waiting for a county or city step nobody is signed in to any more move on."""
        from .core import RouterError

        agent = self._agent(agent_id)
        if agent.state in ON_CALL:
            raise RouterError(f"agent {agent_id} is on a call ({agent.state}); sign out after it")
        if not agent.signed_in:
            return agent
        self._set_status(agent, AgentStatus.LOGGED_OUT, None, by)
        if agent.state is AgentState.WRAP_UP:
            self.timers.cancel(("wrap_up", agent.id))
            self._set_state(agent, AgentState.IDLE, None, by=by)
        self.agent_index.sign_out(agent)
        for name in ("not_ready", "grace"):
            self.timers.cancel((name, agent.id))
        agent.disconnected_at = None  # a later desktop loss must start a new grace period
        self._leave_empty_queues(agent)
        self._skip_empty_steps(agent)
        for call in list(self.targeted.get(agent.id, ())):
            self._leave(call, "empty", f"agent {agent.id} signed out")
        return agent

    def set_ready(self, agent_id: str, *, by: str | None = None) -> Agent:
        agent = self._agent(agent_id)
        self._require_signed_in(agent)
        self._set_status(agent, AgentStatus.READY, None, by)
        return agent

    def set_not_ready(self, agent_id: str, reason: str, *, by: str | None = None) -> Agent:
        agent = self._agent(agent_id)
        self._require_signed_in(agent)
        self._set_status(agent, AgentStatus.NOT_READY, reason, by)
        return agent

    def set_study(self, agent_id: str, *, by: str | None = None) -> Agent:
        agent = self._agent(agent_id)
        self._require_signed_in(agent)
        self._set_status(agent, AgentStatus.STUDY, None, by)
        return agent

    def _require_signed_in(self, agent: Agent) -> None:
        from .core import RouterError

        if not agent.signed_in:
            raise RouterError(f"agent {agent.id} is not signed in")

    # ------------------------------------------------------------------------------- state events
    def hold(self, agent_id: str) -> Agent:
        agent = self._agent(agent_id)
        if agent.state is AgentState.TALKING:
            self._set_state(agent, AgentState.HOLD, agent.call_id)
        return agent

    def unhold(self, agent_id: str) -> Agent:
        agent = self._agent(agent_id)
        if agent.state is AgentState.HOLD:
            self._set_state(agent, AgentState.TALKING, agent.call_id)
        return agent

    def allow_manual_wrap_up(self, agent_id: str, allowed: bool) -> Agent:
        """Whether the agent's wrap-up after a call of a ``manual_wrap_up`` queue lasts until they end it."""
        agent = self._agent(agent_id)
        agent.manual_wrap_up = allowed
        return agent

    def end_wrap_up(self, agent_id: str, *, by: str | None = None) -> Agent:
        """The agent (or the wrap-up timer) ends wrap-up: idle, and offered a call if ready."""
        agent = self._agent(agent_id)
        if agent.state is AgentState.WRAP_UP:
            self.timers.cancel(("wrap_up", agent.id))
            self._set_state(agent, AgentState.IDLE, None, by=by)
        return agent

    def agent_disconnected(self, agent_id: str) -> None:
        """The agent's desktop went away: not ready after the grace period unless it comes back."""
        agent = self._agent(agent_id)
        if agent.signed_in and agent.disconnected_at is None:
            agent.disconnected_at = self.now()
            self.timers.set(("grace", agent.id), self.now() + self.settings.browser_grace_s)

    def agent_connected(self, agent_id: str) -> None:
        agent = self._agent(agent_id)
        agent.disconnected_at = None
        self.timers.cancel(("grace", agent.id))

    # --------------------------------------------------------------------------------- timers
    def _agent_timer(self, kind: str, agent_id: str) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        if kind == "wrap_up":
            if agent.state is AgentState.WRAP_UP:
                self._set_state(agent, AgentState.IDLE, None, by="router")
        elif kind == "not_ready":
            if agent.status is AgentStatus.NOT_READY and not agent.alerted:
                agent.alerted = True
                limit = self.settings.not_ready_limits.get(agent.reason or "", 0.0)
                self._alert(agent, "not_ready_over_limit",
                            f"agent {agent.id} not ready ({agent.reason}) for more than {limit:g} s")
        elif kind == "grace" and agent.disconnected_at is not None and agent.call_id in getattr(self, "outbound", ()):
            self._alert(agent, "disconnected", f"agent {agent.id}'s desktop is gone for "
                        f"{self.settings.browser_grace_s:g} s during outbound call {agent.call_id}; it ends",
                        agent.call_id)
            if agent.status is AgentStatus.READY:
                self._set_status(agent, AgentStatus.NOT_READY, "disconnected", "router")
        elif kind == "grace" and agent.disconnected_at is not None and agent.status is AgentStatus.READY:
            self._set_status(agent, AgentStatus.NOT_READY, "disconnected", "router")
            self._alert(agent, "disconnected",
                        f"agent {agent.id}'s desktop is gone for {self.settings.browser_grace_s:g} s; not ready")

    # -------------------------------------------------------------------------------- internals
    def _set_status(self, agent: Agent, status: AgentStatus, reason: str | None, by: str | None) -> None:
        now = self.now()
        if agent.status is status and agent.reason == reason:
            return
        old, old_since = agent.status, agent.status_since
        agent.status, agent.reason, agent.status_since, agent.alerted = status, reason, now, False
        self.emit(AgentChanged(now, agent.id, "status", str(old), str(status), reason, agent.call_id, by,
                               now - old_since))
        self.timers.cancel(("not_ready", agent.id))
        if status is AgentStatus.NOT_READY and reason in self.settings.not_ready_limits:
            self.timers.set(("not_ready", agent.id), now + self.settings.not_ready_limits[reason])
        if status is AgentStatus.READY and agent.disconnected_at is not None and not self.timers.pending(
                ("grace", agent.id)):  # made ready (by a supervisor) while the desktop is still gone
            self.timers.set(("grace", agent.id), now + self.settings.browser_grace_s)
        self._availability(agent)

    def _set_state(self, agent: Agent, state: AgentState, call_id: int | None, *, by: str | None = None) -> None:
        now = self.now()
        if agent.state is state:
            return
        old, old_since = agent.state, agent.state_since
        if old is AgentState.WRAP_UP:
            agent.wrap_s += now - old_since
        agent.state, agent.state_since = state, now
        self.emit(AgentChanged(now, agent.id, "state", str(old), str(state), None, call_id, by, now - old_since))
        self._availability(agent)

    def _availability(self, agent: Agent) -> None:
        if agent.available and not self._on_task(agent.id):  # a call-back being worked: no offer either
            if not self.agent_index.is_available(agent.id):
                agent.ready_since = self.now()
                self._became_available(agent)
        else:
            self.agent_index.remove_available(agent)

    def _became_available(self, agent: Agent) -> None:
        call = self._find_call(agent)
        if call is not None:
            self.agent_index.add_available(agent)  # _reserve removes it again
            self._offer(call, agent)
        else:
            self.agent_index.add_available(agent)

    def _alert(self, agent: Agent, kind: Literal["no_answer", "not_ready_over_limit", "disconnected"],
               message: str, call_id: int | None = None) -> None:
        self.emit(AgentAlert(self.now(), agent.id, kind, message, call_id))

    def _leave_empty_queues(self, agent: Agent) -> None:
        """leavewhenempty: callers of a queue left with no signed-in agent who could answer it (its skill,
        its group) go back to the IVR. Calls being offered stay (their agent is signed in)."""
        for skill in agent.profile.skills:
            empty = {q.name: q for q in self.settings.skill_queues(skill)
                     if q.leave_when_empty and not q.join_empty and not self._staffed(q)}
            if not empty:
                continue
            for call in self.call_index.waiting(skill):
                queue = empty.get(call.queue)
                if queue is not None:
                    who = f"skill {skill}" + (f", group {queue.group}" if queue.group else "")
                    self._leave(call, "empty", f"the last agent of {who} signed out")

    def _skip_empty_steps(self, agent: Agent) -> None:
        """A region step nobody is signed in to any more is skipped: calls waiting for the agent's county
        or city (when it was the last one there) move on to the next step at once."""
        p = agent.profile
        groups = ["", *p.groups]
        for skill in p.skills:
            for scope, code in (("county", p.region), ("city", p.city)):
                if code and not all(self.agent_index.signed_in(skill, scope, code, g) for g in groups):
                    for call in self.call_index.in_region(skill, scope, code):
                        self._reevaluate(call)
                        self._try_offer(call)
