"""Router speed: the decision time of each router call with 500 agents, 20 skills and 2,000 waiting calls.

Every agent has 2–3 of the 20 skills (the first at level 1, the others at levels 2–3). The bench signs
everyone in, queues calls until every agent talks and 2,000 calls wait, then runs a steady state on a
manual clock. Each step moves the clock 0.2 s, stopping at each moment a router timer is due to run it
(``advance``: a wrap-up ends → the agent's next offer, a level opens, a tier is re-evaluated); answers
every offer at once (``answered``); ends a random conversation (``call_ended`` → wrap-up) and queues a
new call (``queue_call``); every fifth step a random waiting caller hangs up (``abandon``) and another
call is queued, so about 2,000 calls keep waiting. Measuring starts after 5,000 steps (1,000 s), once the
service levels over the router's 900 s window have settled. Each router call is timed alone
(``time.perf_counter_ns``; the sink only counts events and collects offers).

Prints p50/p99/max per kind of router call and over all of them, the calls over 1 ms, and the router
calls and router events per second of router time. Target: p99 < 1 ms. ::

    PYTHONPATH=. python bench/routing_speed.py [--policy helpline|app_queue|mod_callcenter] [--steps 20000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._report import percentile  # noqa: E402
from helpline.rules import compile_tier_strategy  # noqa: E402
from telephony.router import (  # noqa: E402
    AgentProfile,
    AppQueuePolicy,
    CallRequest,
    HelplinePolicy,
    ManualClock,
    ModCallcenterPolicy,
    Offer,
    Policy,
    QueueSettings,
    Router,
    RouterEvent,
    RouterSettings,
)

STRATEGY = """\
tier platinum: target 90% within 20s, priority 30, open level 2 after 0s, open level 3 after 20s, starve after 60s
tier gold: target 80% within 20s, priority 20, open level 2 after 15s, open level 3 after 40s, starve after 180s
tier ordinary: target 70% within 20s, priority 10, open level 2 after 30s, open level 3 after 60s, starve after 300s
when tier.service_level < tier.target then open_level 2
when call.wait > 20s then priority -15
"""
TIERS = (("platinum", 0.1), ("gold", 0.2), ("ordinary", 0.7))
TARGETS = {"platinum": (0.9, 20.0), "gold": (0.8, 20.0), "ordinary": (0.7, 20.0)}


def make_policy(name: str) -> Policy:
    if name == "helpline":
        return HelplinePolicy(compile_tier_strategy(STRATEGY))
    if name == "app_queue":
        return AppQueuePolicy(level_step_s=30, targets=TARGETS)
    return ModCallcenterPolicy(base_scores={"platinum": 60, "gold": 30}, level_step_s=30, targets=TARGETS)


class Bench:
    """The router under test, the calls it holds and the timings of every router call."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.rng = random.Random(args.seed)
        self.skills = [f"skill{i:02d}" for i in range(args.skills)]
        self.clock = ManualClock()
        self.offers: list[int] = []
        self.events = 0
        settings = RouterSettings(
            queues={s: QueueSettings(name=s, skill=s, max_wait_s=86400) for s in self.skills}, wrap_up_s=5)
        self.router = Router(settings, make_policy(args.policy), clock=self.clock, sinks=[self._sink])
        self.timings: dict[str, list[int]] = {}
        self.measuring = False
        self.timers_run: list[int] = []
        """How many timers each measured ``advance`` ran (a tier re-evaluation runs one per waiting call)."""
        self.next_id = 1
        self.waiting: list[int] = []
        self.waiting_at: dict[int, int] = {}
        self.talking: list[int] = []
        for i in range(args.agents):
            chosen = self.rng.sample(self.skills, self.rng.choice((2, 3)))
            levels = {s: 1 if k == 0 else self.rng.choice((2, 3)) for k, s in enumerate(chosen)}
            self.router.add_agent(AgentProfile(id=str(1001 + i), skills=levels))
            self.router.sign_in(str(1001 + i))

    def _sink(self, event: RouterEvent) -> None:
        self.events += 1
        if isinstance(event, Offer):
            self.offers.append(event.call_id)

    def timed(self, kind: str, fn: Callable[..., Any], *args: Any) -> Any:
        start = time.perf_counter_ns()
        result = fn(*args)
        elapsed = time.perf_counter_ns() - start
        if self.measuring:
            self.timings.setdefault(kind, []).append(elapsed)
        return result

    # -- bookkeeping of the calls the bench holds ---------------------------------------------------
    def _add_waiting(self, call_id: int) -> None:
        self.waiting_at[call_id] = len(self.waiting)
        self.waiting.append(call_id)

    def _drop_waiting(self, call_id: int) -> None:
        i = self.waiting_at.pop(call_id)
        last = self.waiting.pop()
        if last != call_id:
            self.waiting[i] = last
            self.waiting_at[last] = i

    def queue(self) -> None:
        tier = self.rng.choices([t for t, _ in TIERS], [w for _, w in TIERS])[0]
        call_id, self.next_id = self.next_id, self.next_id + 1
        request = CallRequest(call_id=call_id, queue=self.rng.choice(self.skills), tier=tier)
        self._add_waiting(call_id)
        self.timed("queue_call", self.router.queue_call, request)
        self.answer_offers()

    def answer_offers(self) -> None:
        while self.offers:
            call_id = self.offers.pop()
            self._drop_waiting(call_id)
            self.timed("answered", self.router.answered, call_id)
            self.talking.append(call_id)

    def end_one(self) -> None:
        i = self.rng.randrange(len(self.talking))
        self.talking[i], self.talking[-1] = self.talking[-1], self.talking[i]
        self.timed("call_ended", self.router.call_ended, self.talking.pop())
        self.answer_offers()

    def abandon_one(self) -> None:
        call_id = self.waiting[self.rng.randrange(len(self.waiting))]
        self._drop_waiting(call_id)
        self.timed("abandon", self.router.abandon, call_id)
        self.answer_offers()

    def advance_to(self, at: float) -> None:
        """Move the clock to ``at``, stopping at each moment a router timer is due (as the simulator does)."""
        while (due := self.router.next_timer_at()) is not None and due <= at:
            self.clock.set(max(due, self.clock.now()))
            ran = self.timed("advance", self.router.advance)
            if self.measuring:
                self.timers_run.append(ran)
            self.answer_offers()
        self.clock.set(at)

    # -- the run --------------------------------------------------------------------------------
    def fill(self, waiting: int) -> None:
        while len(self.waiting) < waiting:
            self.queue()

    def step(self, n: int) -> None:
        self.advance_to(self.clock.now() + 0.2)
        if self.talking:
            self.end_one()
        self.queue()
        if n % 5 == 0 and self.waiting:
            self.abandon_one()
            self.queue()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agents", type=int, default=500)
    p.add_argument("--skills", type=int, default=20)
    p.add_argument("--waiting", type=int, default=2000)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--warmup-steps", type=int, default=5000,
                   help="steps before measuring (default %(default)s: 1,000 s, longer than the 900 s "
                        "service-level window)")
    p.add_argument("--policy", choices=("helpline", "app_queue", "mod_callcenter"), default="helpline")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)

    bench = Bench(args)
    bench.fill(args.waiting)
    for n in range(args.warmup_steps):
        bench.step(n)
    bench.measuring, bench.events = True, 0
    started = time.perf_counter()
    for n in range(args.steps):
        bench.step(n)
    wall = time.perf_counter() - started
    router = bench.router
    busy = sum(1 for a in router.agents.values() if a.call_id is not None)
    print(f"router speed: {args.agents} agents, {args.skills} skills, {args.policy} policy; "
          f"{len(bench.waiting)} calls waiting and {busy} agents on a call at the end; "
          f"{args.steps} steps of 0.2 s after {args.warmup_steps} warm-up steps")
    print(f"{'router call':<12}{'n':>8}{'p50 µs':>10}{'p99 µs':>10}{'max µs':>10}")
    figures: dict[str, dict[str, float]] = {}
    everything: list[int] = []
    for kind in ("queue_call", "answered", "call_ended", "advance", "abandon"):
        samples = sorted(bench.timings.get(kind, []))
        everything.extend(samples)
        figures[kind] = _row(kind, samples)
    figures["all"] = _row("all", sorted(everything))
    total_s = sum(everything) / 1e9
    rates = {"router_calls_per_s": len(everything) / total_s, "router_events_per_s": bench.events / total_s,
             "wall_s": wall}
    print(f"{len(everything)} router calls in {total_s:.2f} s of router time ({wall:.2f} s wall): "
          f"{rates['router_calls_per_s']:,.0f} router calls/s, {rates['router_events_per_s']:,.0f} router events/s")
    slow = [t for t in everything if t > 1_000_000]
    advances = sorted(zip(bench.timings.get("advance", []), bench.timers_run, strict=True), reverse=True)
    print(f"router calls over 1 ms: {len(slow)} ({len(slow) / len(everything):.2%}); the slowest advance calls "
          f"ran {', '.join(str(n) for _, n in advances[:5])} timers (median advance: "
          f"{sorted(bench.timers_run)[len(bench.timers_run) // 2] if bench.timers_run else 0})")
    p99_ms = figures["all"]["p99_us"] / 1000
    print(f"target p99 < 1 ms: {'met' if p99_ms < 1 else 'MISSED'} ({p99_ms:.3f} ms)")
    if args.json:
        Path(args.json).write_text(json.dumps({"figures": figures, **rates}, indent=2), encoding="utf-8")
    return 0


def _row(kind: str, samples: list[int]) -> dict[str, float]:
    if not samples:
        return {"n": 0, "p50_us": 0.0, "p99_us": 0.0, "max_us": 0.0}
    values = [float(t) for t in samples]
    row = {"n": len(values), "p50_us": percentile(values, 50) / 1000, "p99_us": percentile(values, 99) / 1000,
           "max_us": values[-1] / 1000}
    print(f"{kind:<12}{row['n']:>8}{row['p50_us']:>10.1f}{row['p99_us']:>10.1f}{row['max_us']:>10.0f}")
    return row


if __name__ == "__main__":
    sys.exit(main())
