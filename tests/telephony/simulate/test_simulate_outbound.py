"""The outbound dialler simulation: its invariants with fixed seeds, the 2 s drop rule, the hour figures,
the scenario's validation and ``run.py simulate`` on an outbound scenario (all small and fast)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpline.cli import main
from telephony.outbound.pacing import METHODS, DialState
from telephony.simulate.dialer import FINAL_OUTCOMES, DialerSimulation, pacer_for, simulate_outbound
from telephony.simulate.report import format_outbound_table, summarize_outbound
from telephony.simulate.scenario import (
    OutboundSpec,
    ScenarioError,
    is_outbound,
    parse_outbound_scenario,
)
from telephony.simulate.traffic import generate_numbers

SMALL = """\
outbound:
  duration_s: 40m
  seeds: [1, 2]
  agents: [6]
  numbers_per_agent: 60
  outcomes: {human: 30%, machine: 15%, busy: 10%, no_answer: 40%, failed: 5%}
  ring_s:
    human: {dist: lognormal, mean_s: 10, sigma: 0.5}
    no_answer: {dist: fixed, mean_s: 25}
  talk: {dist: lognormal, mean_s: 60, sigma: 0.7}
  wrap_s: 5
  max_attempts: 3
  retry_after_s: 5m
"""


def small() -> OutboundSpec:
    return parse_outbound_scenario(SMALL).outbound


Trace = list[tuple[float, str, int]]


def run_traced(spec: OutboundSpec, method: str, agents: int, seed: int) -> tuple[DialerSimulation, Trace]:
    numbers = generate_numbers(spec, agents * spec.numbers_per_agent, seed)
    trace: Trace = []
    sim = DialerSimulation(spec, pacer_for(spec, method), agents, numbers, seed, trace=trace)
    sim.run()
    return sim, trace


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", [1, 2])
def test_every_number_reaches_one_final_outcome_and_is_never_dialled_twice_at_once(method: str, seed: int) -> None:
    spec = small()
    sim, trace = run_traced(spec, method, 6, seed)
    result = sim.result()
    assert result.violations == []
    assert sorted(sim.final) == list(range(len(sim.numbers)))  # every number, exactly once
    assert set(result.outcomes) <= set(FINAL_OUTCOMES)
    assert sum(result.outcomes.values()) == result.numbers == 360
    up: set[int] = set()
    attempts: Counter[int] = Counter()
    for at, what, index in trace:  # the lines as they went up and down, checked apart from the run's own check
        if what == "dial":
            assert index not in up, f"number {index} dialled again at {at} while its line was up"
            assert at < spec.duration_s
            up.add(index)
            attempts[index] += 1
        else:
            up.remove(index)
    assert not up
    assert max(attempts.values()) <= spec.max_attempts
    assert sum(attempts.values()) == result.dials > 0
    dialled_out = {i for i, outcome in sim.final.items() if outcome not in ("not_dialled",)}
    assert dialled_out == set(attempts)
    contacted = result.outcomes["contacted"]
    assert contacted == result.contacts and result.outcomes["dropped"] == result.drops
    assert result.live_answers == contacted + result.drops
    for hour in result.hours:
        assert 0.0 <= hour.occupancy <= 1.0


def test_the_run_reports_a_number_dialled_while_its_line_is_up() -> None:
    spec = small()
    sim = DialerSimulation(spec, pacer_for(spec, "progressive"), 2, generate_numbers(spec, 5, 1))
    sim._dial(0)
    sim._dial(0)
    assert sim.violations == ["number 1 dialled while its line is up"]


@dataclass
class Burst:
    """A pacer that dials ``lines`` once, at the start (to stage answers arriving together)."""

    lines: int
    method: str = "burst"
    asked: list[DialState] = field(default_factory=list)

    def lines_to_dial(self, state: DialState) -> int:
        self.asked.append(state)
        return self.lines if len(self.asked) == 1 else 0


def all_answer(talk_s: float, wrap_s: float) -> OutboundSpec:
    return parse_outbound_scenario(f"""
outbound:
  duration_s: 10m
  agents: [1]
  outcomes: {{human: 1}}
  ring_s: {{human: {{dist: fixed, mean_s: 5}}}}
  talk: {{dist: fixed, mean_s: {talk_s}}}
  wrap_s: {wrap_s}
