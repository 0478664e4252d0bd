"""Tier strategies: tier declarations plus rules that adjust priority and open skill levels.

``decide(tier, context)`` answers one routing question in a few microseconds:

* ``max_level`` -- 1, raised to every ``open level N after T`` whose ``T`` <= ``call.wait`` and to any
  ``open_level N`` action of a matching rule;
* ``priority`` -- the tier's base priority (or the last ``set_priority N``), plus every
  ``priority +N`` / ``add_priority N``;
* ``starving`` -- ``call.wait`` >= the tier's ``starve after`` time;
* ``reserve`` -- the most of every ``reserve N`` action (agent reservation): the router gives the call an
  agent only while more than N it could take (its skill, up to its max level) are idle, so N stay free for
  the higher tiers; 0 once the call is starving.

The context's ``tier`` mapping is completed with the declaration (``tier.name``, ``tier.target``,
``tier.within``, ``tier.priority``); the router supplies ``tier.service_level`` and ``tier.higher_lead``
(the higher tiers' smallest lead over their targets). A missing ``call.wait``
counts as 0 s. An undeclared tier falls back to a tier named ``default`` if there is one, else
``KeyError``.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from . import ast as A
from .errors import RuleError, make_problem
from .runtime import CompiledRules, compile_rules
from .uses import MAX_RESERVE, TIER, Use


class Adjustment(NamedTuple):
    """One applied rule action: where it came from and what it did."""

    line: int
    source: str
    action: str
    value: float


class TierDecision(NamedTuple):
    """The routing parameters for one call of one tier at one moment (an immutable named tuple)."""

    tier: str
    priority: float
    max_level: int
    target: float
    within_s: float
    starving: bool
    adjustments: tuple[Adjustment, ...] = ()
    reserve: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "priority": self.priority,
            "max_level": self.max_level,
            "target": self.target,
            "within_s": self.within_s,
            "starving": self.starving,
            "adjustments": [a._asdict() for a in self.adjustments],
            "reserve": self.reserve,
        }


class TierStrategy:
    """A compiled tier strategy (see the module docstring)."""

    def __init__(self, rules: CompiledRules):
        self.rules = rules
        self.tiers: dict[str, A.TierDecl] = rules.tiers
        self._tier_ctx = {
            name: {"name": name, "target": t.target, "within": t.within_s, "priority": t.priority}
            for name, t in self.tiers.items()
        }

    def tier(self, name: str) -> A.TierDecl:
        decl = self.tiers.get(name) or self.tiers.get("default")
        if decl is None:
            raise KeyError(f"tier {name!r} is not declared (and there is no `default` tier)")
        return decl

    def decide(self, tier_name: str, context: Mapping[str, Any]) -> TierDecision:
        decl = self.tier(tier_name)
        call = context.get("call")
        wait: Any = call.get("wait") if isinstance(call, Mapping) else None
        if isinstance(wait, _dt.timedelta):
            wait = wait.total_seconds()
        wait = 0.0 if wait is None else float(wait)
        level = 1
        for lv, after in decl.open_levels:
            if after <= wait:
                level = max(level, lv)
        priority: float = decl.priority
        reserve = 0
        adjustments: list[Adjustment] = []
        if self.rules.program.rules:
            extra = context.get("tier")
            tier_ctx: dict[str, Any] = dict(self._tier_ctx[decl.name])
            if isinstance(extra, Mapping):
                tier_ctx.update(extra)
            ctx = dict(context)
            ctx["tier"] = tier_ctx
            added = 0.0
            for line, source, action, args in self.rules.matched_actions(ctx):
                value = args[0] if args else None
                if value is None:
                    continue
                if action in ("priority", "add_priority"):
                    added += value
                elif action == "set_priority":
                    priority = value
                elif action == "open_level":
                    level = max(level, int(value))
                elif action == "reserve" and math.isfinite(value):  # a literal is checked (HL-R216)
                    reserve = max(reserve, min(int(value), MAX_RESERVE))  # a computed one is clamped
                adjustments.append(Adjustment(line, source, action, value))
            priority += added
        if isinstance(priority, float) and priority.is_integer():
            priority = int(priority)
        starving = decl.starve_s is not None and wait >= decl.starve_s
        return TierDecision(
            decl.name, priority, level, decl.target, decl.within_s, starving, tuple(adjustments),
            0 if starving else reserve,
        )


def compile_tier_strategy(text: str, use: Use = TIER) -> TierStrategy:
    """Check and compile a tier strategy; at least one tier must be declared (HL-R307)."""
    rules = compile_rules(text, use)
    if not rules.tiers:  # a use without tiers_allowed reports HL-R207 first; this is the fallback
        raise RuleError([make_problem("HL-R307", "the strategy declares no tier", text, 1, 1)])
    return TierStrategy(rules)
