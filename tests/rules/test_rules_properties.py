"""Property tests: arbitrary text fails cleanly; compiled evaluation equals a reference interpreter."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpline.diagnostics import Problem
from helpline.rules import (
    IVR,
    QUERY,
    TIER,
    RuleError,
    RuleRuntimeError,
    Use,
    ast,
    check,
    compile_expression,
    compile_rules,
)

FRAGMENTS = [
    "when ",
    " then ",
    "otherwise ",
    "tier ",
    "x",
    "caller.number",
    "customer.tier",
    "call.wait",
    " and ",
    " or ",
    "not ",
    " in ",
    " is empty",
    "(",
    ")",
    "{",
    "}",
    ",",
    "==",
    "=",
    "<",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    '"',
    "'",
    "\\",
    "\n",
    " ",
    "#",
    "20s",
    "90%",
    "3",
    "1.5",
    "gold",
    "block",
    "goto ",
    "张",
    "priority ",
    "target ",
    "within ",
    "open level ",
    "after ",
    "starts_with",
    "matches",
    ":",
    ".",
    "!",
    "&",
    "|",
    "\\u12",
    "\t",
]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join)))
def test_random_text_fails_cleanly(text: str) -> None:
    for use in (IVR, TIER, QUERY):
        problems = check(text, use)
        assert all(isinstance(p, Problem) and p.id.startswith("HL-R") for p in problems)
        try:
            if use.mode == "expression":
                compile_expression(text, use)
            else:
                compile_rules(text, use)
        except RuleError as err:
            assert err.problems
            assert {p.id for p in err.problems} <= {p.id for p in problems}


# --- reference interpreter ------------------------------------------------------------------------

USE = Use.expression(
    "prop",
    {"n.a": "number", "n.b": "number", "b.x": "bool", "b.y": "bool", "t.a": "text", "t.b": "text"},
    expect_bool=False,
)


class Boom(Exception):
    """A run-time error in the reference interpreter."""


def ref(node: ast.Expr, ctx: dict[str, Any]) -> Any:
    if isinstance(node, ast.Literal):
        return node.value
    if isinstance(node, ast.Name):
        group = ctx.get(node.parts[0])
        return None if group is None else group.get(node.parts[1])
    if isinstance(node, ast.SetLiteral):
        return {v for v in (ref(i, ctx) for i in node.items) if v is not None}
    if isinstance(node, ast.Unary):
        v = ref(node.operand, ctx)
        return None if v is None else -v if node.op == "-" else v
    if isinstance(node, ast.Not):
        v = ref(node.operand, ctx)
        return None if v is None else not v
    if isinstance(node, ast.And):  # left to right, stops at the first false
        seen_missing = False
        for o in node.operands:
            v = ref(o, ctx)
            if v is False:
                return False
            seen_missing = seen_missing or v is None
        return None if seen_missing else True
    if isinstance(node, ast.Or):  # left to right, stops at the first true
        seen_missing = False
        for o in node.operands:
            v = ref(o, ctx)
            if v is True:
                return True
            seen_missing = seen_missing or v is None
        return None if seen_missing else False
    if isinstance(node, ast.IsEmpty):
        v = ref(node.operand, ctx)
        empty = v is None or v == "" or v == set()
        return not empty if node.negated else empty
    if isinstance(node, ast.Call):
        args = [ref(a, ctx) for a in node.args]
        if None in args:
            return None
        fn = {"min": min, "max": max, "abs": abs, "len": len, "lower": str.lower, "upper": str.upper}
        return fn[node.func](*args) if node.func != "round" else round(*args)
    left = ref(node.left, ctx)  # type: ignore[union-attr]
    if left is None:  # a missing left operand: the right one is not evaluated
        return None
    right = ref(node.right, ctx)  # type: ignore[union-attr]
    if right is None:
        return None
    if isinstance(node, ast.In):
        return (left not in right) if node.negated else (left in right)
    if isinstance(node, ast.StringTest):
        import re

        return {
            "starts_with": lambda: left.startswith(right),
            "ends_with": lambda: left.endswith(right),
            "contains": lambda: right in left,
            "matches": lambda: re.search(right, left) is not None,
        }[node.op]()
    if isinstance(node, ast.Compare):
        return {
            "==": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[node.op]
    assert isinstance(node, ast.Binary)
    try:
        return {
            "+": lambda: left + right,
            "-": lambda: left - right,
            "*": lambda: left * right,
            "/": lambda: left / right,
            "%": lambda: left % right,
        }[node.op]()
    except ZeroDivisionError:
        raise Boom from None


def numbers(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(st.integers(-20, 20).map(str), st.sampled_from(["n.a", "n.b", "len(t.a)"]))
    if depth <= 0:
        return leaf
    sub = numbers(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/", "%"]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        sub.map(lambda s: f"-{s}" if not s.startswith("-") else f"-({s})"),
        st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        sub.map(lambda s: f"abs({s})"),
    )


def texts() -> st.SearchStrategy[str]:
    lit = st.sampled_from(["'a'", "'ab'", "''", "'张'", "'A1'"])
    return st.one_of(lit, st.sampled_from(["t.a", "t.b", "lower(t.a)", "upper(t.b)"]))


def bools(depth: int) -> st.SearchStrategy[str]:
    nums = numbers(1)
    leaf = st.one_of(
        st.sampled_from(["true", "false", "b.x", "b.y", "t.a is empty", "n.a is not empty"]),
        st.tuples(nums, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), nums).map(" ".join),
        st.tuples(texts(), st.sampled_from(["starts_with", "ends_with", "contains", "=="]), texts()).map(
            " ".join
        ),
        st.tuples(nums, st.sampled_from(["in", "not in"]), st.lists(nums, max_size=3)).map(
            lambda t: f"{t[0]} {t[1]} {{{', '.join(t[2])}}}"
        ),
    )
    if depth <= 0:
        return leaf
    sub = bools(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        sub.map(lambda s: f"not ({s})"),
    )


contexts = st.fixed_dictionaries(
    {
        "n": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {"a": st.one_of(st.none(), st.integers(-5, 5)), "b": st.one_of(st.none(), st.integers(-5, 5))}
            ),
        ),
        "b": st.fixed_dictionaries(
            {"x": st.one_of(st.none(), st.booleans()), "y": st.one_of(st.none(), st.booleans())}
        ),
        "t": st.fixed_dictionaries(
            {
                "a": st.one_of(st.none(), st.sampled_from(["", "ab", "张三", "A1"])),
                "b": st.sampled_from(["a", "B", "1"]),
            }
        ),
    }
)


def outcome_compiled(text: str, ctx: dict[str, Any]) -> Any:
    try:
        return ("ok", compile_expression(text, USE).evaluate(ctx))
    except RuleRuntimeError:
        return ("error", None)


def outcome_reference(text: str, ctx: dict[str, Any]) -> Any:
    try:
        return ("ok", ref(compile_expression(text, USE).ast, ctx))
    except Boom:
        return ("error", None)


@settings(max_examples=400, deadline=None, database=None)
@given(st.one_of(bools(3), numbers(3)), contexts)
def test_compiled_equals_reference(text: str, ctx: dict[str, Any]) -> None:
    assert check(text, USE) == []
    assert outcome_compiled(text, ctx) == outcome_reference(text, ctx)
