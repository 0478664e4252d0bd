"""Benchmarks of the rule language (pytest-benchmark; not part of the normal test run).

Run: ``python -m pytest bench/bench_rules.py --benchmark-only -q``. Targets: compile a 10-rule IVR branch
< 5 ms, evaluate a typical rule < 5 µs, one tier-strategy routing decision < 20 µs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from helpline.rules import IVR, compile_expression, compile_rules, compile_tier_strategy  # noqa: E402

IVR_BRANCH = """# main menu of the service line
when caller.blacklisted then block
when outage.active and caller.region == "changsha" then play outage_notice, hangup
when customer.tier in {platinum, diamond} then skip_ivr, transfer vip
when customer.tier == gold and call.wait > 20s then set priority 30, transfer vip
when customer.lifecycle == new and now.hour >= 9 and now.hour < 18 then goto menu_new
when caller.number starts_with "0731" and not caller.known then goto menu_local
when call.digits == "9" or call.retries >= 3 then transfer general
when customer.name contains "张" then play 欢迎词
when today.weekday in {6, 7} then goto menu_weekend
otherwise goto menu_main
"""

CONTEXT: dict[str, Any] = {
    "caller": {"number": "073188886666", "known": True, "blacklisted": False, "region": "changsha"},
    "customer": {"id": 7, "name": "李四", "tier": "gold", "lifecycle": "active"},
    "call": {"wait": 25, "digits": "", "retries": 0},
    "now": {"hour": 10},
    "today": {"weekday": 3},
    "outage": {"active": False},
}

STRATEGY = """tier platinum: target 90% within 20s, priority 30, open level 2 after 5s, \\
    open level 3 after 15s, starve after 120s
tier gold: target 85% within 20s, priority 20, open level 2 after 10s
tier ordinary: target 70% within 20s, priority 10, open level 2 after 30s
when tier.service_level < tier.target then priority +10, open_level 2
when queue.waiting > 20 and customer.tier in {platinum, diamond} then add_priority 5
"""


def test_compile_ivr_branch(benchmark: Any) -> None:
    compile_rules(IVR_BRANCH, IVR)  # build the parser outside the timing
    result = benchmark(compile_rules, IVR_BRANCH, IVR)
    assert len(result.program.rules) == 10


def test_evaluate_typical_rule(benchmark: Any) -> None:
    expr = compile_expression("customer.tier == gold and call.wait > 20s", IVR)
    assert benchmark(expr.evaluate, CONTEXT) is True


def test_evaluate_ivr_branch(benchmark: Any) -> None:
    rules = compile_rules(IVR_BRANCH, IVR)
    match = benchmark(rules.evaluate, CONTEXT)
    assert match is not None and match.rule_index == 3


def test_tier_decision(benchmark: Any) -> None:
    strategy = compile_tier_strategy(STRATEGY)
    ctx = {**CONTEXT, "queue": {"waiting": 25}, "tier": {"service_level": 0.8}}
    decision = benchmark(strategy.decide, "gold", ctx)
    assert decision.max_level == 2 and decision.priority == 30
