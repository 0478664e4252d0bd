"""What an instance reports about itself: host and database figures, the router's queues and agents, FastAGI
sessions, a health check, and the Prometheus collector of the contact-centre metrics (``/metrics``).

The web runtime (``helpline.ui.ops_routes``) serves ``/healthz`` and ``/metrics`` and the system page from
these; the parts only the web process knows (desktops connected, event-loop lag) and the FastAGI server
(started by ``run.py serve`` after the router) are registered in :data:`SOURCES`.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from helpline.data.database import db, is_postgres, session
from helpline.data.jobs import JobRun
from helpline.data.notices import NoticeDelivery
from helpline.services.platform import Platform
from telephony.router.events import Offer

ROUTER_LOCK_WAIT_S = 2.0
"""The health check's patience with a router that holds its lock (a stalled router fails the check)."""


@dataclass
class Sources:
    """What this process runs besides the platform, registered as it starts."""

    agi: Any = None
    """The FastAGI server (``telephony.agi.server.FastAGIServer``), when this process serves calls."""
    desktops: Callable[[], int] | None = None
    loop_lag: Callable[[], dict[str, float]] | None = None
    leader: Any = None
    """The process's ``helpline.services.leader.LeaderElection`` (started with the router)."""


SOURCES = Sources()


def register_agi(server: Any) -> None:
    SOURCES.agi = server


def register_leader(election: Any) -> None:
    SOURCES.leader = election


def leader_figures() -> dict[str, Any] | None:
    """This instance's role (``leader``/``standby``) and id, and the leader's identity; None when this process
    takes no part in the election (no router)."""
    return SOURCES.leader.figures() if SOURCES.leader is not None else None


# -- host -------------------------------------------------------------------------------------------------------
@dataclass
class _CpuSample:
    at: float = field(default_factory=time.monotonic)
    cpu: float = field(default_factory=lambda: sum(os.times()[:2]))


_last_cpu = _CpuSample()


def _meminfo() -> dict[str, int]:
    found: dict[str, int] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            found[name] = int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return found


def _rss() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def host_figures(paths: dict[str, Path] | None = None) -> dict[str, Any]:
    """CPU (this process's share of one core since the last call, the load average), memory (this process's
    resident size, the host's total and available) and disk (each of ``paths``: total, used, free)."""
    global _last_cpu
    now = _CpuSample()
    elapsed = max(now.at - _last_cpu.at, 1e-6)
    cpu_percent = round(100.0 * (now.cpu - _last_cpu.cpu) / elapsed, 1)
    _last_cpu = now
    mem = _meminfo()
    disks = {}
    for label, path in (paths or {}).items():
        probe = path if path.exists() else next((p for p in path.parents if p.exists()), Path("/"))
        usage = shutil.disk_usage(probe)
        disks[label] = {"path": str(path), "total": usage.total, "used": usage.used, "free": usage.free}
    return {"cpu_percent": cpu_percent, "cpu_seconds": round(now.cpu, 2), "cores": os.cpu_count() or 1,
            "load": list(os.getloadavg()), "rss": _rss(), "memory_total": mem.get("MemTotal", 0),
            "memory_available": mem.get("MemAvailable", 0), "disks": disks, "pid": os.getpid()}


# -- database ---------------------------------------------------------------------------------------------------
def database_figures() -> dict[str, Any]:
    """Kind, size on disk, the pool's connections (open, in use) and, on PostgreSQL, the server's connections
    to this database."""
    pool = db.obj
    figures: dict[str, Any] = {
        "kind": "postgresql" if is_postgres() else "sqlite",
        "pool_open": len(getattr(pool, "_connections", ())) + len(getattr(pool, "_in_use", {})),
        "pool_in_use": len(getattr(pool, "_in_use", {})), "pool_max": getattr(pool, "_max_connections", None),
    }
    with session():
        if is_postgres():
            figures["size"] = db.execute_sql("SELECT pg_database_size(current_database())").fetchone()[0]
            figures["server_connections"] = db.execute_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()").fetchone()[0]
        else:
            path = Path(pool.database)
            figures["size"] = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
            figures["server_connections"] = None
    return figures


def job_failures() -> dict[str, int]:
    """Failed runs per scheduled job (``hl_job_run``, since the table began)."""
    from peewee import fn

    with session():
        rows: Any = (JobRun.select(JobRun.job, fn.COUNT(JobRun.id)).where(JobRun.status == "failed")
                .group_by(JobRun.job).tuples())
        return {job: int(n) for job, n in rows}


def notice_failures() -> dict[str, int]:
    """Notice deliveries given up per channel (``hl_notice_delivery`` ``failed``)."""
    from peewee import fn

    with session():
        rows: Any = (NoticeDelivery.select(NoticeDelivery.channel, fn.COUNT(NoticeDelivery.id))
                .where(NoticeDelivery.status == "failed").group_by(NoticeDelivery.channel).tuples())
        return {channel: int(n) for channel, n in rows}


