"""The call-back queue in the live router: open tasks (``hl_callback``) offered to agents like calls.

:class:`CallbackQueue` is the one bridge between the table (``helpline.services.callbacks``) and the router
(``telephony.router.callbacks``): a task becomes a :class:`~telephony.router.model.CallRequest` with the call id
``-task id``, ``callback=True``, the task's queue, tier, region and city, and its due time on the router's
clock; a task whose next attempt is later is held in a router timer until then. The router is the single
writer: it offers each task to one agent at a time and keeps it until the agent's outcome (or a withdrawal).

:meth:`CallbackQueue.sync` makes the router hold exactly the open tasks: it queues (or holds) every open task the
router does not know, withdraws the ones closed meanwhile, and offers again a task taken by an agent who has
signed out since without recording an outcome. It runs at start (after a restart every open task
is offered again), every 30 s on the scheduler (tasks made by another process: ``run.py agi``, a work order), and
after a transaction that opened a task from a work order. The IVR hands its own tasks over at once
(:meth:`CallbackQueue.from_call`).

With several instances on one PostgreSQL database (``helpline.services.leader``) only the leader's router holds
call-back tasks: :meth:`CallbackQueue.follow` ties the router to the election, so on a standby :meth:`sync` and
:meth:`submit` leave the router alone (tasks the standby's IVR opens wait in the table for the leader's sync), the
router syncs when the instance is elected and lets its held and waiting tasks go when it loses (a task an agent
is working stays until its outcome). A router that follows no election always leads.

```python
queue = CallbackQueue(platform, router_service)
queue.sync()                                     # {'queued': 2, 'held': 1, 'withdrawn': 0}
queue.from_call(call_id=42, number="13800000000", queue="general", tier="gold", recording=None, ...)
```
"""

from __future__ import annotations

import logging
import weakref
from datetime import datetime
from typing import Any

from helpline.data.base import utcnow
from helpline.data.database import after_commit
from helpline.services import callbacks as service
from helpline.services.platform import Platform
from helpline.services.workflow.engine import TransitionEvent
from telephony.router.callbacks import is_callback, task_of
from telephony.router.core import Router
from telephony.router.model import CallRequest, QueueResult
from telephony.router.service import RouterService

__all__ = ["CallbackQueue", "request_of"]

log = logging.getLogger(__name__)

_ELECTIONS: weakref.WeakKeyDictionary[RouterService, Any] = weakref.WeakKeyDictionary()
"""Router → the leader election it follows (``helpline.services.leader.LeaderElection``)."""


def _on_clock(router: RouterService, at: datetime) -> float:
    """A UTC timestamp as a reading of the router's clock."""
    return router.clock.now() + (at - utcnow()).total_seconds()


def request_of(router: RouterService, task: dict[str, Any]) -> CallRequest:
    """The router's request for an open task."""
    customer = {"tier": task["tier"], "id": task["customer_id"], "name": task["customer_name"]}
    return CallRequest(call_id=-int(task["id"]), queue=task["queue"], tier=task["tier"] or "ordinary",
                       region=task["region"], city=task["city"], caller_number=task["number"],
                       context={"caller": {"number": task["number"], "region": task["region"]}, "customer": customer},
                       callback=True, due_at=_on_clock(router, task["due_at"]))


