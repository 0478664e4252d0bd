"""Compilation of a resolved AST into Python closures (no ``eval``/``exec``, no parsing at run time).

Missing values
    A context name whose value (or any prefix) is absent or ``None`` is *missing* (``None``). Every
    operator and function with a missing operand yields missing -- comparisons (``==`` and ``!=`` too),
    arithmetic, ``in``/``not in``, string tests and functions -- except:

    * ``x is empty`` is true for missing, ``""``, and empty sets/lists/mappings; ``is not empty`` is its
      negation; neither is ever missing.
    * ``and``/``or`` use three-valued (SQL/Kleene) logic: ``false and missing`` is false, ``true or
      missing`` is true, ``true and missing`` is missing; ``not missing`` is missing.
    * Items of a set literal that are missing are left out of the set.

    A rule whose condition is missing does not match. This is the SQL semantics, so a condition
    translated into an SQL filter selects the same rows.

Run-time errors
    Division or modulo by zero, a value of the wrong kind in an ``any`` name (``var.x + 1`` with a text),
    a bad run-time regex and overflow raise :class:`RuleRuntimeError` carrying the position of the failing
    node. Nothing else escapes.
"""

from __future__ import annotations

import datetime as _dt
import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from helpline.diagnostics import caret_excerpt

from . import ast as A
from .errors import RuleRuntimeError
from .types import RType

Fn = Callable[[Mapping[str, Any]], Any]

