"""The abstract syntax tree of the rule language: frozen dataclasses, each with a source :class:`Pos`.

The parser builds these nodes; the checker returns a *resolved* copy in which bare identifiers that
turned out to be category codes or references (queue, node, prompt names) have become :class:`Literal`
nodes with a ``category(<tree>)`` or ``ref(<kind>)`` type, so code that translates the tree (e.g. into an
SQL filter for a query screen or a row scope) never has to guess what a :class:`Name` is: in a resolved
tree every :class:`Name` is a context name.

Expression nodes
    ``Literal(value, type)``: ``value`` is ``int | float | str | bool``; durations are seconds with type
    ``"duration"``, percentages are fractions (``90%`` -> ``0.9``) with type ``"number"``.
    ``Name(parts)``: ``caller.number`` -> ``("caller", "number")``.
    ``SetLiteral(items)``, ``Unary(op, operand)`` (``-``/``+``), ``Binary(op, left, right)`` (``+ - * / %``),
    ``Compare(op, left, right)`` (``== != < <= > >=``), ``In(left, right, negated)``,
    ``StringTest(op, left, right)`` (``starts_with ends_with contains matches``),
    ``IsEmpty(operand, negated)``, ``And(operands)``, ``Or(operands)``, ``Not(operand)``,
    ``Call(func, args)``.
Statements
    ``Action(name, args)``, ``Rule(condition, actions)`` (``condition`` None = ``otherwise``),
    ``TierDecl(name, target, within_s, priority, open_levels, starve_s)``, ``Program(rules, tiers)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True)
class Pos:
    """A source span, 1-based; ``end_column`` is one past the last character."""

    line: int
    column: int
    end_line: int
    end_column: int

    def shifted(self, lines: int) -> Pos:
        """The same span ``lines`` further down."""
        return Pos(self.line + lines, self.column, self.end_line + lines, self.end_column)


NOPOS = Pos(0, 0, 0, 0)


@dataclass(frozen=True)
class Literal:
    """A constant; ``type`` is a type spelling such as ``number``, ``text``, ``category(value_tier)``."""

    value: int | float | str | bool
    type: str
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Name:
    """A dotted context name (or, before resolution, a bare identifier)."""

    parts: tuple[str, ...]
    pos: Pos = NOPOS

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class SetLiteral:
    """``{a, b, c}``."""

    items: tuple[Expr, ...]
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Unary:
    """``-x`` or ``+x``."""

    op: str
    operand: Expr
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Binary:
    """Arithmetic: ``op`` is one of ``+ - * / %``."""

    op: str
    left: Expr
    right: Expr
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Compare:
    """Comparison: ``op`` is one of ``== != < <= > >=``."""

    op: str
    left: Expr
    right: Expr
    pos: Pos = NOPOS


@dataclass(frozen=True)
class In:
    """``left in right`` (``negated``: ``left not in right``)."""

    left: Expr
    right: Expr
    negated: bool = False
    pos: Pos = NOPOS


@dataclass(frozen=True)
class StringTest:
    """``left starts_with|ends_with|contains|matches right``."""

    op: str
    left: Expr
    right: Expr
    pos: Pos = NOPOS


@dataclass(frozen=True)
class IsEmpty:
    """``operand is empty`` (``negated``: ``is not empty``)."""

    operand: Expr
    negated: bool = False
    pos: Pos = NOPOS


@dataclass(frozen=True)
class And:
    """``a and b and ...`` (flattened, two or more operands)."""

    operands: tuple[Expr, ...]
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Or:
    """``a or b or ...`` (flattened, two or more operands)."""

    operands: tuple[Expr, ...]
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Not:
    """``not operand``."""

    operand: Expr
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Call:
    """``func(arg, ...)``: one of the pure built-in functions."""

    func: str
    args: tuple[Expr, ...]
    pos: Pos = NOPOS


Expr: TypeAlias = (
    Literal | Name | SetLiteral | Unary | Binary | Compare | In | StringTest | IsEmpty | And | Or | Not | Call
)


@dataclass(frozen=True)
class Action:
    """``name``, ``name arg arg`` or ``name(arg, arg)``."""

    name: str
    args: tuple[Expr, ...]
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Rule:
    """``when condition then actions``; ``condition`` None is ``otherwise``."""

    condition: Expr | None
    actions: tuple[Action, ...]
    pos: Pos = NOPOS


@dataclass(frozen=True)
class TierDecl:
    """``tier NAME: target 90% within 20s, priority 30, open level 2 after 5s, starve after 120s``.

    ``target`` is a fraction (0.9); ``open_levels`` is ``((level, after_s), ...)`` sorted by level.
    """

    name: str
    target: float
    within_s: float
    priority: int
    open_levels: tuple[tuple[int, float], ...]
    starve_s: float | None
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Program:
    """A rule list: rules in source order, then tier declarations in source order."""

    rules: tuple[Rule, ...]
    tiers: tuple[TierDecl, ...]


Node: TypeAlias = Expr | Action | Rule


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of ``node`` (for iterative walks)."""
    if isinstance(node, Binary | Compare | StringTest | In):
        return (node.left, node.right)
    if isinstance(node, Unary | Not | IsEmpty):
        return (node.operand,)
    if isinstance(node, And | Or):
        return node.operands
    if isinstance(node, SetLiteral):
        return node.items
    if isinstance(node, Call | Action):
        return node.args
    if isinstance(node, Rule):
        return ((node.condition,) if node.condition is not None else ()) + node.actions
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node under (and including) ``node``, without recursion."""
    stack: list[Node] = [node]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(children(cur)))


def depth(node: Node) -> int:
    """Height of the tree under ``node`` (a leaf is 1), computed without recursion."""
    best = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        cur, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in children(cur))
    return best
