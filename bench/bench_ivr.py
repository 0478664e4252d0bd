"""IVR benchmarks: concurrent FastAGI calls through the demo flow, and caller identification at scale.

1. **Calls** — a FastAGI server (``run.py agi``'s set-up: Platform + FastAGIServer + the IVR engine, with
   ``HELPLINE_AGI_MAX_SESSIONS`` and the database pool of the environment) and, unless ``--no-web``, the web
   UI run in a child process on a fresh SQLite database (or PostgreSQL: ``--pg postgresql://…/postgres``
   makes and drops a database there) with the demo metadata and demo customers. This process plays
   Asterisk: ``--calls`` concurrent ``AsteriskPeer`` threads (default 200) dial the demo flow with a mix
   of callers and key sequences, ``--rounds`` times, while ``--web-clients`` threads keep requesting the
   login page and the first page of the customer list (through ``records.list_page`` on NiceGUI's
   I/O threads, as the list view does). Reported:
   * **failed calls**, seen from the caller's side: a peer error or time-out, a session the server did not
     close, or no ``HELPLINE_RESULT`` / ``HELPLINE_RESULT=error``; and **records left open** (``hl_call``
     rows without ``ended_at`` after the run); the bench exits 1 when either is not zero;
   * caller-side turn: p50/p99 from the peer's reply (or environment block) sent to the server's next
     command received, from the peers' transcripts (target p99 < 50 ms);
   * server CPU per call — the child's process CPU time over the measured calls (peers excluded);
   * p50/p99 time from a reply line received to the next command sent, measured inside the server
     (timestamps on ``HelplineAGI._read_reply`` / ``send_command``, per session thread; target < 2 ms);
   * calls per second (wall clock, all calls of a round started at once); web requests and their p99;
     the load average at the end.
2. **Identification** — ``CallerIdentifier.identify`` (customer by number, blacklist, remembered region,
   area code, outages) on a database of ``--customers`` customers (default 1,000,000): p50/p99 over known,
   unknown mobile and fixed-line numbers (target p99 < 5 ms). Uses a copy of
   ``var/bench/customers-<N>.db`` made by bench/bench_foundation.py when it exists, else generates one
   with the demo generator (slow: minutes for a million).

``PYTHONPATH=. python bench/bench_ivr.py`` (``--quick`` for a short run, ``--json FILE`` to keep figures,
``--skip-identify`` for the calls only).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KEYS = ["0", "10", "11,0", "2123456" "0", "2111111222222", "31", "32", "33#", "41", "421", "5", ",,,", "999"]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# ------------------------------------------------------------------------------------------ server side
def serve(args: argparse.Namespace) -> int:
    """Child process: start the platform and the FastAGI server, measure, report JSON on 'stop'."""
    logging.basicConfig(level=logging.WARNING)
    import gc

    pauses: list[tuple[int, float]] = []
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], (time.perf_counter() - gc_started[0]) * 1000))

    gc.callbacks.append(on_gc)
    from helpline.demo.generator import seed_demo
    from helpline.services.platform import Platform
    from telephony.agi import channel
    from telephony.ivr.agi_handler import start_agi_server

    gaps: list[float] = []
    local = threading.local()
    read_reply, send_command = channel.HelplineAGI._read_reply, channel.HelplineAGI.send_command

    def timed_read(self: Any) -> Any:
        reply = read_reply(self)
        local.at = time.perf_counter()
        return reply

    def timed_send(self: Any, command: str, *rest: object) -> None:
        at = getattr(local, "at", None)
        if at is not None:
            gaps.append(time.perf_counter() - at)
            local.at = None
        send_command(self, command, *rest)

    channel.HelplineAGI._read_reply = timed_read  # type: ignore[method-assign]
    channel.HelplineAGI.send_command = timed_send  # type: ignore[method-assign]

    from helpline.config import Settings
    from helpline.data.database import db as database

    settings = Settings.from_env()
    platform = Platform()
    platform.start(args.db, args.metadata)
    seed_demo(platform, customers=args.demo_customers)
    server = start_agi_server(platform, "127.0.0.1", 0, read_timeout=30.0, max_sessions=settings.agi_max_sessions)
    from helpline.data.calls import Call
    from helpline.data.database import session

    with session():
        phones = [r[0] for r in platform.models["customer"].select(
            platform.models["customer"]._meta.fields["phone"]).limit(500).tuples()]
    pool = getattr(database.obj, "_max_connections", None)
    if not args.web_port:
        gc.collect()
        gc.freeze()  # as run.py agi does once started (serve: its gc tuning): full collections skip this heap

    def commands() -> None:
        cpu0, done0 = time.process_time(), server.completed_sessions
        for line in sys.stdin:
            command = line.strip()
            if command == "mark":
                gaps.clear()
                pauses.clear()
                cpu0, done0 = time.process_time(), server.completed_sessions
                print(json.dumps({"marked": True}), flush=True)
            elif command == "stop":
                break
        cpu = time.process_time() - cpu0
        calls = server.completed_sessions - done0
        server.stop(timeout=5.0)
        with session():
            identify = [r[0] for r in Call.select(Call.identify_ms).order_by(Call.id.desc()).limit(calls).tuples()
                        if r[0] is not None]
            results: dict[str, int] = {}
            for (result,) in Call.select(Call.result).order_by(Call.id.desc()).limit(calls).tuples():
                results[str(result)] = results.get(str(result), 0) + 1
            open_records = Call.select().where(Call.ended_at.is_null()).count()
        ms = [g * 1000 for g in gaps]
        print(json.dumps({
            "calls": calls, "cpu_s": cpu, "cpu_ms_per_call": cpu / calls * 1000 if calls else None,
            "gaps": len(ms), "gap_p50_ms": pct(ms, 50), "gap_p99_ms": pct(ms, 99), "gap_max_ms": max(ms or [0]),
            "identify_p99_ms": pct(identify, 99), "results": results, "open_records": open_records,
            "refused": server.refused_sessions, "pool": pool, "max_sessions": server.max_sessions,
            "gc": {f"gen{g}": [sum(1 for x, _ in pauses if x == g),
                               round(max([ms for x, ms in pauses if x == g] or [0]), 1)] for g in (0, 1, 2)},
        }), flush=True)
        os._exit(0)  # the web server (if any) holds the main thread

    hello = {"port": server.port, "phones": phones, "web_port": args.web_port}
    if not args.web_port:
        print(json.dumps(hello), flush=True)
        commands()
        return 0
    threading.Thread(target=commands, name="bench-commands", daemon=True).start()
    from helpline.ui import gc_tuning

    server.on_session = gc_tuning.busy  # as run.py serve does
    serve_web(platform, args.web_port, hello)
    return 0


def serve_web(platform: Any, port: int, hello: dict[str, Any]) -> None:
    """The web UI (``helpline.ui.app.serve``) on ``port`` plus ``GET /_bench/customers``: the first page of the
    customer list of one city as the administrator, through the list view's service call on NiceGUI's I/O
    threads. Prints ``hello`` once the server is up."""
    from nicegui import app, run

    from helpline.config import Settings
    from helpline.data.conditions import Cmp, all_of
    from helpline.data.query import ListQuery, sort_keys
    from helpline.security.actor import Actor
    from helpline.ui import session as web_session
    from helpline.ui.app import serve as web_serve

    web_session.OPEN_PATHS = (*web_session.OPEN_PATHS, "/_bench/")  # type: ignore[assignment]
    md = platform.metadata
    screen = md.screens["customer_list"]
    admin = Actor("admin", roles=("administrator",)).bind(md)
    cities = ["changsha", "yueyang", "hengyang", "changde", "yiyang", "shaoyang"]

    def first_page(city: str) -> int:
        q = ListQuery(entity="customer", where=all_of(Cmp("city", "eq", city)),
                      sort=sort_keys(screen.sort or ["-id"]), page=1, page_size=screen.page_size)
        return len(platform.records.list_page(admin, q).rows)

    @app.get("/_bench/customers")
    async def customers(city: str = "changsha") -> dict[str, int]:
        return {"rows": await run.io_bound(first_page, city if city in cities else "changsha")}

    app.on_startup(lambda: print(json.dumps(hello), flush=True))  # (serve's gc tuning froze the start-up heap)
    web_serve(Settings(host="127.0.0.1", port=port, storage_secret="bench-ivr"), platform)


# ------------------------------------------------------------------------------------------ client side
def peer_failed(peer: Any) -> str | None:
    """Why a call failed from the caller's side, or None."""
    if peer.error is not None:
        return f"peer error {peer.error!r}"
    if peer.timed_out:
        return "the server went silent"
    if not peer.server_closed:
        return "the session was not closed by the server"
    result = peer.variables_set.get("HELPLINE_RESULT")
    if not result or result == "error":
        return f"HELPLINE_RESULT={result or '(empty)'}"
    return None


