"""The server side of ``bench/bench_desktops.py``: the platform, the router, the desk service and the web UI in
ONE process, as ``run.py serve`` builds them (``helpline.cli.common.start_platform`` / ``start_router``,
``helpline.ui.app.serve``), plus N bench agents and a few bench-only HTTP endpoints under ``/_bench/``.

Started by the bench as a child process; not meant to be run by hand (``--help`` lists the options).

What it adds to the normal server, for measuring only:

* ``N`` agent users ``bench5000`` … (role ``agent``, every city in their row scope, language English) with agent
  profiles ``5000`` … (skills ``{general: 1}``, endpoint ``PJSIP/5xxx``, ``auto_answer`` off, own wrap-up time),
  and a warm-up agent ``bench4999`` whose desktop is connected before the baseline memory reading and which
  never signs in to the telephony. The agents' *simulated phones* (the process-wide ``PHONES`` that the desk
  service's ``SimulatedCallControl`` and the IVR's ``SimulatedSwitch`` share) pick up by themselves and hang up
  after a random talk time, so calls flow without clicks.
* ``GET /_bench/login?user=NAME``: signs the requesting browser session in as the login form does after checking
  the password (``helpline.ui.session.begin_sign_in``, then ``/login/complete`` gives the browser its new session
  cookie); the path is added to the open paths of the auth middleware.
* Several servers (``--cluster INSTANCE`` on one PostgreSQL database, ``HELPLINE_CLUSTER=on``): the first makes
  every bench agent (``--agents``), each signs in its own (``--first``, ``--desktops``).
* ``GET /_bench/status``, ``GET /_bench/memory`` (RSS after ``gc.collect()``), ``POST /_bench/ready`` (every
  bench agent, or ``count`` of them from ``start``, signs in and goes ready through ``DeskService``),
  ``POST /_bench/calls?rate=R&seconds=S`` (Poisson
  arrivals of callers through the ``main`` IVR flow on the simulated switch: key ``0``, queue ``general``),
  ``POST /_bench/stop``, ``GET /_bench/results``; ``POST /_bench/freeze`` (``gc.freeze()``, an experiment).
* The text tokenizer (jieba's dictionary, ≈ 80 MB) is loaded at start, before the baseline reading: a one-off of
  the process (its first search or save pays it), not of a desktop.
* ``serve()`` applies ``helpline.ui.gc_tuning`` as in production (``--no-gc-tuning``: without it, to compare);
  ``GET /_bench/memory`` counts frozen objects among the tracked ones and reports what the tuning did.
* Timestamps (``time.monotonic``, the router's own clock, system-wide on Linux so the bench process can compare
  its receive times): every ``Offer`` (router subscriber registered before any desktop), the moment the desktop
  renders the pop's customer strip (``CallPanel.show_strip`` wrapped), and the moment NiceGUI's outbox has
  handed the ``update`` message holding that strip's serial-number label to the client's socket
  (``Outbox._emit`` wrapped: after ``sio.emit`` returned). Also every automatic garbage collection
  (``gc.callbacks``), the event loop's lag, the messages sent to the desktops, and with ``--stalls`` stack
  samples of the event loop's thread while it is stalled.
"""

from __future__ import annotations

import argparse
import gc
import logging
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _desktops_probes import (  # noqa: E402 - bench/ is on sys.path: the script's folder
    PROBE,
    element_kinds,
    heartbeat,
    install_probes,
    measure_lag,
    rss_mb,
    watch_gc,
    watch_stalls,
)

WARM_UP_NUMBER = "4999"
PASSWORD = "bench-pass-1"


def bench_agents(n: int, first: int = 0) -> list[str]:
    return [str(5000 + first + i) for i in range(n)]


def own_agents(args: argparse.Namespace) -> list[str]:
    """The agents whose desktops connect to this server (``--first``, ``--desktops``)."""
    return bench_agents(args.desktops, args.first)


