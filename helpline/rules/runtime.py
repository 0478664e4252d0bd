"""The public compile/evaluate API: :func:`check`, :func:`compile_expression`, :func:`compile_rules`.

Compiling parses once, checks against the place of use and builds closures once; evaluating only calls
closures over a plain nested mapping such as ``{"caller": {"number": "0731..."}, "customer": None}``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from helpline.diagnostics import Problem

from . import ast as A
from .checker import CheckResult, check_expression, check_program
from .compiler import Compiler, Fn
from .errors import RuleError, RuleRuntimeError
from .uses import Use


def _checked(text: str, use: Use) -> CheckResult:
    return check_expression(text, use) if use.mode == "expression" else check_program(text, use)


def check(text: str, use: Use, *, file: str | None = None, line_offset: int = 0) -> list[Problem]:
    """Every static problem of ``text`` at ``use`` (syntax, names, types, actions, structure, limits).

    With ``file``/``line_offset`` the problems are placed in a file (e.g. a rule inside a YAML value
    starting on line ``line_offset + 1``). Problems are sorted by position.
    """
    problems = _checked(text, use).problems
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    if file is not None or line_offset:
        problems = [p.with_file(file or "<text>", line_offset) for p in problems]
    return problems


def _raise_errors(result: CheckResult) -> None:
    errors = [p for p in result.problems if p.severity == "error"]
    if errors:
        errors.sort(key=lambda p: (p.line or 0, p.column or 0))
        raise RuleError(errors)


class CompiledExpression:
    """A checked, compiled expression: ``evaluate(context)`` returns its value (``None`` = missing)."""

    __slots__ = ("_fn", "ast", "names", "text", "use")

    def __init__(self, text: str, use: Use, ast: A.Expr, names: frozenset[str], fn: Fn):
        self.text, self.use, self.ast, self.names, self._fn = text, use, ast, names, fn

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """The value of the expression; raises only :class:`RuleRuntimeError`."""
        return self._fn(context)

    def test(self, context: Mapping[str, Any]) -> bool:
        """The expression as a condition: true only when it evaluates to ``true`` (missing -> false)."""
        return self._fn(context) is True

    def __repr__(self) -> str:
        return f"CompiledExpression({self.text!r}, use={self.use.name!r})"


def compile_expression(text: str, use: Use) -> CompiledExpression:
    """Check and compile a single expression; raise :class:`RuleError` with every error."""
    if use.mode != "expression":
        from dataclasses import replace

        use = replace(use, mode="expression", expect_bool=False)
    result = check_expression(text, use)
    _raise_errors(result)
    assert result.expr is not None
    fn = Compiler(text, use.context).expr(result.expr)
    return CompiledExpression(text, use, result.expr, result.names, fn)


@dataclass(frozen=True)
class MatchedAction:
    """An action with its evaluated arguments (references are their names, as text)."""

    name: str
    args: tuple[Any, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "args": list(self.args)}


@dataclass(frozen=True)
class Match:
    """The rule that matched: its index (0-based), source line and text, and its evaluated actions."""

    rule_index: int
    line: int
    source: str
    actions: tuple[MatchedAction, ...]
    otherwise: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_index": self.rule_index,
            "line": self.line,
            "source": self.source,
            "otherwise": self.otherwise,
            "actions": [a.as_dict() for a in self.actions],
        }


class _CompiledRule:
    __slots__ = ("actions", "condition", "index", "line", "otherwise", "source")

    def __init__(
        self,
        index: int,
        rule: A.Rule,
        source: str,
        condition: Fn | None,
        actions: tuple[tuple[str, tuple[Fn, ...]], ...],
    ):
        self.index, self.line, self.source = index, rule.pos.line, source
        self.condition, self.actions = condition, actions
        self.otherwise = rule.condition is None

    def match(self, context: Mapping[str, Any]) -> Match:
        acts = tuple(MatchedAction(name, tuple(f(context) for f in args)) for name, args in self.actions)
        return Match(self.index, self.line, self.source, acts, self.otherwise)


class CompiledRules:
    """A checked, compiled rule list. ``evaluate`` (first match) / ``evaluate_all`` (every match)."""

    def __init__(
        self, text: str, use: Use, program: A.Program, sources: tuple[str, ...], names: frozenset[str]
    ):
        self.text, self.use, self.program, self.names = text, use, program, names
        self.tiers: dict[str, A.TierDecl] = {t.name: t for t in program.tiers}
        compiler = Compiler(text, use.context)
        rules: list[_CompiledRule] = []
        for i, (rule, source) in enumerate(zip(program.rules, sources, strict=True)):
            cond = None if rule.condition is None else compiler.expr(rule.condition)
            acts = tuple((a.name, tuple(compiler.expr(x) for x in a.args)) for a in rule.actions)
            rules.append(_CompiledRule(i, rule, source, cond, acts))
        self._conditional = tuple(r for r in rules if not r.otherwise)
        self._otherwise = next((r for r in rules if r.otherwise), None)

    @property
    def ast(self) -> A.Program:
        return self.program

    def _run(self, rule: _CompiledRule, context: Mapping[str, Any]) -> Match | None:
        try:
            if rule.condition is not None and rule.condition(context) is not True:
                return None
            return rule.match(context)
        except RuleRuntimeError as err:
            err.rule_index, err.rule_line = rule.index, rule.line
            raise

    def evaluate(self, context: Mapping[str, Any]) -> Match | None:
        """The first rule whose condition is true (else ``otherwise``, else ``None``)."""
        for rule in self._conditional:
            m = self._run(rule, context)
            if m is not None:
                return m
        return None if self._otherwise is None else self._run(self._otherwise, context)

    def evaluate_all(self, context: Mapping[str, Any]) -> list[Match]:
        """Every rule whose condition is true, in order; ``otherwise`` only when none matched."""
        out = [m for m in (self._run(r, context) for r in self._conditional) if m is not None]
        if not out and self._otherwise is not None:
            m = self._run(self._otherwise, context)
            if m is not None:
                out.append(m)
        return out

    def matched_actions(self, context: Mapping[str, Any]) -> Iterator[tuple[int, str, str, tuple[Any, ...]]]:
        """Every match's actions as ``(line, source, action, args)`` without building :class:`Match`
        objects (the fast path of tier decisions); all-match semantics, like :meth:`evaluate_all`."""
        matched = False
        for rule in self._conditional:
            try:
                if rule.condition is not None and rule.condition(context) is not True:
                    continue
                matched = True
                for name, args in rule.actions:
                    yield rule.line, rule.source, name, tuple(f(context) for f in args)
            except RuleRuntimeError as err:
                err.rule_index, err.rule_line = rule.index, rule.line
                raise
        if not matched and self._otherwise is not None:
            m = self._run(self._otherwise, context)
            if m is not None:
                for act in m.actions:
                    yield m.line, m.source, act.name, act.args

    def run(self, context: Mapping[str, Any]) -> list[Match]:
        """What the place of use asks for: every match if it matches all, else the first (0 or 1)."""
        if self.use.match_all:
            return self.evaluate_all(context)
        m = self.evaluate(context)
        return [] if m is None else [m]

    def __repr__(self) -> str:
        return f"CompiledRules({len(self.program.rules)} rules, use={self.use.name!r})"


def compile_rules(text: str, use: Use) -> CompiledRules:
    """Check and compile a rule list; raise :class:`RuleError` with every error (warnings pass)."""
    result = check_program(text, use)
    _raise_errors(result)
    assert result.program is not None
    return CompiledRules(text, use, result.program, result.sources, result.names)