_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
}
_CMP: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def is_empty(value: Any) -> bool:
    """The ``is empty`` test: missing, empty text, empty set/list/mapping."""
    if value is None or value == "":
        return True
    if isinstance(value, list | tuple | set | frozenset | dict):
        return len(value) == 0
    return False


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class Compiler:
    """Turns resolved expression nodes into closures; ``text`` is kept only for error excerpts."""

    def __init__(self, text: str, types: Mapping[str, RType] | None = None):
        self.text = text
        self.types = types or {}

    # -- errors ----------------------------------------------------------------------------------
    def fail(self, pid: str, message: str, pos: A.Pos) -> RuleRuntimeError:
        width = pos.end_column - pos.column if pos.end_line == pos.line else 1
        excerpt = caret_excerpt(self.text, pos.line, pos.column, width) if pos.line else ""
        return RuleRuntimeError(pid, message, line=pos.line, column=pos.column, excerpt=excerpt)

    def guard(self, fn: Callable[[Any, Any], Any], pos: A.Pos, what: str) -> Callable[[Any, Any], Any]:
        """``fn`` with Python errors turned into :class:`RuleRuntimeError` at ``pos``."""
        fail = self.fail

        def guarded(a: Any, b: Any) -> Any:
            try:
                return fn(a, b)
            except ZeroDivisionError:
                raise fail("HL-R401", f"division by zero in {what}", pos) from None
            except OverflowError:
                raise fail("HL-R404", f"overflow in {what}", pos) from None
            except (TypeError, ValueError, AttributeError) as err:
                raise fail("HL-R402", f"cannot compute {what}: {err}", pos) from None

        return guarded

    # -- dispatch --------------------------------------------------------------------------------
    def expr(self, node: A.Expr) -> Fn:
        method: Callable[[Any], Fn] = getattr(self, "c_" + type(node).__name__)
        return method(node)

    def c_Literal(self, node: A.Literal) -> Fn:
        value = node.value
        return lambda ctx: value

    def c_Name(self, node: A.Name) -> Fn:
        getter = lookup(node.parts)
        t = self.types.get(node.dotted)
        if t is not None and t.kind == "duration":

            def seconds(ctx: Mapping[str, Any]) -> Any:
                v = getter(ctx)
                return v.total_seconds() if isinstance(v, _dt.timedelta) else v

            return seconds
        return getter

    def c_SetLiteral(self, node: A.SetLiteral) -> Fn:
        if all(isinstance(i, A.Literal) for i in node.items):
            const = frozenset(i.value for i in node.items if isinstance(i, A.Literal))
            return lambda ctx: const
        items = tuple(self.expr(i) for i in node.items)
        make = self.guard(lambda a, _b: frozenset(a), node.pos, "a set")

        def build(ctx: Mapping[str, Any]) -> Any:
            return make([v for v in (f(ctx) for f in items) if v is not None], None)

        return build

    def c_Unary(self, node: A.Unary) -> Fn:
        operand = self.expr(node.operand)
        op = self.guard(lambda a, _b: -a if node.op == "-" else +a, node.pos, f"`{node.op}`")

        def unary(ctx: Mapping[str, Any]) -> Any:
            v = operand(ctx)
            return None if v is None else op(v, None)

        return unary

    def _binary(self, left: Fn, right: Fn, op: Callable[[Any, Any], Any]) -> Fn:
        def binary(ctx: Mapping[str, Any]) -> Any:
            a = left(ctx)
            if a is None:
                return None
            b = right(ctx)
            if b is None:
                return None
            return op(a, b)

        return binary

    def c_Binary(self, node: A.Binary) -> Fn:
        op = self.guard(_ARITH[node.op], node.pos, f"`{node.op}`")
        return self._binary(self.expr(node.left), self.expr(node.right), op)

    def c_Compare(self, node: A.Compare) -> Fn:
        op = self.guard(_CMP[node.op], node.pos, f"`{node.op}`")
        return self._binary(self.expr(node.left), self.expr(node.right), op)

    def c_In(self, node: A.In) -> Fn:
        if node.negated:
            op = self.guard(lambda a, b: a not in b, node.pos, "`not in`")
        else:
            op = self.guard(lambda a, b: a in b, node.pos, "`in`")
        return self._binary(self.expr(node.left), self.expr(node.right), op)

    def c_StringTest(self, node: A.StringTest) -> Fn:
        fail, pos, name = self.fail, node.pos, node.op
        if node.op == "matches" and isinstance(node.right, A.Literal) and isinstance(node.right.value, str):
            rx = _regex(node.right.value)

            def search(a: Any, _b: Any) -> bool:
                return rx.search(a) is not None

            test: Callable[[Any, Any], Any] = search
        elif node.op == "matches":

            def dynamic(a: Any, b: Any) -> bool:
                try:
                    return _regex(b).search(a) is not None
                except re.error as err:
                    raise fail("HL-R403", f"bad regular expression {b!r}: {err}", pos) from None

            test = dynamic
        else:
            method = {"starts_with": str.startswith, "ends_with": str.endswith, "contains": str.__contains__}[
                node.op
            ]

            def string(a: Any, b: Any) -> bool:
                if not isinstance(a, str) or not isinstance(b, str):
                    raise fail("HL-R402", f"`{name}` needs text, got {type(a).__name__}", pos)
                return bool(method(a, b))

            test = string
        return self._binary(self.expr(node.left), self.expr(node.right), self.guard(test, pos, f"`{name}`"))

    def c_IsEmpty(self, node: A.IsEmpty) -> Fn:
        operand = self.expr(node.operand)
        if node.negated:
            return lambda ctx: not is_empty(operand(ctx))
        return lambda ctx: is_empty(operand(ctx))

    def _truth(self, value: Any, pos: A.Pos) -> bool | None:
        if value is None or value is True or value is False:
            return value  # type: ignore[no-any-return]
        raise self.fail("HL-R402", f"expected true/false, got {type(value).__name__}", pos)

    def _junction(self, operands: tuple[A.Expr, ...], decisive: bool) -> Fn:
        """``and`` (decisive False) or ``or`` (decisive True) in three-valued logic: the decisive value
        wins at once; otherwise a missing operand makes the result missing."""
        ops = tuple((self.expr(o), o.pos) for o in operands)
        truth = self._truth
        neutral = not decisive

        def junction(ctx: Mapping[str, Any]) -> Any:
            result: bool | None = neutral
            for f, pos in ops:
                v = f(ctx)
                if v is decisive:
                    return decisive
                if v is not neutral and truth(v, pos) is None:
                    result = None
            return result

        return junction

    def c_And(self, node: A.And) -> Fn:
        return self._junction(node.operands, False)

    def c_Or(self, node: A.Or) -> Fn:
        return self._junction(node.operands, True)

    def c_Not(self, node: A.Not) -> Fn:
        operand, pos, truth = self.expr(node.operand), node.operand.pos, self._truth

        def not_(ctx: Mapping[str, Any]) -> Any:
            v = operand(ctx)
            if v is True:
                return False
            if v is False:
                return True
            truth(v, pos)
            return None

        return not_

    def c_Call(self, node: A.Call) -> Fn:
        args = tuple(self.expr(a) for a in node.args)
        fn = self.guard(lambda vals, _b: _FUNCS[node.func](*vals), node.pos, f"{node.func}()")

        def call(ctx: Mapping[str, Any]) -> Any:
            vals = [f(ctx) for f in args]
            if any(v is None for v in vals):
                return None
            return fn(vals, None)

        return call