""").outbound


def test_a_live_answer_without_an_agent_within_2_s_is_dropped() -> None:
    spec = all_answer(talk_s=100, wrap_s=5)
    sim = DialerSimulation(spec, Burst(3), 1, generate_numbers(spec, 3, 1))
    sim.run()
    result = sim.result()
    assert dict(result.outcomes) == {"contacted": 1, "dropped": 2}
    assert (result.hours[0].live_answers, result.hours[0].drops) == (3, 2)
    assert result.abandon_rate == pytest.approx(2 / 3)


def test_an_agent_free_exactly_2_s_after_the_answer_still_takes_it() -> None:
    spec = all_answer(talk_s=1, wrap_s=1)  # answers at 5 s; the agent is free again at 7 s = the deadline
    sim = DialerSimulation(spec, Burst(3), 1, generate_numbers(spec, 3, 1))
    sim.run()
    assert dict(sim.result().outcomes) == {"contacted": 2, "dropped": 1}


def test_the_pacer_sees_what_the_run_measured() -> None:
    spec = small()
    sim, _ = run_traced(spec, "predictive", 6, 1)
    state = sim.state()
    assert state.ringing == 0 and state.agents_free == 6
    assert state.answer_rate is not None and 0.15 < state.answer_rate < 0.45
    assert state.mean_talk_s is not None and 20 < state.mean_talk_s < 150
    assert state.drop_rate_day is not None


def test_every_method_dials_the_same_list() -> None:
    spec = small()
    assert generate_numbers(spec, 50, 3)[:20] == generate_numbers(spec, 20, 3)
    assert generate_numbers(spec, 20, 3) != generate_numbers(spec, 20, 4)
    results = simulate_outbound(spec, methods=["progressive", "predictive"])
    assert [(r.method, r.seed, r.numbers) for r in results] == [
        ("progressive", 1, 360), ("predictive", 1, 360), ("progressive", 2, 360), ("predictive", 2, 360)]
    rows = summarize_outbound(results)
    assert [r.method for r in rows] == ["progressive", "predictive"]
    assert rows[0].gain == 0.0 and rows[1].gain is not None and rows[1].gain > 0
    assert len(rows[1].hourly_abandon) == 1  # 40 minutes: one (partial) hour
    table = format_outbound_table(spec, rows, "small")
    assert "6 agents" in table and "predictive" in table and "abandon/h" in table


@pytest.mark.parametrize(("text", "message"), [
    ("outbound:\n  agents: [5]\n  talk: {mean_s: 60}\n", "outbound.outcomes"),
    ("outbound:\n  agents: [5]\n  outcomes: {human: 0}\n  talk: {mean_s: 60}\n", "shares add up to 0"),
    ("outbound:\n  agents: [5]\n  outcomes: {person: 1}\n  talk: {mean_s: 60}\n", "outbound.outcomes.person"),
    ("outbound:\n  agents: [5]\n  outcomes: {human: 1}\n  talk: {mean_s: 60}\n  predictive: {speed: 2}\n",
     "outbound.predictive: pacing predictive"),
    ("outbound:\n  agents: [5]\n  outcomes: {human: 1}\n  talk: {mean_s: 60}\n  methods: [ratio]\n",
     "outbound.methods.0"),
])
def test_a_broken_outbound_scenario_names_the_field(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_outbound_scenario(text, "x.yaml")
    assert any(message in p.format() for p in caught.value.problems), [p.format() for p in caught.value.problems]
    assert is_outbound(text)


def test_run_py_simulate_runs_an_outbound_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "outbound.yaml"
    path.write_text(SMALL, encoding="utf-8")
    code = main(["simulate", str(path), "--json", "--seeds", "1", "--method", "progressive,adaptive_tapered",
                 "--agents", "4", "--duration", "20m"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["method"], r["agents"]) for r in rows] == [("progressive", 4), ("adaptive_tapered", 4)]
    assert rows[0]["violations"] == 0 and rows[0]["abandon_rate"] == 0.0
    assert main(["simulate", str(path), "--method", "ratio"]) == 2
    assert "--method: unknown ratio" in capsys.readouterr().err
