"""A lower tier gated on the higher tiers' lead (``tier.higher_lead``, issue 22 item 3) in the simulator: while
platinum is ahead of its target, ordinary callers reach second-skill agents before their declared 15 s."""

from __future__ import annotations

from telephony.simulate.engine import RunResult, agent_profiles, run_once
from telephony.simulate.scenario import Scenario, parse_scenario
from telephony.simulate.traffic import generate_calls

GATE = '\n  when tier.name == "ordinary" and tier.higher_lead >= 5% then open_level 2\n'


def run(scenario: Scenario) -> RunResult:
    rate = scenario.calls_per_hour(scenario.loads[0])
    return run_once(scenario, "helpline", generate_calls(scenario, rate, 3), calls_per_hour=rate, seed=3)


def early_second_skill(scenario: Scenario, result: RunResult) -> int:
    """Ordinary calls answered by an agent for whom the call's skill is not the first, within 15 s."""
    levels = {p.id: p.skills for p in agent_profiles(scenario)}
    return sum(1 for r in result.records if r.call.tier == "ordinary" and r.how == "answered"
               and levels[str(r.agent_id)][r.call.skill] > 1 and r.wait_s < 15.0)


def test_ordinary_reaches_second_skill_agents_early_only_while_platinum_is_ahead(small: str) -> None:
    plain = parse_scenario(small).with_overrides(duration_s=3600.0, warmup_s=300.0, seeds=[3])
    gated = plain.model_copy(update={"strategy": plain.strategy.rstrip("\n") + GATE})
    before, after = run(plain), run(gated)
    assert early_second_skill(plain, before) == 0  # level 2 opens after 15 s for ordinary
    assert early_second_skill(gated, after) > 0
    assert after.tiers["ordinary"].asa_s < before.tiers["ordinary"].asa_s
