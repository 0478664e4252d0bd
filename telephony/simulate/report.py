"""Figures per strategy, load and tier from simulation runs: a text table and the ``--json`` list.

Definitions (calls arriving at or after the warm-up; each figure is computed per seed, then averaged
over the seeds — the per-seed figures are kept in :class:`Row.seeds`):

* **service level** = answered within the tier's ``within_s`` / (answered + abandoned + timed out):
  a caller who hung up counts as a miss, even one who hung up after 2 s;
* **service level excluding abandons** = answered within / (answered + timed out) — the figure the
  router's own statistics and the Helpline strategy's ``tier.service_level`` use;
* **ASA** = mean wait of the answered calls, seconds;
* **abandon rate** = abandoned / (answered + abandoned + timed out);
* **wait p50 / p95 / p99** = percentiles of the answered calls' waits, seconds (linear between ranks);
* **occupancy** = agents' time in reserved/ringing/talking/hold/wrap-up over staffed time (see
  :mod:`telephony.simulate.engine`);
* **worst shortfall** = max over tiers of (target − mean service level): positive when some tier
  misses its target (by that many points ÷ 100), negative when every tier beats it.

Outbound runs (:mod:`telephony.simulate.dialer`) get :func:`summarize_outbound` and
:func:`format_outbound_table`: contacts per agent-hour (and the gain over progressive), occupancy, the
abandon rate (drops / live answers) over the shift and hour by hour.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from telephony.simulate.dialer import OutboundResult
from telephony.simulate.engine import RunResult
from telephony.simulate.scenario import STRATEGIES, OutboundSpec, Scenario


@dataclass(frozen=True)
class TierRow:
    tier: str
    target: float
    within_s: float
    service_level: float
    service_level_ex_abandons: float
    asa_s: float
    abandon_rate: float
    offered: int
    """Counted calls, summed over the seeds."""
    per_seed: tuple[float, ...]
    """The service level of each seed."""
    wait_p50_s: float = 0.0
    wait_p95_s: float = 0.0
    wait_p99_s: float = 0.0
    p99_per_seed: tuple[float, ...] = ()
    """The p99 wait of each seed."""


@dataclass(frozen=True)
class SeedFigures:
    seed: int
    worst_shortfall: float
    occupancy: float
    service_levels: dict[str, float]


@dataclass(frozen=True)
class Row:
    """One strategy at one load, averaged over the seeds."""

    strategy: str
    load: float
    """Offered calls per hour."""
    tiers: dict[str, TierRow]
    worst_shortfall: float
    occupancy: float
    seeds: tuple[SeedFigures, ...]

    def meets_targets(self) -> bool:
        return self.worst_shortfall <= 0

    def as_json(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "load": round(self.load, 1),
            "tiers": {name: {"service_level": round(t.service_level, 4), "target": t.target,
                             "asa_s": round(t.asa_s, 1), "abandon_rate": round(t.abandon_rate, 4),
                             "wait_p50_s": round(t.wait_p50_s, 1), "wait_p95_s": round(t.wait_p95_s, 1),
                             "wait_p99_s": round(t.wait_p99_s, 1)}
                      for name, t in self.tiers.items()},
            "worst_shortfall": round(self.worst_shortfall, 4),
            "occupancy": round(self.occupancy, 4),
        }


def _mean(values: Iterable[float]) -> float:
    return statistics.fmean(values)


def summarize(scenario: Scenario, results: Sequence[RunResult]) -> list[Row]:
    """One row per (load, strategy), loads in run order, strategies in :data:`STRATEGIES` order."""
    groups: dict[tuple[float, str], list[RunResult]] = {}
    for result in results:
        groups.setdefault((result.calls_per_hour, result.strategy), []).append(result)
    order = {name: i for i, name in enumerate(STRATEGIES)}
    loads = list(dict.fromkeys(r.calls_per_hour for r in results))
    keys = sorted(groups, key=lambda k: (loads.index(k[0]), order.get(k[1], len(order))))
    targets = {name: t.target for name, t in scenario.tiers.items()}
    rows: list[Row] = []
    for load, strategy in keys:
        runs = groups[(load, strategy)]
        tiers = {}
        for name, spec in scenario.tiers.items():
            tallies = [r.tiers[name] for r in runs]
            tiers[name] = TierRow(
                name, spec.target, spec.within_s,
                _mean(t.service_level for t in tallies), _mean(t.service_level_ex_abandons for t in tallies),
                _mean(t.asa_s for t in tallies), _mean(t.abandon_rate for t in tallies),
                sum(t.offered for t in tallies), tuple(t.service_level for t in tallies),
                _mean(t.wait_percentile(50) for t in tallies), _mean(t.wait_percentile(95) for t in tallies),
                _mean(t.wait_percentile(99) for t in tallies), tuple(t.wait_percentile(99) for t in tallies))
        seeds = tuple(SeedFigures(r.seed, r.worst_shortfall(targets), r.occupancy,
                                  {n: t.service_level for n, t in r.tiers.items()}) for r in runs)
        worst = max(t.target - t.service_level for t in tiers.values())
        rows.append(Row(strategy, load, tiers, worst, _mean(r.occupancy for r in runs), seeds))
    return rows


def as_json(rows: Iterable[Row]) -> list[dict[str, Any]]:
    return [row.as_json() for row in rows]


def _pct(value: float) -> str:
    return f"{value * 100:5.1f}%"


def _span(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.4g} h"
    return f"{seconds / 60:.4g} min" if seconds >= 60 else f"{seconds:g} s"


def _waits(t: TierRow) -> str:
    return f"{t.wait_p50_s:.0f}/{t.wait_p95_s:.0f}/{t.wait_p99_s:.0f}"


def format_table(scenario: Scenario, rows: Sequence[Row], title: str = "") -> str:
    """A readable table: per load, a line per strategy × tier, then the strategy's worst shortfall."""
    lines = [
        f"{title or 'scenario'}: {scenario.agent_count} agents, {len(scenario.skills)} skills, "
        f"{_span(scenario.duration_s)} per run (warm-up {_span(scenario.warmup_s)}), "
        f"seeds {', '.join(map(str, scenario.seeds))}",
        "SL = answered within T / (answered + abandoned + timed out) of calls after the warm-up, mean of seeds; "
        "SL-ab leaves abandons out; wait p50/p95/p99 in seconds, of the answered calls.",
    ]
    labels = {round(scenario.calls_per_hour(load), 6): load.label() for load in scenario.loads}
    current: float | None = None
    header = (f"  {'strategy':<15}{'tier':<11}{'SL':>7}{'seeds min-max':>16}{'target':>8}  {'':<4}"
              f"{'SL-ab':>7}{'ASA s':>8}{'aband.':>8}{'wait p50/95/99':>16}{'calls':>7}")
    for row in rows:
        if row.load != current:
            current = row.load
            label = labels.get(round(row.load, 6))
            lines += ["", f"load {row.load:.1f} calls/h" + (f" ({label})" if label else ""), header]
        for t in row.tiers.values():
            spread = f"{min(t.per_seed) * 100:.1f}-{max(t.per_seed) * 100:.1f}%"
            lines.append(
                f"  {row.strategy:<15}{t.tier:<11}{_pct(t.service_level):>7}{spread:>16}{t.target * 100:7.0f}%  "
                f"{'ok' if t.service_level >= t.target else 'MISS':<4}{_pct(t.service_level_ex_abandons):>7}"
                f"{t.asa_s:8.1f}{_pct(t.abandon_rate):>8}{_waits(t):>16}{t.offered:7d}")
        per_seed = " / ".join(f"{s.worst_shortfall * 100:+.1f}" for s in row.seeds)
        lines.append(f"  {row.strategy:<15}worst shortfall {row.worst_shortfall * 100:+.1f} pts "
                     f"(seeds {per_seed}), occupancy {row.occupancy * 100:.1f}%")
    return "\n".join(lines)


