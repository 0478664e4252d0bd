"""The measuring side of ``bench/_desktops_server.py``: the probe that collects what the bench reports (memory,
pops sent and built, the outbox, event-loop lag and stalls, garbage-collector pauses, the statements and pool
checkouts of each pop's data load) and the hooks that feed it. The server installs them; nothing here serves."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from typing import Any


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class Probe:
    """What the bench reads back: offers, pops shown and sent, call outcomes, event-loop lag."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.offers: dict[int, tuple[float, str]] = {}
        """call id → (router's Offer.at, agent number) of the call's first offer."""
        self.shown: dict[int, tuple[float, str, str]] = {}
        """call id → (strip rendered at, serial number, client id), first time only."""
        self.emitting: dict[int, float] = {}
        """call id → the outbox started emitting the update holding the strip."""
        self.gc_ms: list[tuple[float, int, float]] = []
        """(monotonic start, generation, pause ms) of every automatic garbage collection."""
        self.manual_gc = False
        self.loads: dict[int, tuple[float, float, int, float, int, float, float]] = {}
        """call id → (start, end, statements, seconds in them, pool checkouts, seconds waiting for them, CPU seconds of
        the thread) of loading the pop's data on a worker thread, first time only."""
        self.built: dict[int, float] = {}
        """call id → the whole pop (strip and call tab) built, first time only."""
        self.pending: dict[str, list[tuple[int, int]]] = defaultdict(list)
        """client id → [(element id of the strip's serial-number label, call id)] not sent yet."""
        self.sent: dict[int, float] = {}
        """call id → the update holding the strip left the outbox (after ``sio.emit``)."""
        self.outcomes: Counter[str] = Counter()
        self.calls_placed = 0
        self.calls_running = 0
        self.lag_ms: list[tuple[float, float]] = []
        """(monotonic time, ms) how late a 100 ms sleep of the event loop woke."""
        self.messages: Counter[str] = Counter()
        """Messages emitted to desktop clients, by type (while calls flow)."""
        self.scripts: Counter[str] = Counter()
        """``run_javascript`` messages by their code's beginning (while calls flow)."""
        self.count_messages = False
        self.cpu_s: dict[str, float] = {}
        self.stop = threading.Event()
        self.talk: tuple[float, float] = (3.0, 8.0)
        """Talk time of a call, uniform, s (``--talk``)."""
        self.beat = time.monotonic()
        self.stalls: Counter[str] = Counter()
        """Stack samples of the event-loop thread while it was stalled (``--stalls``), 10 ms each."""
        self.snapshot: Any = None
        """The last ``tracemalloc`` snapshot of ``/_bench/diagnose``."""


PROBE = Probe()


def count_statements() -> threading.local:
    """The database's statements and pool checkouts of a thread while its ``on`` is a list (``[statements, seconds
    in them, checkouts, seconds waiting for them]``): what one pop's data load costs in round trips."""
    from helpline.data.database import db

    counting = threading.local()
    database = type(db.obj)
    execute_sql, connect = database.execute_sql, database.connect

    def counted(method: Any, slot: int) -> Any:
        """``method`` counting its calls in ``on[slot]`` and their seconds in ``on[slot + 1]``."""
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            on = getattr(counting, "on", None)
            started = time.monotonic()
            try:
                return method(self, *args, **kwargs)
            finally:
                if on is not None:
                    on[slot] += 1
                    on[slot + 1] += time.monotonic() - started
        return wrapper

    database.execute_sql = counted(execute_sql, 0)  # type: ignore[method-assign]
    database.connect = counted(connect, 2)  # type: ignore[method-assign]
    return counting


