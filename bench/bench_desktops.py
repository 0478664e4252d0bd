"""Agent desktops: N desktops connected to one server process while calls flow — server memory per desktop and
the time from the router's decision to the screen-pop.

Run from the repository root (about 5 minutes for 300 desktops)::

    PYTHONPATH=. python bench/bench_desktops.py [--desktops 300] [--seconds 120] [--rate 3] [--json FILE]

**The server** (``bench/_desktops_server.py``, a child process killed by its PID at the end, whatever happens):
the platform, the live router, the desk service on the simulated phones and the NiceGUI web UI in one
process, built as ``run.py serve`` builds them, on a scratch SQLite database (a temporary directory, removed
unless ``--keep``) with the demo metadata and 2,000 demo customers; N agent users ``bench5000`` … with profiles
``5000`` … (skills ``general: 1``, ``PJSIP/5xxx``, auto-answer off in the profile) and one warm-up agent
``bench4999`` that never takes calls.

**The desktops** (this process) connect as a browser does, over NiceGUI's own protocol: an HTTP session signs
in (``GET /_bench/login``, a bench-only endpoint doing what the login form does after the password check:
``helpline.ui.session.sign_in`` for the browser session's cookie), ``GET /desktop`` with the session cookie
renders the page, the client id and first message id are read from the page, and a ``socketio.AsyncClient``
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
  (every desktop then also shows a pop and a contact record; this growth includes the process's caches and
  the callers' threads, so it is an upper bound). Also: elements and garbage-collector objects per desktop,
  and what one full collection costs.
* *Router decision → screen-pop*: for every call offered to an agent, from the router's ``Offer`` (its
  timestamp ``Offer.at``, ``time.monotonic``) to the moment NiceGUI's outbox of that agent's desktop has handed
  the ``update`` message carrying the pop's customer strip (caller number, serial number, name, tier) to the
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

Targets: memory < 1 MB per desktop, p95 decision → pop sent < 200 ms.
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
from _desktop_client import Desktop

ROOT = Path(__file__).resolve().parent.parent
SERVER = Path(__file__).resolve().parent / "_desktops_server.py"
WARM_UP = "4999"


def pct(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (nan when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(values_ms: list[float]) -> dict[str, float]:
    return {"n": len(values_ms), "p50": pct(values_ms, 50), "p95": pct(values_ms, 95), "p99": pct(values_ms, 99),
            "max": max(values_ms) if values_ms else float("nan"),
            "mean": sum(values_ms) / len(values_ms) if values_ms else float("nan")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The child process (see the module docstring); :meth:`stop` kills it by its PID."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.port = args.port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "server.log"
        cmd = [sys.executable, str(SERVER), "--db", f"sqlite:///{workdir / 'b.db'}", "--port", str(self.port),
               "--desktops", str(args.desktops), "--demo-customers", str(args.demo_customers),
               "--wrap-up", str(args.wrap_up), "--talk", str(args.talk[0]), str(args.talk[1]),
               "--unknown", str(args.unknown), "--stalls", str(args.stalls)]
        if args.gc_threshold:
            cmd += ["--gc-threshold", *map(str, args.gc_threshold)]
        if args.no_desk_timer:
            cmd.append("--no-desk-timer")
        if args.no_gc_tuning:
            cmd.append("--no-gc-tuning")
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


async def connect_all(desktops: list[Desktop], concurrency: int) -> list[float]:
    """Open every desktop, ``concurrency`` at a time; returns each one's open time in ms."""
    gate = asyncio.Semaphore(concurrency)
    times: list[float] = []

    async def one(desktop: Desktop) -> None:
        async with gate:
            start = time.monotonic()
            await desktop.open()
            times.append((time.monotonic() - start) * 1000)

    await asyncio.gather(*(one(d) for d in desktops))
    return times


def pop_latencies(results: dict[str, Any], by_agent: dict[str, Desktop]) -> dict[str, Any]:
    offers, shown, sent = results["offers"], results["shown"], results["sent"]
    built, emitting, loads = results["built"], results["emitting"], results.get("loads", {})
    load_start_ms, load_end_ms, rendered_ms, built_ms, emitting_ms, sent_ms, received_ms = [], [], [], [], [], [], []
    missing_sent = missing_received = 0
    for call_id, (offer_at, agent) in offers.items():
        if call_id not in shown:
            continue
        shown_at, serial, _ = shown[call_id]
        if call_id in loads:
            load_start_ms.append((loads[call_id][0] - offer_at) * 1000)
            load_end_ms.append((loads[call_id][1] - offer_at) * 1000)
        rendered_ms.append((shown_at - offer_at) * 1000)
        if call_id in built:
            built_ms.append((built[call_id] - offer_at) * 1000)
        if call_id in emitting:
            emitting_ms.append((emitting[call_id] - offer_at) * 1000)
        if call_id in sent:
            sent_ms.append((sent[call_id] - offer_at) * 1000)
        else:
            missing_sent += 1
        desktop = by_agent.get(agent)
        got = desktop.serials.get(serial) if desktop is not None else None
        if got is not None:
            received_ms.append((got - offer_at) * 1000)
        else:
            missing_received += 1
    return {"offers": len(offers), "pops_rendered": len(rendered_ms), "pops_without_sent": missing_sent,
            "pops_not_received": missing_received,
            "load_start": summary(load_start_ms), "load_end": summary(load_end_ms), "rendered": summary(rendered_ms),
            "built": summary(built_ms),
            "emitting": summary(emitting_ms), "sent": summary(sent_ms), "received": summary(received_ms)}