# -- outbound (telephony.simulate.dialer) --------------------------------------------------------------


@dataclass(frozen=True)
class OutboundRow:
    """One pacing method at one agent count, over the seeds.

    Contacts per agent-hour, occupancy and the abandon rate are means over the seeds; the per-hour abandon
    rate is the worst seed's (the cap holds for every hour of every seed), the per-hour occupancy the mean.
    """

    method: str
    agents: int
    contacts_per_agent_hour: float
    occupancy: float
    abandon_rate: float
    """Drops / live answers over the shift."""
    hourly_abandon: tuple[float, ...]
    hourly_occupancy: tuple[float, ...]
    gain: float | None
    """Contacts per agent-hour over progressive's at the same agent count, minus 1 (None without it)."""
    violations: int
    """Invariant breaches over the seeds (lost numbers, a number dialled twice at once...)."""
    seeds: tuple[int, ...]

    @property
    def worst_hour_abandon(self) -> float:
        return max(self.hourly_abandon, default=0.0)

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method, "agents": self.agents,
            "contacts_per_agent_hour": round(self.contacts_per_agent_hour, 2),
            "gain_over_progressive": None if self.gain is None else round(self.gain, 4),
            "occupancy": round(self.occupancy, 4), "abandon_rate": round(self.abandon_rate, 4),
            "worst_hour_abandon_rate": round(self.worst_hour_abandon, 4),
            "hourly_abandon_rate": [round(v, 4) for v in self.hourly_abandon],
            "hourly_occupancy": [round(v, 4) for v in self.hourly_occupancy],
            "violations": self.violations, "seeds": list(self.seeds),
        }