# -- router and FastAGI -----------------------------------------------------------------------------------------
def router_figures(router: Any) -> dict[str, Any]:
    """Queues (waiting, longest wait, ready and signed-in agents), calls waiting per queue and tier, agents per
    status, and each tier's target and service levels, read under the router's lock."""

    def read(r: Any) -> dict[str, Any]:
        snap = r.snapshot()
        waiting: dict[tuple[str, str], int] = {}
        for call in r.waiting.values():
            key = (call.queue, call.request.tier)
            waiting[key] = waiting.get(key, 0) + 1
        statuses: dict[str, int] = {}
        for agent in r.agents.values():
            statuses[str(agent.status)] = statuses.get(str(agent.status), 0) + 1
        return {"queues": snap["queues"], "tiers": snap["tiers"], "waiting": waiting, "agents": statuses,
                "policy": r.policy.name}

    return dict(router.do(read))


def agi_figures() -> dict[str, Any] | None:
    server = SOURCES.agi
    if server is None:
        return None
    return {"running": server.running, "in_progress": server.active_sessions, "limit": server.max_sessions,
            "completed": server.completed_sessions, "refused": server.refused_sessions,
            "failed": getattr(server, "failed_sessions", 0), "port": server.port}


class OfferCounter:
    """Offers made by the router of this process, per queue and tier (subscribed to its events)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self._router: Any = None
        self._unsubscribe: Callable[[], None] | None = None
        self._guard = threading.Lock()

    def follow(self, router: Any) -> None:
        with self._guard:
            if router is self._router:
                return
            if self._unsubscribe is not None:
                self._unsubscribe()
            self._router, self._unsubscribe = router, (router.subscribe(self._on_event) if router else None)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, Offer):
            key = (event.queue, event.tier)
            with self._guard:
                self.counts[key] = self.counts.get(key, 0) + 1


# -- health -----------------------------------------------------------------------------------------------------
def health(platform: Platform) -> tuple[bool, dict[str, Any]]:
    """``(healthy, checks)``: the database answers a trivial query; the router, if this process runs one, has
    its timer thread alive and frees its lock within :data:`ROUTER_LOCK_WAIT_S`; the FastAGI server, if any,
    listens. ``leader`` (with a router) is information, never a failure: this instance's role and the leader."""
    checks: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        with session():
            db.execute_sql("SELECT 1").fetchone()
        checks["database"] = {"ok": True, "ms": round(1000 * (time.perf_counter() - started), 1)}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
    router = platform.router
    if router is not None:
        stopped = router.timers_error()  # the timer thread; in cluster mode the command log's threads
        lock = getattr(router, "_lock", None)
        if stopped:
            checks["router"] = {"ok": False, "error": stopped}
        elif lock is not None and not lock.acquire(timeout=ROUTER_LOCK_WAIT_S):
            checks["router"] = {"ok": False, "error": f"the router held its lock over {ROUTER_LOCK_WAIT_S:g} s"}
        else:
            if lock is not None:
                lock.release()
            checks["router"] = {"ok": True, "waiting": len(router.router.waiting),
                                **({"log_seq": router.cluster.applied} if router.cluster is not None else {})}
    if SOURCES.agi is not None:
        running = bool(SOURCES.agi.running)
        checks["fastagi"] = {"ok": running, **({} if running else {"error": "the FastAGI server is stopped"})}
    election = SOURCES.leader
    if election is not None:  # information: a standby is healthy (a database gone fails the database check)
        figures = election.figures()
        checks["leader"] = {"ok": True, "role": figures["role"], "instance": figures["instance"],
                            "leader": figures["leader"], "connected": bool(election.connected)}
    return all(c["ok"] for c in checks.values()), checks


