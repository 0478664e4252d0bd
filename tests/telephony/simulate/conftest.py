"""Shared by the simulator tests: a small two-skill, three-tier scenario as YAML text and as a file."""

from __future__ import annotations

from pathlib import Path

import pytest

SMALL = """\
duration_s: 2h
warmup_s: 15m
seeds: [1, 2]
wrap_up_s: 5
tiers:
  platinum: {target: 90%, within_s: 20, share: 0.2, patience_s: 60, base_score: 60}
  ordinary: {target: 70%, within_s: 20, share: 0.8, patience_s: 90}
skills:
  billing: {share: 0.6, handle: {dist: lognormal, mean_s: 120, sigma: 0.5}}
  tech: {share: 0.4, handle: {dist: exponential, mean_s: 150}}
loads:
  - {occupancy: 85%}
agents:
  - {count: 4, skills: {billing: 1}}
  - {count: 2, skills: {billing: 1, tech: 2}}
  - {count: 3, skills: {tech: 1, billing: 2}}
strategy: |
  tier platinum: target 90% within 20s, priority 30, open level 2 after 0s
  tier ordinary: target 70% within 20s, priority 10, open level 2 after 15s
  when tier.service_level < tier.target then priority +10
app_queue: {level_step_s: 30}
mod_callcenter: {level_step_s: 30}
"""


@pytest.fixture
def small() -> str:
    """The small scenario's YAML text."""
    return SMALL


@pytest.fixture
def small_scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path