def gc_figures(samples: list[list[float]], start: float, end: float) -> dict[str, Any]:
    """Collections per minute by generation, full-collection pauses, and the share of time collecting."""
    inside = [(int(gen), ms) for at, gen, ms in samples if start <= at <= end]
    minutes = max(1e-9, end - start) / 60
    return {"per_minute": [sum(1 for gen, _ in inside if gen == g) / minutes for g in (0, 1, 2)],
            "gen2": summary([ms for gen, ms in inside if gen == 2]),
            "paused_pct": sum(ms for _, ms in inside) / 1000 / max(1e-9, end - start) * 100}


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


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="helpline-bench-desktops-"))
    server = Server(args, workdir)
    file_after = None if args.no_file else args.file_after
    desktops = [Desktop(str(5000 + i), server.base, file_after, args.timeout) for i in range(args.desktops)]
    warm = Desktop(WARM_UP, server.base, file_after, args.timeout)
    acker: asyncio.Task[None] | None = None
    report: dict[str, Any] = {"desktops": args.desktops, "seconds": args.seconds, "rate": args.rate,
                              "gc_freeze": args.gc_freeze, "gc_threshold": args.gc_threshold,
                              "no_desk_timer": args.no_desk_timer, "no_gc_tuning": args.no_gc_tuning,
                              "talk_s": list(args.talk), "wrap_up_s": args.wrap_up, "cpus": os.cpu_count()}
    try:
        log(f"server pid {server.process.pid} on port {server.port}, log {server.log}")
        await server.wait_ready(args.start_timeout)
        start = await server.get("/_bench/memory")
        report["rss_server_started_mb"] = start["rss_mb"]
        acker = asyncio.create_task(ack_loop([warm, *desktops]))

        await warm.open()
        await server.wait_for("the warm-up desktop", lambda s: s["desktops"] >= 1, args.timeout)
        await asyncio.sleep(args.settle)
        before = await server.get("/_bench/memory")
        log(f"warm-up desktop connected: RSS {before['rss_mb']:.1f} MB")

        t0 = time.monotonic()
        open_ms = await connect_all(desktops, args.concurrency)
        await server.wait_for(f"{args.desktops} desktops", lambda s: s["desktops"] >= args.desktops + 1,
                              args.timeout + args.desktops)
        connect_s = time.monotonic() - t0
        log(f"{args.desktops} desktops connected in {connect_s:.1f} s")
        await asyncio.sleep(args.settle)
        counted = sum(d.total() for d in desktops)
        idle_window = args.idle
        t_idle = time.monotonic()
        cpu_idle = (await server.get("/_bench/status"))["cpu_s"]
        await asyncio.sleep(idle_window)
        report["server_cpu_pct_idle"] = ((await server.get("/_bench/status"))["cpu_s"] - cpu_idle) / idle_window * 100
        idle_rate = (sum(d.total() for d in desktops) - counted) / args.desktops / idle_window
        windows = {"idle": (t_idle, time.monotonic())}
        after = await server.get("/_bench/memory")
        per_desktop_kb = (after["rss_mb"] - before["rss_mb"]) * 1024 / args.desktops
        log(f"RSS {after['rss_mb']:.1f} MB: {per_desktop_kb:.0f} KB per desktop; "
            f"{after['elements_per_desktop']:.0f} elements each; {idle_rate:.2f} messages/s per idle desktop")
        report["sockets"] = {"connecting_and_idle": sockets(desktops)}
        report["memory"] = {"rss_before_mb": before["rss_mb"], "rss_after_connect_mb": after["rss_mb"],
                            "per_desktop_kb": per_desktop_kb, "elements_per_desktop": after["elements_per_desktop"],
                            "history_per_desktop": after["history_per_desktop"],
                            "gc_objects_before": before["gc_objects"], "gc_objects_after_connect": after["gc_objects"],
                            "full_gc_ms_before": before["full_gc_ms"], "full_gc_ms_after_connect": after["full_gc_ms"],
                            "element_kinds_connected": after["element_kinds"]}
        report["connect"] = {"seconds": connect_s, "open_ms": summary(open_ms)}
        report["idle_messages_per_desktop_s"] = idle_rate

        if args.gc_freeze:
            await server.post("/_bench/freeze")
        ready = await server.post("/_bench/ready")
        await server.wait_for("agents ready", lambda s: s["agents"].get("ready/idle", 0) >= args.desktops, 60)
        log(f"{ready['ready']} agents signed in and ready; calls for {args.seconds:.0f} s at {args.rate:g}/s")
        counted = sum(d.total() for d in desktops)
        t_calls, client_cpu = time.monotonic(), time.process_time()
        before_calls = sockets(desktops)
        await server.post("/_bench/calls", rate=args.rate, seconds=args.seconds)
        while time.monotonic() - t_calls < args.seconds:
            await asyncio.sleep(min(10.0, args.seconds - (time.monotonic() - t_calls)))
            s = await server.get("/_bench/status")
            log(f"placed {s['placed']}, in progress {s['running']}, waiting {s['waiting']}, offers {s['offers']}, "
                f"pops sent {s['sent']}, RSS {s['rss_mb']:.0f} MB, agents {s['agents']}")
        await server.post("/_bench/stop")
        calls_window = time.monotonic() - t_calls
        windows["calls"] = (t_calls, time.monotonic())
        report["client_cpu_pct_during_calls"] = (time.process_time() - client_cpu) / calls_window * 100
        received_rate = (sum(d.total() for d in desktops) - counted) / args.desktops / calls_window
        await drain(server, args.talk[1] + args.wrap_up + 30)
        await asyncio.sleep(args.settle)
        results = await server.get("/_bench/results")
        report["sockets"]["calls"] = {k: v - before_calls[k] for k, v in sockets(desktops).items()}
        report["contact_records_filed"] = sum(d.filed for d in desktops)
        end = await server.get("/_bench/memory")  # last: at 300 desktops its full collection stalls for ~1-2 s
        report["memory"]["rss_after_calls_mb"] = end["rss_mb"]
        report["memory"]["per_desktop_after_calls_kb"] = (end["rss_mb"] - before["rss_mb"]) * 1024 / args.desktops
        report["memory"]["elements_per_desktop_after_calls"] = end["elements_per_desktop"]
        report["memory"]["gc_objects_after_calls"] = end["gc_objects"]
        report["memory"]["full_gc_ms_after_calls"] = end["full_gc_ms"]
        report["memory"]["element_kinds_after_calls"] = end["element_kinds"]
        report["memory"]["gc_frozen_after_calls"] = end.get("gc_frozen", 0)
        report["gc_tuning"] = end.get("gc_tuning", {})
        report["pop"] = pop_latencies(results, {d.agent: d for d in desktops})
        cpu = results["cpu_s"]
        report["server_cpu_pct_during_calls"] = (cpu["calls_end"] - cpu["calls_start"]) / \
            (cpu["calls_end_wall"] - cpu["calls_start_wall"]) * 100
        report["loop_lag_ms"] = {name: summary([ms for at, ms in results["lag_ms"] if start <= at <= stop])
                                 for name, (start, stop) in windows.items()}
        report["gc"] = {name: gc_figures(results["gc_ms"], *window) for name, window in windows.items()}
        report["calls"] = {"placed": results["placed"], "outcomes": results["outcomes"],
                           "calls_per_s": results["placed"] / args.seconds}
        sent_messages = sum(results["messages"].values())
        report["messages_per_desktop_s_during_calls"] = {
            "sent_by_server": sent_messages / (args.desktops + 1) / (cpu["calls_end_wall"] - cpu["calls_start_wall"]),
            "received": received_rate, "by_type": results["messages"],
            "scripts": results["scripts"]}
        if results["stalls"]:
            report["stalls"] = results["stalls"]
        return report
    finally:
        if acker is not None:
            acker.cancel()
        await asyncio.gather(*(d.close() for d in [warm, *desktops]), return_exceptions=True)
        await server.stop()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def show(report: dict[str, Any]) -> None:
    mem, pop = report["memory"], report["pop"]
    ok = "ok" if mem["per_desktop_kb"] < 1024 else "MISSED"
    print(f"\n{report['desktops']} desktops, {report['seconds']:.0f} s of calls at {report['rate']:g}/s "
          f"(talk {report['talk_s'][0]:g}–{report['talk_s'][1]:g} s, wrap-up {report['wrap_up_s']:g} s), "
          f"{report['cpus']} cores")
    print(f"server RSS: started {report['rss_server_started_mb']:.1f} MB, "
          f"warm-up desktop {mem['rss_before_mb']:.1f} MB, "
          f"{report['desktops']} desktops {mem['rss_after_connect_mb']:.1f} MB, after the calls "
          f"{mem['rss_after_calls_mb']:.1f} MB")
    print(f"memory per desktop: {mem['per_desktop_kb']:.0f} KB connected (target < 1 MB: {ok}), "
          f"{mem['per_desktop_after_calls_kb']:.0f} KB after the calls; {mem['elements_per_desktop']:.0f} → "
          f"{mem['elements_per_desktop_after_calls']:.0f} elements per desktop")
    print(f"objects tracked by the garbage collector: {mem['gc_objects_before']:,} → "
          f"{mem['gc_objects_after_connect']:,} "
          f"→ {mem['gc_objects_after_calls']:,}; a full collection takes {mem['full_gc_ms_before']:.0f} → "
          f"{mem['full_gc_ms_after_connect']:.0f} → {mem['full_gc_ms_after_calls']:.0f} ms")
    if report.get("gc_tuning"):
        tuning = report["gc_tuning"]
        print(f"gc tuning: {mem['gc_frozen_after_calls']:,} objects frozen after the calls; {tuning['freezes']:.0f} "
              f"freezes, {tuning['thaws']:.0f} thaws")
    print(f"connecting: {report['connect']['seconds']:.1f} s for all, one desktop p50 "
          f"{report['connect']['open_ms']['p50']:.0f} ms / p95 {report['connect']['open_ms']['p95']:.0f} ms")
    print(f"calls: {report['calls']['placed']} placed, outcomes {report['calls']['outcomes']}; offers {pop['offers']}, "
          f"pops rendered {pop['pops_rendered']} (not sent {pop['pops_without_sent']}, "
          f"not received {pop['pops_not_received']})")
    print(f"{'router decision → screen-pop, ms':<44} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    for key, label in (("load_start", "pop data load starts on a worker thread"),
                       ("load_end", "pop data loaded"),
                       ("rendered", "strip rendered (pop loaded, strip built)"),
                       ("built", "whole pop built (strip and call tab)"),
                       ("emitting", "outbox starts emitting the update"),
                       ("sent", "sent: update handed to the socket"),
                       ("received", "received by the simulated browser (bound)")):
        s = pop[key]
        mark = ("  p95 < 200 ms " + ("ok" if s["p95"] < 200 else "MISSED")) if key == "sent" else ""
        print(f"{label:<44} {s['n']:>6} {s['p50']:>8.1f} {s['p95']:>8.1f} {s['p99']:>8.1f} {s['max']:>8.1f}{mark}")
    lag = report["loop_lag_ms"]["calls"]
    msgs = report["messages_per_desktop_s_during_calls"]
    for name, figures in report["gc"].items():
        full = figures["gen2"]
        print(f"garbage collections {'while idle' if name == 'idle' else 'during the calls'}: "
              f"{figures['per_minute'][0]:.0f} / {figures['per_minute'][1]:.0f} / {figures['per_minute'][2]:.1f} a "
              f"minute (generation 0 / 1 / 2); a full one pauses the process {full['p50']:.0f} ms median, "
              f"{full['max']:.0f} ms max; {figures['paused_pct']:.1f} % of the time in collections")
    print(f"server CPU: idle {report['server_cpu_pct_idle']:.0f} %, during the calls "
          f"{report['server_cpu_pct_during_calls']:.0f} % of one core (this process "
          f"{report['client_cpu_pct_during_calls']:.0f} %); event-loop lag "
          f"p50 {lag['p50']:.1f} / p95 {lag['p95']:.1f} / max {lag['max']:.0f} ms")
    print(f"messages per desktop per second: idle {report['idle_messages_per_desktop_s']:.2f}, during the calls "
          f"{msgs['sent_by_server']:.2f} sent / {msgs['received']:.2f} received")
    for phase, counts in report["sockets"].items():
        print(f"sockets dropped {'while connecting and idle' if phase != 'calls' else 'during the calls'}: "
              f"{counts['disconnects']} (resumed {counts['reconnects']}, page reloaded {counts['reloads']}, "
              f"lost {counts['failures']})")
    print(f"contact records filed by the agents: {report['contact_records_filed']}")
    if report.get("stalls"):
        print("event loop stalled (samples of 10 ms, innermost project / NiceGUI frames first):")
        for where, n in report["stalls"].items():
            print(f"{n:>6}  {where}")


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
    p.add_argument("--keep", action="store_true", help="keep the scratch directory (database, server log)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    report = asyncio.run(run(args))
    show(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