class CallbackQueue:
    """Open call-back tasks held by the router (see the module docstring)."""

    def __init__(self, platform: Platform, router: RouterService) -> None:
        self.platform = platform
        self.router = router

    def policy(self) -> service.CallbackPolicy:
        return service.policy_of(self.platform.metadata)

    @property
    def leading(self) -> bool:
        """Whether this router holds the call-back tasks: it follows no election, or its instance leads."""
        election = _ELECTIONS.get(self.router)
        return election is None or bool(election.is_leader)

    def follow(self, election: Any) -> CallbackQueue:
        """Hold tasks in this router only while ``election`` (``LeaderElection``) says this instance leads:
        sync when elected, let the held and waiting tasks go when it loses."""
        _ELECTIONS[self.router] = election
        election.follow(self.lead, self.stand_by)
        return self

    def lead(self) -> None:
        """This instance was elected: the router takes every open task (those the old leader held too)."""
        counts = self.sync()
        log.info("call-backs: this instance leads; %s", counts)

    def stand_by(self) -> None:
        """This instance stopped leading: the tasks held or waiting in its router go (the leader offers them);
        a task an agent works stays until the agent records its outcome. In cluster mode the router is shared:
        the tasks stay (the new leader's replica holds them already)."""
        if self.router.cluster is not None:
            return

        def drop(r: Router) -> int:  # this process's own router (not replicated): a local write
            ids = [i for i in (*r.deferred, *r.waiting) if is_callback(i)]
            return sum(1 for i in ids if r.withdraw(i))

        log.info("call-backs: this instance stands by; %d task(s) left to the leader", self.router.do(drop))

    def submit(self, task: dict[str, Any]) -> QueueResult | None:
        """Hand an open task to the router: queued now, or held until its next attempt. None on a standby
        (the leader's sync hands it to the leader's router)."""
        if not self.leading:
            return None
        request = request_of(self.router, task)
        at = _on_clock(self.router, task["next_attempt_at"])
        result: QueueResult = self.router.call("defer", request, at)
        if result == "unknown_queue":
            log.warning("call-back %s: queue %s is not routed; it waits for the routing", task["id"], task["queue"])
        return result

    def sync(self) -> dict[str, int]:
        """Make the router hold exactly the open tasks (see the module docstring); nothing on a standby."""
        counts = {"queued": 0, "held": 0, "withdrawn": 0}
        if not self.leading:
            return counts
        tasks = {-int(t["id"]): t for t in service.open_tasks()}

        def orphans(r: Router) -> list[int]:
            return [call_id for call_id, call in r.active.items() if is_callback(call_id)
                    and ((agent := r.agents.get(call.agent_id or "")) is None or not agent.signed_in)]

        for call_id in self.router.do(orphans):  # taken by an agent who signed out since: free it
            self.router.call("callback_done", call_id)

        def held(r: Router) -> set[int]:
            return {i for i in (*r.deferred, *r.waiting, *r.active) if is_callback(i)}

        known = self.router.do(held)
        for call_id, task in tasks.items():
            if call_id in known:
                continue
            result = self.submit(task)
            if result == "queued":
                counts["held" if task["next_attempt_at"] > utcnow() else "queued"] += 1
        for call_id in known - set(tasks):
            if self.router.call("withdraw", call_id):
                counts["withdrawn"] += 1
        return counts

    def from_call(self, *, call_id: int, number: str | None, queue: str, tier: str | None,
                  recording: str | None, customer_id: int | None, customer_name: str | None,
                  region: str | None, city: str | None) -> dict[str, Any] | None:
        """The IVR took a call-back request or a voice message: the task, handed to the router at once. None
        (logged) when there is no number to call back."""
        try:
            task = service.create(number=number, queue=queue, tier=tier, source="message" if recording else "ivr",
                                  policy=self.policy(), call_id=call_id, customer_id=customer_id,
                                  customer_name=customer_name, region=region, city=city, recording=recording)
        except service.CallbackError as exc:
            log.info("call %s: no call-back task: %s", call_id, exc)
            return None
        if not self.router.do(lambda r: r.holds(-int(task["id"]))):
            self.submit(task)
        return task

    def attach(self) -> CallbackQueue:
        """Tasks opened by work orders reach the router once their transaction committed."""
        def follow(event: TransitionEvent) -> None:
            if event.callbacks and self.leading:
                after_commit(self.sync)

        self.platform.workflows.listeners.append(follow)
        return self

    def task_of_agent(self, number: str) -> int | None:
        """The task offered to or worked by agent ``number`` (its id), if its current call is one."""
        def read(r: Router) -> int | None:
            agent = r.agents.get(number)
            return task_of(agent.call_id) if agent is not None and agent.call_id is not None \
                and is_callback(agent.call_id) else None
        return self.router.do(read)