def all_agents(args: argparse.Namespace) -> list[str]:
    """Every bench agent of every server (the first server creates them all: the router loads them once)."""
    return [*bench_agents(args.agents or args.desktops + args.first)]


def prepare(platform: Any, args: argparse.Namespace) -> list[str]:
    """Users, roles and agent profiles of the bench agents (idempotent); returns the callers' numbers."""
    from helpline.data.database import session, write_transaction
    from helpline.data.system import User, UserRole
    from helpline.security.actor import Actor
    from helpline.security.passwords import hash_password
    from helpline.services.agents import save_profile

    numbers = [*args.warm_up.split(","), *all_agents(args)]
    region = platform.models["region"]
    with session():
        cities = [r[0] for r in region.select(region._meta.fields["code"])
                  .where(region._meta.fields["level"] == "city").tuples()]
    digest = hash_password(PASSWORD)  # one scrypt hash for everybody (300 would take a while)
    with session(), write_transaction():
        existing = {u.username for u in User.select(User.username)}
        for number in numbers:
            name = f"bench{number}"
            if name in existing:
                continue
            User.create(username=name, password_hash=digest, regions=cities, display_name=f"Bench agent {number}",
                        language="en")
            UserRole.create(username=name, role="agent")
    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    for number in numbers:
        save_profile(admin, number, username=f"bench{number}", name=f"Bench {number}", endpoint=f"PJSIP/{number}",
                     skills={"general": 1}, auto_answer=False, wrap_up_s=args.wrap_up, active=True)
    customer = platform.models["customer"]
    fields = customer._meta.fields
    with session():
        phones = [r[0] for r in customer.select(fields["phone"]).where(
            fields["phone"].is_null(False), fields["value_tier"].not_in(["platinum", "diamond"]),
            fields["blacklisted"] == False).tuples()]  # noqa: E712 - peewee expression
    return phones


def desktops_present() -> int:
    from helpline.ui.views.desktop import _PRESENT

    return sum(len(clients) for clients in _PRESENT.values())


def place_calls(platform: Any, router: Any, phones: list[str], rate: float, seconds: float, unknown: float,
                seed: int) -> None:
    """Callers arrive (Poisson, ``rate`` per second) for ``seconds``; each runs through the IVR on its thread."""
    from telephony.ivr import IvrEngine
    from telephony.switch.simulated import SimulatedSwitch

    engine = IvrEngine(platform, router=router)
    rng = random.Random(seed)

    def one_call(number: str) -> None:
        try:
            switch = SimulatedSwitch("0", interactive=True, language="en")
            outcome = engine.run_call(switch, caller_number=number, dnid="96266", flow_name="main")
            result = outcome.result
        except Exception as exc:  # counted, the bench goes on
            logging.getLogger("bench").exception("call failed")
            result = f"error {type(exc).__name__}"
        with PROBE.lock:
            PROBE.outcomes[result] += 1
            PROBE.calls_running -= 1

    start = time.monotonic()
    at = start
    while not PROBE.stop.is_set():
        at += rng.expovariate(rate)
        if at - start > seconds:
            break
        PROBE.stop.wait(max(0.0, at - time.monotonic()))
        number = rng.choice(phones) if phones and rng.random() >= unknown else f"139{rng.randrange(10**8):08d}"
        with PROBE.lock:
            PROBE.calls_placed += 1
            PROBE.calls_running += 1
        threading.Thread(target=one_call, args=(number,), name="bench-caller", daemon=True).start()


