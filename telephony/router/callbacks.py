"""Call-back tasks in the router: held until their time, then offered like calls.

A mixin of :class:`~telephony.router.core.Router` (same single writer). A call-back task is a
:class:`~telephony.router.model.CallRequest` with ``callback=True`` and the call id ``-task id`` (negative:
never a call record's id). :meth:`CallbackOps.defer` holds it in a timer until it may be offered (a retry after
no answer); :meth:`CallbackOps.withdraw` takes it out wherever it is. Once queued it is a waiting call of its
queue's skill (levels, region steps, agent group as for callers) in an index of its own, consulted only
when no caller waits for the agent, ordered by due time; the agent is reserved by the same compare-and-set,
so a task is offered to one agent at a time, and it stays in the router until the agent's outcome ends it
(``call_ended``) or it is withdrawn.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from .events import CallDecision, CallLeft, RouterEvent
from .indexes import CallIndex
from .model import Agent, AgentState, CallRequest, QueueResult, WaitingCall
from .settings import RouterSettings
from .timers import Timers

__all__ = ["CallbackOps", "is_callback", "task_of"]


def is_callback(call_id: int) -> bool:
    """Whether a router call id names a call-back task (they are negative)."""
    return call_id < 0


def task_of(call_id: int) -> int:
    """The call-back task id of a router call id (``-call_id``)."""
    return -call_id


class CallbackOps:
    """Deferred call-back tasks (mixed into the Router, which provides what is declared here)."""

    agents: dict[str, Agent]
    _queue_counts: Counter[str]
    waiting: dict[int, WaitingCall]
    active: dict[int, WaitingCall]
    deferred: dict[int, CallRequest]
    callback_index: CallIndex
    call_index: CallIndex
    timers: Timers
    settings: RouterSettings

    if TYPE_CHECKING:
        def now(self) -> float: ...

        def emit(self, event: RouterEvent) -> None: ...

        def queue_call(self, request: CallRequest) -> QueueResult: ...

        def abandon(self, call_id: int) -> bool: ...

        def _set_state(self, agent: Agent, state: AgentState, call_id: int | None, *,
                       by: str | None = None) -> None: ...

        def _decide(self, call: WaitingCall, kind: str, reason: str, agent_id: str | None = None) -> None: ...

        def _availability(self, agent: Agent) -> None: ...

    def defer(self, request: CallRequest, at: float) -> QueueResult:
        """Queue call-back task ``request`` at ``at`` (the router's clock); now if that has passed."""
        if not request.callback:
            raise ValueError("only call-back tasks wait for a time")
        call_id = request.call_id
        if call_id in self.waiting or call_id in self.active or call_id in self.deferred:
            return "duplicate"
        if request.queue not in self.settings.queues:
            return "unknown_queue"
        now = self.now()
        if at <= now:
            return self.queue_call(request)
        self.deferred[call_id] = request
        self.timers.set(("later", call_id), at)
        self.emit(CallDecision(now, call_id, "deferred", f"call-back offered again in {at - now:.0f} s",
                               None, request.queue))
        return "queued"

    def withdraw(self, call_id: int) -> bool:
        """Take a call-back task out (closed elsewhere): held, waiting, offered or being worked. False if the
        router does not hold it."""
        if self.deferred.pop(call_id, None) is not None:
            self.timers.cancel(("later", call_id))
            return True
        if call_id in self.active:
            return self.callback_done(call_id)
        return self.abandon(call_id)

    def callback_taken(self, call_id: int) -> bool:
        """The offered agent takes the task: it leaves the queue but stays held (worked: never offered again)
        until :meth:`callback_done`; the agent waits in wrap-up without a timer (no offer reaches it) to dial
        the customer (an outbound call may start from wrap-up) and record the outcome. False if the task is
        not offered."""
        call = self.waiting.get(call_id)
        if call is None or call.agent_id is None or not call.request.callback:
            return False
        agent = self.agents[call.agent_id]
        now = self.now()
        self.timers.cancel(("offer", call_id))
        del self.waiting[call_id]
        self._queue_counts[self._count_key(call)] -= 1
        call.answered_at = now
        self.active[call_id] = call
        self._task_agents()[agent.id] = call_id
        agent.call_id = None
        self._set_state(agent, AgentState.WRAP_UP, call_id)
        wait = now - call.enqueued_at
        self.emit(CallLeft(now, call_id, call.queue, call.tier, "answered", wait, f"agent {agent.id}"))
        self._decide(call, "answered", f"agent {agent.id} took the call-back after {wait:.0f} s", agent.id)
        return True

    def callback_done(self, call_id: int) -> bool:
        """The task's outcome is recorded (or it was withdrawn): the router lets it go and its agent is free
        again (from the wrap-up without a timer it waited in, or idle after a call that was not answered)."""
        call = self.active.pop(call_id, None)
        if call is None:
            return False
        if self._task_agents().get(call.agent_id or "") == call_id:
            del self._task_agents()[call.agent_id or ""]
        self._decide(call, "ended", "call-back done", call.agent_id)
        agent = self.agents.get(call.agent_id or "")
        if agent is None or agent.call_id is not None:
            return True
        if agent.state is AgentState.WRAP_UP and not self.timers.pending(("wrap_up", agent.id)):
            self._set_state(agent, AgentState.IDLE, call_id)
        else:
            self._availability(agent)
        return True

    def _task_agents(self) -> dict[str, int]:
        """Agent → the call-back task it works (taken, outcome not yet recorded)."""
        found: dict[str, int] | None = self.__dict__.get("_working_tasks")
        if found is None:
            found = self.__dict__["_working_tasks"] = {}
        return found

    def _on_task(self, agent_id: str) -> bool:
        """Whether the agent works a call-back task (then it is offered nothing, even when idle)."""
        return agent_id in self._task_agents()

    def holds(self, call_id: int) -> bool:
        """Whether the router holds this call-back task (held for later, waiting, offered or worked)."""
        return call_id in self.deferred or call_id in self.waiting or call_id in self.active

    def _fire_later(self, call_id: int) -> None:
        request = self.deferred.pop(call_id, None)
        if request is not None:
            self.queue_call(request)

    def _index_of(self, call: WaitingCall) -> CallIndex:
        return self.callback_index if call.request.callback else self.call_index

    def _unindex(self, call: WaitingCall) -> None:
        self._index_of(call).remove(call)

    @staticmethod
    def _count_key(call: WaitingCall) -> str:
        """Callers waiting in a queue are counted under its name (``queue.waiting``); tasks apart."""
        return f"callback:{call.queue}" if call.request.callback else call.queue