def caller_turns(peer: Any, *, dead: bool = False) -> list[float]:
    """Milliseconds from each line the peer sent (reply, environment block) to the next command it received,
    while a caller is on the line (``dead``: only the turns after the channel hung up, in dead mode)."""
    turns, last_sent, hung_up = [], None, False
    for entry in peer.transcript:
        if entry.direction == "sent":
            last_sent = entry.at
            hung_up = hung_up or entry.text == "HANGUP"
        elif entry.direction == "received" and last_sent is not None:
            if hung_up == dead:
                turns.append((entry.at - last_sent) * 1000)
            last_sent = None
    return turns


class WebLoad:
    """``clients`` threads, each like a busy user: the first page of a customer list every ``pause`` seconds
    and, every tenth request, a fresh login page (a new NiceGUI page built and closed), until stopped."""

    def __init__(self, port: int, clients: int, pause: float = 0.2) -> None:
        self.port, self.clients, self.pause = port, clients, pause
        self.stopping = threading.Event()
        self.times: list[float] = []
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(clients)]

    def _loop(self, index: int) -> None:
        cities = ["changsha", "yueyang", "hengyang", "changde", "yiyang", "shaoyang"]
        n = index
        while not self.stopping.is_set():
            path = "/login" if n % 10 == 0 else f"/_bench/customers?city={cities[n % len(cities)]}"
            n += 1
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
                    response.read()
                    ok = response.status == 200
            except OSError as exc:
                ok = False
                self.failures.append(f"{path}: {exc!r}")
            if ok:
                self.times.append((time.perf_counter() - started) * 1000)
            elif not self.failures or not self.failures[-1].startswith(path):
                self.failures.append(f"{path}: not 200")
            self.stopping.wait(self.pause)

    def __enter__(self) -> WebLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(35)


