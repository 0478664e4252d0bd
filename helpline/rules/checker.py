"""Static checking: names, types, actions and structure, against a :class:`~helpline.rules.uses.Use`.

The checker returns a *resolved* tree (bare identifiers that are category codes or references become
typed :class:`~helpline.rules.ast.Literal` nodes), the set of context names read, and every problem.
An unknown name is typed ``any`` after it is reported, so one mistake does not cascade.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from helpline.diagnostics import Problem

from . import ast as A
from .errors import make_problem
from .parser import parse_expression_lenient, parse_statements
from .types import (
    ANY,
    BOOL,
    DURATION,
    NUMBER,
    RECORD,
    TEXT,
    RType,
    comparable,
    numeric,
    ordered,
    parse_type,
    set_of,
)
from .uses import MAX_RESERVE, Use

FUNCTIONS = ("min", "max", "abs", "round", "len", "lower", "upper", "trim", "digits", "part", "replace")


@dataclass
class CheckResult:
    """Outcome of checking one text: the resolved tree(s), names read, problems, rule sources."""

    expr: A.Expr | None = None
    program: A.Program | None = None
    sources: tuple[str, ...] = ()
    names: frozenset[str] = frozenset()
    problems: list[Problem] = field(default_factory=list)
    type: RType | None = None
    """An expression's value type (``check_expression`` of a value; None for a condition or a program)."""

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.7)
    return ("did you mean " + " or ".join(f"`{c}`" for c in close) + "?") if close else ""


