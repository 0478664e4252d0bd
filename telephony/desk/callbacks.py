"""Call-back tasks on the agent desktop: take the one offered, call the customer, record the outcome.

``callback_desk(desk)`` (one :class:`CallbackDesk` per :class:`~telephony.desk.service.DeskService`) is what the
desktop calls. The router offers a task like a call (an ``Offer`` whose call id is ``-task id``); the agent:

1. :meth:`CallbackDesk.take` — the task leaves the queue but stays held by the router as worked (never offered to
   anyone else) and the agent waits in wrap-up (no other offer reaches it); a new attempt is recorded.
   :meth:`CallbackDesk.decline` — as letting a call ring out: the task goes back to the head of the queue and
   the agent goes not ready (``no_answer``).
2. :meth:`CallbackDesk.call` — dials the customer through the desk's dial-out
   (``telephony.desk.dialout``: ``DialOut.dial`` with ``purpose`` callback, from wrap-up), the call id on the
   attempt. This is the one place a call-back reaches the switch.
3. :meth:`CallbackDesk.finish` — ``reached``, ``no_answer`` or ``wrong_number`` with a note: the task closes, or
   (no answer, attempts left) is held by the router until ``now + retry_after_s``; the agent is free again.

Every function needs ``desktop`` and ``agent.callback`` (``call`` also what dialling out needs) and the agent's
situation; a refusal raises ``DeskError`` / ``PermissionDenied`` with nothing changed. Writes are audited by the
service (``helpline.services.callbacks``).
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from helpline.security.actor import Actor
from helpline.services import callbacks as service
from telephony.callbacks import CallbackQueue
from telephony.desk.actions import Rule
from telephony.desk.service import AgentRef, DeskError, DeskService
from telephony.router.callbacks import is_callback, task_of
from telephony.router.core import Router
from telephony.router.model import ON_CALL, SIGNED_IN, AgentState

if TYPE_CHECKING:
    from telephony.desk.dialout import OutboundCall

__all__ = ["CallbackDesk", "callback_desk"]

TAKE = Rule(statuses=SIGNED_IN, states=frozenset({AgentState.RESERVED, AgentState.RINGING}),
            permission="agent.callback", what="taking a call-back")
WORK = Rule(statuses=SIGNED_IN, permission="agent.callback", what="working a call-back")


class CallbackDesk:
    """The agents' call-back functions (see the module docstring)."""

    def __init__(self, desk: DeskService) -> None:
        self.desk = desk
        self.queue = CallbackQueue(desk.platform, desk.router)

    # ------------------------------------------------------------------------------------ reading
    def _situation(self, number: str) -> tuple[str, int] | None:
        """(``offered`` | ``working``, task id) of the agent's call-back, if it has one."""
        def read(r: Router) -> tuple[str, int] | None:
            agent = r.agents.get(number)
            if agent is None:
                return None
            if agent.call_id is not None and is_callback(agent.call_id) and agent.call_id in r.waiting:
                return "offered", task_of(agent.call_id)
            for call_id, call in r.active.items():
                if is_callback(call_id) and call.agent_id == number:
                    return "working", task_of(call_id)
            return None
        return self.desk.router.do(read)

    def current(self, actor: Actor) -> dict[str, Any] | None:
        """The call-back offered to or worked by the actor: the task, its attempts and ``state``."""
        ref = self._check(actor, WORK, "current")
        found = self._situation(ref.number)
        if found is None:
            return None
        row = service.task(found[1])
        if row is None:
            return None
        return {**row, "state": found[0], "history": service.attempts(found[1])}

    # ---------------------------------------------------------------------------------- functions
    def take(self, actor: Actor) -> dict[str, Any]:
        """Take the call-back offered to the actor."""
        ref = self._check(actor, TAKE, "take")
        found = self._situation(ref.number)
        if found is None or found[0] != "offered":
            raise DeskError("no call-back is offered to you")
        task_id = found[1]
        if not self.desk._write("callback_taken", -task_id):
            raise DeskError("the call-back is no longer offered to you")
        try:
            service.start_attempt(task_id, ref.number, actor.username)
        except service.CallbackError as exc:  # closed meanwhile (a supervisor cancelled it)
            self.desk._write("callback_done", -task_id)
            raise DeskError(str(exc)) from exc
        current = self.current(actor)
        assert current is not None
        return current

    def decline(self, actor: Actor) -> None:
        """Refuse the offered call-back (as letting a call ring out)."""
        ref = self._check(actor, TAKE, "decline")
        found = self._situation(ref.number)
        if found is None or found[0] != "offered":
            raise DeskError("no call-back is offered to you")
        task_id = found[1]
        self.desk._write("no_answer", -task_id, "declined the call-back")

    def call(self, actor: Actor) -> int:
        """Dial the customer of the call-back being worked; returns the outbound call's id at once."""
        from telephony.desk.dialout import outbound

        ref = self._check(actor, WORK, "call")
        task_id = self._working(ref)
        row = service.task(task_id)
        if row is None:
            raise DeskError(f"call-back {task_id} is gone")

        def ended(call: OutboundCall) -> None:
            service.dialled(task_id, ref.number, call.call_id, call.outcome)

        call_id = outbound(self.desk).dial(actor, row["number"], customer_id=row["customer_id"], purpose="callback",
                                           variables={"HELPLINE_CALLBACK": str(task_id)}, on_end=ended)
        service.dialled(task_id, ref.number, call_id)
        return call_id

    def finish(self, actor: Actor, outcome: str, note: str = "") -> dict[str, Any]:
        """Record the outcome of the call-back being worked; returns the task after it."""
        ref = self._check(actor, WORK, "finish")
        task_id = self._working(ref)
        agent = self.desk._agent(ref.number)
        if agent.state in ON_CALL:
            raise DeskError("end the call first, then record how the call-back went")
        try:
            row = service.finish(task_id, ref.number, actor.username, outcome, note, self.queue.policy())
        except service.CallbackError as exc:
            raise DeskError(str(exc)) from exc
        self.desk._write("callback_done", -task_id)
        if row["status"] == "open":
            self.queue.submit(row)
        return row

    # ----------------------------------------------------------------------------------- internals
    def _check(self, actor: Actor, rule: Rule, action: str) -> AgentRef:
        ref = self.desk.agent_of(actor)
        if rule.permission:
            actor.require_permission(rule.permission)
        agent = self.desk._agent(ref.number)
        why = rule.refusal(action, agent.status, agent.state)
        if why:
            raise DeskError(why)
        return ref

    def _working(self, ref: AgentRef) -> int:
        found = self._situation(ref.number)
        if found is None or found[0] != "working":
            raise DeskError("you are not working a call-back (take one first)")
        return found[1]


_DESKS: weakref.WeakKeyDictionary[DeskService, CallbackDesk] = weakref.WeakKeyDictionary()
_DESKS_LOCK = threading.Lock()


def callback_desk(desk: DeskService) -> CallbackDesk:
    """The :class:`CallbackDesk` of ``desk`` (made on first use, one per desk service)."""
    with _DESKS_LOCK:
        found = _DESKS.get(desk)
        if found is None:
            found = _DESKS[desk] = CallbackDesk(desk)
        return found