# -- Prometheus -------------------------------------------------------------------------------------------------
class HelplineCollector:
    """The contact-centre metrics, read at each scrape."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.offers = OfferCounter()
        self.offers.follow(platform.router)

    def describe(self) -> list[Metric]:
        return []  # read at scrape time: nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        router = self.platform.router
        self.offers.follow(router)
        if router is not None:
            figures = router_figures(router)
            waiting = GaugeMetricFamily("helpline_calls_waiting", "Calls waiting in the router",
                                        labels=["queue", "tier"])
            for (queue, tier), n in sorted(figures["waiting"].items()):
                waiting.add_metric([queue, tier], n)
            yield waiting
            longest = GaugeMetricFamily("helpline_queue_longest_wait_seconds", "Longest wait now, per queue",
                                        labels=["queue"])
            ready = GaugeMetricFamily("helpline_queue_ready_agents", "Agents ready for the queue's skill",
                                      labels=["queue"])
            for name, q in sorted(figures["queues"].items()):
                longest.add_metric([name], q["longest_wait_s"])
                ready.add_metric([name], q["ready_agents"])
            yield longest
            yield ready
            agents = GaugeMetricFamily("helpline_agents", "Agents per status", labels=["status"])
            for status, n in sorted(figures["agents"].items()):
                agents.add_metric([status], n)
            yield agents
            level = GaugeMetricFamily("helpline_service_level", "Share answered within the tier's target "
                                      "over the window", labels=["tier", "window"])
            target = GaugeMetricFamily("helpline_service_level_target", "The tier's service-level target",
                                       labels=["tier"])
            for tier, t in sorted(figures["tiers"].items()):
                if t.get("target") is not None:
                    target.add_metric([tier], t["target"])
                for window, values in t.items():
                    if isinstance(values, dict) and values.get("service_level") is not None:
                        level.add_metric([tier, window], values["service_level"])
            yield level
            yield target
        offers = CounterMetricFamily("helpline_offers", "Calls offered to agents by this process's router",
                                     labels=["queue", "tier"])
        for (queue, tier), n in sorted(self.offers.counts.items()):
            offers.add_metric([queue, tier], n)
        yield offers
        agi = agi_figures()
        if agi is not None:
            yield GaugeMetricFamily("helpline_agi_sessions_in_progress", "FastAGI sessions in progress",
                                    value=agi["in_progress"])
            yield GaugeMetricFamily("helpline_agi_sessions_limit", "FastAGI sessions at once before the fallback",
                                    value=agi["limit"])
            yield CounterMetricFamily("helpline_agi_sessions_completed", "FastAGI sessions ended",
                                      value=agi["completed"])
            yield CounterMetricFamily("helpline_agi_sessions_refused", "FastAGI sessions refused over the limit",
                                      value=agi["refused"])
            yield CounterMetricFamily("helpline_agi_errors", "FastAGI sessions ended by an error",
                                      value=agi["failed"])
        jobs = CounterMetricFamily("helpline_job_failures", "Failed runs of scheduled jobs", labels=["job"])
        for job, n in sorted(job_failures().items()):
            jobs.add_metric([job], n)
        yield jobs
        notices = CounterMetricFamily("helpline_notice_deliveries_failed", "Notice deliveries given up",
                                      labels=["channel"])
        for channel, n in sorted(notice_failures().items()):
            notices.add_metric([channel], n)
        yield notices
        if SOURCES.desktops is not None:
            yield GaugeMetricFamily("helpline_desktops_connected", "Browser pages connected to this process",
                                    value=SOURCES.desktops())
        if SOURCES.loop_lag is not None:
            lag = SOURCES.loop_lag()
            yield GaugeMetricFamily("helpline_event_loop_lag_seconds", "The web event loop's last lag",
                                    value=lag.get("last_s", 0.0))
        leader = leader_figures()
        if leader is not None:
            yield GaugeMetricFamily("helpline_leader", "1 when this instance leads (runs the scheduled jobs), "
                                    "0 on a standby", value=1 if leader["role"] == "leader" else 0)
            info = GaugeMetricFamily("helpline_leader_info", "The leader instance (1), as this instance sees it",
                                     labels=["instance", "host", "pid"])
            if leader["leader"] is not None:
                who = leader["leader"]
                info.add_metric([who["instance"], who["host"], str(who["pid"])], 1)
            yield info
        dbf = database_figures()
        yield GaugeMetricFamily("helpline_database_bytes", "The database's size on disk", value=dbf["size"])
        yield GaugeMetricFamily("helpline_database_pool_in_use", "Pooled connections in use",
                                value=dbf["pool_in_use"])


def instance_figures(platform: Platform) -> dict[str, Any]:
    """Everything the system page shows of this process (read in a worker thread)."""
    from helpline.config import Settings
    from helpline.services import error_log
    from helpline.services.recordings import folder

    paths = {"recordings": folder(), "backups": Path(Settings.from_env().backup_dir)}
    database = database_figures()
    if database["kind"] == "sqlite":
        paths["database"] = Path(db.obj.database).parent
    router = platform.router
    scheduler = platform.scheduler
    tail = error_log.handler()
    return {
        "host": host_figures(paths), "database": database, "agi": agi_figures(),
        "router": router_figures(router) if router is not None else None,
        "jobs": scheduler.jobs() if scheduler is not None else None,
        "errors": tail.tail(50) if tail is not None else [], "errors_total": tail.total if tail else 0,
        "desktops": SOURCES.desktops() if SOURCES.desktops else None,
        "loop_lag": SOURCES.loop_lag() if SOURCES.loop_lag else None,
        "leader": leader_figures(),
    }
