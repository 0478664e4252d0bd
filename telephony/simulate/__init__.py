"""Contact-centre simulation on the real router, to compare routing strategies before they go live.

* :mod:`~telephony.simulate.scenario` — the scenario file (agents, skills, tiers, loads, the strategies);
* :mod:`~telephony.simulate.traffic` — every call of a run drawn up front (common random numbers);
* :mod:`~telephony.simulate.engine` — the discrete-event loop driving ``telephony.router.Router`` on a
  manual clock;
* :mod:`~telephony.simulate.report` — service level, ASA, abandon rate, occupancy, worst shortfall;
* :mod:`~telephony.simulate.erlang` — Erlang C, the textbook reference the simulator is checked against;
* :mod:`~telephony.simulate.dialer` — an outbound campaign: a pacer (``telephony.outbound.pacing``) dialling a
  list, answers dropped when no agent is free within 2 s (``bench/bench_pacing.py`` compares the pacers).

``python run.py simulate SCENARIO.yaml [--json]`` runs a scenario; ``bench/routing_quality.py`` compares
Helpline's tier strategy with app_queue-like and mod_callcenter-like routing.
"""

from telephony.simulate.dialer import DialerSimulation, OutboundResult, run_outbound_once, simulate_outbound
from telephony.simulate.engine import RunResult, Simulation, TierTally, run_once, simulate
from telephony.simulate.erlang import ErlangC, agents_for, erlang_b, erlang_c
from telephony.simulate.report import Row, as_json, format_table, summarize
from telephony.simulate.scenario import STRATEGIES, LoadSpec, Scenario, ScenarioError, load_scenario, parse_scenario
from telephony.simulate.traffic import SimCall, generate_calls

__all__ = [
    "STRATEGIES", "DialerSimulation", "ErlangC", "LoadSpec", "OutboundResult", "Row", "RunResult", "Scenario",
    "ScenarioError", "SimCall", "Simulation", "TierTally", "agents_for", "as_json", "erlang_b", "erlang_c",
    "format_table", "generate_calls", "load_scenario", "parse_scenario", "run_once", "run_outbound_once", "simulate",
    "simulate_outbound", "summarize",
]
