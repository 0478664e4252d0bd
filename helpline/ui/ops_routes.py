"""The operations endpoints of the web process: ``/healthz`` (200 JSON, or 503 naming what failed) and the
Prometheus ``/metrics`` (process metrics plus the contact-centre ones of ``telephony.monitoring``); and what
only the web process can measure for the system page: its event loop's lag and the browser pages connected.

Both endpoints are open (no session), like ``/healthz`` always was: let the proxy keep ``/metrics`` to the
monitoring network (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from fastapi.responses import JSONResponse, Response
from nicegui import Client, app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from helpline.services.platform import Platform
from telephony.monitoring import SOURCES, HelplineCollector, health

LAG_PERIOD_S = 0.5
"""How often the event loop's lag is sampled (a sleep of this long that wakes late: the lag)."""


class LoopLag:
    """The lag of the web event loop: the last sample and the largest of the last minute."""

    def __init__(self) -> None:
        self.samples: deque[float] = deque(maxlen=int(60 / LAG_PERIOD_S))
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(LAG_PERIOD_S)
            self.samples.append(max(0.0, loop.time() - started - LAG_PERIOD_S))

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())

    def figures(self) -> dict[str, float]:
        samples = list(self.samples)
        return {"last_s": round(samples[-1], 4) if samples else 0.0,
                "max_1m_s": round(max(samples), 4) if samples else 0.0}


LAG = LoopLag()


def desktops() -> dict[str, int]:
    """Browser pages connected to this process, and of those the agent desktops."""
    clients = list(Client.instances.values())
    return {"clients": sum(1 for c in clients if c.has_socket_connection),
            "desktops": sum(1 for c in clients if c.has_socket_connection and c.page.path == "/desktop")}


def register(plat: Platform) -> None:
    """``/healthz`` and ``/metrics`` for ``plat``; the loop-lag sampler started with the app."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    registry.register(HelplineCollector(plat))  # type: ignore[arg-type]
    SOURCES.desktops = lambda: desktops()["clients"]
    SOURCES.loop_lag = LAG.figures
    app.on_startup(LAG.start)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        started = time.perf_counter()
        ok, checks = health(plat)
        body = {"status": "ok" if ok else "fail", "checks": checks,
                "failed": sorted(name for name, c in checks.items() if not c["ok"]),
                "ms": round(1000 * (time.perf_counter() - started), 1)}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
