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

```python
queue = CallbackQueue(platform, router_service)
queue.sync()                                     # {'queued': 2, 'held': 1, 'withdrawn': 0}
queue.from_call(call_id=42, number="13800000000", queue="general", tier="gold", recording=None, ...)
```
"""

from __future__ import annotations

import logging
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

    def submit(self, task: dict[str, Any]) -> QueueResult:
        """Hand an open task to the router: queued now, or held until its next attempt."""
        request = request_of(self.router, task)
        at = _on_clock(self.router, task["next_attempt_at"])
        result: QueueResult = self.router.do(lambda r: r.defer(request, at))
        if result == "unknown_queue":
            log.warning("call-back %s: queue %s is not routed; it waits for the routing", task["id"], task["queue"])
        return result

    def sync(self) -> dict[str, int]:
        """Make the router hold exactly the open tasks (see the module docstring)."""
        tasks = {-int(t["id"]): t for t in service.open_tasks()}

        def held(r: Router) -> set[int]:
            for call_id, call in list(r.active.items()):  # taken by an agent who signed out since: free it
                agent = r.agents.get(call.agent_id or "")
                if is_callback(call_id) and (agent is None or not agent.signed_in):
                    r.callback_done(call_id)
            return {i for i in (*r.deferred, *r.waiting, *r.active) if is_callback(i)}

        known = self.router.do(held)
        counts = {"queued": 0, "held": 0, "withdrawn": 0}
        for call_id, task in tasks.items():
            if call_id in known:
                continue
            result = self.submit(task)
            if result == "queued":
                counts["held" if task["next_attempt_at"] > utcnow() else "queued"] += 1
        for call_id in known - set(tasks):
            if self.router.do(lambda r, c=call_id: r.withdraw(c)):  # type: ignore[misc]
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
            if event.callbacks:
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
