"""Routing policies: how waiting calls are ordered and when they may reach higher skill levels.

The router asks its policy to *evaluate* a waiting call at a moment: its priority, the highest skill
level it may reach, its sort key (smaller is served first) and the next moment any of that changes
(a level opens, starvation begins), so the router sets one timer per call and never polls.

* :class:`HelplinePolicy` — the tier strategy from ``routing`` metadata (rule language): starving
  calls first, then tier priority (base + rules), a returned (unanswered) offer at the head, the tier's
  service-level gap (target − actual over the sliding window), then wait. While a tier is behind its
  target its level-opening schedule runs ``catch_up`` times faster. A strategy whose rules read
  ``tier.higher_lead`` (the smallest lead over its target of the tiers with a higher base priority) makes a
  lower tier's calls depend on the higher tiers' service levels: :meth:`Policy.dependents` names them, so
  the router evaluates them again when a higher tier's level moves. A rule's ``reserve N`` (agent
  reservation) keeps the call off an agent unless more than N agents it could take (its skill, up to its
  max level) are idle.
* :class:`AppQueuePolicy` — Asterisk app_queue-like: first come first served, level (penalty) *n*
  opens after ``level_step_s`` × (*n* − 1) seconds.
* :class:`ModCallcenterPolicy` — FreeSWITCH mod_callcenter-like: score = wait + the tier's base score,
  the same level schedule.

The last two exist to be compared with the first by the simulator, on the same router code.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, Protocol

from helpline.rules import ast as A
from helpline.rules.tiers import TierStrategy

from .model import WaitingCall

__all__ = ["AppQueuePolicy", "Evaluation", "HelplinePolicy", "ModCallcenterPolicy", "Policy", "RouterView"]

DEFAULT_TARGET = (0.8, 20.0)
"""Target and answer time of a tier a policy does not know (80 % within 20 s)."""


class RouterView(Protocol):
    """What a policy may read from the router."""

    def service_level(self, tier: str) -> float | None: ...

    def waiting_in(self, queue: str) -> int: ...


class Evaluation(NamedTuple):
    priority: float
    max_level: int
    sort_key: tuple[float, ...]
    next_at: float | None
    """When this evaluation may change (absolute, on the router's clock); None: never by itself."""
    gap: float = 0.0
    starving: bool = False
    reason: str = ""
    reserve: int = 0
    """Agent reservation: the call takes an agent only while more than this many it could take are idle."""


class Policy(abc.ABC):
    """Orders waiting calls and opens skill levels (see the module docstring)."""

    name: str = "policy"

    @abc.abstractmethod
    def target(self, tier: str) -> tuple[float, float]:
        """The tier's service-level target and answer time: ``(0.9, 20.0)``."""

    @abc.abstractmethod
    def evaluate(self, call: WaitingCall, now: float, view: RouterView) -> Evaluation:
        """The call's routing parameters at ``now``."""

    def tiers(self) -> list[str]:
        """The tiers the policy declares (for statistics and alerts)."""
        return []

    def dependents(self, tier: str) -> tuple[str, ...]:
        """The other tiers whose calls' evaluation reads ``tier``'s service level (evaluated again when it
        moves, like ``tier``'s own calls)."""
        return ()


class _SteppedPolicy(Policy):
    """Level *n* opens after ``level_step_s`` × (*n* − 1) seconds of waiting."""

    def __init__(self, *, level_step_s: float = 30.0, targets: Mapping[str, tuple[float, float]] | None = None,
                 max_levels: int = 9) -> None:
        self.level_step_s = level_step_s
        self.targets = dict(targets or {})
        self.max_levels = max_levels

    def target(self, tier: str) -> tuple[float, float]:
        return self.targets.get(tier, DEFAULT_TARGET)

    def tiers(self) -> list[str]:
        return list(self.targets)

    def _levels(self, call: WaitingCall, now: float) -> tuple[int, float | None]:
        wait = now - call.enqueued_at
        if self.level_step_s <= 0:
            return self.max_levels, None
        # level n opens at its time exactly: at enqueued_at + k × step, (now − enqueued_at) may round below it
        level = min(self.max_levels, 1 + int((wait + 1e-9) // self.level_step_s))
        nxt = call.enqueued_at + level * self.level_step_s if level < self.max_levels else None
        return level, nxt


class AppQueuePolicy(_SteppedPolicy):
    """First come, first served; penalties (levels) open with waiting time."""

    name = "app_queue"

    def evaluate(self, call: WaitingCall, now: float, view: RouterView) -> Evaluation:
        level, nxt = self._levels(call, now)
        return Evaluation(0.0, level, (call.enqueued_at,), nxt, reason=f"first come first served, level {level}")


class ModCallcenterPolicy(_SteppedPolicy):
    """Score = seconds waited + the tier's base score; the highest score is served first."""

    name = "mod_callcenter"

    def __init__(self, *, base_scores: Mapping[str, float] | None = None, level_step_s: float = 30.0,
                 targets: Mapping[str, tuple[float, float]] | None = None) -> None:
        super().__init__(level_step_s=level_step_s, targets=targets)
        self.base_scores = dict(base_scores or {})

    def evaluate(self, call: WaitingCall, now: float, view: RouterView) -> Evaluation:
        level, nxt = self._levels(call, now)
        base = self.base_scores.get(call.tier, 0.0)
        # score = wait + base; ordering by (enqueued_at - base) is the same and does not change over time
        return Evaluation(base, level, (call.enqueued_at - base,), nxt,
                          reason=f"score {now - call.enqueued_at + base:.0f}, level {level}")


class HelplinePolicy(Policy):
    """The tier strategy of the routing metadata (see the module docstring)."""

    name = "helpline"

    def __init__(self, strategy: TierStrategy, *, catch_up: float = 2.0) -> None:
        self.strategy = strategy
        self.catch_up = max(1.0, catch_up)
        self._thresholds = sorted(set(_duration_literals(strategy.rules.program.rules)))
        self._fallback = min(strategy.tiers.values(), key=lambda t: t.priority)
        decls = strategy.tiers.values()
        self._higher = {d.name: tuple(h.name for h in decls if h.priority > d.priority) for d in decls}
        """Per tier, the tiers of a higher base priority (whose lead ``tier.higher_lead`` reads)."""
        self._reads_higher = "tier.higher_lead" in set(_names(strategy.rules.program.rules))
        self._dependents = {d.name: tuple(low.name for low in decls if d.name in self._higher[low.name])
                            for d in decls} if self._reads_higher else {}

    def tiers(self) -> list[str]:
        return list(self.strategy.tiers)

    def dependents(self, tier: str) -> tuple[str, ...]:
        return self._dependents.get(tier, ())

    def higher_lead(self, decl: A.TierDecl, view: RouterView) -> float:
        """The smallest lead (service level − target) of the tiers with a higher base priority than ``decl``:
        1.0 when there is none; a tier without a service level yet counts as on its target (lead 0)."""
        lead = 1.0
        for name in self._higher.get(decl.name, ()):
            higher = self.strategy.tiers[name]
            level = view.service_level(name)
            lead = min(lead, 0.0 if level is None else level - higher.target)
        return lead

    def declaration(self, tier: str) -> A.TierDecl:
        return self.strategy.tiers.get(tier) or self.strategy.tiers.get("default") or self._fallback

    def target(self, tier: str) -> tuple[float, float]:
        decl = self.declaration(tier)
        return decl.target, decl.within_s

    def evaluate(self, call: WaitingCall, now: float, view: RouterView) -> Evaluation:
        decl = self.declaration(call.tier)
        wait = now - call.enqueued_at
        level_sl = view.service_level(decl.name)
        behind = level_sl is not None and level_sl < decl.target
        speed = self.catch_up if behind else 1.0
        context: dict[str, Any] = dict(call.request.context)
        context["call"] = {"wait": wait}
        context["queue"] = {"waiting": view.waiting_in(call.queue)}
        context["tier"] = {"service_level": level_sl if level_sl is not None else decl.target}
        if self._reads_higher:
            context["tier"]["higher_lead"] = self.higher_lead(decl, view)
        decision = self.strategy.decide(decl.name, context)
        level = decision.max_level
        for lv, after in decl.open_levels:
            if after / speed <= wait:
                level = max(level, lv)
        priority = float(decision.priority) + call.request.priority
        gap = decl.target - level_sl if level_sl is not None else 0.0
        key = (0.0 if decision.starving else 1.0, -priority, 0.0 if call.requeued else 1.0, -gap, call.enqueued_at)
        reason = self._reason(decl, level, level_sl, gap, decision.starving, speed)
        if decision.reserve:
            reason += f", leaves {decision.reserve} idle agent(s) to higher tiers"
        return Evaluation(priority, level, key, self._next_at(call, decl, wait, speed), gap, decision.starving,
                          reason, decision.reserve)

    def _next_at(self, call: WaitingCall, decl: A.TierDecl, wait: float, speed: float) -> float | None:
        candidates = [after / speed for _, after in decl.open_levels]
        if decl.starve_s is not None:
            candidates.append(decl.starve_s)
        candidates.extend(self._thresholds)
        later = [c for c in candidates if c > wait + 1e-9]
        if not later:
            return None
        # a strict comparison (call.wait > 20s) changes just after the threshold
        return call.enqueued_at + min(later) + 1e-3

    @staticmethod
    def _reason(decl: A.TierDecl, level: int, sl: float | None, gap: float, starving: bool, speed: float) -> str:
        parts = [f"tier {decl.name}"]
        if sl is None:
            parts.append("no service level yet")
        elif gap > 0:
            parts.append(f"{gap * 100:.0f} pts behind target")
        else:
            parts.append(f"{-gap * 100:.0f} pts ahead of target")
        if speed > 1:
            parts.append(f"levels open {speed:g}x sooner")
        if starving:
            parts.append("starving")
        parts.append(f"up to level {level}")
        return ", ".join(parts)


def _names(node: Any) -> Iterator[str]:
    """Every dotted context name a rule AST reads."""
    if isinstance(node, A.Name):
        yield node.dotted
        return
    if isinstance(node, list | tuple):
        for item in node:
            yield from _names(item)
        return
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            if f.name != "pos":
                yield from _names(getattr(node, f.name))


def _duration_literals(node: Any) -> Iterator[float]:
    """Every duration literal in a rule AST (the waits at which a rule's outcome may change)."""
    if isinstance(node, A.Literal):
        if node.type == "duration" and isinstance(node.value, int | float) and math.isfinite(node.value):
            yield float(node.value)
        return
    if isinstance(node, list | tuple):
        for item in node:
            yield from _duration_literals(item)
        return
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            if f.name != "pos":
                yield from _duration_literals(getattr(node, f.name))