#: Commands that play to the caller or wait for a key: with ``--hold`` their answer comes that much later.
MEDIA = ("STREAM FILE", "GET DATA", "GET OPTION", "SAY ", "WAIT FOR DIGIT", "EXEC", "RECORD FILE")


def run_round(port: int, calls: int, phones: list[str], rng: random.Random, *, ramp: float = 0.0,
              hold: float = 0.0, procs: int = 1) -> tuple[float, dict[str, Any]]:
    """``calls`` calls, started evenly over ``ramp`` seconds (0: all at once); each prompt or digit wait takes
    ``hold`` seconds (±50 %) before the peer answers it (the caller listening), so calls overlap as real ones.
    The peers run in ``procs`` processes (``AsteriskPeer`` threads; Asterisk itself has no GIL, so one bench
    process holding 200 peers would add its own thread contention to the caller-side figures)."""
    seed = rng.randrange(2**31)
    begin = time.monotonic() + 0.5
    started = time.perf_counter()
    if procs <= 1:
        parts = [call_batch(port, calls, phones, seed, ramp, hold, begin, 0, 1)]
    else:
        import concurrent.futures
        import multiprocessing

        with concurrent.futures.ProcessPoolExecutor(procs, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(call_batch, port, calls, phones, seed, ramp, hold, begin + 1.0, k, procs)
                       for k in range(procs)]
            parts = [f.result() for f in futures]
    merged: dict[str, Any] = {key: [x for part in parts for x in part[key]] for key in parts[0]}
    return time.perf_counter() - started, merged


def call_batch(port: int, calls: int, phones: list[str], seed: int, ramp: float, hold: float, begin: float,
               part: int, parts: int) -> dict[str, list[Any]]:
    """The calls ``i`` with ``i % parts == part`` of a round (see :func:`run_round`), started from ``begin``
    (``time.monotonic``, system-wide): what the callers saw."""
    from telephony.agi.peermodel import Caller
    from telephony.agi.testpeer import AsteriskPeer, Override

    rng = random.Random(seed)
    plan = []
    for i in range(calls):  # every part draws the same plan, then keeps its share
        number = rng.choice(phones) if phones and i % 4 else f"137{rng.randrange(10**8):08d}"
        delays = [hold * rng.uniform(0.5, 1.5) for _ in MEDIA]
        plan.append((i, number, delays))
    peers = []
    for i, number, delays in plan[part::parts]:
        overrides = [Override(cmd, delay=d, times=None) for cmd, d in zip(MEDIA, delays, strict=True)] if hold else []
        peers.append((i, AsteriskPeer(("127.0.0.1", port), script="ivr", env={"callerid": number, "dnid": "96266"},
                                      caller=Caller(KEYS[i % len(KEYS)]), timeout=60.0, overrides=overrides)))
    for i, peer in peers:
        time.sleep(max(0.0, begin + ramp * i / calls - time.monotonic()))
        peer.start()
    for _, peer in peers:
        peer.join(300)
    done = [peer for _, peer in peers]
    return {"failures": [why for why in map(peer_failed, done) if why],
            "turns": [t for peer in done for t in caller_turns(peer)],
            "dead_turns": [t for peer in done for t in caller_turns(peer, dead=True)],
            "firsts": [caller_turns(peer)[0] for peer in done if caller_turns(peer)],
            "spans": [(peer._t0, peer._t0 + peer.transcript[-1].at) for peer in done if peer.transcript]}