def register_endpoints(platform: Any, args: argparse.Namespace, phones: list[str]) -> None:
    from fastapi.responses import JSONResponse, RedirectResponse, Response
    from nicegui import Client, app, background_tasks, run

    from helpline.services.auth import actor_for, find_user
    from helpline.ui import gc_tuning
    from helpline.ui import session as web_session

    web_session.OPEN_PATHS = (*web_session.OPEN_PATHS, "/_bench/")  # type: ignore[assignment]
    router, desk = platform.router, platform.desk

    @app.get("/_bench/login")
    def login(user: str) -> Response:
        found = find_user(user)
        if found is None:
            return JSONResponse({"ok": False}, status_code=404)
        return RedirectResponse(web_session.begin_sign_in(found, "/favicon.ico"), status_code=303)

    @app.get("/_bench/status")
    def status() -> dict[str, Any]:
        states: Counter[str] = Counter()
        for agent in router.do(lambda r: list(r.agents.values())):
            states[f"{agent.status}/{agent.state}"] += 1
        return {"desktops": desktops_present(), "clients": len(Client.instances), "offers": len(PROBE.offers),
                "shown": len(PROBE.shown), "sent": len(PROBE.sent), "placed": PROBE.calls_placed,
                "running": PROBE.calls_running, "outcomes": dict(PROBE.outcomes), "agents": dict(states),
                "waiting": router.do(lambda r: len(r.waiting)), "rss_mb": rss_mb(), "cpu_s": time.process_time()}

    @app.get("/_bench/memory")
    async def memory() -> dict[str, Any]:
        PROBE.manual_gc = True
        started = time.perf_counter()
        gc.collect()  # timed: what a full collection costs with this many objects (it stalls the process)
        full_gc_ms = (time.perf_counter() - started) * 1000
        PROBE.manual_gc = False
        desktops = [c for c in Client.instances.values() if c.page.path == "/desktop"]
        return {"rss_mb": rss_mb(), "desktops": desktops_present(), "clients": len(Client.instances),
                "elements_per_desktop": sum(len(c.elements) for c in desktops) / max(1, len(desktops)),
                "history_per_desktop": sum(len(c.outbox.message_history) for c in desktops) / max(1, len(desktops)),
                "gc_objects": len(gc.get_objects()) + gc.get_freeze_count(), "gc_frozen": gc.get_freeze_count(),
                "full_gc_ms": full_gc_ms, "gc_tuning": gc_tuning.stats(),
                "element_kinds": element_kinds(desktops)}

    @app.get("/_bench/diagnose")
    async def diagnose(thaw: bool = False) -> dict[str, Any]:
        """Where the memory is (diagnosis, ``--diagnose``): with ``--tracemalloc`` tracing starts at the first call
        and later calls give the Python memory grown since the previous one, by the innermost project frame that
        allocated it; with ``thaw`` what a thaw frees
        (garbage frozen by the tuning) and then what ``malloc_trim`` gives back to the system."""
        import ctypes
        import tracemalloc

        gc.collect()
        out: dict[str, Any] = {"rss_mb": rss_mb()}
        if args.tracemalloc and not tracemalloc.is_tracing():  # from the first call on (the start is slow enough)
            tracemalloc.start(args.tracemalloc)
        if tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot()
            if PROBE.snapshot is not None:
                by: Counter[str] = Counter()
                for stat in snapshot.compare_to(PROBE.snapshot, "traceback"):
                    where = "other"
                    for frame in reversed(stat.traceback):  # innermost first
                        if "/helpline/" in frame.filename or "/telephony/" in frame.filename:
                            where = f"{frame.filename.rsplit('/helpline/', 1)[-1]}:{frame.lineno}" \
                                if "/helpline/" in frame.filename else f"{frame.filename}:{frame.lineno}"
                            break
                    by[where] += stat.size_diff
                out["traced_growth_mb"] = sum(by.values()) / 2**20
                out["traced_growth_by"] = {k: round(v / 2**20, 3) for k, v in by.most_common(40)}
            PROBE.snapshot = snapshot
            out["traced_mb"] = tracemalloc.get_traced_memory()[0] / 2**20
        if thaw:
            frozen = gc.get_freeze_count()
            gc.unfreeze()
            out["thaw_collected"] = gc.collect()
            gc.freeze()
            out["frozen_before_after"] = [frozen, gc.get_freeze_count()]
            out["rss_after_thaw_mb"] = rss_mb()
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            out["rss_after_trim_mb"] = rss_mb()
        return out

    @app.post("/_bench/freeze")
    async def freeze() -> dict[str, Any]:
        PROBE.manual_gc = True
        gc.collect()
        PROBE.manual_gc = False
        gc.freeze()
        return {"frozen": gc.get_freeze_count()}

    @app.post("/_bench/ready")
    async def ready(start: int = 0, count: int = 0) -> dict[str, Any]:
        def sign_everybody_in() -> int:
            done = 0
            agents = own_agents(args)
            for number in agents[start:start + count] if count else agents[start:]:
                user = find_user(f"bench{number}")
                assert user is not None
                actor = actor_for(user, platform.metadata)
                desk.sign_in(actor)
                desk.ready(actor)
                done += 1
            return done

        return {"ready": await run.io_bound(sign_everybody_in)}

    @app.post("/_bench/calls")
    def calls(rate: float, seconds: float) -> dict[str, Any]:
        PROBE.stop.clear()
        PROBE.cpu_s["calls_start"] = time.process_time()
        PROBE.cpu_s["calls_start_wall"] = time.monotonic()
        PROBE.messages.clear()
        PROBE.scripts.clear()
        PROBE.count_messages = True
        threading.Thread(target=place_calls, args=(platform, router, phones, rate, seconds, args.unknown, 7),
                         name="bench-arrivals", daemon=True).start()
        return {"started": True}

    @app.post("/_bench/stop")
    def stop() -> dict[str, Any]:
        PROBE.stop.set()
        PROBE.count_messages = False
        PROBE.cpu_s["calls_end"] = time.process_time()
        PROBE.cpu_s["calls_end_wall"] = time.monotonic()
        return {"stopped": True}

    @app.get("/_bench/results")
    def results() -> dict[str, Any]:
        with PROBE.lock:
            offers = dict(PROBE.offers)
        return {
            "offers": {str(k): v for k, v in offers.items()},
            "shown": {str(k): v for k, v in PROBE.shown.items()},
            "sent": {str(k): v for k, v in PROBE.sent.items()},
            "built": {str(k): v for k, v in PROBE.built.items()},
            "loads": {str(k): v for k, v in PROBE.loads.items()},
            "emitting": {str(k): v for k, v in PROBE.emitting.items()}, "gc_ms": PROBE.gc_ms,
            "outcomes": dict(PROBE.outcomes), "placed": PROBE.calls_placed,
            "lag_ms": PROBE.lag_ms, "messages": dict(PROBE.messages),
            "scripts": dict(PROBE.scripts.most_common(10)), "stalls": dict(PROBE.stalls.most_common(15)),
            "cpu_s": PROBE.cpu_s,
        }

    app.on_startup(lambda: background_tasks.create(measure_lag(), name="bench loop lag"))
    if args.stalls:
        def start_watch() -> None:
            background_tasks.create(heartbeat(), name="bench heartbeat")
            threading.Thread(target=watch_stalls, args=(threading.get_ident(), args.stalls), daemon=True,
                             name="bench-stalls").start()

        app.on_startup(start_watch)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", required=True, help="database URL (a scratch SQLite file)")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--desktops", type=int, default=300, help="desktops connecting to this server")
    p.add_argument("--first", type=int, default=0, help="this server's first agent (5000 + FIRST)")
    p.add_argument("--agents", type=int, default=0, help="bench agents made in all (default: FIRST + DESKTOPS)")
    p.add_argument("--warm-up", default=WARM_UP_NUMBER,
                   help="the warm-up agents' numbers, comma-separated (every server's, made by the first)")
    p.add_argument("--cluster", default="", metavar="INSTANCE",
                   help="cluster mode (HELPLINE_CLUSTER=on, PostgreSQL): this server's instance id")
    p.add_argument("--demo-customers", type=int, default=2000)
    p.add_argument("--wrap-up", type=float, default=3.0, help="the bench agents' wrap-up time, s")
    p.add_argument("--talk", type=float, nargs=2, default=(3.0, 8.0), metavar=("MIN", "MAX"),
                   help="talk time of a call, uniform, s")
    p.add_argument("--unknown", type=float, default=0.3, help="share of callers who are no customer")
    p.add_argument("--gc-threshold", type=int, nargs=3, metavar=("G0", "G1", "G2"),
                   help="experiment: gc.set_threshold(G0, G1, G2) at start (Python's default: 700 10 10)")
    p.add_argument("--no-gc-tuning", action="store_true",
                   help="experiment: without helpline.ui.gc_tuning (what serve() applies: freeze the pages' objects, "
                        "thaw and collect them when pages were closed)")
    p.add_argument("--no-desk-timer", action="store_true",
                   help="experiment: the desktops' shared one-second tick does nothing (no clocks' text, no 5 s "
                        "refresh)")
    p.add_argument("--stalls", type=float, default=0.0, metavar="S",
                   help="sample the event loop's stack while it has not run for S seconds (diagnosis)")
    p.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES",
                   help="diagnosis: trace Python allocations (this many frames) for /_bench/diagnose (slow)")
    args = p.parse_args(argv)

    from helpline.cli.common import start_platform, start_router
    from helpline.config import Settings
    from helpline.demo.generator import seed_demo
    from helpline.services.auth import ensure_bootstrap_users
    from helpline.ui.app import serve
    from telephony.switch.phones import PHONES

    if args.gc_threshold:
        gc.set_threshold(*args.gc_threshold)
    settings = Settings.from_env({})
    settings.db, settings.port, settings.host = args.db, args.port, "127.0.0.1"
    if args.cluster:  # one of several servers on one PostgreSQL database, sharing the router
        settings.cluster, settings.instance_id = "on", args.cluster
    settings.metadata = str(ROOT / "metadata")
    settings.storage_secret = "helpline bench desktops"
    platform = start_platform(settings)
    if platform is None:
        return 1
    logging.getLogger().setLevel(logging.WARNING)
    seed_demo(platform, args.demo_customers)
    from helpline.data.text_tokens import value_terms

    # The text tokenizer's dictionary (jieba, ≈ 80 MB a process) before the baseline: a one-off of the process that
    # its first search or save pays — the first server's seeding did, another server's first pop did inside the
    # figure after the calls (+95 MB on one of two servers at 500 desktops: 190 KB "per desktop").
    value_terms("长沙市天心区芙蓉路光缆中断")
    ensure_bootstrap_users(demo=True, environ={"HELPLINE_ADMIN_PASSWORD": PASSWORD,
                                               "HELPLINE_DEMO_PASSWORD": PASSWORD})
    phones = prepare(platform, args)
    router = start_router(platform, settings)
    if router is None:
        return 1
    for number in [*args.warm_up.split(","), *all_agents(args)]:
        phone = PHONES.phone(f"PJSIP/{number}")
        phone.auto_answer, phone.talk_s = True, args.talk[0]
    PROBE.talk = (args.talk[0], args.talk[1])
    install_probes(router)
    if args.no_desk_timer:
        from helpline.ui.views.desktop import Desktop

        Desktop.tick = lambda self: None  # type: ignore[method-assign]
    if args.no_gc_tuning:
        from helpline.ui import gc_tuning

        gc_tuning.install = lambda: None  # type: ignore[assignment]
    watch_gc()
    register_endpoints(platform, args, phones)
    print(f"bench server: {len(phones)} caller numbers, {args.desktops} agents, port {args.port}", flush=True)
    serve(settings, platform)
    return 0


if __name__ in {"__main__", "__mp_main__"}:
    sys.exit(main())
