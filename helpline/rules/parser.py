"""Parsing: rule text -> AST (:mod:`helpline.rules.ast`).

:func:`parse_expression` parses a single expression; :func:`parse_program` a rule list (rules, an
optional ``otherwise``, tier declarations). Both raise :class:`RuleSyntaxError` with every problem found.
:func:`parse_statements` is the lenient form used by the checker: it returns what parsed plus the problems.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from lark import Token, Transformer, UnexpectedInput

from helpline.diagnostics import Problem

from . import ast as A
from .errors import RuleSyntaxError, make_problem
from .grammar import MAX_DEPTH, MAX_LENGTH, get_parser, split_statements, syntax_problem

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}
_TIER_CLAUSES = ("target", "priority", "open", "starve")


class _ParseProblem(Exception):
    """Raised from a transformer callback for a syntax problem found after tokenizing."""

    def __init__(self, pid: str, message: str, line: int, column: int, width: int = 1):
        super().__init__(message)
        self.pid, self.message, self.line, self.column, self.width = pid, message, line, column, width


def _pos(first: Any, last: Any) -> A.Pos:
    a = first.pos if hasattr(first, "pos") else None
    b = last.pos if hasattr(last, "pos") else None
    line, col = (a.line, a.column) if a else (first.line, first.column)
    end_line, end_col = (b.end_line, b.end_column) if b else (last.end_line, last.end_column)
    return A.Pos(line, col, end_line, end_col)


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _unescape(tok: Token) -> str:
    body: str = tok.value[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif (
            nxt == "u"
            and len(body) >= i + 6
            and all(c in "0123456789abcdefABCDEF" for c in body[i + 2 : i + 6])
        ):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        else:
            raise _ParseProblem(
                "HL-R107", f"invalid escape `\\{nxt}` in string", tok.line or 0, (tok.column or 0) + 1 + i, 2
            )
    return "".join(out)


def literal_from_token(tok: Token, sign: str = "") -> A.Literal:
    """A :class:`Literal` from a NUMBER/DURATION/PERCENT/STRING/TRUE/FALSE token."""
    pos = A.Pos(tok.line or 0, tok.column or 0, tok.end_line or 0, tok.end_column or 0)
    neg = sign == "-"
    kind = tok.type
    value: int | float | str | bool
    if kind == "NUMBER":
        value, typ = _number(tok.value), "number"
    elif kind == "DURATION":
        unit = "ms" if tok.value.endswith("ms") else tok.value[-1]
        amount = _number(tok.value[: -len(unit)]) * _UNITS[unit]
        value = int(amount) if float(amount).is_integer() else float(amount)
        typ = "duration"
    elif kind == "PERCENT":
        value, typ = _number(tok.value[:-1]) / 100, "number"
    elif kind == "STRING":
        return A.Literal(_unescape(tok), "text", pos)
    else:
        return A.Literal(kind == "TRUE", "bool", pos)
    return A.Literal(-value if neg else value, typ, pos)


@dataclass
class TierParts:
    """A tier declaration as parsed, before its clauses are validated."""

    name: str
    pos: A.Pos
    name_pos: A.Pos
    clauses: list[tuple[str, tuple[A.Literal, ...], A.Pos]] = field(default_factory=list)


def _exprs(children: list[Any]) -> tuple[Any, ...]:
    return tuple(c for c in children if not isinstance(c, Token))


class AstBuilder(Transformer[Token, Any]):
    """Inline Lark transformer: every callback receives all tokens and returns an AST node."""

    def expression(self, ch: list[Any]) -> A.Expr:
        return ch[0]  # type: ignore[no-any-return]

    def rule(self, ch: list[Any]) -> A.Rule:
        return A.Rule(ch[1], ch[3], _pos(ch[0], ch[3][-1]))

    def otherwise(self, ch: list[Any]) -> A.Rule:
        return A.Rule(None, ch[1], _pos(ch[0], ch[1][-1]))

    def actions(self, ch: list[Any]) -> tuple[A.Action, ...]:
        return _exprs(ch)

    def action(self, ch: list[Any]) -> A.Action:
        return A.Action(ch[0].value, tuple(ch[1:]), _pos(ch[0], ch[-1]))

    def action_call(self, ch: list[Any]) -> A.Action:
        return A.Action(ch[0].value, _exprs(ch[1:]), _pos(ch[0], ch[-1]))

    def signed(self, ch: list[Any]) -> A.Literal:
        tok: Token = ch[0]
        body = tok.value[1:]
        kind = "PERCENT" if body.endswith("%") else "NUMBER" if body[-1].isdigit() else "DURATION"
        lit = literal_from_token(Token(kind, body, line=tok.line, column=tok.column), tok.value[0])
        return A.Literal(lit.value, lit.type, _pos(tok, tok))

    def tvalue(self, ch: list[Any]) -> A.Literal:
        if len(ch) == 1:
            return literal_from_token(ch[0])
        lit = literal_from_token(ch[1], ch[0].value)
        return A.Literal(lit.value, lit.type, _pos(ch[0], ch[1]))

    def tier_decl(self, ch: list[Any]) -> TierParts:
        name = ch[1]
        end = ch[-1][2]
        start = _pos(ch[0], ch[0])
        parts = TierParts(
            name.value, A.Pos(start.line, start.column, end.end_line, end.end_column), _pos(name, name)
        )
        parts.clauses.extend(c for c in ch[3:] if isinstance(c, tuple))
        return parts

    def target_clause(self, ch: list[Any]) -> tuple[str, tuple[A.Literal, ...], A.Pos]:
        return ("target", (ch[1], ch[3]), _pos(ch[0], ch[-1]))

    def priority_clause(self, ch: list[Any]) -> tuple[str, tuple[A.Literal, ...], A.Pos]:
        return ("priority", (ch[1],), _pos(ch[0], ch[-1]))

    def open_clause(self, ch: list[Any]) -> tuple[str, tuple[A.Literal, ...], A.Pos]:
        return ("open", (ch[2], ch[4]), _pos(ch[0], ch[-1]))

    def starve_clause(self, ch: list[Any]) -> tuple[str, tuple[A.Literal, ...], A.Pos]:
        return ("starve", (ch[2],), _pos(ch[0], ch[-1]))

    def or_expr(self, ch: list[Any]) -> A.Or:
        return A.Or(_exprs(ch), _pos(ch[0], ch[-1]))

    def and_expr(self, ch: list[Any]) -> A.And:
        return A.And(_exprs(ch), _pos(ch[0], ch[-1]))

    def not_op(self, ch: list[Any]) -> A.Not:
        return A.Not(ch[1], _pos(ch[0], ch[1]))

    def compare(self, ch: list[Any]) -> A.Compare:
        return A.Compare(ch[1].value, ch[0], ch[2], _pos(ch[0], ch[2]))

    def single_eq(self, ch: list[Any]) -> A.Compare:
        raise _ParseProblem("HL-R103", "`=` is not a comparison", ch[1].line, ch[1].column)

    def in_op(self, ch: list[Any]) -> A.In:
        return A.In(ch[0], ch[2], False, _pos(ch[0], ch[2]))

    def not_in_op(self, ch: list[Any]) -> A.In:
        return A.In(ch[0], ch[3], True, _pos(ch[0], ch[3]))

    def string_test(self, ch: list[Any]) -> A.StringTest:
        return A.StringTest(ch[1].value, ch[0], ch[2], _pos(ch[0], ch[2]))

    def is_empty(self, ch: list[Any]) -> A.IsEmpty:
        return A.IsEmpty(ch[0], False, _pos(ch[0], ch[-1]))

    def is_not_empty(self, ch: list[Any]) -> A.IsEmpty:
        return A.IsEmpty(ch[0], True, _pos(ch[0], ch[-1]))

    def binary(self, ch: list[Any]) -> A.Binary:
        return A.Binary(ch[1].value, ch[0], ch[2], _pos(ch[0], ch[2]))

    def unary(self, ch: list[Any]) -> A.Unary:
        return A.Unary(ch[0].value, ch[1], _pos(ch[0], ch[1]))

    def paren(self, ch: list[Any]) -> A.Expr:
        return ch[1]  # type: ignore[no-any-return]

    def literal(self, ch: list[Any]) -> A.Literal:
        return literal_from_token(ch[0])

    def name(self, ch: list[Any]) -> A.Name:
        return A.Name(tuple(t.value for t in ch if t.type == "NAME"), _pos(ch[0], ch[-1]))

    def set(self, ch: list[Any]) -> A.SetLiteral:
        return A.SetLiteral(_exprs(ch), _pos(ch[0], ch[-1]))

    def call(self, ch: list[Any]) -> A.Call:
        return A.Call(ch[0].value, _exprs(ch[1:]), _pos(ch[0], ch[-1]))


def _too_long(text: str) -> Problem:
    return make_problem("HL-R304", f"text is {len(text)} characters long (limit {MAX_LENGTH})", text, 1, 1)


def _too_deep(text: str, line: int, column: int) -> Problem:
    return make_problem("HL-R305", f"nesting is deeper than {MAX_DEPTH} levels", text, line, column)


def _parse_one(source: str, start: str, text: str, line: int) -> tuple[Any, list[Problem]]:
    """Parse ``source`` (already padded with newlines to sit at ``line``); problems refer to ``text``.

    Memoised: the designers check the whole metadata set after every edit, re-reading the same rule texts
    (the tree and the problems are immutable)."""
    node, problems = _parse_cached(source, start, text, line)
    return node, list(problems)


@functools.lru_cache(maxsize=8192)
def _parse_cached(source: str, start: str, text: str, line: int) -> tuple[Any, tuple[Problem, ...]]:
    node, problems = _parse_uncached(source, start, text, line)
    return node, tuple(problems)


def _parse_uncached(source: str, start: str, text: str, line: int) -> tuple[Any, list[Problem]]:
    try:
        node: Any = get_parser().parse(source, start=start)
    except UnexpectedInput as err:
        return None, [syntax_problem(err, text, start)]
    except _ParseProblem as err:
        return None, [make_problem(err.pid, err.message, text, err.line, err.column, width=err.width)]
    except RecursionError:
        return None, [_too_deep(text, line, 1)]
    root = node if not isinstance(node, TierParts) else None
    if root is not None and A.depth(root) > MAX_DEPTH + 1:
        return None, [_too_deep(text, root.pos.line, root.pos.column)]
    return node, []


def _value(lit: A.Literal) -> float:
    return float(lit.value) if isinstance(lit.value, int | float) and not isinstance(lit.value, bool) else 0.0


def build_tier(parts: TierParts, text: str) -> tuple[A.TierDecl | None, list[Problem]]:
    """Validate the clauses of a tier declaration (HL-R209, HL-R215, HL-R306)."""
    problems: list[Problem] = []
    seen: dict[str, A.Pos] = {}
    levels: dict[int, float] = {}
    target = within = starve = None
    priority: int | None = None

    def bad(msg: str, lit: A.Literal) -> None:
        problems.append(make_problem("HL-R215", msg, text, lit.pos.line, lit.pos.column))

    for kind, vals, pos in parts.clauses:
        if kind in seen and kind != "open":
            problems.append(
                make_problem(
                    "HL-R209",
                    f"clause `{kind}` given twice for tier {parts.name}",
                    text,
                    pos.line,
                    pos.column,
                )
            )
            continue
        seen[kind] = pos
        if kind == "target":
            t, w = vals
            target, within = _value(t), _value(w)
            if t.type != "number" or not 0 < target <= 1:
                bad("target must be a percentage between 0% and 100%, e.g. 90%", t)
            if w.type not in ("duration", "number") or within <= 0:
                bad("`within` must be a positive duration, e.g. 20s", w)
        elif kind == "priority":
            p = vals[0]
            if p.type != "number" or not float(_value(p)).is_integer():
                bad("priority must be a whole number, e.g. 30", p)
            priority = int(_value(p))
        elif kind == "open":
            lv, after = vals
            level = _value(lv)
            if lv.type != "number" or not level.is_integer() or level < 2:
                bad("a level to open is a whole number from 2 up (level 1 is always open)", lv)
            elif int(level) in levels:
                problems.append(
                    make_problem("HL-R209", f"level {int(level)} opened twice", text, pos.line, pos.column)
                )
            if after.type not in ("duration", "number") or _value(after) < 0:
                bad("`after` must be a duration, e.g. 5s", after)
            levels[int(level)] = _value(after)
        else:
            after = vals[0]
            starve = _value(after)
            if after.type not in ("duration", "number") or starve <= 0:
                bad("`starve after` must be a positive duration, e.g. 120s", after)
    missing = [c for c in ("target", "priority") if c not in seen]
    if missing:
        what = " and ".join(f"`{m}`" for m in missing)
        problems.append(
            make_problem(
                "HL-R306", f"tier {parts.name} has no {what} clause", text, parts.pos.line, parts.pos.column
            )
        )
    if problems or target is None or within is None or priority is None:
        return None, problems
    decl = A.TierDecl(parts.name, target, within, priority, tuple(sorted(levels.items())), starve, parts.pos)
    return decl, []


@dataclass
class ParseResult:
    """What :func:`parse_statements` found: rules with their source, tier declarations, problems."""

    rules: list[tuple[A.Rule, str]] = field(default_factory=list)
    tiers: list[tuple[A.TierDecl, A.Pos]] = field(default_factory=list)
    tier_names: list[tuple[str, A.Pos]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def parse_statements(text: str) -> ParseResult:
    """Parse a rule list leniently: every statement that parses is kept, every problem is collected."""
    result = ParseResult()
    if len(text) > MAX_LENGTH:
        result.problems.append(_too_long(text))
        return result
    for chunk in split_statements(text):
        if chunk.max_depth > MAX_DEPTH:
            result.problems.append(_too_deep(text, chunk.line, 1))
            continue
        node, problems = _parse_one("\n" * (chunk.line - 1) + chunk.text, "statement", text, chunk.line)
        result.problems.extend(problems)
        if isinstance(node, TierParts):
            result.tier_names.append((node.name, node.name_pos))
            decl, tier_problems = build_tier(node, text)
            result.problems.extend(tier_problems)
            if decl is not None:
                result.tiers.append((decl, node.pos))
        elif isinstance(node, A.Rule):
            result.rules.append((node, chunk.text.strip()))
    return result


def parse_expression_lenient(text: str) -> tuple[A.Expr | None, list[Problem]]:
    """Parse a single expression, returning the problems instead of raising."""
    if len(text) > MAX_LENGTH:
        return None, [_too_long(text)]
    if not any(ln.split("#", 1)[0].strip() for ln in text.splitlines()):
        return None, [make_problem("HL-R110", "an expression is expected here", text, 1, 1)]
    depth = max_depth = 0
    for ch in text:
        if ch in "({":
            depth += 1
            max_depth = max(max_depth, depth)
        elif ch in ")}":
            depth -= 1
    if max_depth > MAX_DEPTH:
        return None, [_too_deep(text, 1, 1)]
    node, problems = _parse_one(text, "expression", text, 1)
    return node, problems


def parse_expression(text: str) -> A.Expr:
    """Parse one expression; raise :class:`RuleSyntaxError` if it does not parse."""
    node, problems = parse_expression_lenient(text)
    if problems or node is None:
        raise RuleSyntaxError(problems)
    return node


def parse_program(text: str) -> A.Program:
    """Parse a rule list; raise :class:`RuleSyntaxError` with every syntax and tier-clause problem."""
    result = parse_statements(text)
    if result.problems:
        raise RuleSyntaxError(result.problems)
    return A.Program(tuple(r for r, _ in result.rules), tuple(t for t, _ in result.tiers))
