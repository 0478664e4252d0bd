"""Cluster mode: which instances are alive, and ending the calls and desktops of the ones that are gone.

Every second the leader (``Cluster._lead_once``) lists the instances whose listener connection is open
(``application_name`` ``hl-router <instance>`` in ``pg_stat_activity``). An instance named by a call's
``queue_call`` or an agent's desktop that is missing at two checks in a row is gone: its waiting and answered
calls are ended with ``abandon`` entries (their callers went with it), its agents get ``agent_disconnected``
(the browser grace period, then not ready).

A database restart ends every listener connection at once; they reconnect with back-off once the server is back
(within ``LISTENER_BACKOFF_MAX_S`` of it, later when a write holds the replica). So for
:data:`RECONNECT_GRACE_S` after this instance's own listener lost its connection or got it back, no instance
counts as missing: a restart is not mistaken for the death of every other instance.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cluster import Cluster

__all__ = ["LIVENESS_S", "RECONNECT_GRACE_S", "alive", "end_dead_instances"]

log = logging.getLogger(__name__)

LIVENESS_S = 1.0
"""Seconds between the leader's checks (at most; ``poll_s`` when shorter)."""
RECONNECT_GRACE_S = 3.0
"""Seconds after this instance's listener lost or regained its connection during which nobody counts as missing."""


def alive(cluster: Cluster) -> set[str]:
    """The instances whose listener connection is open now."""
    with cluster._apply_lock, cluster._reader_conn().cursor() as cur:
        cur.execute("SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name LIKE 'hl-router %%'")
        return {name.split(" ", 1)[1] for (name,) in cur.fetchall()}


def end_dead_instances(cluster: Cluster) -> dict[str, int]:
    """(The leader) Abandon the calls queued through instances that are gone and disconnect the agents whose
    desktops were on them."""
    if time.monotonic() - cluster.listener_trouble_at < RECONNECT_GRACE_S:  # a restart: every listener reconnects
        cluster._missing = set()
        return {"calls": 0, "agents": 0}
    live = alive(cluster) | {cluster.instance}
    named = set(cluster.owners.values()) | set(cluster.desks.values())
    # gone = missing at two checks in a row (a listener reconnecting after a blip is not a dead instance)
    gone, cluster._missing = cluster._missing & (named - live), named - live

    def dead(r: Any) -> tuple[list[int], list[str]]:
        calls = [c for c in (*r.waiting, *r.active) if cluster.owners.get(c, cluster.instance) in gone]
        agents = [a.id for a in r.agents.values() if a.signed_in and a.disconnected_at is None
                  and cluster.desks.get(a.id, cluster.instance) in gone]
        return calls, agents

    calls, agents = cluster.service.do(dead)
    for call_id in calls:
        log.warning("call %s: its instance %s is gone; ended", call_id, cluster.owners.get(call_id))
        cluster.call("abandon", (call_id,), {})
    for number in agents:
        log.warning("agent %s: the desktop's instance %s is gone", number, cluster.desks.get(number))
        cluster.call("agent_disconnected", (number,), {})
    return {"calls": len(calls), "agents": len(agents)}
