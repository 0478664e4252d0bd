"""IVR benchmarks: concurrent FastAGI calls through the demo flow, and caller identification at scale.

1. **Calls** — a FastAGI server (``run.py agi``'s set-up: Platform + FastAGIServer + the IVR engine) runs
   in a child process on a SQLite database with the demo metadata and demo customers. This process plays
   Asterisk: ``--calls`` concurrent ``AsteriskPeer`` threads (default 200) dial the demo flow with a mix
   of callers and key sequences, ``--rounds`` times. Reported:
   * server CPU per call — the child's process CPU time over the measured calls (peers excluded);
   * p50/p99 time from a reply line received to the next command sent, measured inside the server
     (timestamps on ``HelplineAGI._read_reply`` / ``send_command``, per session thread; target < 2 ms);
   * calls per second (wall clock, all calls of a round started at once).
2. **Identification** — ``CallerIdentifier.identify`` (customer by number, blacklist, remembered region,
   area code, outages) on a database of ``--customers`` customers (default 1,000,000): p50/p99 over known,
   unknown mobile and fixed-line numbers (target p99 < 5 ms). Uses a copy of
   ``var/bench/customers-<N>.db`` made by bench/bench_foundation.py when it exists, else generates one
   with the demo generator (slow: minutes for a million).

``PYTHONPATH=. python bench/bench_ivr.py`` (``--quick`` for a short run, ``--json FILE`` to keep figures).
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

    platform = Platform()
    platform.start(args.db, str(ROOT / "metadata"))
    seed_demo(platform, customers=args.demo_customers)
    server = start_agi_server(platform, "127.0.0.1", 0, read_timeout=30.0)
    from helpline.data.calls import Call
    from helpline.data.database import session

    with session():
        phones = [r[0] for r in platform.models["customer"].select(
            platform.models["customer"]._meta.fields["phone"]).limit(500).tuples()]
    print(json.dumps({"port": server.port, "phones": phones}), flush=True)
    cpu0, done0 = time.process_time(), server.completed_sessions
    for line in sys.stdin:
        command = line.strip()
        if command == "mark":
            gaps.clear()
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
    ms = [g * 1000 for g in gaps]
    print(json.dumps({
        "calls": calls, "cpu_s": cpu, "cpu_ms_per_call": cpu / calls * 1000 if calls else None,
        "gaps": len(ms), "gap_p50_ms": pct(ms, 50), "gap_p99_ms": pct(ms, 99), "gap_max_ms": max(ms or [0]),
        "identify_p99_ms": pct(identify, 99), "results": results,
    }), flush=True)
    return 0


# ------------------------------------------------------------------------------------------ client side
def run_round(port: int, calls: int, phones: list[str], rng: random.Random) -> tuple[float, list[Any]]:
    from telephony.agi.peermodel import Caller
    from telephony.agi.testpeer import AsteriskPeer

    peers = []
    for i in range(calls):
        number = rng.choice(phones) if phones and i % 4 else f"137{rng.randrange(10**8):08d}"
        keys = KEYS[i % len(KEYS)]
        peers.append(AsteriskPeer(("127.0.0.1", port), script="ivr", env={"callerid": number, "dnid": "96266"},
                                  caller=Caller(keys), timeout=60.0))
    started = time.perf_counter()
    for peer in peers:
        peer.start()
    for peer in peers:
        peer.join(120)
    return time.perf_counter() - started, peers


def bench_calls(args: argparse.Namespace) -> dict[str, Any]:
    db_path = ROOT / "var" / "bench" / "ivr-calls.db"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--serve", "--db", f"sqlite:///{db_path}",
           "--demo-customers", str(args.demo_customers)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdin is not None and child.stdout is not None
    try:
        hello = json.loads(child.stdout.readline())
        port, phones = int(hello["port"]), list(hello["phones"])
        rng = random.Random(5)
        run_round(port, min(20, args.calls), phones, rng)  # warm-up: caches, compiled flows, connections
        child.stdin.write("mark\n")
        child.stdin.flush()
        child.stdout.readline()
        walls, failed = [], 0
        for _ in range(args.rounds):
            wall, peers = run_round(port, args.calls, phones, rng)
            walls.append(wall)
            failed += sum(1 for p in peers if p.error is not None or not p.server_closed)
        child.stdin.write("stop\n")
        child.stdin.flush()
        report = json.loads(child.stdout.readline())
    finally:
        child.stdin.close()
        child.wait(30)
    total = args.calls * args.rounds
    report.update({"concurrent": args.calls, "rounds": args.rounds, "wall_s": sum(walls),
                   "calls_per_s": total / sum(walls), "peer_failures": failed})
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
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        return serve(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.quick:
        args.calls, args.rounds, args.customers = 50, 1, 100_000
    figures: dict[str, Any] = {}
    if not args.skip_calls:
        calls = figures["calls"] = bench_calls(args)
        print(f"calls: {calls['calls']} measured ({calls['concurrent']} concurrent x {calls['rounds']} rounds), "
              f"results {calls['results']}, peer failures {calls['peer_failures']}")
        print(f"  server CPU per call      {calls['cpu_ms_per_call']:.2f} ms")
        print(f"  reply -> next command    p50 {calls['gap_p50_ms']:.3f} ms, p99 {calls['gap_p99_ms']:.3f} ms, "
              f"max {calls['gap_max_ms']:.1f} ms over {calls['gaps']} replies (target p99 < 2 ms)")
        print(f"  calls per second         {calls['calls_per_s']:.0f}")
        print(f"  identification in calls  p99 {calls['identify_p99_ms']:.2f} ms")
    if not args.skip_identify:
        ident = figures["identify"] = bench_identify(args)
        print(f"identification: {ident['customers']:,} customers, {ident['samples']} numbers "
              f"({ident['found']} customers found): p50 {ident['p50_ms']:.3f} ms, p99 {ident['p99_ms']:.3f} ms, "
              f"max {ident['max_ms']:.1f} ms (target p99 < 5 ms); p99 by caller: {ident['p99_by_kind_ms']}")
        print(f"  CPU time of one identification: p50 {ident['cpu_p50_ms']:.3f} ms, p99 {ident['cpu_p99_ms']:.3f} ms "
              f"(wall time above includes waiting for a core: load average {ident['load']:.1f})")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