def install_probes(router: Any) -> None:
    """Router subscriber, pop-strip and outbox hooks (see the module docstring)."""
    from nicegui.outbox import Outbox

    from helpline.ui.views.desk_pop import CallPanel
    from telephony.router.events import Offer
    from telephony.switch.phones import PHONES

    rng = random.Random(11)
    talk = PROBE.talk

    def on_event(event: Any) -> None:  # the router's thread, under its lock: just note it
        if isinstance(event, Offer):
            with PROBE.lock:
                # when this replica learnt the decision (time.monotonic, system-wide): with several servers
                # the bench takes the earliest; Offer.at is the router's clock (the database's in cluster mode)
                PROBE.offers.setdefault(event.call_id, (time.monotonic(), event.agent_id))
            phone = PHONES.phone(event.endpoint)
            phone.talk_s = rng.uniform(*talk)  # this call's talk time (read when the phone picks up)

    router.subscribe(on_event)

    show_strip = CallPanel.show_strip

    def timed_show_strip(self: Any, pop: dict[str, Any]) -> None:
        show_strip(self, pop)
        call_id = int(pop["call_id"])
        if call_id in PROBE.shown:
            return
        client = self.info.client
        PROBE.shown[call_id] = (time.monotonic(), str(pop["serial_no"]), client.id)
        for element in self.info.descendants():
            if "pop-serial" in element._markers:  # the label that changes with every call
                PROBE.pending[client.id].append((element.id, call_id))
                break

    CallPanel.show_strip = timed_show_strip  # type: ignore[method-assign]

    from helpline.ui.views import desktop as desktop_module

    load_pop = desktop_module.load_pop
    counting = count_statements()

    def timed_load_pop(ctx: Any, call_id: int, customer_id: int | None = None) -> dict[str, Any]:
        started, cpu = time.monotonic(), time.thread_time()  # on a worker thread of the desk's POP_LOADER
        counting.on = [0, 0.0, 0, 0.0]
        try:
            return load_pop(ctx, call_id, customer_id)
        finally:
            statements, sql_s, checkouts, checkout_s = counting.on
            counting.on = None
            PROBE.loads.setdefault(int(call_id), (started, time.monotonic(), statements, sql_s, checkouts, checkout_s,
                                                  time.thread_time() - cpu))

    desktop_module.load_pop = timed_load_pop  # type: ignore[assignment]

    show = CallPanel.show

    def timed_show(self: Any, pop: dict[str, Any]) -> None:
        show(self, pop)
        PROBE.built.setdefault(int(pop["call_id"]), time.monotonic())

    CallPanel.show = timed_show  # type: ignore[method-assign]

    emit = Outbox._emit

    async def timed_emit(self: Any, message: Any) -> None:
        client_id, kind, data = message
        if PROBE.count_messages:
            PROBE.messages[kind] += 1
            if kind == "run_javascript":
                PROBE.scripts[str(data.get("code", ""))[:80]] += 1
        waiting = PROBE.pending.get(client_id) if kind == "update" else None
        hits = [call_id for element_id, call_id in waiting if element_id in data] if waiting else []
        if hits:
            started = time.monotonic()
            for call_id in hits:
                PROBE.emitting.setdefault(call_id, started)
        await emit(self, message)
        if hits:
            now = time.monotonic()
            for call_id in hits:
                PROBE.sent.setdefault(call_id, now)
            PROBE.pending[client_id] = [p for p in PROBE.pending[client_id] if p[1] not in hits]

    Outbox._emit = timed_emit  # type: ignore[method-assign]


async def measure_lag() -> None:
    """How late the event loop wakes a 100 ms sleep (a busy loop delays every screen update)."""
    while True:
        start = time.monotonic()
        await asyncio.sleep(0.1)
        now = time.monotonic()
        PROBE.lag_ms.append((now, (now - start - 0.1) * 1000))


async def heartbeat() -> None:
    while True:
        PROBE.beat = time.monotonic()
        await asyncio.sleep(0.01)


def watch_stalls(loop_thread: int, threshold: float) -> None:
    """Diagnosis (``--stalls``): while the event loop has not run for ``threshold`` s, sample where its thread
    is, every 10 ms; the samples are counted by the innermost frames of the project and NiceGUI."""
    while True:
        time.sleep(0.01)
        if not PROBE.count_messages or time.monotonic() - PROBE.beat < threshold:
            continue
        frame = sys._current_frames().get(loop_thread)
        lines: list[str] = []
        while frame is not None and len(lines) < 6:
            name = frame.f_code.co_filename
            if "/helpline/" in name or "/telephony/" in name or "/nicegui/" in name:
                short = name.rsplit("/", 2)[-2:]
                lines.append(f"{'/'.join(short)}:{frame.f_lineno} {frame.f_code.co_name}")
            frame = frame.f_back
        PROBE.stalls[" < ".join(lines) or "outside the project"] += 1


def watch_gc() -> None:
    """Time every automatic garbage collection (a full one holds the GIL: no thread of the process runs)."""
    started: list[float] = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif not PROBE.manual_gc:
            PROBE.gc_ms.append((time.monotonic(), int(info["generation"]),
                                (time.perf_counter() - started[0]) * 1000))

    gc.callbacks.append(callback)


def element_kinds(desktops: list[Any]) -> dict[str, float]:
    """Elements per desktop by class (the average over the desktop clients), most first."""
    kinds: Counter[str] = Counter()
    for client in desktops:
        kinds.update(type(element).__name__ for element in client.elements.values())
    return {k: round(v / max(1, len(desktops)), 1) for k, v in kinds.most_common(15)}
