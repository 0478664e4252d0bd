"""Dial-out benchmark (issue 19 item 1): from "dial" to the agent hearing ring-back, on the simulated switch.

A platform on a fresh SQLite database (or ``--db postgresql://…``: that database, which must be empty or a
Helpline one) with the project's metadata, the router, the desk and the simulated call control. Each of
``--agents`` agents (demo agents 1001, 1002, 1009, signed in not ready, phones on auto-answer) dials
``--calls`` numbers in turn, concurrently with the others. Measured per call, on the desktop's side: from
entering the desk's ``outbound(desk).dial`` (permission and state checks, the router's compare-and-set, the
call record, the contact record, the audit, the switch's ``dial_out``) to the ``ringback`` event (the agent's
phone picked up, the number rings). The number then rings on; the agent hangs up, and the attempt must end
``cancelled`` with its record closed and the agent idle again.

A **failure** is a dial refused, no ring-back within 2 s, no end within 2 s, a record not closed or with
another result, or the agent not idle afterwards; the bench exits 1 on any failure or when the p95 misses
the target (200 ms).

``PYTHONPATH=. python bench/bench_dial.py`` (``--calls 300 --agents 3``; ``--json FILE`` keeps the figures).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 200.0
USERS = {"1001": "agent1", "1002": "agent2", "1009": "supervisor1"}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per agent")
    parser.add_argument("--agents", type=int, default=3, choices=(1, 2, 3))
    parser.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--json", default="", help="write the figures to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from helpline.security.actor import Actor
    from helpline.services import agents as agent_service
    from helpline.services.calls import CallService
    from helpline.services.platform import Platform
    from telephony.control.outbound import SimulatedOutside
    from telephony.control.simulated import SimulatedCallControl
    from telephony.desk.dialout import outbound
    from telephony.desk.service import DeskService
    from telephony.router.service import RouterService
    from telephony.switch.phones import SimulatedPhones

    work = Path(tempfile.mkdtemp(prefix="helpline-bench-dial-"))
    metadata = work / "metadata"
    shutil.copytree(ROOT / "metadata", metadata)
    platform = Platform()
    platform.start(args.db or f"sqlite:///{work}/helpline.db", str(metadata))
    agent_service.ensure_demo_agents()
    router = RouterService.from_platform(platform, restore=False).start()
    outside = SimulatedOutside()
    control = SimulatedCallControl(SimulatedPhones(), outside)
    desk = DeskService(platform, router, control)
    dialout = outbound(desk)
    calls = CallService()
    numbers = list(USERS)[:args.agents]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def agent_loop(number: str, index: int) -> None:
        who = Actor(USERS[number], roles=("administrator" if number == "1009" else "agent",),
                    ).bind(platform.metadata)
        who._role_objs = [r.model_copy(update={"permissions": [*r.permissions, "desktop", "agent.outbound"]})
                          for r in who._role_objs]
        ref = desk.sign_in(who)
        control.phones.phone(ref.endpoint).auto_answer = True
        for n in range(args.calls):
            dialled = f"1380{index}{n:06d}"
            outside.behave(dialled, result="noanswer")
            started = time.monotonic()
            try:
                call_id = dialout.dial(who, dialled)
            except Exception as exc:
                with lock:
                    failures.append(f"{number} call {n}: refused: {exc}")
                continue
            call = dialout.get(call_id)
            problem = None
            if call is None or not call.ringback.wait(2.0) or call.ringback_at is None:
                problem = "no ring-back within 2 s"
            else:
                with lock:
                    latencies.append((call.ringback_at - started) * 1000)
            if call is not None:
                dialout.hang_up(call_id, "bench")
                if not call.done.wait(2.0):
                    problem = problem or "did not end within 2 s"
                elif call.outcome != "cancelled":
                    problem = problem or f"ended {call.outcome}"
            record = calls.get(call_id)
            if problem is None and (record is None or record["ended_at"] is None or record["result"] != "cancelled"):
                problem = f"record not closed as cancelled: {record and record['result']}"
            state = desk.view(number)["state"]
            if problem is None and state != "idle":
                problem = f"agent {state} afterwards"
            if problem:
                with lock:
                    failures.append(f"{number} call {n}: {problem}")

    wall = time.monotonic()
    threads = [threading.Thread(target=agent_loop, args=(number, i)) for i, number in enumerate(numbers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - wall
    dialout.close()
    router.stop()
    shutil.rmtree(work, ignore_errors=True)

    figures: dict[str, Any] = {
        "calls": len(numbers) * args.calls, "agents": len(numbers), "failures": len(failures),
        "p50_ms": round(pct(latencies, 50), 2), "p95_ms": round(pct(latencies, 95), 2),
        "p99_ms": round(pct(latencies, 99), 2), "max_ms": round(max(latencies, default=float("nan")), 2),
        "calls_per_s": round(len(latencies) / wall, 1), "database": "postgresql" if args.db else "sqlite",
        "target_p95_ms": TARGET_P95_MS}
    print(f"dial → ring-back on the simulated switch: {figures['calls']} calls by {figures['agents']} agents "
          f"({figures['database']}): p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} "
          f"ms, max {figures['max_ms']} ms; {figures['calls_per_s']} calls/s; failures {len(failures)}")
    for failure in failures[:20]:
        print("  FAILED", failure)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    missed = not latencies or figures["p95_ms"] >= TARGET_P95_MS
    if missed:
        print(f"  MISSED the target p95 < {TARGET_P95_MS:g} ms")
    return 1 if failures or missed else 0


if __name__ == "__main__":
    sys.exit(main())
