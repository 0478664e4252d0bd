"""Snapshots of a router replica (cluster mode): its state as data, without its configuration.

:func:`dump` serialises everything the router's operations change (agents, waiting and answered calls, timers,
indexes, service-level windows, sweeps) and leaves out what each instance builds itself: the settings and the
policy (from its routing metadata), the clock and the sinks; the parts that point back at the router (the
sweeps) are written without that reference and bound to the loading replica by :func:`load`. The format
is Python's pickle of the router's own classes, read back only from the project's own database table: a
snapshot another version wrote (another tag, classes changed) is refused with :class:`SnapshotError` (stop all
instances and empty ``hl_router_log`` and ``hl_router_snapshot``: the first instance starts afresh from the
journal, as after a single-process restart).
"""

from __future__ import annotations

import copy
import pickle
from typing import TYPE_CHECKING, Any

from .core import Router

if TYPE_CHECKING:
    from .service import RouterService

__all__ = ["FORMAT", "SnapshotError", "dump", "load", "replica_state"]

FORMAT = "router-state-1"
"""The version tag of :func:`dump`'s output (bumped whenever the router's state changes shape)."""
_OWN = ("settings", "policy", "clock", "sinks")


class SnapshotError(ValueError):
    """A snapshot that cannot be loaded (another format, damaged); the message says why."""


def dump(router: Router) -> bytes:
    """The router's state (see the module docstring); call it while no operation runs. Parts that point back at
    the router (the sweeps) are written without that reference and bound to the loading router."""
    state: dict[str, Any] = {}
    bound: list[str] = []
    for name, value in vars(router).items():
        if name in _OWN:
            continue
        if getattr(value, "router", None) is router:
            value = copy.copy(value)
            value.router = None
            bound.append(name)
        state[name] = value
    try:
        return pickle.dumps((FORMAT, state, bound), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # something of the settings or policy (closures) reached the state
        raise SnapshotError(f"the router's state cannot be written as a snapshot: {exc}") from exc


def load(router: Router, data: bytes) -> None:
    """Replace ``router``'s state by a snapshot's (its settings, policy, clock and sinks stay)."""
    try:
        tag, state, bound = pickle.loads(bytes(data))  # noqa: S301 - our own table, written by dump
    except Exception as exc:
        raise SnapshotError(f"the router snapshot cannot be read: {exc}") from exc
    if tag != FORMAT:
        raise SnapshotError(f"the router snapshot is of format {tag!r}, this version reads {FORMAT!r}")
    for name in bound:
        state[name].router = router
    vars(router).update(state)


def replica_state(service: RouterService) -> dict[str, Any]:
    """The replica's state as plain data, independent of when it is read (for comparing replicas)."""
    def read(r: Any) -> dict[str, Any]:
        agents = {a.id: {k: getattr(a, k) for k in ("status", "state", "reason", "status_since", "state_since",
                                                       "ready_since", "call_id", "calls_answered", "disconnected_at")}
                  for a in r.agents.values()}
        calls = {c.call_id: {"queue": c.queue, "agent": c.agent_id, "enqueued_at": c.enqueued_at,
                             "max_level": c.max_level, "requeued": c.requeued, "answered_at": c.answered_at}
                 for c in (*r.waiting.values(), *r.active.values())}
        timers = sorted((at, repr(key)) for key, at in r.timers._at.items())
        stats = {f"{kind}:{name}": {w: len(window.items) for w, window in windows.items()}
                 for (kind, name), windows in r.stats._keys.items()}
        return {"agents": agents, "calls": calls, "waiting": list(r.waiting), "timers": timers,
                "deferred": sorted(r.deferred), "stats": stats}
    return service.do(read)
