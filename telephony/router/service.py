"""``RouterService``: the router for live calls — one writer lock, a timer thread, the journal, tickets.

```python
service = RouterService.from_platform(platform).start()
ticket = service.enqueue(CallRequest(call_id=42, queue="general", tier="gold"))
event = ticket.next(timeout=0.25)     # Offer (dial the agent) | CallLeft (timeout/empty) | None
ticket.answered(); ...; ticket.ended()
```

Every router method runs under one lock (single writer); the timer thread sleeps until the router's
next timer and runs it under the same lock. Events go, in order, to: the journal (agent transitions and
call decisions written to the database on its own thread), the ticket of the call they concern (the
FastAGI/IVR thread holding that caller waits on it) and the subscribers (screens; they must not
block). The routing metadata is applied again whenever it changes (no restart; waiting calls keep their
place). After a restart the agents who were signed in are signed in again from the journal, each with
the browser grace period to reconnect.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from helpline.data.base import utcnow
from helpline.metadata.kinds.routing import Routing
from helpline.metadata.metaset import MetadataSet
from helpline.rules import compile_tier_strategy
from helpline.services import agents as agent_service
from helpline.services import stats as stat_service
from helpline.services.leader import default_instance_id
from helpline.services.platform import Platform

from .clock import Clock, WallClock
from .commands import OPERATIONS, BadCommand
from .core import Router, RouterError
from .events import AgentAlert, AgentChanged, CallDecision, CallLeft, Offer, RouterEvent
from .model import AgentProfile, AgentStatus, CallRequest, QueueResult
from .policy import AppQueuePolicy, HelplinePolicy, Policy
from .settings import RouterSettings, settings_from_routings

if TYPE_CHECKING:
    from .cluster import Cluster

__all__ = ["RouterService", "Ticket", "policy_from_metadata", "profile_from_row"]

log = logging.getLogger(__name__)
T = TypeVar("T")
Subscriber = Callable[[RouterEvent], None]


def policy_from_metadata(metadata: MetadataSet) -> tuple[RouterSettings, Policy]:
    """Settings and policy from the ``routing`` objects (the tier strategy of ``main``, else the first
    routing that has one; without any strategy: first come first served with levels every 30 s)."""
    return policy_from_routings([r for r in metadata.objects.get("routing", {}).values() if isinstance(r, Routing)])


def routing_data(metadata: MetadataSet) -> list[dict[str, Any]]:
    """The ``routing`` objects as JSON data (a cluster's ``reconfigure`` entry carries them)."""
    return [r.model_dump(mode="json", exclude_none=True)
            for r in metadata.objects.get("routing", {}).values() if isinstance(r, Routing)]


def policy_from_routings(found: list[Routing]) -> tuple[RouterSettings, Policy]:
    """:func:`policy_from_metadata` of these routing objects."""
    routings = sorted(found, key=lambda r: (r.name != "main", r.name))
    settings = settings_from_routings(routings)
    text = next((r.strategy for r in routings if r.strategy), None)
    if text:
        return settings, HelplinePolicy(compile_tier_strategy(text), catch_up=settings.catch_up)
    return settings, AppQueuePolicy(level_step_s=30.0)


def profile_from_row(row: dict[str, Any]) -> AgentProfile:
    return AgentProfile(
        id=str(row["number"]), name=row.get("name") or "", endpoint=row.get("endpoint") or "",
        skills={str(k): int(v) for k, v in (row.get("skills") or {}).items()},
        groups=frozenset(row.get("groups") or ()), region=row.get("region"), city=row.get("city"),
        auto_answer=bool(row.get("auto_answer")), wrap_up_s=row.get("wrap_up_s"), user=row.get("username"),
    )


class Ticket:
    """A caller's place in the router, held by the thread that holds the caller (see the module doc)."""

    def __init__(self, service: RouterService, call_id: int) -> None:
        self.service = service
        self.call_id = call_id
        self.result: QueueResult = "queued"
        self.offer: Offer | None = None
        self.left: CallLeft | None = None
        self.answered_wait_s: float | None = None
        """Seconds the caller waited until an agent answered (from the router's clock)."""
        self._events: queue.Queue[Offer | CallLeft] = queue.Queue()
        self.detached = False
        """The conversation goes on outside this session (AMI moved the caller): ``close`` leaves it be."""
        self.wake: Callable[[], None] | None = None
        """Called (from the router's thread) when an event arrives, e.g. ``switch.wake``."""

    def push(self, event: Offer | CallLeft) -> None:
        if isinstance(event, Offer):
            self.offer = event
        elif event.how == "answered":
            self.answered_wait_s = event.wait_s
            return  # the answer itself is reported by the switch; nothing to wake for
        else:
            self.left = event
        self._events.put(event)
        if self.wake is not None:
            try:
                self.wake()
            except Exception:
                log.exception("call %s: waking the caller's thread failed", self.call_id)

    def next(self, timeout: float | None = None) -> Offer | CallLeft | None:
        """The next Offer or CallLeft for this call, waiting up to ``timeout`` seconds."""
        try:
            return self._events.get(timeout=timeout) if timeout else self._events.get_nowait()
        except queue.Empty:
            return None

    def ringing(self) -> None:
        self.service.call("ringing", self.call_id)

    def answered(self) -> bool:
        return bool(self.service.call("answered", self.call_id))

    def no_answer(self, why: str = "did not answer") -> bool:
        return bool(self.service.call("no_answer", self.call_id, why))

    def abandon(self) -> bool:
        return bool(self.service.call("abandon", self.call_id))

    def ended(self) -> bool:
        return bool(self.service.call("call_ended", self.call_id))

    def detach(self) -> None:
        self.detached = True

    def end_later(self) -> None:
        """``ended`` as a callback (a detached call's caller channel hung up)."""
        self.ended()

    def close(self) -> None:
        """Forget the ticket; a call still waiting, ringing or talking is ended (nothing stays reserved) —
        unless it was detached (its end is reported later through ``ended``)."""
        if not self.detached:
            self.service.call("abandon", self.call_id)
        self.service.forget(self.call_id)


class RouterService:
    """The live router (see the module docstring)."""

    def __init__(self, settings: RouterSettings, policy: Policy, *, clock: Clock | None = None,
                 journal: agent_service.RouterJournal | None = None) -> None:
        self.clock = clock or WallClock()
        self.journal = journal
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._tickets: dict[int, Ticket] = {}
        self._subscribers: list[Subscriber] = []
        self.router = Router(settings, policy, clock=self.clock, sinks=[self._dispatch])
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.cluster: Cluster | None = None
        """Cluster mode: the command log feeding this replica (``telephony.router.cluster``)."""
        self.metadata: MetadataSet | None = None

    # ------------------------------------------------------------------------------------ set-up
    @classmethod
    def from_platform(cls, platform: Platform, *, clock: Clock | None = None, journal: bool = True,
                      restore: bool = True, cluster: str | None = None, instance: str = "") -> RouterService:
        """The router of a platform: its routing metadata, its agents, their statuses before a restart. With
        ``cluster`` (the PostgreSQL URL; ``HELPLINE_CLUSTER=on``) a replica fed by the command log
        (``telephony.router.cluster``): it replays the log; the first instance on an empty log loads the agents."""
        settings, policy = policy_from_metadata(platform.metadata)
        stat_service.configure_from_metadata(platform.metadata)
        if cluster:
            from .cluster import Cluster, LogClock

            clock = LogClock()
        service = cls(settings, policy, clock=clock,
                      journal=agent_service.RouterJournal().start() if journal else None)
        service.metadata = platform.metadata
        if cluster:
            service.cluster = Cluster(service, cluster, instance or default_instance_id())
            try:
                service.cluster.start(lambda: service.startup_commands(restore=restore))
            except Exception:
                service.stop()
                raise
        else:
            for name, args, kwargs in service.startup_commands(restore=restore):
                service.call(name, *args, **kwargs)
        platform.on_change(lambda metadata, changed: service.reconfigure(metadata, changed))
        return service

    def startup_commands(self, *, restore: bool = True) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
        """The commands that load every active agent profile and (``restore``) sign in again the agents whose
        last recorded status was signed in (each with the grace period to reconnect, or not ready)."""
        commands: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        profiles = [profile_from_row(r) for r in agent_service.list_profiles()]
        commands += [("add_agent", (profile,), {}) for profile in profiles]
        known = {p.id for p in profiles} | set(self.router.agents)
        for number, last in (agent_service.last_statuses() if restore else {}).items():
            if number not in known or last["status"] == AgentStatus.LOGGED_OUT:
                continue
            ready = last["status"] == AgentStatus.READY
            reason = last["reason"] if last["status"] == AgentStatus.NOT_READY else "restored"
            commands.append(("sign_in", (number,), {"ready": ready, "reason": reason, "by": "restart"}))
            if last["status"] == AgentStatus.STUDY:
                commands.append(("set_study", (number,), {"by": "restart"}))
            commands.append(("agent_disconnected", (number,), {}))
        return commands

    def load_profiles(self) -> int:
        """(Re)load every active agent profile from the database."""
        profiles = [profile_from_row(r) for r in agent_service.list_profiles()]
        for profile in profiles:
            self.call("add_agent", profile)
        return len(profiles)

    def restore_statuses(self) -> list[str]:
        """Sign in again the agents whose last recorded status was signed in; they get the grace period
        to reconnect their desktop, or go not ready. Returns their numbers."""
        restored: list[str] = []
        for name, args, kwargs in self.startup_commands():
            if name != "add_agent":
                self.call(name, *args, **kwargs)
            if name == "sign_in":
                restored.append(args[0])
        return restored

    def reconfigure(self, metadata: MetadataSet, changed: list[tuple[str, str]] | None = None) -> None:
        if changed is not None and not any(kind == "routing" for kind, _ in changed):
            return
        try:
            settings, policy = policy_from_metadata(metadata)
        except Exception:
            log.exception("the new routing metadata cannot be applied; the router keeps the previous one")
            return
        self.metadata = metadata
        if self.cluster is not None:  # the entry carries the routing objects: every replica applies the same
            self.cluster.call("reconfigure", (routing_data(metadata),), {})
        else:
            self.do(lambda r: r.reconfigure(settings, policy))
        stat_service.configure_from_metadata(metadata)
        log.info("router: routing metadata applied (%d queues, policy %s)", len(settings.queues), policy.name)

    def timers_error(self) -> str | None:
        """Why the router's time does not move, or None: the timer thread (one process), the command log's
        listener and ticks (cluster mode)."""
        if self.cluster is not None:
            return None if self.cluster.running else "the router's command log threads are not running"
        if self._thread is None or not self._thread.is_alive():
            return "the router's timer thread is not running"
        return None

    def apply_routing(self, routings: list[dict[str, Any]]) -> None:
        """(Cluster mode, a ``reconfigure`` entry) Apply the entry's routing objects to the replica."""
        self.router.reconfigure(*policy_from_routings([Routing.model_validate(r) for r in routings]))

    def start(self) -> RouterService:
        if self.cluster is not None:  # the log's ticks move the replica's timers
            return self
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run_timers, name="router-timers", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self.cluster is not None:
            self.cluster.stop()
        if self.journal is not None:
            self.journal.stop()

    # -------------------------------------------------------------------------------- operations
    def do(self, operation: Callable[[Router], T]) -> T:
        """Run one router operation as the single writer (and let the timer thread see new timers)."""
        with self._cond:
            result = operation(self.router)
            self._cond.notify_all()
            return result

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run the router write operation ``name`` (one of ``commands.OPERATIONS``) with JSON-able arguments
        (``CallRequest``/``AgentProfile`` allowed) and return its result. One process: the method under the
        writer lock; cluster mode logs it and returns the result of its local replica."""
        if name not in OPERATIONS:
            raise BadCommand(f"'{name}' is no router operation")
        if self.cluster is not None:
            return self.cluster.call(name, args, kwargs)
        return self.do(lambda r: getattr(r, name)(*args, **kwargs))

    def enqueue(self, request: CallRequest) -> Ticket:
        """Queue a call; the ticket's ``result`` says whether it joined (``queued``) or not (``empty``...)."""
        ticket = Ticket(self, request.call_id)
        with self._lock:  # before the call is queued: its offer may come while it is
            self._tickets[request.call_id] = ticket
        ticket.result = self.call("queue_call", request)
        if ticket.result != "queued":
            with self._lock:
                if self._tickets.get(request.call_id) is ticket:
                    self._tickets.pop(request.call_id, None)
        return ticket

    def forget(self, call_id: int) -> None:
        with self._lock:
            self._tickets.pop(call_id, None)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every router event (on the router's thread: do not block). Returns an unsubscribe."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def snapshot(self) -> dict[str, Any]:
        return self.do(lambda r: r.snapshot())

    def agent(self, number: str) -> dict[str, Any] | None:
        def read(r: Router) -> dict[str, Any] | None:
            found = r.agents.get(number)
            return found.as_dict(r.now()) if found else None
        return self.do(read)

    # ----------------------------------------------------------------------------------- internals
    def _run_timers(self) -> None:
        with self._cond:
            while not self._stopping:
                due = self.router.next_timer_at()
                now = self.clock.now()
                if due is not None and due <= now:
                    try:
                        self.router.advance()
                    except Exception:
                        log.exception("router timer failed")
                    continue
                self._cond.wait(None if due is None else min(due - now, 60.0))

    def wall_time(self, at: float) -> Any:
        """A router clock reading as a UTC timestamp for the database."""
        return utcnow() - timedelta(seconds=max(0.0, self.clock.now() - at))

    def _dispatch(self, event: RouterEvent) -> None:
        if isinstance(event, Offer | CallLeft):
            ticket = self._tickets.get(event.call_id)
            if ticket is not None:
                ticket.push(event)
                if isinstance(event, CallLeft) and event.how in ("timeout", "empty", "abandoned"):
                    self._tickets.pop(event.call_id, None)
        if self.journal is not None and (self.cluster is None or self.cluster.leading):
            self._journal(event)
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                log.exception("a router subscriber failed")

    def _journal(self, event: RouterEvent) -> None:
        assert self.journal is not None
        at = self.wall_time(event.at)
        if isinstance(event, AgentChanged):
            self.journal.agent_event(agent=event.agent_id, at=at, what=event.what, old=event.old, new=event.new,
                                     reason=event.reason, call_id=event.call_id, by=event.by,
                                     duration_s=round(event.duration_s, 3))
        elif isinstance(event, AgentAlert):
            self.journal.agent_event(agent=event.agent_id, at=at, what="alert", new=event.kind,
                                     reason=event.message[:255], call_id=event.call_id)
        elif isinstance(event, CallDecision):
            self.journal.call_route(call_id=event.call_id, at=at, kind=event.kind, agent=event.agent_id,
                                    queue=event.queue, reason=event.reason[:500])


__all__ += ["RouterError"]