def _minmax(pick: Callable[..., Any]) -> Callable[..., Any]:
    def f(*vals: Any) -> Any:
        if len(vals) == 1 and isinstance(vals[0], list | tuple | set | frozenset):
            items = [v for v in vals[0] if v is not None]
            return pick(items) if items else None
        return pick(vals)

    return f


def _text(fn: Callable[[str], str]) -> Callable[[Any], Any]:
    def f(v: Any) -> Any:
        if not isinstance(v, str):
            raise TypeError(f"needs text, got {type(v).__name__}")
        return fn(v)

    return f


def _as_text(v: Any) -> str:
    """A value as text for the text functions of imports (a whole float read from a sheet without ``.0``)."""
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _part(text: Any, sep: Any, n: Any) -> Any:
    """The ``n``-th (from 1; negative from the end) piece of ``text`` split at ``sep``; missing if none."""
    pieces = _as_text(text).split(str(sep))
    i = int(n)
    try:
        return pieces[i - 1 if i > 0 else i].strip() if i != 0 else None
    except IndexError:
        return None


def _round(v: Any, digits: Any = None) -> Any:
    if digits is None:
        return round(v)
    return round(v, int(digits))


_FUNCS: dict[str, Callable[..., Any]] = {
    "min": _minmax(min),
    "max": _minmax(max),
    "abs": abs,
    "round": _round,
    "len": len,
    "lower": _text(str.lower),
    "upper": _text(str.upper),
    "trim": lambda v: _as_text(v).strip(),
    "digits": lambda v: "".join(c for c in _as_text(v) if c.isdigit()),
    "part": _part,
    "replace": lambda t, a, b: str(t).replace(str(a), str(b)),
}


def lookup(parts: tuple[str, ...]) -> Fn:
    """A closure reading a dotted name from a nested mapping; absent or ``None`` anywhere -> ``None``."""
    errors = (KeyError, TypeError, IndexError, AttributeError)
    if len(parts) == 1:
        (a,) = parts

        def get1(ctx: Mapping[str, Any]) -> Any:
            return ctx.get(a)

        return get1
    if len(parts) == 2:
        a, b = parts

        def get2(ctx: Mapping[str, Any]) -> Any:
            try:
                return ctx[a][b]
            except errors:
                return None

        return get2
    if len(parts) == 3:
        a, b, c = parts

        def get3(ctx: Mapping[str, Any]) -> Any:
            try:
                return ctx[a][b][c]
            except errors:
                return None

        return get3

    def getn(ctx: Mapping[str, Any]) -> Any:
        v: Any = ctx
        try:
            for p in parts:
                v = v[p]
        except errors:
            return None
        return v

    return getn