def peak_concurrency(spans: list[tuple[float, float]]) -> int:
    """Most calls connected at the same moment (``time.monotonic`` spans of the peers' connections)."""
    edges = [(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans]
    level = peak = 0
    for _, step in sorted(edges):
        level += step
        peak = max(peak, level)
    return peak


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def calls_database(args: argparse.Namespace) -> tuple[str, Any]:
    """A fresh database URL for the call bench and a function dropping it afterwards."""
    if args.pg:
        import uuid
        from urllib.parse import urlparse, urlunparse

        import psycopg2

        name = f"hl_bench_ivr_{uuid.uuid4().hex[:8]}"

        def admin(sql: str) -> None:
            conn = psycopg2.connect(args.pg)
            conn.autocommit = True
            try:
                with conn.cursor() as cur:
                    cur.execute(sql)
            finally:
                conn.close()

        admin(f'CREATE DATABASE "{name}"')
        return (urlunparse(urlparse(args.pg)._replace(path="/" + name)),
                lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    db_path = ROOT / "var" / "bench" / "ivr-calls.db"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{db_path}", lambda: None


def bench_calls(args: argparse.Namespace) -> dict[str, Any]:
    url, drop = calls_database(args)
    web_port = 0 if args.no_web else free_port()
    cmd = [sys.executable, __file__, "--serve", "--db", url, "--demo-customers", str(args.demo_customers),
           "--web-port", str(web_port), "--metadata", args.metadata]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdin is not None and child.stdout is not None
    try:
        line = child.stdout.readline()
        while line and not line.startswith("{"):  # the web server may print first
            line = child.stdout.readline()
        if not line:
            raise RuntimeError("the server process ended before it was ready (its error is above)")
        hello = json.loads(line)
        port, phones = int(hello["port"]), list(hello["phones"])
        rng = random.Random(5)
        run_round(port, min(20, args.calls), phones, rng)  # warm-up: caches, compiled flows, connections
        child.stdin.write("mark\n")
        child.stdin.flush()
        child.stdout.readline()
        walls, failures, turns, peaks, firsts, dead_turns = [], [], [], [], [], []
        web = WebLoad(web_port, args.web_clients if web_port else 0)
        with web:
            for _ in range(args.rounds):
                wall, seen = run_round(port, args.calls, phones, rng, ramp=args.ramp, hold=args.hold,
                                       procs=args.client_procs)
                walls.append(wall)
                failures += seen["failures"]
                turns += seen["turns"]
                dead_turns += seen["dead_turns"]
                firsts += seen["firsts"]
                peaks.append(peak_concurrency(seen["spans"]))
        child.stdin.write("stop\n")
        child.stdin.flush()
        line = child.stdout.readline()
        while line and not line.startswith("{"):
            line = child.stdout.readline()
        report = json.loads(line)
    finally:
        child.stdin.close()
        child.wait(30)
        drop()
    total = args.calls * args.rounds
    report.update({"database": "postgresql" if args.pg else "sqlite", "concurrent": args.calls,
                   "peak_concurrent": max(peaks), "ramp_s": args.ramp, "hold_s": args.hold,
                   "rounds": args.rounds, "wall_s": sum(walls), "calls_per_s": total / sum(walls),
                   "failed_calls": len(failures), "failures": sorted(set(failures))[:10],
                   "turns": len(turns), "turn_p50_ms": pct(turns, 50), "turn_p99_ms": pct(turns, 99),
                   "turn_max_ms": max(turns or [0]), "first_turn_p50_ms": pct(firsts, 50),
                   "dead_turns": len(dead_turns), "dead_turn_p50_ms": pct(dead_turns, 50),
                   "dead_turn_p99_ms": pct(dead_turns, 99),
                   "first_turn_p99_ms": pct(firsts, 99), "web_requests": len(web.times),
                   "web_p50_ms": pct(web.times, 50), "web_p99_ms": pct(web.times, 99),
                   "web_failures": len(web.failures), "load": os.getloadavg()})
    return report


# ---------------------------------------------------------------------------------------- identification
def identification_db(customers: int) -> Path:
    target = ROOT / "var" / "bench" / f"ivr-identify-{customers}.db"
    if target.exists():
        return target
    source = ROOT / "var" / "bench" / f"customers-{customers}.db"
    if source.exists():
        logging.info("copying %s (made by bench_foundation.py) to %s", source.name, target.name)
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return target
    from helpline.demo.generator import DemoGenerator
    from helpline.services.platform import Platform

    logging.info("generating %d customers into %s (takes a while)", customers, target.name)
    platform = Platform()
    platform.start(f"sqlite:///{target}", str(ROOT / "metadata"))
    gen = DemoGenerator(platform)
    gen.seed_regions()
    gen.customers(customers)
    return target


def bench_identify(args: argparse.Namespace) -> dict[str, Any]:
    from helpline.data.database import session
    from helpline.demo.generator import DemoGenerator, unique_number
    from helpline.services.platform import Platform
    from telephony.ivr.identify import CallerIdentifier

    path = identification_db(args.customers)
    platform = Platform()
    platform.start(f"sqlite:///{path}", str(ROOT / "metadata"))
    DemoGenerator(platform).seed_regions()
    model = platform.models["customer"]
    with session():
        count = model.select().count()
        top = model.select(model.id).order_by(model.id.desc()).limit(1).scalar() or 0
    rng = random.Random(11)
    known: list[str] = []
    with session():
        phone = model._meta.fields["phone"]
        while len(known) < args.samples // 2:
            ids = [rng.randrange(1, top + 1) for _ in range(200)]
            known += [r[0] for r in model.select(phone).where(model.id.in_(ids)).tuples() if r[0]]
    numbers = known[: args.samples // 2]
    numbers += [f"199{unique_number(i, 8)}" for i in range(args.samples // 4)]
    numbers += [f"0730{rng.randrange(10**8):08d}" for _ in range(args.samples - len(numbers))]
    rng.shuffle(numbers)
    identifier = CallerIdentifier(platform)
    from helpline.data.database import db

    db.connect(reuse_if_open=True)  # as in a call: the engine opens the record and identifies on one connection
    for number in numbers[:50]:
        identifier.identify(number)
    times, cpu, found = [], [], 0
    by_kind: dict[str, list[float]] = {"known": [], "unknown mobile": [], "fixed line": []}
    for number in numbers:
        started, started_cpu = time.perf_counter(), time.thread_time()
        ident = identifier.identify(number)
        elapsed = (time.perf_counter() - started) * 1000
        cpu.append((time.thread_time() - started_cpu) * 1000)
        times.append(elapsed)
        found += ident.customer is not None
        kind = "known" if ident.customer is not None else ("fixed line" if number.startswith("0") else
                                                          "unknown mobile")
        by_kind[kind].append(elapsed)
    return {"customers": count, "samples": len(numbers), "found": found, "p50_ms": pct(times, 50),
            "p99_ms": pct(times, 99), "max_ms": max(times), "mean_ms": statistics.fmean(times),
            "p99_by_kind_ms": {k: round(pct(v, 99), 3) for k, v in by_kind.items() if v},
            "cpu_p50_ms": pct(cpu, 50), "cpu_p99_ms": pct(cpu, 99), "load": os.getloadavg()[0]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="Example: PYTHONPATH=. python bench/bench_ivr.py --calls 200 --rounds 3")
    p.add_argument("--calls", type=int, default=200, help="concurrent calls per round (default %(default)s)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of concurrent calls (default %(default)s)")
    p.add_argument("--demo-customers", type=int, default=2000,
                   help="customers in the call bench's database (default %(default)s)")
    p.add_argument("--customers", type=int, default=1_000_000,
                   help="customers for the identification bench (default %(default)s)")
    p.add_argument("--samples", type=int, default=4000, help="numbers identified (default %(default)s)")
    p.add_argument("--skip-calls", action="store_true", help="only the identification bench")
    p.add_argument("--skip-identify", action="store_true", help="only the call bench")
    p.add_argument("--quick", action="store_true", help="50 calls, 1 round, 100,000 customers")
    p.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    p.add_argument("--pg", metavar="URL", help="run the call bench on PostgreSQL: a server URL such as "
                   "postgresql://postgres@127.0.0.1:5432/postgres (a database is made and dropped there)")
    p.add_argument("--ramp", type=float, default=10.0,
                   help="seconds over which a round's calls start (default %(default)s; 0: all at once)")
    p.add_argument("--hold", type=float, default=6.0,
                   help="seconds each prompt or digit wait takes before the caller side answers it, ±50%% "
                        "(default %(default)s; 0: at once, the old burst)")
    p.add_argument("--client-procs", type=int, default=4,
                   help="processes playing Asterisk, the calls shared among them (default %(default)s)")
    p.add_argument("--metadata", default=str(ROOT / "metadata"),
                   help="metadata directory of the call bench's server (default: the shipped demo)")
    p.add_argument("--no-web", action="store_true", help="no web UI in the server process during the calls")
    p.add_argument("--web-clients", type=int, default=4,
                   help="threads requesting web pages during the calls (default %(default)s)")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--web-port", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        return serve(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.quick:
        args.calls, args.rounds, args.customers = 50, 1, 100_000
    figures: dict[str, Any] = {}
    failed = False
    if not args.skip_calls:
        calls = figures["calls"] = bench_calls(args)
        print(f"calls on {calls['database']} (pool {calls['pool']}, cap {calls['max_sessions']}): {calls['calls']} "
              f"measured ({calls['concurrent']} calls x {calls['rounds']} rounds, started over {args.ramp:g} s, "
              f"prompts {args.hold:g} s; at most {calls['peak_concurrent']} at once), results {calls['results']}")
        print(f"  failed calls (caller side) {calls['failed_calls']}, records left open {calls['open_records']}, "
              f"refused {calls['refused']}" + (f"; e.g. {calls['failures']}" if calls["failures"] else ""))
        print(f"  caller-side turn (live)  p50 {calls['turn_p50_ms']:.2f} ms, p99 {calls['turn_p99_ms']:.2f} ms, "
              f"max {calls['turn_max_ms']:.0f} ms over {calls['turns']} turns (target p99 < 50 ms); the first "
              f"(record opened, caller identified) p50 {calls['first_turn_p50_ms']:.1f}, "
              f"p99 {calls['first_turn_p99_ms']:.1f} ms")
        print(f"  after the hang-up        p50 {calls['dead_turn_p50_ms']:.1f} ms, "
              f"p99 {calls['dead_turn_p99_ms']:.1f} ms "
              f"over {calls['dead_turns']} dead-mode turns (no caller left; a reply and the HANGUP line in two "
              "segments wait for a delayed ACK)")
        print(f"  web during the calls     {calls['web_requests']} requests, p50 {calls['web_p50_ms']:.0f} ms, "
              f"p99 {calls['web_p99_ms']:.0f} ms, {calls['web_failures']} failed")
        print(f"  garbage collections      {calls['gc']} (generation: [count, longest pause ms])")
        print(f"  load average at the end  {' / '.join(f'{x:.1f}' for x in calls['load'])}")
        print(f"  server CPU per call      {calls['cpu_ms_per_call']:.2f} ms")
        print(f"  reply -> next command    p50 {calls['gap_p50_ms']:.3f} ms, p99 {calls['gap_p99_ms']:.3f} ms, "
              f"max {calls['gap_max_ms']:.1f} ms over {calls['gaps']} replies (target p99 < 2 ms)")
        print(f"  calls per second         {calls['calls_per_s']:.0f}")
        print(f"  identification in calls  p99 {calls['identify_p99_ms']:.2f} ms")
        failed = bool(calls["failed_calls"] or calls["open_records"] or calls["web_failures"])
    if not args.skip_identify:
        ident = figures["identify"] = bench_identify(args)
        print(f"identification: {ident['customers']:,} customers, {ident['samples']} numbers "
              f"({ident['found']} customers found): p50 {ident['p50_ms']:.3f} ms, p99 {ident['p99_ms']:.3f} ms, "
              f"max {ident['max_ms']:.1f} ms (target p99 < 5 ms); p99 by caller: {ident['p99_by_kind_ms']}")
        print(f"  CPU time of one identification: p50 {ident['cpu_p50_ms']:.3f} ms, p99 {ident['cpu_p99_ms']:.3f} ms "
              f"(wall time above includes waiting for a core: load average {ident['load']:.1f})")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    if failed:
        print("FAILED: calls failed, records were left open or web requests failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
