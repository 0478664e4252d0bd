"""Scenario files: a good one loads; a bad one reports every problem with its file, line, column and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from telephony.simulate.scenario import LoadSpec, ScenarioError, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[3]


def problems_of(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "bad.yaml")
    return [f"{p.location} {p.id} {p.message}" for p in info.value.problems]


def test_the_small_scenario_loads_with_durations_and_percentages(small: str) -> None:
    scenario = parse_scenario(small)
    assert scenario.duration_s == 7200 and scenario.warmup_s == 900
    assert scenario.tiers["platinum"].target == pytest.approx(0.9)
    assert scenario.agent_count == 9
    assert scenario.tier_shares() == pytest.approx({"platinum": 0.2, "ordinary": 0.8})
    # occupancy 85 %: 0.85 × 9 agents × 3600 / (mean talk 0.6·120 + 0.4·150 + wrap-up 5)
    assert scenario.mean_handle_s == pytest.approx(132.0)
    assert scenario.calls_per_hour(scenario.loads[0]) == pytest.approx(0.85 * 9 * 3600 / 137.0)
    assert scenario.calls_per_hour(LoadSpec(calls_per_hour=42)) == 42


def test_the_bench_scenario_is_valid() -> None:
    scenario = load_scenario(ROOT / "bench" / "routing_quality.yaml")
    assert scenario.agent_count == 25 and len(scenario.loads) == 3


def test_schema_problems_name_file_line_and_field(small: str) -> None:
    text = (small.replace("target: 90%, within_s: 20, share: 0.2", "target: 120%, within_s: 20, share: 0.2")
            .replace("dist: exponential", "dist: gamma")
            .replace("{occupancy: 85%}", "{occupancy: 85%, calls_per_hour: 10}")
            .replace("patience_s: 90}", "patiense_s: 90}"))
    found = problems_of(text)
    assert "bad.yaml:6:22 HL-E106 tiers.platinum.target: Input should be less than or equal to 1" in found
    assert "bad.yaml:7:53 HL-E102 tiers.ordinary.patiense_s: unknown property" in found
    assert any(p.startswith("bad.yaml:10:37 HL-E105 skills.tech.handle.dist: Input should be") for p in found)
    assert "bad.yaml:12:5 HL-E106 loads.0: give exactly one of calls_per_hour and occupancy" in found
    assert len(found) == 4


def test_missing_fields_and_yaml_syntax() -> None:
    assert problems_of("duration_s: 1h\n") == [f"bad.yaml:1:1 HL-E101 {name}: required property is missing"
                                               for name in ("tiers", "skills", "loads", "agents", "strategy")]
    assert problems_of("tiers: [\n")[0].startswith("bad.yaml:2:1 HL-E001 YAML syntax error")
    assert problems_of("- 1\n") == ["bad.yaml:1:1 HL-E002 a scenario file holds one mapping"]


def test_cross_field_problems_and_the_strategy_text(small: str) -> None:
    text = (small.replace("warmup_s: 15m", "warmup_s: 3h")
            .replace("{count: 4, skills: {billing: 1}}", "{count: 4, skills: {billing: 1, sales: 2}}")
            .replace("when tier.service_level", "when tier.servce_level")
            .replace("  tier ordinary: target 70% within 20s, priority 10, open level 2 after 15s\n", ""))
    found = problems_of(text)
    assert "bad.yaml:2:11 HL-E106 warmup_s: the warm-up must be shorter than duration_s" in found
    assert any(p.startswith("bad.yaml:14:37 HL-E106 agents.0.skills.sales: unknown skill") for p in found)
    # the rule's own position inside the block scalar
    assert any(p.startswith("bad.yaml:19:8 HL-R201 unknown name `tier.servce_level`") for p in found)


def test_an_undeclared_tier_is_reported_against_the_strategy(small: str) -> None:
    text = small.replace("  tier ordinary: target 70% within 20s, priority 10, open level 2 after 15s\n", "")
    assert problems_of(text) == ["bad.yaml:17:11 HL-E106 strategy: tier ordinary is not declared "
                                 "(declare it or a `default` tier)"]


def test_an_unreadable_file_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert info.value.problems[0].file == str(tmp_path / "nope.yaml")
