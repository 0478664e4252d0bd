"""Translate a checked rule-language condition into a condition tree the query builder runs as SQL.

Query-screen logic and row scopes are written in the rule language; a checked (resolved) tree is turned
into :mod:`helpline.data.conditions` nodes. Each name is resolved by the caller into a field of the entity
(``record.city``), a constant known before the query runs (``user.regions``, an input's value) or a whole
sub-condition (a query input used as a boolean atom, or ``None`` when the input was left empty and drops
out). Anything SQL cannot express (``matches``, arithmetic on fields) is a :class:`NotTranslatable` error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helpline.rules import ast as A

from .conditions import FALSE, TRUE, Cmp, Cond, Not, all_of, any_of


@dataclass(frozen=True)
class FieldRef:
    field: str


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class SubCondition:
    cond: Cond | None
    """None: the atom drops out (an optional input left empty)."""


Ref = FieldRef | Const | SubCondition
Resolver = Callable[[tuple[str, ...]], Ref]


class NotTranslatable(ValueError):
    """The condition uses something SQL filters cannot express; the message says what and where."""

    def __init__(self, what: str, node: Any):
        pos = getattr(node, "pos", None)
        where = f" (line {pos.line}, column {pos.column})" if pos and pos.line else ""
        super().__init__(f"{what}{where}")


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_OPS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


class _Translator:
    def __init__(self, resolve: Resolver):
        self.resolve = resolve

    def operand(self, node: A.Expr) -> Ref:
        if isinstance(node, A.Literal):
            return Const(node.value)
        if isinstance(node, A.Name):
            return self.resolve(node.parts)
        if isinstance(node, A.SetLiteral):
            values = []
            for item in node.items:
                ref = self.operand(item)
                if not isinstance(ref, Const):
                    raise NotTranslatable("a set may hold only constants here", item)
                values.append(ref.value)
            return Const(values)
        if isinstance(node, A.Unary) and node.op == "-":
            inner = self.operand(node.operand)
            if isinstance(inner, Const) and isinstance(inner.value, (int, float)):
                return Const(-inner.value)
        raise NotTranslatable("this expression cannot be used as a filter value", node)

    def cond(self, node: A.Expr) -> Cond | None:
        """The condition of ``node``; None when it drops out."""
        if isinstance(node, A.And):
            parts = [self.cond(o) for o in node.operands]
            kept = [p for p in parts if p is not None]
            return all_of(*kept) if kept else None
        if isinstance(node, A.Or):
            parts = [self.cond(o) for o in node.operands]
            kept = [p for p in parts if p is not None]
            return any_of(*kept) if kept else None
        if isinstance(node, A.Not):
            inner = self.cond(node.operand)
            if inner is None:
                return None
            return FALSE if inner == TRUE else TRUE if inner == FALSE else Not(inner)
        if isinstance(node, A.Literal) and isinstance(node.value, bool):
            return TRUE if node.value else FALSE
        if isinstance(node, A.Name):
            ref = self.resolve(node.parts)
            if isinstance(ref, SubCondition):
                return ref.cond
            if isinstance(ref, FieldRef):
                return Cmp(ref.field, "eq", True)
            return TRUE if ref.value is True else FALSE
        if isinstance(node, A.Compare):
            return self.compare(node)
        if isinstance(node, A.In):
            left, right = self.operand(node.left), self.operand(node.right)
            op = "not_in" if node.negated else "in"
            if isinstance(left, FieldRef) and isinstance(right, Const):
                values = right.value if isinstance(right.value, (list, tuple, set, frozenset)) else [right.value]
                return Cmp(left.field, op, [v for v in values if v is not None])
            if isinstance(left, Const) and isinstance(right, FieldRef):
                return Cmp(right.field, op, [left.value])
            if isinstance(left, Const) and isinstance(right, Const):
                inside = left.value in (right.value or [])
                return TRUE if inside != node.negated else FALSE
            raise NotTranslatable("'in' needs a field on one side and values on the other", node)
        if isinstance(node, A.StringTest):
            if node.op == "matches":
                raise NotTranslatable("'matches' cannot be used in a filter; use starts_with, ends_with or contains",
                                      node)
            left, right = self.operand(node.left), self.operand(node.right)
            if isinstance(left, FieldRef) and isinstance(right, Const):
                if right.value in (None, ""):
                    return None
                return Cmp(left.field, node.op, str(right.value))
            raise NotTranslatable(f"'{node.op}' needs a field on the left and a value on the right", node)
        if isinstance(node, A.IsEmpty):
            ref = self.operand(node.operand)
            if isinstance(ref, FieldRef):
                return Cmp(ref.field, "not_empty" if node.negated else "is_empty")
            empty = ref.value in (None, "", [], ()) if isinstance(ref, Const) else False
            return TRUE if empty != node.negated else FALSE
        raise NotTranslatable(f"{type(node).__name__.lower()} cannot be used as a filter", node)

    def compare(self, node: A.Compare) -> Cond:
        left, right = self.operand(node.left), self.operand(node.right)
        op = node.op
        if isinstance(left, Const) and isinstance(right, FieldRef):
            left, right, op = right, left, _FLIP[op]
        if isinstance(left, FieldRef) and isinstance(right, Const):
            if right.value is None and op in ("==", "!="):
                return Cmp(left.field, "is_empty" if op == "==" else "not_empty")
            return Cmp(left.field, _OPS[op], right.value)
        if isinstance(left, Const) and isinstance(right, Const):
            try:
                result = {"==": left.value == right.value, "!=": left.value != right.value,
                          "<": left.value < right.value, "<=": left.value <= right.value,
                          ">": left.value > right.value, ">=": left.value >= right.value}[op]
            except TypeError:
                result = False
            return TRUE if result else FALSE
        raise NotTranslatable("a comparison in a filter needs a field on one side and a value on the other", node)


def to_condition(expr: A.Expr, resolve: Resolver) -> Cond:
    """The condition tree of a checked expression; everything dropping out means no filter (TRUE)."""
    result = _Translator(resolve).cond(expr)
    return TRUE if result is None else result