class Checker:
    """Type checker for one text and one use (not reusable across texts)."""

    def __init__(self, use: Use, text: str):
        self.use = use
        self.text = text
        self.problems: list[Problem] = []
        self.names: set[str] = set()
        self.groups = {".".join(k.split(".")[:i]) for k in use.context for i in range(1, k.count(".") + 1)}
        self.groups.update(use.open_prefixes)

    # -- reporting -------------------------------------------------------------------------------
    def report(
        self, pid: str, message: str, pos: A.Pos, hint: str | None = None, *, warn: bool = False
    ) -> None:
        width = pos.end_column - pos.column if pos.end_line == pos.line else 1
        self.problems.append(
            make_problem(
                pid,
                message,
                self.text,
                pos.line,
                pos.column,
                width=width,
                hint=hint,
                severity="warning" if warn else "error",
            )
        )

    # -- names -----------------------------------------------------------------------------------
    def context_type(self, dotted: str) -> RType | None:
        t = self.use.context.get(dotted)
        if t is not None:
            return t
        for prefix, ptype in self.use.open_prefixes.items():
            if dotted.startswith(prefix + "."):
                return ptype
        if dotted in self.groups:
            return RECORD
        return None

    def is_bare(self, node: A.Expr) -> bool:
        """A one-part name that is not a context name (a category code or reference candidate)."""
        return isinstance(node, A.Name) and len(node.parts) == 1 and self.context_type(node.parts[0]) is None

    def code(self, value: str, tree: str, pos: A.Pos) -> None:
        codes = self.use.codes(tree) if self.use.codes else None
        if codes is None:
            return
        codes = list(codes)
        if value not in codes:
            hint = _suggest(value, codes) or f"codes of {tree}: {', '.join(codes[:12])}"
            self.report("HL-R206", f"`{value}` is not a code of category {tree}", pos, hint)

    def name(self, node: A.Name, hint: RType | None) -> tuple[A.Expr, RType]:
        dotted = node.dotted
        t = self.context_type(dotted)
        if t is not None and not (t is RECORD and hint is not None and hint.kind == "category"):
            self.names.add(dotted)
            return node, t
        if hint is not None and hint.kind == "category" and len(node.parts) == 1:
            assert hint.arg is not None
            self.code(dotted, hint.arg, node.pos)
            return A.Literal(dotted, str(hint), node.pos), hint
        candidates = [*self.use.context, *(p + ".<name>" for p in self.use.open_prefixes), *FUNCTIONS]
        suggestion = _suggest(dotted, candidates)
        msg = f"unknown name `{dotted}`"
        if hint is None and len(node.parts) == 1 and not suggestion:
            suggestion = 'a word compared with a category is a code; quote other text: "..."'
        self.report("HL-R201", msg, node.pos, suggestion or None)
        return node, ANY

    # -- expressions -----------------------------------------------------------------------------
    def value(self, node: A.Expr, hint: RType | None = None) -> tuple[A.Expr, RType]:
        """Check a node used as a value (a group name like ``customer`` is not a value)."""
        out, t = self.expr(node, hint)
        if t is RECORD:
            what = f"`{node.dotted}`" if isinstance(node, A.Name) else "this"
            self.report("HL-R214", f"{what} is a group of names, not a value", node.pos)
            return out, ANY
        return out, t

    def condition(self, node: A.Expr, what: str = "a condition") -> A.Expr:
        out, t = self.value(node)
        if t.kind not in ("bool", "any"):
            self.report("HL-R212", f"{what} must be true/false, not {t}", node.pos)
        return out

    def expr(self, node: A.Expr, hint: RType | None = None) -> tuple[A.Expr, RType]:
        if isinstance(node, A.Literal):
            return node, parse_type(node.type)
        if isinstance(node, A.Name):
            return self.name(node, hint)
        if isinstance(node, A.And | A.Or):
            ops = tuple(
                self.condition(o, f"each side of `{type(node).__name__.lower()}`") for o in node.operands
            )
            return replace(node, operands=ops), BOOL
        if isinstance(node, A.Not):
            return replace(node, operand=self.condition(node.operand, "the operand of `not`")), BOOL
        if isinstance(node, A.IsEmpty):
            out, _ = self.expr(node.operand)
            return replace(node, operand=out), BOOL
        if isinstance(node, A.Compare):
            return self.compare(node)
        if isinstance(node, A.In):
            return self.in_(node)
        if isinstance(node, A.StringTest):
            return self.string_test(node)
        if isinstance(node, A.SetLiteral):
            return self.set_(node, hint)
        if isinstance(node, A.Unary):
            out, t = self.value(node.operand)
            if not (numeric(t) or t.is_any):
                self.report("HL-R202", f"`{node.op}` needs a number, not {t}", node.pos)
            return replace(node, operand=out), t
        if isinstance(node, A.Binary):
            return self.binary(node)
        return self.call(node)

    def pair(self, left: A.Expr, right: A.Expr) -> tuple[A.Expr, RType, A.Expr, RType]:
        """Check two operands; a bare word facing a category becomes a code of that category."""
        if self.is_bare(left) and not self.is_bare(right):
            r, rt = self.value(right)
            lo, lt = self.value(left, rt if rt.kind == "category" else None)
        else:
            lo, lt = self.value(left)
            r, rt = self.value(right, lt if lt.kind == "category" else None)
        for node, t, other in ((lo, lt, rt), (r, rt, lt)):
            if other.kind == "category" and t.kind == "text" and isinstance(node, A.Literal):
                assert other.arg is not None
                self.code(str(node.value), other.arg, node.pos)
        return lo, lt, r, rt

    def compare(self, node: A.Compare) -> tuple[A.Expr, RType]:
        lo, lt, r, rt = self.pair(node.left, node.right)
        if node.op in ("==", "!="):
            if not comparable(lt, rt):
                self.report("HL-R202", f"cannot compare {lt} with {rt}", node.pos)
        elif not ordered(lt, rt):
            why = " (categories have no order)" if "category" in (lt.kind, rt.kind) else ""
            self.report("HL-R202", f"`{node.op}` cannot order {lt} and {rt}{why}", node.pos)
        return replace(node, left=lo, right=r), BOOL

    def in_(self, node: A.In) -> tuple[A.Expr, RType]:
        if self.is_bare(node.left) and not isinstance(node.right, A.SetLiteral):
            r, rt = self.value(node.right)  # `gold in record.tags`: a code of the set's category
            elem = (
                rt.elem if rt.kind == "set" and rt.elem is not None and rt.elem.kind == "category" else None
            )
            lo, lt = self.value(node.left, elem)
        else:
            lo, lt = self.value(node.left)
            r, rt = self.value(node.right, set_of(lt) if lt.kind == "category" else None)
        if rt.kind != "set" and not rt.is_any:
            self.report("HL-R202", f"`in` needs a set on its right, like {{a, b}}, not {rt}", node.right.pos)
        elif rt.elem is not None and not comparable(lt, rt.elem):
            self.report("HL-R202", f"cannot look for {lt} in a set of {rt.elem}", node.pos)
        return replace(node, left=lo, right=r), BOOL

    def set_(self, node: A.SetLiteral, hint: RType | None) -> tuple[A.Expr, RType]:
        elem_hint = hint.elem if hint is not None and hint.kind == "set" else None
        items: list[A.Expr] = []
        elem = ANY
        for item in node.items:
            out, t = self.value(item, elem_hint)
            items.append(out)
            if elem.is_any:
                elem = t
            elif not t.is_any and not comparable(elem, t):
                self.report("HL-R202", f"a set mixes {elem} and {t}", item.pos)
        if elem.kind == "text" and elem_hint is not None and elem_hint.kind == "category":
            elem = elem_hint
        return replace(node, items=tuple(items)), set_of(elem)

    def string_test(self, node: A.StringTest) -> tuple[A.Expr, RType]:
        lo, lt = self.value(node.left)
        r, rt = self.value(node.right)
        for t, side in ((lt, node.left), (rt, node.right)):
            if t.kind not in ("text", "any", "category"):
                self.report("HL-R202", f"`{node.op}` works on text, not {t}", side.pos)
        if node.op == "matches" and isinstance(r, A.Literal) and isinstance(r.value, str):
            try:
                re.compile(r.value)
            except re.error as err:
                self.report("HL-R303", f"regular expression does not compile: {err}", r.pos)
        return replace(node, left=lo, right=r), BOOL

    def binary(self, node: A.Binary) -> tuple[A.Expr, RType]:
        lo, lt = self.value(node.left)
        r, rt = self.value(node.right)
        op = node.op
        result: RType | None = None
        if lt.is_any or rt.is_any:
            result = ANY
        elif lt.kind == "text" and rt.kind == "text" and op == "+":
            result = TEXT
        elif numeric(lt) and numeric(rt):
            dur = DURATION in (lt, rt)
            if op in ("+", "-", "%"):
                result = DURATION if dur else NUMBER
            elif op == "*":
                result = None if lt == rt == DURATION else (DURATION if dur else NUMBER)
            else:
                result = NUMBER if lt == rt else (DURATION if lt == DURATION else None)
        if result is None:
            self.report("HL-R202", f"cannot compute {lt} {op} {rt}", node.pos)
            result = ANY
        return replace(node, left=lo, right=r), result

    def call(self, node: A.Call) -> tuple[A.Expr, RType]:
        if node.func not in FUNCTIONS:
            self.report(
                "HL-R210", f"unknown function `{node.func}`", node.pos, _suggest(node.func, FUNCTIONS) or None
            )
            return replace(node, args=tuple(self.value(a)[0] for a in node.args)), ANY
        checked = [self.value(a) for a in node.args]
        args = tuple(a for a, _ in checked)
        types = [t for _, t in checked]
        out = replace(node, args=args)
        f, n = node.func, len(types)

        def bad(msg: str) -> tuple[A.Expr, RType]:
            self.report("HL-R211", f"{f}(): {msg}", node.pos)
            return out, ANY

        if f in ("min", "max"):
            if n == 1 and types[0].kind == "set":
                elem = types[0].elem or ANY
                return (out, elem) if numeric(elem) or elem.is_any else bad("needs a set of numbers")
            if n < 1 or not all(numeric(t) or t.is_any for t in types):
                return bad("needs one or more numbers or durations")
            known = [t for t in types if not t.is_any]
            return out, (DURATION if DURATION in known else NUMBER if known else ANY)
        if f == "abs":
            return (
                (out, types[0])
                if n == 1 and (numeric(types[0]) or types[0].is_any)
                else bad("needs one number")
            )
        if f == "round":
            if n not in (1, 2) or not all(numeric(t) or t.is_any for t in types):
                return bad("needs a number and optionally the number of decimals")
            return out, types[0]
        if f == "len":
            ok = n == 1 and types[0].kind in ("text", "set", "any")
            return (out, NUMBER) if ok else bad("needs one text or set")
        if f in ("part", "replace"):
            ok = n == 3 and all(t.kind in ("text", "any", "category") for t in types[:2]) and (
                f == "replace" or numeric(types[2]) or types[2].is_any)
            usage = "part(text, separator, n)" if f == "part" else "replace(text, old, new)"
            return (out, TEXT) if ok else bad(f"write {usage}")
        ok = n == 1 and types[0].kind in ("text", "any", "category")
        return (out, TEXT) if ok else bad("needs one text")

    # -- statements ------------------------------------------------------------------------------
    def action(self, node: A.Action) -> A.Action:
        sig = self.use.actions.get(node.name)
        if sig is None:
            hint = _suggest(node.name, self.use.actions) or "actions here: " + ", ".join(self.use.actions)
            self.report("HL-R203", f"unknown action `{node.name}`", node.pos, hint)
            return node
        if len(node.args) != len(sig):
            usage = " ".join([node.name, *(str(t.arg).upper() if t.kind == "ref" else str(t) for t in sig)])
            self.report(
                "HL-R204",
                f"`{node.name}` takes {len(sig)} argument(s), got {len(node.args)}",
                node.pos,
                f"write: {usage}",
            )
            return node
        args = tuple(self.argument(a, t, node.name) for a, t in zip(node.args, sig, strict=True))
        if node.name == "reserve" and self.use.name == "tier":  # agent reservation: a count of agents
            arg = args[0]
            value = arg.value if isinstance(arg, A.Literal) else None
            if isinstance(value, int | float) and not isinstance(value, bool) and not (
                    float(value).is_integer() and 0 <= value <= MAX_RESERVE):
                self.report("HL-R216", f"`reserve` takes a whole number of agents from 0 to {MAX_RESERVE}, "
                            f"not {value:g}", arg.pos)
        return replace(node, args=args)

    def argument(self, arg: A.Expr, param: RType, action: str) -> A.Expr:
        if param.kind == "ref":
            if isinstance(arg, A.Name) or (isinstance(arg, A.Literal) and isinstance(arg.value, str)):
                value = arg.dotted if isinstance(arg, A.Name) else str(arg.value)
                known = self.use.refs(param.arg or "") if self.use.refs else None
                if known is not None:
                    known = list(known)
                    if value not in known:
                        hint = _suggest(value, known) or None
                        self.report("HL-R213", f"unknown {param.arg} `{value}`", arg.pos, hint)
                return A.Literal(value, str(param), arg.pos)
            self.report("HL-R205", f"`{action}` needs a {param.arg} name here", arg.pos)
            return arg
        out, t = self.value(arg, param)
        if not (param.is_any or comparable(param, t)) or (param.kind != "any" and t.kind == "set") != (
            param.kind == "set"
        ):
            self.report("HL-R205", f"`{action}` needs {param} here, not {t}", arg.pos)
        return out