def summarize_outbound(results: Sequence[OutboundResult]) -> list[OutboundRow]:
    """One row per (agent count, method), agent counts and methods in run order."""
    groups: dict[tuple[int, str], list[OutboundResult]] = {}
    for result in results:
        groups.setdefault((result.agents, result.method), []).append(result)
    rows: list[OutboundRow] = []
    for (agents, method), runs in groups.items():
        hours = range(max(len(r.hours) for r in runs))
        hourly_abandon = tuple(max(r.hours[h].abandon_rate for r in runs if h < len(r.hours)) for h in hours)
        hourly_occupancy = tuple(_mean(r.hours[h].occupancy for r in runs if h < len(r.hours)) for h in hours)
        cph = _mean(r.contacts_per_agent_hour for r in runs)
        base = groups.get((agents, "progressive"))
        base_cph = _mean(r.contacts_per_agent_hour for r in base) if base else 0.0
        rows.append(OutboundRow(method, agents, cph, _mean(r.occupancy for r in runs),
                                _mean(r.abandon_rate for r in runs), hourly_abandon, hourly_occupancy,
                                cph / base_cph - 1.0 if base_cph else None,
                                sum(len(r.violations) for r in runs), tuple(r.seed for r in runs)))
    return rows


def format_outbound_table(spec: OutboundSpec, rows: Sequence[OutboundRow], title: str = "") -> str:
    """Per agent count a line per method, then its abandon rate and occupancy hour by hour."""
    shares = ", ".join(f"{name} {share:.0%}" for name, share in spec.outcome_shares().items())
    lines = [
        f"{title or 'outbound scenario'}: {_span(spec.duration_s)} shift, seeds "
        f"{', '.join(map(str, spec.seeds))}; attempts: {shares}; talk {spec.talk.mean_s:g} s, wrap {spec.wrap_s:g} s; "
        f"drop when no agent within {spec.drop_after_s:g} s",
        "contacts/agent-h and occupancy: mean of seeds; abandon = drops / live answers; "
        "per hour: the worst seed's abandon rate, the mean occupancy.",
    ]
    current: int | None = None
    for row in rows:
        if row.agents != current:
            current = row.agents
            lines += ["", f"{row.agents} agents",
                      f"  {'method':<22}{'contacts/agent-h':>17}{'vs progr.':>11}{'occupancy':>11}{'abandon':>9}"
                      f"{'worst hour':>12}{'cap':>6}"]
        gain = "" if row.gain is None else f"{row.gain * 100:+.1f}%"
        verdict = "ok" if row.worst_hour_abandon <= spec.drop_cap + 1e-12 else "OVER"
        lines.append(f"  {row.method:<22}{row.contacts_per_agent_hour:17.2f}{gain:>11}{_pct(row.occupancy):>11}"
                     f"{_pct(row.abandon_rate):>9}{_pct(row.worst_hour_abandon):>12}  {verdict}"
                     + (f"  {row.violations} INVARIANT BREACH(ES)" if row.violations else ""))
        lines.append("      abandon/h " + " ".join(f"{v * 100:.1f}" for v in row.hourly_abandon)
                     + "  occupancy/h " + " ".join(f"{v * 100:.0f}" for v in row.hourly_occupancy))
    return "\n".join(lines)
