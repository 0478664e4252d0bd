"""The Helpline rule language: one small, safe language for every condition and strategy.

Used for IVR branches, tier strategies, query-screen condition logic, workflow guards, row scopes and
field validation. Text is parsed by Lark (LALR, built once), checked against the place of use
(:mod:`helpline.rules.uses`), and compiled into Python closures -- never ``eval``/``exec``.
See docs/rules.md for the language, the places of use, the missing-value semantics and the error ids.

Public API::

    parse_expression(text) -> ast.Expr            parse_program(text) -> ast.Program
    check(text, use, *, file=None, line_offset=0) -> list[Problem]
    compile_expression(text, use) -> CompiledExpression   (.evaluate(ctx), .test(ctx), .ast, .names)
    compile_rules(text, use) -> CompiledRules              (.evaluate(ctx), .evaluate_all(ctx), .tiers)
    compile_tier_strategy(text, use=TIER) -> TierStrategy  (.decide(tier_name, ctx) -> TierDecision)
"""

from . import ast
from .errors import CATALOGUE, ErrorInfo, RuleError, RuleRuntimeError, RuleSyntaxError
from .grammar import MAX_DEPTH, MAX_LENGTH
from .parser import parse_expression, parse_program
from .runtime import (
    CompiledExpression,
    CompiledRules,
    Match,
    MatchedAction,
    check,
    compile_expression,
    compile_rules,
)
from .tiers import Adjustment, TierDecision, TierStrategy, compile_tier_strategy
from .types import RType, parse_type
from .uses import (
    GUARD,
    IVR,
    QUERY,
    SCOPE,
    TIER,
    USES,
    VALIDATION,
    Use,
    query_use,
    scope_use,
    types_of_values,
    with_values,
)

__all__ = [
    "CATALOGUE",
    "GUARD",
    "IVR",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "QUERY",
    "SCOPE",
    "TIER",
    "USES",
    "VALIDATION",
    "Adjustment",
    "CompiledExpression",
    "CompiledRules",
    "ErrorInfo",
    "Match",
    "MatchedAction",
    "RType",
    "RuleError",
    "RuleRuntimeError",
    "RuleSyntaxError",
    "TierDecision",
    "TierStrategy",
    "Use",
    "ast",
    "check",
    "compile_expression",
    "compile_rules",
    "compile_tier_strategy",
    "parse_expression",
    "parse_program",
    "parse_type",
    "query_use",
    "scope_use",
    "types_of_values",
    "with_values",
]
