"""Agent desktops: N desktops connected to one server process while calls flow — server memory per desktop and
the time from the router's decision to the screen-pop.

Run from the repository root (about 5 minutes for 300 desktops)::

    PYTHONPATH=. python bench/bench_desktops.py [--desktops 300] [--seconds 120] [--rate 3] [--json FILE]
    PYTHONPATH=. python bench/bench_desktops.py --instances 2 --pg-server postgresql://postgres@HOST:PORT/postgres \
        --desktops 500

**Several servers** (``--instances N``, with ``--pg-server``): N server processes in cluster mode
(``HELPLINE_CLUSTER=on``) on a scratch database of that PostgreSQL server (dropped at the end), started one
after the other (the first makes every agent and leads); the desktops split evenly over them (server i has a
warm-up agent ``4999 - i``) and callers arrive at every server (``--rate`` / N each), so a caller on one server
is offered to an agent whose desktop is on another. Memory per desktop is the servers' summed growth over all
desktops; a call's decision time is when the first server learnt it, its pop is measured on the agent's server.
The agents go ready ten of each server in turn (``--ready-order interleaved``), as agents signing in through a
sticky proxy mix over the instances: the router offers a call to the agent idle longest, so with every agent of
server 0 ready first (``--ready-order by-server``, the only order before 2026-12-07 21:30) server 0 took the first
≈ 250 of the 358 calls — one process's load, 3 calls a second on 250 desktops — and server 1 the rest.

**The server** (``bench/_desktops_server.py``, a child process killed by its PID at the end, whatever happens):
the platform, the live router, the desk service on the simulated phones and the NiceGUI web UI in one
process, built as ``run.py serve`` builds them, on a scratch SQLite database (a temporary directory, removed
unless ``--keep``) with the demo metadata and 2,000 demo customers; N agent users ``bench5000`` … with profiles
``5000`` … (skills ``general: 1``, ``PJSIP/5xxx``, auto-answer off in the profile) and one warm-up agent
``bench4999`` that never takes calls.

**The desktops** (this process) connect as a browser does, over NiceGUI's own protocol: an HTTP session signs
in (``GET /_bench/login``, a bench-only endpoint doing what the login form does after the password check:
``helpline.ui.session.begin_sign_in``, whose ``/login/complete`` gives the browser its session cookie),
``GET /desktop`` with the session cookie renders the page, the client id and first message id are read from the
page, and a ``socketio.AsyncClient``
(websocket transport, aiohttp) connects to ``/_nicegui_ws/socket.io`` with the query NiceGUI's ``nicegui.js``
sends (``client_id``, ``next_message_id``, ``implicit_handshake=true``, ``document_id``, ``tab_id``). The server
accepts the handshake, the desktop's start-up runs (agent lookup, toolbar, counters, work area, the router told
the agent's desktop is connected), and from then on each client receives the ``update`` /
``run_javascript`` / ``notify`` messages, answers ``run_javascript`` with ``javascript_response`` and
acknowledges what it received every 3 s (``ack``), as ``nicegui.js`` does. Nothing is rendered. A dropped
socket is handled as the browser does: reconnect after 0.5–1.5 s with the same client id, and load the page
again if the server has deleted that client meanwhile (counted: dropped / resumed / reloaded / lost).

**Calls.** Every bench agent signs in and goes ready through ``DeskService`` (``POST /_bench/ready``); then
callers arrive for ``--seconds`` (Poisson, ``--rate`` per second; 70 % known customers other than platinum and
diamond, 30 % unknown mobiles) and run through the ``main`` IVR flow on the simulated switch, pressing 0 for
an agent (queue ``general``). The agents' simulated phones pick up at once and hang up after a talk time
uniform in ``--talk`` (default 3–8 s); wrap-up ``--wrap-up`` s (default 3). The only click: ``--file-after``
seconds into wrap-up (default 1) each agent files the call's contact record with the desktop's file button (a
socket ``event``, as a browser sends it); with ``--no-file`` nobody files, and the desktop opens every unfiled
record as one more tab on the next call.

**Figures.**

* *Memory per desktop*: the server's resident memory (``/proc/self/statm``, after ``gc.collect()``) with the
  warm-up desktop connected (imports, caches and the first page paid), and again after the N desktops
  connected, started and stayed idle for ``--idle`` seconds: (after − before) / N. Once more after the calls
  (a desktop releases its call's pop and contact record once the call is finished and the record filed, so
  this is the idle desktops plus what the calls left: the process's caches, the callers' threads, memory the
  allocator keeps from the busiest moment; an upper bound). Also: elements and garbage-collector objects per desktop,
  and what one full collection costs.
* *Router decision → screen-pop*: for every call offered to an agent, from the router's ``Offer`` (when the
  server's subscriber got it, ``time.monotonic``; with several servers the first of them) to the moment
  NiceGUI's outbox of that agent's desktop has handed the ``update`` message carrying the pop's customer strip
  (caller number, serial number, name, tier) to the
  socket (``sio.emit`` returned) — **sent**, measured in the server. Also to the moment this process
  *received* a message holding the call's serial number on that desktop's socket — **received**, an upper
  bound (includes the websocket and this process's own load; ``time.monotonic`` is system-wide on Linux, so the
  two processes share the clock). The steps before: the strip built (the pop's data loaded on a worker thread,
  ``CallPanel.show_strip`` done), the whole pop built (``CallPanel.show`` done), the outbox starting to emit.
* Context: server CPU idle and during the calls (% of one core), event-loop lag (how late a 100 ms sleep
  wakes), garbage collections per minute and their pauses (``gc.callbacks``) idle and during the calls,
  messages per desktop per second, call outcomes.

Diagnosis options: ``--stalls S`` samples where the server's event loop is while it has not run for S seconds;
``--gc-threshold G0 G1 G2`` and ``--gc-freeze`` try the server with other garbage-collector settings;
``--no-desk-timer`` makes the desktops' shared one-second tick do nothing (to see what it costs);
``--no-gc-tuning`` runs the server without ``helpline.ui.gc_tuning`` (which ``serve()`` applies: the pages'
objects frozen, full collections walking only what is new; the tracked-object counts include the frozen ones).

Targets: memory < 1 MB per desktop (connected, and after the calls: issue 22 asks it with calls flowing), p95
decision → pop sent < 200 ms; the exit status is 1 when one is missed or a pop, a socket or a call failed. The
desktop clients run in this process on the same cores: its CPU during the calls is printed ("this process").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from _desktop_client import Desktop
from _desktops_report import failures, gc_figures, merge, pop_latencies, show, summary
from _pg import drop_database, throwaway_database

ROOT = Path(__file__).resolve().parent.parent
SERVER = Path(__file__).resolve().parent / "_desktops_server.py"
WARM_UP = "4999"
READY_CHUNK = 10
"""With several servers, agents go ready this many of each server in turn (``--ready-order interleaved``)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The child process (see the module docstring); :meth:`stop` kills it by its PID."""

    def __init__(self, args: argparse.Namespace, workdir: Path, index: int = 0, first: int = 0,
                 desktops: int | None = None) -> None:
        self.port = (args.port + index if args.port else 0) or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"server{index or ''}.log"
        self.first, self.desktops, self.warm_up = first, args.desktops if desktops is None else desktops, \
            str(int(WARM_UP) - index)
        cmd = [sys.executable, str(SERVER), "--db", args.db_url or f"sqlite:///{workdir / 'b.db'}", "--port",
               str(self.port), "--desktops", str(self.desktops), "--first", str(first), "--agents",
               str(args.desktops), "--warm-up", ",".join(str(int(WARM_UP) - i) for i in range(args.instances)),
               "--demo-customers", str(args.demo_customers),
               "--wrap-up", str(args.wrap_up), "--talk", str(args.talk[0]), str(args.talk[1]),
               "--unknown", str(args.unknown), "--stalls", str(args.stalls)]
        if args.gc_threshold:
            cmd += ["--gc-threshold", *map(str, args.gc_threshold)]
        if args.no_desk_timer:
            cmd.append("--no-desk-timer")
        if args.no_gc_tuning:
            cmd.append("--no-gc-tuning")
        if args.tracemalloc:
            cmd += ["--tracemalloc", str(args.tracemalloc)]
        if args.instances > 1:
            cmd += ["--cluster", f"bench-{index}"]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep))
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        self.http: aiohttp.ClientSession | None = None

    async def wait_ready(self, timeout: float) -> None:
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}); see {self.log}")
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with self.http.get(f"{self.base}/healthz") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s; see {self.log}")

    async def get(self, path: str, **params: Any) -> Any:
        assert self.http is not None
        async with self.http.get(f"{self.base}{path}", params=params) as r:
            r.raise_for_status()
            return await r.json()

    async def post(self, path: str, **params: Any) -> Any:
        assert self.http is not None
        async with self.http.post(f"{self.base}{path}", params=params) as r:
            r.raise_for_status()
            return await r.json()

    async def wait_for(self, what: str, check: Any, timeout: float, every: float = 1.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status: dict[str, Any] = await self.get("/_bench/status")
            if check(status):
                return status
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}: {status}")
            await asyncio.sleep(every)

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def ack_loop(desktops: list[Desktop]) -> None:
    while True:
        await asyncio.sleep(3)
        await asyncio.gather(*(d.ack() for d in desktops), return_exceptions=True)


async def connect_all(desktops: list[Desktop], concurrency: int) -> tuple[list[float], list[Desktop]]:
    """Open every desktop, ``concurrency`` at a time, each tried three times; returns each one's open time in ms
    and the desktops that could not open (a failure of the bench)."""
    gate = asyncio.Semaphore(concurrency)
    times: list[float] = []
    failed: list[Desktop] = []

    async def one(desktop: Desktop) -> None:
        async with gate:
            for attempt in range(3):
                start = time.monotonic()
                try:
                    await desktop.open()
                except (TimeoutError, aiohttp.ClientError, RuntimeError, socketio.exceptions.ConnectionError) as exc:
                    log(f"desktop {desktop.agent}: {type(exc).__name__} {exc} (attempt {attempt + 1})")
                    if desktop.http is not None:
                        await desktop.http.close()
                    continue
                times.append((time.monotonic() - start) * 1000)
                return
            failed.append(desktop)

    await asyncio.gather(*(one(d) for d in desktops))
    return times, failed


def sockets(desktops: list[Desktop]) -> dict[str, int]:
    """Socket drops and what became of them, summed over the desktops."""
    return {key: sum(getattr(d, key) for d in desktops) for key in ("disconnects", "reconnects", "reloads", "failures")}


async def drain(server: Server, quiet: float) -> None:
    """Wait until no call is in progress; give up when none has ended for ``quiet`` seconds."""
    last, since = -1, time.monotonic()
    while True:
        status = await server.get("/_bench/status")
        if status["running"] == 0:
            return
        if status["running"] != last:
            last, since = status["running"], time.monotonic()
        elif time.monotonic() - since > quiet:
            raise RuntimeError(f"calls stopped ending: {status}")
        await asyncio.sleep(2)


def rss_text(memory: list[dict[str, Any]]) -> str:
    return " + ".join(f"{m['rss_mb']:.1f}" for m in memory)


async def start_servers(args: argparse.Namespace, workdir: Path, servers: list[Server]) -> None:
    """The servers (into ``servers`` as each starts, to be stopped whatever happens), one after the other: the
    first migrates, fills the database and makes every agent (with several, it leads and loads the agents into
    the router's log); the desktops split evenly."""
    n = args.instances
    counts = [args.desktops // n + (1 if i < args.desktops % n else 0) for i in range(n)]
    for i in range(n):
        server = Server(args, workdir, i, sum(counts[:i]), counts[i])
        servers.append(server)
        log(f"server {i} pid {server.process.pid} on port {server.port}, log {server.log}")
        await server.wait_ready(args.start_timeout)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="helpline-bench-desktops-"))
    database = ""
    if args.pg_server:
        args.db_url, database = throwaway_database(args.pg_server, "bench_desktops")
    servers: list[Server] = []
    file_after = None if args.no_file else args.file_after
    desktops: list[Desktop] = []
    warm: list[Desktop] = []
    acker: asyncio.Task[None] | None = None
    report: dict[str, Any] = {"desktops": args.desktops, "instances": args.instances, "seconds": args.seconds,
                              "rate": args.rate, "gc_freeze": args.gc_freeze, "gc_threshold": args.gc_threshold,
                              "no_desk_timer": args.no_desk_timer, "no_gc_tuning": args.no_gc_tuning,
                              "talk_s": list(args.talk), "wrap_up_s": args.wrap_up, "cpus": os.cpu_count(),
                              "database": "postgresql" if args.db_url else "sqlite"}
    try:
        await start_servers(args, workdir, servers)
        desktops = [Desktop(str(5000 + s.first + i), s.base, file_after, args.timeout)
                    for s in servers for i in range(s.desktops)]
        warm = [Desktop(s.warm_up, s.base, file_after, args.timeout) for s in servers]
        started = [await s.get("/_bench/memory") for s in servers]
        report["rss_server_started_mb"] = sum(m["rss_mb"] for m in started)
        acker = asyncio.create_task(ack_loop([*warm, *desktops]))

        for server, desk in zip(servers, warm, strict=True):
            await desk.open()
            await server.wait_for("the warm-up desktop", lambda s: s["desktops"] >= 1, args.timeout)
        await asyncio.sleep(args.settle)
        before = [await s.get("/_bench/memory") for s in servers]
        log(f"warm-up desktops connected: RSS {rss_text(before)} MB")

        t0 = time.monotonic()
        open_ms, failed = await connect_all(desktops, args.concurrency)
        for server in servers:
            n = server.desktops - sum(1 for d in failed if d.base == server.base)
            await server.wait_for(f"{n} desktops", lambda s, n=n: s["desktops"] >= n + 1, args.timeout + args.desktops)
        connect_s = time.monotonic() - t0
        log(f"{args.desktops} desktops connected to {len(servers)} server(s) in {connect_s:.1f} s")
        await asyncio.sleep(args.settle)
        counted = sum(d.total() for d in desktops)
        idle_window = args.idle
        t_idle = time.monotonic()
        cpu_idle = [(await s.get("/_bench/status"))["cpu_s"] for s in servers]
        await asyncio.sleep(idle_window)
        cpu_now = [(await s.get("/_bench/status"))["cpu_s"] for s in servers]
        report["server_cpu_pct_idle"] = sum(b - a for a, b in zip(cpu_idle, cpu_now, strict=True)) / idle_window * 100
        idle_rate = (sum(d.total() for d in desktops) - counted) / args.desktops / idle_window
        windows = {"idle": (t_idle, time.monotonic())}
        after = [await s.get("/_bench/memory") for s in servers]
        grown_mb = sum(a["rss_mb"] - b["rss_mb"] for a, b in zip(after, before, strict=True))
        per_desktop_kb = grown_mb * 1024 / args.desktops
        elements = sum(a["elements_per_desktop"] * s.desktops for a, s in zip(after, servers, strict=True))
        log(f"RSS {rss_text(after)} MB: {per_desktop_kb:.0f} KB per desktop; "
            f"{elements / args.desktops:.0f} elements each; {idle_rate:.2f} messages/s per idle desktop")
        report["sockets"] = {"connecting_and_idle": sockets(desktops)}
        report["memory"] = {"rss_before_mb": sum(m["rss_mb"] for m in before),
                            "rss_after_connect_mb": sum(m["rss_mb"] for m in after),
                            "per_desktop_kb": per_desktop_kb,
                            "per_desktop_kb_by_server": [(a["rss_mb"] - b["rss_mb"]) * 1024 / max(1, s.desktops)
                                                         for a, b, s in zip(after, before, servers, strict=True)],
                            "elements_per_desktop": elements / args.desktops,
                            "history_per_desktop": after[0]["history_per_desktop"],
                            "gc_objects_before": sum(m["gc_objects"] for m in before),
                            "gc_objects_after_connect": sum(m["gc_objects"] for m in after),
                            "full_gc_ms_before": max(m["full_gc_ms"] for m in before),
                            "full_gc_ms_after_connect": max(m["full_gc_ms"] for m in after),
                            "element_kinds_connected": after[0]["element_kinds"]}
        report["connect"] = {"seconds": connect_s, "open_ms": summary(open_ms), "failed": len(failed)}
        report["idle_messages_per_desktop_s"] = idle_rate

        if args.diagnose:
            report["diagnose"] = {"connected": [await s.get("/_bench/diagnose") for s in servers]}
        if args.gc_freeze:
            for server in servers:
                await server.post("/_bench/freeze")
        ready = 0
        if args.ready_order == "by-server":  # every agent of server 0, then of server 1 ...: server 0's idle longest
            ready = sum([(await s.post("/_bench/ready"))["ready"] for s in servers])
        else:  # READY_CHUNK agents of each server in turn: the router's longest-idle order alternates between them
            for start in range(0, -(-args.desktops // len(servers)), READY_CHUNK):
                for server in servers:
                    ready += (await server.post("/_bench/ready", start=start, count=READY_CHUNK))["ready"]
        await servers[0].wait_for("agents ready", lambda s: s["agents"].get("ready/idle", 0) >= args.desktops, 60)
        log(f"{ready} agents signed in and ready; calls for {args.seconds:.0f} s at {args.rate:g}/s")
        counted = sum(d.total() for d in desktops)
        t_calls, client_cpu = time.monotonic(), time.process_time()
        before_calls = sockets(desktops)
        for server in servers:  # the callers arrive at every server (as Asterisk spreads them over FastAGI hosts)
            await server.post("/_bench/calls", rate=args.rate / len(servers), seconds=args.seconds)
        while time.monotonic() - t_calls < args.seconds:
            await asyncio.sleep(min(10.0, args.seconds - (time.monotonic() - t_calls)))
            for i, server in enumerate(servers):
                s = await server.get("/_bench/status")
                log(f"server {i}: placed {s['placed']}, in progress {s['running']}, waiting {s['waiting']}, "
                    f"offers {s['offers']}, pops sent {s['sent']}, RSS {s['rss_mb']:.0f} MB, agents {s['agents']}")
        for server in servers:
            await server.post("/_bench/stop")
        calls_window = time.monotonic() - t_calls
        windows["calls"] = (t_calls, time.monotonic())
        report["client_cpu_pct_during_calls"] = (time.process_time() - client_cpu) / calls_window * 100
        received_rate = (sum(d.total() for d in desktops) - counted) / args.desktops / calls_window
        for server in servers:
            await drain(server, args.talk[1] + args.wrap_up + 30)
        await asyncio.sleep(args.settle)
        results = merge([await s.get("/_bench/results") for s in servers])
        report["sockets"]["calls"] = {k: v - before_calls[k] for k, v in sockets(desktops).items()}
        report["contact_records_filed"] = sum(d.filed for d in desktops)
        end = [await s.get("/_bench/memory") for s in servers]  # last: its full collection stalls for ~1-2 s
        report["memory"]["rss_after_calls_mb"] = sum(m["rss_mb"] for m in end)
        report["memory"]["per_desktop_after_calls_kb"] = sum(
            e["rss_mb"] - b["rss_mb"] for e, b in zip(end, before, strict=True)) * 1024 / args.desktops
        report["memory"]["elements_per_desktop_after_calls"] = sum(
            e["elements_per_desktop"] * s.desktops for e, s in zip(end, servers, strict=True)) / args.desktops
        report["memory"]["gc_objects_after_calls"] = sum(m["gc_objects"] for m in end)
        report["memory"]["full_gc_ms_after_calls"] = max(m["full_gc_ms"] for m in end)
        report["memory"]["element_kinds_after_calls"] = end[0]["element_kinds"]
        report["memory"]["gc_frozen_after_calls"] = sum(m.get("gc_frozen", 0) for m in end)
        report["gc_tuning"] = end[0].get("gc_tuning", {})
        if args.diagnose:
            report["diagnose"]["after_calls"] = [await s.get("/_bench/diagnose", thaw="true") for s in servers]
        report["pop"] = pop_latencies(results, {d.agent: d for d in desktops})
        report["server_cpu_pct_during_calls"] = sum((c["calls_end"] - c["calls_start"]) / (
            c["calls_end_wall"] - c["calls_start_wall"]) for c in results["cpu_s"]) * 100
        report["loop_lag_ms"] = {name: summary([ms for at, ms in results["lag_ms"] if start <= at <= stop])
                                 for name, (start, stop) in windows.items()}
        report["gc"] = {name: gc_figures(results["gc_ms"], *window) for name, window in windows.items()}
        report["calls"] = {"placed": results["placed"], "outcomes": dict(results["outcomes"]),
                           "calls_per_s": results["placed"] / args.seconds}
        wall = results["cpu_s"][0]["calls_end_wall"] - results["cpu_s"][0]["calls_start_wall"]
        report["messages_per_desktop_s_during_calls"] = {
            "sent_by_server": sum(results["messages"].values()) / (args.desktops + len(servers)) / wall,
            "received": received_rate, "by_type": dict(results["messages"]),
            "scripts": dict(results["scripts"].most_common(10))}
        if results["stalls"]:
            report["stalls"] = dict(results["stalls"].most_common(15))
        return report
    finally:
        if acker is not None:
            acker.cancel()
        await asyncio.gather(*(d.close() for d in [*warm, *desktops]), return_exceptions=True)
        for server in servers:
            await server.stop()
        if database:
            drop_database(args.pg_server, database)
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--desktops", type=int, default=300, help="desktops to connect (default %(default)s)")
    p.add_argument("--seconds", type=float, default=120.0, help="seconds of call arrivals (default %(default)s)")
    p.add_argument("--rate", type=float, default=3.0, help="calls per second, Poisson (default %(default)s)")
    p.add_argument("--talk", type=float, nargs=2, default=(3.0, 8.0), metavar=("MIN", "MAX"),
                   help="talk time, uniform, s (default 3 8)")
    p.add_argument("--wrap-up", type=float, default=3.0, help="wrap-up time, s (default %(default)s)")
    p.add_argument("--unknown", type=float, default=0.3, help="share of unknown callers (default %(default)s)")
    p.add_argument("--demo-customers", type=int, default=2000, help="demo customers (default %(default)s)")
    p.add_argument("--file-after", type=float, default=1.0,
                   help="the agent files the contact record this many seconds into wrap-up (default %(default)s)")
    p.add_argument("--no-file", action="store_true",
                   help="agents never file: each call's unfiled record opens as one more tab on the next call")
    p.add_argument("--concurrency", type=int, default=8, help="desktops opening at once (default %(default)s)")
    p.add_argument("--settle", type=float, default=5.0, help="seconds to wait before a memory reading")
    p.add_argument("--timeout", type=float, default=60.0, help="timeout of one desktop's sign-in and connect, s")
    p.add_argument("--start-timeout", type=float, default=300.0, help="timeout of the server's start, s")
    p.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    p.add_argument("--stalls", type=float, default=0.0, metavar="S",
                   help="diagnosis: sample where the server's event loop is while it has not run for S s "
                        "(e.g. 0.05); adds a 10 ms heartbeat to the server")
    p.add_argument("--idle", type=float, default=30.0,
                   help="seconds the connected desktops stay idle before the calls (idle figures; default 30)")
    p.add_argument("--gc-threshold", type=int, nargs=3, metavar=("G0", "G1", "G2"),
                   help="experiment: gc.set_threshold(G0, G1, G2) in the server (Python's default: 700 10 10)")
    p.add_argument("--no-desk-timer", action="store_true",
                   help="experiment: the desktops' shared one-second tick (clocks' text, 5 s refresh) does nothing")
    p.add_argument("--no-gc-tuning", action="store_true",
                   help="experiment: the server without helpline.ui.gc_tuning (which serve() applies)")
    p.add_argument("--gc-freeze", action="store_true",
                   help="experiment: gc.freeze() in the server once the desktops are connected (their objects are "
                        "then skipped by full garbage collections)")
    p.add_argument("--diagnose", action="store_true",
                   help="diagnosis: after the connected and the after-calls readings, where the memory is (the "
                        "Python memory traced with --tracemalloc, what a thaw and malloc_trim give back)")
    p.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES",
                   help="diagnosis: trace the server's Python allocations with this many frames (slow)")
    p.add_argument("--ready-order", choices=["interleaved", "by-server"], default="interleaved",
                   help="with several servers: agents go ready 10 of each server in turn (default), or every agent "
                        "of the first server first (the router, offering the longest-idle agent, then pops the first "
                        "~250 calls all on server 0: one process's load, the figures before 2026-12-07 21:30)")
    p.add_argument("--instances", type=int, default=1,
                   help="server processes sharing the desktops and the calls (> 1: cluster mode on --pg-server)")
    p.add_argument("--pg-server", metavar="URL", default="",
                   help="a PostgreSQL server (postgresql://user@host:port/postgres): a scratch database on it, "
                        "dropped at the end, instead of SQLite; needed with --instances > 1")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory (database, server log)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    args.db_url = ""
    if args.instances > 1 and not args.pg_server:
        p.error("--instances > 1 needs --pg-server (the instances share the router on PostgreSQL)")
    report = asyncio.run(run(args))
    show(report)
    for when, readings in report.get("diagnose", {}).items():
        for i, reading in enumerate(readings):
            print(f"diagnose, server {i}, {when}: " + json.dumps(reading, indent=1))
    report["failures"] = failures(report)
    for failure in report["failures"]:
        print(f"FAILED: {failure}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
