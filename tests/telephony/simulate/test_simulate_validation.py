"""The simulator on the real router against Erlang C: one FIFO pool, exponential talk, nobody hangs up.

Three agents at 50 % occupancy, 60 s mean talk, no wrap-up, app_queue (first come first served), about
45,000 calls over three seeds. Erlang C gives P(W ≤ 20 s) = 85.6 % and ASA 9.47 s; the simulated figures
must be within 1.5 points and 10 %. (The noise of a simulated mean wait falls slowly with run length and
grows with the number of agents at a given occupancy; this size keeps the test at a few seconds.)
"""

from __future__ import annotations

import pytest

from telephony.simulate.engine import simulate
from telephony.simulate.erlang import ErlangC
from telephony.simulate.report import summarize
from telephony.simulate.scenario import parse_scenario

POOL = """\
duration_s: 170h
warmup_s: 1h
seeds: [1, 2, 3]
wrap_up_s: 0
max_wait_s: 100h
tiers: {ordinary: {target: 80%, within_s: 20, share: 1}}
skills: {general: {share: 1, handle: {dist: exponential, mean_s: 60}}}
loads: [{occupancy: 50%}]
agents: [{count: 3, skills: {general: 1}}]
strategy: "tier ordinary: target 80% within 20s, priority 10"
app_queue: {level_step_s: 0}
"""


def test_fifo_single_pool_matches_erlang_c() -> None:
    scenario = parse_scenario(POOL)
    rate = scenario.calls_per_hour(scenario.loads[0])
    assert rate == pytest.approx(90.0)  # 0.5 × 3 agents × 3600 / 60 s
    theory = ErlangC(3, rate / 3600, 60)
    row = summarize(scenario, simulate(scenario, ["app_queue"]))[0]
    tier = row.tiers["ordinary"]
    assert tier.offered > 40_000
    assert tier.abandon_rate == 0.0
    assert tier.service_level == pytest.approx(theory.service_level(20), abs=0.015)
    assert tier.asa_s == pytest.approx(theory.asa_s, rel=0.10)
    assert row.occupancy == pytest.approx(0.5, abs=0.01)
