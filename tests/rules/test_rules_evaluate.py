"""Evaluation: values, missing-value semantics, rule matching, run-time errors with positions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from helpline.rules import IVR, RuleRuntimeError, Use, compile_expression, compile_rules

ANYUSE = Use.expression("t", {}, open_prefixes={"v": "any"}, expect_bool=False)


def ev(text: str, ctx: dict[str, Any] | None = None, use: Use = ANYUSE) -> Any:
    return compile_expression(text, use).evaluate(ctx or {})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 % 3", 1),
        ("-3 + 1", -2),
        ("2m + 30s", 150),
        ("90% * 100", 90.0),
        ("'ab' + 'c'", "abc"),
        ("1 < 2 and 2 <= 2 and 3 > 2 and 3 >= 3 and 1 != 2 and 1 == 1", True),
        ("not 1 == 2", True),
        ("true or false and false", True),
        ("(true or false) and false", False),
        ("2 in {1, 2}", True),
        ("2 not in {1, 2}", False),
        ("'0731123' starts_with '0731'", True),
        ("'0731123' ends_with '23'", True),
        ("'张三' contains '张'", True),
        ("'abc123' matches '[0-9]+$'", True),
        ("'' is empty", True),
        ("{} is empty", True),
        ("'x' is not empty", True),
        ("min(3, 1, 2)", 1),
        ("max(3, 1, 2)", 3),
        ("abs(-4)", 4),
        ("round(2.567, 2)", 2.57),
        ("round(2.5)", 2),
        ("len('张三')", 2),
        ("lower('AbC')", "abc"),
        ("upper('abc')", "ABC"),
        ("max({1, 5, 3})", 5),
    ],
)
def test_values(text: str, value: Any) -> None:
    assert ev(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("v.x == 1", None),
        ("v.x != 1", None),
        ("v.x + 1", None),
        ("-v.x", None),
        ("v.x < 1", None),
        ("v.x in {1}", None),
        ("v.x not in {1}", None),
        ("1 in v.s", None),
        ("v.x starts_with 'a'", None),
        ("v.x matches 'a'", None),
        ("len(v.x)", None),
        ("max(1, v.x)", None),
        ("v.x is empty", True),
        ("v.x is not empty", False),
        ("not v.b", None),
        ("v.b and false", False),
        ("false and v.b", False),
        ("v.b and true", None),
        ("v.b or true", True),
        ("v.b or false", None),
        ("2 in {v.x, 2}", True),
    ],
)
def test_missing_values(text: str, value: Any) -> None:
    assert ev(text) is value or ev(text) == value


def test_missing_through_none_prefix() -> None:
    e = compile_expression("customer.tier == gold", IVR)
    assert e.evaluate({"customer": None}) is None
    assert e.evaluate({}) is None
    assert e.evaluate({"customer": "oops"}) is None
    assert e.evaluate({"customer": {"tier": "gold"}}) is True
    assert e.test({"customer": None}) is False


def test_durations_accept_timedelta() -> None:
    e = compile_expression("call.wait > 20s", IVR)
    assert e.evaluate({"call": {"wait": dt.timedelta(seconds=21)}}) is True
    assert e.evaluate({"call": {"wait": 19.5}}) is False


def test_dates_compare() -> None:
    use = IVR.with_context({"customer.since": "date"})
    e = compile_expression("today.date > customer.since", use)
    assert e.evaluate({"today": {"date": dt.date(2024, 5, 2)}, "customer": {"since": dt.date(2024, 1, 1)}})


def test_sets_from_context() -> None:
    use = Use.expression("s", {"user.regions": "set(text)", "record.region": "text"})
    e = compile_expression("record.region in user.regions", use)
    assert e.evaluate({"user": {"regions": ["gd", "hn"]}, "record": {"region": "hn"}}) is True
    assert e.evaluate({"user": {"regions": []}, "record": {"region": "hn"}}) is False


IVR_TEXT = """# main menu branch
when caller.blacklisted then block
when customer.tier in {platinum, diamond} then skip_ivr, transfer vip
when customer.tier == gold and call.wait > 20s then set priority 30
otherwise goto menu_main
"""


def test_first_match_and_otherwise() -> None:
    rules = compile_rules(IVR_TEXT, IVR)
    m = rules.evaluate({"caller": {"blacklisted": False}, "customer": {"tier": "diamond"}})
    assert m is not None
    assert (m.rule_index, m.line, m.otherwise) == (1, 3, False)
    assert m.source == "when customer.tier in {platinum, diamond} then skip_ivr, transfer vip"
    assert [(a.name, a.args) for a in m.actions] == [("skip_ivr", ()), ("transfer", ("vip",))]
    m = rules.evaluate({"customer": {"tier": "gold"}, "call": {"wait": 30}})
    assert m is not None and m.actions[0].args == ("priority", 30)
    m = rules.evaluate({"customer": None})
    assert m is not None and m.otherwise and m.line == 5


def test_no_match_without_otherwise() -> None:
    rules = compile_rules("when caller.known then block", IVR)
    assert rules.evaluate({}) is None
    assert rules.evaluate_all({}) == []


def test_evaluate_all() -> None:
    text = "when call.retries > 1 then play again\nwhen call.retries > 2 then hangup\notherwise block"
    rules = compile_rules(text, IVR)
    assert [m.rule_index for m in rules.evaluate_all({"call": {"retries": 3}})] == [0, 1]
    assert [m.rule_index for m in rules.evaluate_all({"call": {"retries": 0}})] == [2]
    assert [m.rule_index for m in rules.run({"call": {"retries": 3}})] == [0]


def test_action_arguments_are_evaluated() -> None:
    rules = compile_rules("when caller.known then set(wait_text, call.wait * 2), set greeting '你好'", IVR)
    m = rules.evaluate({"caller": {"known": True}, "call": {"wait": 4}})
    assert m is not None and [a.args for a in m.actions] == [("wait_text", 8), ("greeting", "你好")]


def test_chinese_rule() -> None:
    rules = compile_rules('when customer.name contains "张" then play 欢迎词', IVR)
    m = rules.evaluate({"customer": {"name": "张伟"}})
    assert m is not None and m.actions[0].args == ("欢迎词",)


def test_runtime_error_position_division_by_zero() -> None:
    text = "when caller.known then block\nwhen call.retries / var.n > 1 then hangup"
    rules = compile_rules(text, IVR)
    with pytest.raises(RuleRuntimeError) as exc:
        rules.evaluate({"call": {"retries": 2}, "var": {"n": 0}})
    err = exc.value
    assert (err.id, err.line, err.column, err.rule_index) == ("HL-R401", 2, 6, 1)
    assert err.excerpt == "when call.retries / var.n > 1 then hangup\n     ^^^^^^^^^^^^^^^^^^^^"
    assert err.problem.line == 2


@pytest.mark.parametrize(
    ("text", "ctx", "pid", "column"),
    [
        ("v.a + 1", {"v": {"a": "x"}}, "HL-R402", 1),
        ("1 + (v.a % 0)", {"v": {"a": 5}}, "HL-R401", 6),
        ("'abc' matches v.p", {"v": {"p": "[a"}}, "HL-R403", 1),
        ("v.a and true", {"v": {"a": "yes"}}, "HL-R402", 1),
        ("v.a starts_with 'x'", {"v": {"a": 5}}, "HL-R402", 1),
        ("round(v.a)", {"v": {"a": float("inf")}}, "HL-R404", 1),
        ("v.a < 1", {"v": {"a": "x"}}, "HL-R402", 1),
    ],
)
def test_runtime_errors_are_one_type(text: str, ctx: dict[str, Any], pid: str, column: int) -> None:
    with pytest.raises(RuleRuntimeError) as exc:
        ev(text, ctx)
    assert (exc.value.id, exc.value.line, exc.value.column) == (pid, 1, column)


def test_compile_once_evaluate_many() -> None:
    e = compile_expression(
        "call.retries + 1", Use.expression("x", {"call.retries": "number"}, expect_bool=False)
    )
    assert [e.evaluate({"call": {"retries": i}}) for i in range(3)] == [1, 2, 3]
