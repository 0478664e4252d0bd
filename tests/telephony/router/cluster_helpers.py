"""Helpers for the cluster-mode tests: a replica of the router fed by the command log of a PostgreSQL database
(``telephony.router.cluster``), and waiting for a condition with a limit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from telephony.router import AppQueuePolicy, QueueSettings, RouterSettings
from telephony.router.cluster import Cluster, LogClock
from telephony.router.events import RouterEvent
from telephony.router.model import AgentProfile
from telephony.router.service import RouterService
from telephony.router.snapshot import replica_state

SETTINGS = RouterSettings(queues={"billing": QueueSettings(name="billing", skill="billing", max_wait_s=600.0)},
                          wrap_up_s=0.05, browser_grace_s=60.0)


def replica(url: str, name: str, agents: Iterable[str] = (), *, poll_s: float = 0.1
            ) -> tuple[RouterService, list[RouterEvent]]:
    """A started replica named ``name`` and the list its events are delivered to; on an empty log it adds
    ``agents`` (skill billing)."""
    service = RouterService(SETTINGS, AppQueuePolicy(level_step_s=0), clock=LogClock())
    events: list[RouterEvent] = []
    service.subscribe(events.append)
    service.cluster = Cluster(service, url, name, poll_s=poll_s)
    profiles = [AgentProfile(id=a, endpoint=f"PJSIP/{a}", skills={"billing": 1}) for a in agents]
    service.cluster.start(lambda: [("add_agent", (p,), {}) for p in profiles])
    return service, events


def wait_for(condition: Callable[[], Any], limit_s: float = 5.0) -> float:
    """Seconds until ``condition()`` holds (AssertionError after ``limit_s``)."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > limit_s:
            raise AssertionError(f"not within {limit_s} s")
        time.sleep(0.005)
    return time.perf_counter() - started


def converged(a: RouterService, b: RouterService) -> None:
    """Both replicas caught up with the log: the same entries applied, the same state."""
    assert a.cluster is not None and b.cluster is not None
    a.cluster.catch_up()
    b.cluster.catch_up()
    assert a.cluster.applied == b.cluster.applied
    assert replica_state(a) == replica_state(b)