def check_expression(text: str, use: Use) -> CheckResult:
    """Parse and check a single expression."""
    node, problems = parse_expression_lenient(text)
    result = CheckResult(problems=problems)
    if node is None:
        return result
    checker = Checker(use, text)
    if use.expect_bool:
        out = checker.condition(node)
    else:
        out, result.type = checker.value(node)
    result.expr = out
    result.names = frozenset(checker.names)
    result.problems.extend(checker.problems)
    return result


def check_program(text: str, use: Use) -> CheckResult:
    """Parse and check a rule list, including the structure rules (otherwise last, tiers, ...)."""
    parsed = parse_statements(text)
    result = CheckResult(problems=list(parsed.problems))
    checker = Checker(use, text)
    if not use.tiers_allowed:
        for tname, pos in parsed.tier_names:
            checker.report("HL-R207", f"tier declaration `{tname}` is not allowed in {use.name}", pos)
    if use.tiers_allowed and not parsed.tier_names and not parsed.problems:
        checker.report("HL-R307", "the strategy declares no tier", A.Pos(1, 1, 1, 1))
    seen: set[str] = set()
    for tname, pos in parsed.tier_names:
        if tname in seen:
            checker.report("HL-R208", f"tier `{tname}` is declared twice", pos)
        seen.add(tname)
    rules: list[A.Rule] = []
    after_otherwise, after_always = 0, False
    for rule, _source in parsed.rules:
        if after_otherwise == 1:
            checker.report("HL-R301", "this rule comes after `otherwise` and can never apply", rule.pos)
        elif after_always:
            checker.report(
                "HL-R302", "a rule above always matches, so this one never applies", rule.pos, warn=True
            )
        cond = None if rule.condition is None else checker.condition(rule.condition)
        if after_otherwise:
            after_otherwise += 1
        elif rule.condition is None:
            after_otherwise = 1
        elif isinstance(cond, A.Literal) and cond.value is True and not use.match_all:
            after_always = True
        rules.append(A.Rule(cond, tuple(checker.action(a) for a in rule.actions), rule.pos))
    result.program = A.Program(tuple(rules), tuple(t for t, _ in parsed.tiers))
    result.sources = tuple(s for _, s in parsed.rules)
    result.names = frozenset(checker.names)
    result.problems.extend(checker.problems)
    return result
