"""A simulation scenario: the centre (agents and skills), its traffic (tiers, loads) and the strategies.

Written in YAML and validated by pydantic; every problem of a file is reported at once, each with the
file, line, column and the dotted field (``bench/x.yaml:12:13: HL-E106 tiers.gold.target: Input should
be less than or equal to 1``), then :class:`ScenarioError` is raised. ::

    duration_s: 8h              # simulated time per run (arrivals stop here; calls in progress finish)
    warmup_s: 30m               # calls arriving earlier are left out of the statistics
    seeds: [1, 2, 3]            # one run per seed; figures are averaged over seeds
    wrap_up_s: 10
    max_wait_s: 1h              # a call waiting longer leaves its queue (timeout: a miss)
    service_window_s: 15m       # the sliding window of tier.service_level the strategy reads
    catch_up: 2                 # Helpline opens a behind tier's levels this many times sooner
    tiers:                      # share of the calls; patience_s = mean of an exponential patience (null: never)
      platinum: {target: 90%, within_s: 20, share: 0.1, patience_s: 120, base_score: 60}
    skills:                     # share of the calls; handle time distribution
      billing: {share: 0.6, handle: {dist: lognormal, mean_s: 240, sigma: 0.5}}
      tech: {share: 0.4, handle: {dist: exponential, mean_s: 300}}
    loads:                      # each load is one row of the report
      - {occupancy: 85%}        # calls/hour = occupancy × agents × 3600 / (mean handle + wrap-up)
      - {calls_per_hour: 300}
    agents:
      - {count: 10, skills: {billing: 1, tech: 2}}
    strategy: |                 # the Helpline tier strategy (rule language, place of use `tier`)
      tier platinum: target 90% within 20s, priority 30, open level 2 after 5s
    app_queue: {level_step_s: 30}
    mod_callcenter: {level_step_s: 30}

Durations may be written ``30s``, ``5m``, ``8h`` or as seconds; shares and targets as ``90%`` or ``0.9``.
Shares are relative weights (they need not add up to 1).

An outbound scenario is a file with one ``outbound:`` mapping (:class:`OutboundSpec`; ``bench/pacing.yaml``
shows every field): the shift, seeds, agent counts, pacing methods, list size, the attempts' outcome shares
(``human``, ``machine``, ``busy``, ``no_answer``, ``failed``) and ring times, talk and wrap-up, the 2 s drop
rule, attempts and retry interval, the drop cap and the pacers' options. :func:`is_outbound` tells them apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from helpline.diagnostics import Problem, ProblemsError
from helpline.metadata.kinds.common import Name
from helpline.metadata.kinds.ivr import parse_duration
from helpline.metadata.loader import _schema_problems, yaml_syntax_problem
from helpline.metadata.metaset import Source
from helpline.metadata.problems import problem
from helpline.metadata.yamlpos import load_with_positions
from helpline.rules import TIER, check, compile_tier_strategy
from helpline.rules.tiers import TierStrategy
from telephony.outbound.pacing import make_pacer

M = TypeVar("M", bound=BaseModel)

STRATEGIES = ("helpline", "app_queue", "mod_callcenter")
"""The routing policies a scenario compares, in report order."""


def _fraction(value: Any) -> Any:
    """``90%`` → 0.9; numbers pass through."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100.0
        except ValueError:
            raise ValueError(f"{value!r} is not a percentage; write it like 90% or 0.9") from None
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
PositiveSeconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
Fraction = Annotated[float, BeforeValidator(_fraction), Field(gt=0, le=1)]
Share = Annotated[float, BeforeValidator(_fraction), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierSpec(_Strict):
    target: Fraction
    """Service-level target: this share of the tier's calls answered within ``within_s``."""
    within_s: Seconds = 20.0
    share: Share
    """Relative share of the calls."""
    patience_s: PositiveSeconds | None = None
    """Mean patience (exponential); a caller still waiting then hangs up. None: callers never abandon."""
    base_score: float = 0.0
    """mod_callcenter's base score of the tier (seconds of wait it is worth)."""


class HandleTime(_Strict):
    dist: Literal["exponential", "lognormal", "fixed"] = "exponential"
    mean_s: PositiveSeconds
    sigma: float = Field(default=0.5, ge=0, le=3)
    """Lognormal only: the standard deviation of the underlying normal (the mean stays ``mean_s``)."""


class SkillSpec(_Strict):
    share: Share
    handle: HandleTime


class LoadSpec(_Strict):
    """One load: either ``calls_per_hour`` or a target ``occupancy`` (converted with the agents' capacity)."""

    calls_per_hour: float | None = Field(default=None, gt=0)
    occupancy: Annotated[float | None, BeforeValidator(_fraction), Field(default=None, gt=0, le=1.5)] = None

    @model_validator(mode="after")
    def _one_of(self) -> LoadSpec:
        if (self.calls_per_hour is None) == (self.occupancy is None):
            raise ValueError("give exactly one of calls_per_hour and occupancy")
        return self

    def label(self) -> str:
        return f"{self.occupancy:.0%} occupancy" if self.occupancy is not None else f"{self.calls_per_hour:g} calls/h"


class AgentGroup(_Strict):
    count: int = Field(ge=1, le=100_000)
    skills: dict[Name, Annotated[int, Field(ge=1, le=9)]] = Field(min_length=1)
    """Skill → level (1 = the agent's first skill)."""


class SteppedSpec(_Strict):
    level_step_s: Seconds = 30.0
    """Level n opens after level_step_s × (n − 1) seconds of waiting."""


class Scenario(_Strict):
    duration_s: PositiveSeconds
    warmup_s: Seconds = 0.0
    seeds: list[int] = Field(default=[1], min_length=1)
    wrap_up_s: Seconds = 10.0
    max_wait_s: PositiveSeconds = 3600.0
    """A call waiting longer leaves its queue (``timeout``, counted as a miss)."""
    service_window_s: PositiveSeconds = 900.0
    """The sliding window of ``tier.service_level`` the Helpline strategy reads."""
    catch_up: float = Field(default=2.0, ge=1)
    """While a tier is behind its target, Helpline opens its levels this many times sooner."""
    tiers: dict[Name, TierSpec] = Field(min_length=1)
    skills: dict[Name, SkillSpec] = Field(min_length=1)
    loads: list[LoadSpec] = Field(min_length=1)
    agents: list[AgentGroup] = Field(min_length=1)
    strategy: str = Field(min_length=1)
    """The Helpline tier strategy (rule language, place of use ``tier``)."""
    app_queue: SteppedSpec = SteppedSpec()
    mod_callcenter: SteppedSpec = SteppedSpec()

    @property
    def agent_count(self) -> int:
        return sum(g.count for g in self.agents)

    def tier_shares(self) -> dict[str, float]:
        total = sum(t.share for t in self.tiers.values())
        return {name: t.share / total for name, t in self.tiers.items()}

    def skill_shares(self) -> dict[str, float]:
        total = sum(s.share for s in self.skills.values())
        return {name: s.share / total for name, s in self.skills.items()}

    @property
    def mean_handle_s(self) -> float:
        """Mean talk time over all calls (skill shares as weights)."""
        return sum(share * self.skills[name].handle.mean_s for name, share in self.skill_shares().items())

    def calls_per_hour(self, load: LoadSpec) -> float:
        """Offered calls per hour of a load; an occupancy is ``ρ × agents × 3600 / (handle + wrap-up)``."""
        if load.calls_per_hour is not None:
            return load.calls_per_hour
        assert load.occupancy is not None
        return load.occupancy * self.agent_count * 3600.0 / (self.mean_handle_s + self.wrap_up_s)

    def tier_strategy(self) -> TierStrategy:
        return compile_tier_strategy(self.strategy)

    def with_overrides(self, *, seeds: list[int] | None = None, loads: list[LoadSpec] | None = None,
                       duration_s: float | None = None, warmup_s: float | None = None) -> Scenario:
        """A copy with other seeds, loads or run length (the command line's options)."""
        update: dict[str, Any] = {}
        if seeds:
            update["seeds"] = list(seeds)
        if loads:
            update["loads"] = list(loads)
        if duration_s is not None:
            update["duration_s"] = duration_s
        if warmup_s is not None:
            update["warmup_s"] = warmup_s
        return self.model_copy(update=update)


OUTCOMES = ("human", "machine", "busy", "no_answer", "failed")
"""What one outbound attempt meets: a person, an answering machine, busy, no answer, a failed line."""
PacingMethod = Literal["progressive", "predictive", "adaptive_hard_limit", "adaptive_tapered"]
PACING_METHODS: tuple[PacingMethod, ...] = ("progressive", "predictive", "adaptive_hard_limit", "adaptive_tapered")
"""The pacing methods an outbound scenario compares (``telephony.outbound.pacing.METHODS``)."""


class OutboundSpec(_Strict):
    """An outbound campaign run by the dialler simulation (:mod:`telephony.simulate.dialer`)."""

    duration_s: PositiveSeconds = 8 * 3600.0
    """The shift: dialling stops here (calls in progress finish); figures are given per hour."""
    seeds: list[int] = Field(default=[1], min_length=1)
    agents: list[Annotated[int, Field(ge=1, le=10_000)]] = Field(min_length=1)
    """Agent counts to run (one row each)."""
    methods: list[PacingMethod] = Field(default=list(PACING_METHODS), min_length=1)
    numbers_per_agent: int = Field(default=500, ge=1, le=100_000)
    """List size = agents × this (enough that the list lasts the shift)."""
    outcomes: dict[Literal["human", "machine", "busy", "no_answer", "failed"], Annotated[
        float, BeforeValidator(_fraction), Field(ge=0)]] = Field(min_length=1)
    """Share of attempts meeting each outcome (relative weights); ``human`` is the live answer rate."""
    ring_s: dict[Literal["human", "machine", "busy", "no_answer", "failed"], HandleTime] = {}
    """Time from dialling to the outcome (answer, busy tone, giving up); default 10 s, no answer 25 s fixed."""
    machine_detect_s: Seconds = 3.0
    """An answering machine is recognised and hung up this long after it answers."""
    talk: HandleTime
    wrap_s: Seconds = 10.0
    drop_after_s: Seconds = 2.0
    """A live answer with no agent free within this long is dropped (abandoned)."""
    max_attempts: int = Field(default=3, ge=1, le=20)
    """Attempts per number (busy, no answer and failed attempts are retried)."""
    retry_after_s: Seconds = 3600.0
    tick_s: PositiveSeconds = 1.0
    """How often the pacer is asked."""
    drop_cap: Fraction = 0.03
    """The abandon-rate cap checked per hour (and the adaptive methods' limit)."""
    predictive: dict[str, float] = {}
    """Options of the predictive pacer (``target_drop``, ``max_ratio``)."""
    adaptive: dict[str, float] = {}
    """Options of the adaptive pacers (``interval_s``, ``target_idle``, ``gain``, ``max_level``)."""

    def outcome_shares(self) -> dict[str, float]:
        total = sum(self.outcomes.values())
        return {name: share / total for name, share in self.outcomes.items()}

    def ring(self, outcome: str) -> HandleTime:
        default = HandleTime(dist="fixed", mean_s=25.0) if outcome == "no_answer" else HandleTime(mean_s=10.0)
        return self.ring_s.get(outcome, default)  # type: ignore[call-overload,no-any-return]


class OutboundScenario(_Strict):
    """An outbound scenario file: one ``outbound:`` mapping."""

    outbound: OutboundSpec

    def with_overrides(self, *, seeds: list[int] | None = None, agents: list[int] | None = None,
                       methods: list[str] | None = None, duration_s: float | None = None) -> OutboundScenario:
        """A copy with other seeds, agent counts, methods or shift length (the command line's options)."""
        update: dict[str, Any] = {}
        for name, value in (("seeds", seeds), ("agents", agents), ("methods", methods),
                            ("duration_s", duration_s)):
            if value:
                update[name] = value
        spec = OutboundSpec.model_validate({**self.outbound.model_dump(), **update})
        return OutboundScenario(outbound=spec)


class ScenarioError(ProblemsError):
    """A scenario file that cannot be used; ``problems`` name the file, line, column and field."""


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` with every problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([problem("HL-E001", f"cannot read the scenario: {exc.strerror or exc}",
                                     hint="Check the path of the scenario file.", file=name)]) from None
    return parse_scenario(text, name)


def parse_scenario(text: str, file: str = "<scenario>") -> Scenario:
    """Validate a scenario from YAML text; raise :class:`ScenarioError` with every problem."""
    return _parse(text, file, Scenario, _semantic_problems)


def is_outbound(text: str) -> bool:
    """Whether a scenario's YAML text is an outbound one (a top-level ``outbound:`` mapping)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and "outbound" in data


def load_outbound_scenario(path: str | Path) -> OutboundScenario:
    """Read and validate an outbound scenario file; raise :class:`ScenarioError` with every problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([problem("HL-E001", f"cannot read the scenario: {exc.strerror or exc}",
                                     hint="Check the path of the scenario file.", file=name)]) from None
    return parse_outbound_scenario(text, name)


def parse_outbound_scenario(text: str, file: str = "<scenario>") -> OutboundScenario:
    """Validate an outbound scenario (``outbound:`` mapping) from YAML text; raise :class:`ScenarioError`."""
    return _parse(text, file, OutboundScenario, _outbound_problems)


def _parse(text: str, file: str, model: type[M],
           semantic: Callable[[M, Source], list[Problem]]) -> M:
    source = Source(file=file, text=text)
    try:
        positioned = load_with_positions(text)
    except yaml.YAMLError as exc:
        raise ScenarioError([yaml_syntax_problem(exc, text, file)]) from None
    source.positioned = positioned
    problems = [source.problem("HL-E003", f"duplicate key '{p[-1]}'", p, key=True)
                for p, _, _ in positioned.duplicates]
    data = positioned.data
    if not isinstance(data, dict):
        raise ScenarioError([*problems, source.problem("HL-E002", "a scenario file holds one mapping",
                                                         hint="See telephony/simulate/scenario.py for the fields.")])
    try:
        scenario = model.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([*problems, *_schema_problems(exc, data, source)]) from None
    problems.extend(semantic(scenario, source))
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    if problems:
        raise ScenarioError(problems)
    return scenario


def _semantic_problems(scenario: Scenario, source: Source) -> list[Problem]:
    """What the schema cannot see: undeclared skills, warm-up, the strategy text and its tiers."""
    found: list[Problem] = []
    if scenario.warmup_s >= scenario.duration_s:
        found.append(source.problem("HL-E106", "warmup_s: the warm-up must be shorter than duration_s",
                                    ("warmup_s",)))
    if len(set(scenario.seeds)) != len(scenario.seeds):
        found.append(source.problem("HL-E106", "seeds: a seed is listed twice", ("seeds",)))
    staffed: set[str] = set()
    for i, group in enumerate(scenario.agents):
        for skill in group.skills:
            staffed.add(skill)
            if skill not in scenario.skills:
                found.append(source.problem(
                    "HL-E106", f"agents.{i}.skills.{skill}: unknown skill (skills are: {', '.join(scenario.skills)})",
                    ("agents", i, "skills", skill), key=True))
    for skill in scenario.skills:
        if skill not in staffed:
            found.append(source.problem("HL-E106", f"skills.{skill}: no agent has this skill",
                                        ("skills", skill), key=True))
    found.extend(_strategy_problems(scenario, source))
    return found


def _outbound_problems(scenario: OutboundScenario, source: Source) -> list[Problem]:
    spec, found = scenario.outbound, []
    if sum(spec.outcomes.values()) <= 0:
        found.append(source.problem("HL-E106", "outbound.outcomes: the shares add up to 0", ("outbound", "outcomes")))
    if len(set(spec.seeds)) != len(spec.seeds):
        found.append(source.problem("HL-E106", "outbound.seeds: a seed is listed twice", ("outbound", "seeds")))
    for field_name, method in (("predictive", "predictive"), ("adaptive", "adaptive_hard_limit")):
        try:
            make_pacer(method, **getattr(spec, field_name))
        except ValueError as exc:
            found.append(source.problem("HL-E106", f"outbound.{field_name}: {exc}", ("outbound", field_name)))
    return found


def _strategy_problems(scenario: Scenario, source: Source) -> list[Problem]:
    line, _ = source.locate(("strategy",))
    lines = source.text.splitlines()
    offset, indent = (line or 1) - 1, 0
    if line and lines[line - 1].rstrip().endswith(("|", ">", "|-", ">-", "|+", ">+")) and line < len(lines):
        # a block scalar starts on the line after its indicator, indented
        offset, indent = line, len(lines[line]) - len(lines[line].lstrip())
    errors = [replace(p, column=p.column + indent) if p.column is not None and indent else p
              for p in check(scenario.strategy, TIER, file=source.file, line_offset=offset)
              if p.severity == "error"]
    if errors:
        return errors
    declared = scenario.tier_strategy().tiers
    if "default" in declared:
        return []
    return [source.problem("HL-E106", f"strategy: tier {tier} is not declared (declare it or a `default` tier)",
                           ("strategy",))
            for tier in scenario.tiers if tier not in declared]
