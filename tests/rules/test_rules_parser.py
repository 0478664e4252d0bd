"""Parser: every construct, precedence, positions, continuation, Unicode, syntax error ids."""

from __future__ import annotations

import pytest

from helpline.rules import RuleSyntaxError, ast, parse_expression, parse_program


def ids(text: str, program: bool = False) -> list[tuple[str, int | None, int | None]]:
    with pytest.raises(RuleSyntaxError) as exc:
        parse_program(text) if program else parse_expression(text)
    return [(p.id, p.line, p.column) for p in exc.value.problems]


@pytest.mark.parametrize(
    ("text", "value", "typ"),
    [
        ("42", 42, "number"),
        ("4.5", 4.5, "number"),
        ('"a\\"b\\n"', 'a"b\n', "text"),
        ("'it\\'s'", "it's", "text"),
        ('"\\u4e2d"', "中", "text"),
        ("true", True, "bool"),
        ("false", False, "bool"),
        ("20s", 20, "duration"),
        ("5m", 300, "duration"),
        ("2h", 7200, "duration"),
        ("1d", 86400, "duration"),
        ("500ms", 0.5, "duration"),
        ("90%", 0.9, "number"),
    ],
)
def test_literals(text: str, value: object, typ: str) -> None:
    node = parse_expression(text)
    assert isinstance(node, ast.Literal)
    assert node.value == value and node.type == typ


def test_names_and_positions() -> None:
    node = parse_expression("caller.number")
    assert node == ast.Name(("caller", "number"), ast.Pos(1, 1, 1, 14))


def test_set_call_unary() -> None:
    node = parse_expression("{a, 'b', 3}")
    assert isinstance(node, ast.SetLiteral) and len(node.items) == 3
    assert parse_expression("{}") == ast.SetLiteral((), ast.Pos(1, 1, 1, 3))
    call = parse_expression("max(1, call.wait)")
    assert isinstance(call, ast.Call) and call.func == "max" and len(call.args) == 2
    neg = parse_expression("-x")
    assert isinstance(neg, ast.Unary) and neg.op == "-"


def test_arithmetic_precedence() -> None:
    node = parse_expression("1 + 2 * 3 - 4 % 2")
    assert isinstance(node, ast.Binary) and node.op == "-"
    left = node.left
    assert isinstance(left, ast.Binary) and left.op == "+"
    assert isinstance(left.right, ast.Binary) and left.right.op == "*"
    paren = parse_expression("(1 + 2) * 3")
    assert isinstance(paren, ast.Binary) and paren.op == "*"


def test_logic_precedence() -> None:
    node = parse_expression("a or b and not c == 1")
    assert isinstance(node, ast.Or)
    right = node.operands[1]
    assert isinstance(right, ast.And)
    assert isinstance(right.operands[1], ast.Not)
    assert isinstance(right.operands[1].operand, ast.Compare)
    flat = parse_expression("a and b and c")
    assert isinstance(flat, ast.And) and len(flat.operands) == 3


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparisons(op: str) -> None:
    node = parse_expression(f"call.wait {op} 20s")
    assert isinstance(node, ast.Compare) and node.op == op


def test_in_string_tests_is_empty() -> None:
    assert parse_expression("x in {a}") == ast.In(
        ast.Name(("x",), ast.Pos(1, 1, 1, 2)),
        ast.SetLiteral((ast.Name(("a",), ast.Pos(1, 7, 1, 8)),), ast.Pos(1, 6, 1, 9)),
        False,
        ast.Pos(1, 1, 1, 9),
    )
    node = parse_expression("x not in {a}")
    assert isinstance(node, ast.In) and node.negated
    for op in ("starts_with", "ends_with", "contains", "matches"):
        st = parse_expression(f'caller.number {op} "0731"')
        assert isinstance(st, ast.StringTest) and st.op == op
    e = parse_expression("customer is empty")
    assert isinstance(e, ast.IsEmpty) and not e.negated
    ne = parse_expression("customer.name is not empty")
    assert isinstance(ne, ast.IsEmpty) and ne.negated


def test_unicode_names_and_strings() -> None:
    node = parse_expression('客户.名称 contains "张"')
    assert isinstance(node, ast.StringTest)
    assert node.left == ast.Name(("客户", "名称"), ast.Pos(1, 1, 1, 6))
    assert node.right.value == "张"  # type: ignore[union-attr]


def test_keywords_usable_as_name_parts() -> None:
    node = parse_expression("customer.tier == x")
    assert isinstance(node, ast.Compare)
    assert node.left == ast.Name(("customer", "tier"), ast.Pos(1, 1, 1, 14))


def test_program_rules_otherwise_tiers() -> None:
    text = """# a comment
tier platinum: priority 30, target 90% within 20s, open level 3 after 15s, open level 2 after 5s, \
  starve after 2m

when caller.blacklisted then block   # trailing comment
when customer.tier in {platinum, diamond} then skip_ivr, transfer(vip), set priority 30
otherwise goto menu_main
"""
    prog = parse_program(text)
    assert len(prog.rules) == 3 and len(prog.tiers) == 1
    tier = prog.tiers[0]
    assert (tier.name, tier.target, tier.within_s, tier.priority) == ("platinum", 0.9, 20, 30)
    assert tier.open_levels == ((2, 5), (3, 15)) and tier.starve_s == 120
    r1, r2, r3 = prog.rules
    assert r1.pos.line == 4 and r1.actions[0].name == "block" and r1.actions[0].args == ()
    assert [a.name for a in r2.actions] == ["skip_ivr", "transfer", "set"]
    assert len(r2.actions[2].args) == 2
    assert r3.condition is None and r3.actions[0].args[0] == ast.Name(("menu_main",), ast.Pos(6, 16, 6, 25))


def test_action_forms() -> None:
    prog = parse_program("when x then set(a, b + 1), priority +5, add_priority -2, block")
    acts = prog.rules[0].actions
    assert isinstance(acts[0].args[1], ast.Binary)
    assert acts[1].args[0].value == 5  # type: ignore[union-attr]
    assert acts[2].args[0].value == -2  # type: ignore[union-attr]


def test_continuations() -> None:
    text = "when a and \\\n  b then x\nwhen (c or\n   d) and {e,\n f} is empty then y\n"
    prog = parse_program(text)
    assert [r.pos.line for r in prog.rules] == [1, 3]
    assert prog.rules[1].pos.end_line == 5


def test_expression_may_span_lines() -> None:
    node = parse_expression("a and\n  b")
    assert isinstance(node, ast.And) and node.operands[1].pos.line == 2


# --- syntax error ids: id, line, column --------------------------------------------------------------


def test_r101_unexpected_token() -> None:
    assert ids("a == == b") == [("HL-R101", 1, 6)]


def test_r102_unterminated_string() -> None:
    assert ids('x == "abc') == [("HL-R102", 1, 6)]


def test_r103_single_equals() -> None:
    problems = ids("when a = 1 then block", program=True)
    assert problems == [("HL-R103", 1, 8)]
    with pytest.raises(RuleSyntaxError) as exc:
        parse_expression("a = 1")
    assert exc.value.problems[0].hint == "use == to compare"


def test_r104_missing_then() -> None:
    assert ids("when caller.blacklisted block", program=True) == [("HL-R104", 1, 25)]
    assert ids("when x", program=True) == [("HL-R104", 1, 7)]


def test_r105_unexpected_character() -> None:
    assert ids("a == $b") == [("HL-R105", 1, 6)]


def test_r106_unbalanced() -> None:
    assert ids("(a or b") == [("HL-R106", 1, 8)]
    assert ids("a)") == [("HL-R106", 1, 2)]
    assert ids("when (a then b", program=True) == [("HL-R106", 1, 9)]


def test_r107_invalid_escape() -> None:
    assert ids('x == "a\\qb"') == [("HL-R107", 1, 8)]


def test_r108_unexpected_end() -> None:
    assert ids("a and") == [("HL-R108", 1, 6)]


def test_r109_bad_unit() -> None:
    assert ids("call.wait > 5min") == [("HL-R109", 1, 14)]


def test_r110_empty() -> None:
    assert ids("   # nothing") == [("HL-R110", 1, 1)]


def test_r111_symbolic_logic() -> None:
    assert ids("a && b") == [("HL-R111", 1, 3)]
    assert ids("a || b") == [("HL-R111", 1, 3)]
    assert ids("!a") == [("HL-R111", 1, 1)]


def test_r112_expected_rule() -> None:
    assert ids("caller.known then block", program=True) == [("HL-R112", 1, 1)]


def test_chained_comparison_hint() -> None:
    with pytest.raises(RuleSyntaxError) as exc:
        parse_expression("1 < x < 3")
    assert exc.value.problems[0].id == "HL-R101"
    assert "chained" in exc.value.problems[0].hint


def test_several_broken_lines_all_reported() -> None:
    text = "when a = 1 then x\nwhen b then y\nwhen (c then z\nwhen d e\n"
    assert ids(text, program=True) == [("HL-R103", 1, 8), ("HL-R106", 3, 9), ("HL-R104", 4, 8)]


def test_unclosed_paren_does_not_swallow_next_rule() -> None:
    text = "when (a then x\nwhen b then y"
    assert ids(text, program=True) == [("HL-R106", 1, 9)]


def test_caret_excerpt() -> None:
    with pytest.raises(RuleSyntaxError) as exc:
        parse_program("when ok then x\nwhen a = 1 then y")
    p = exc.value.problems[0]
    assert p.excerpt == "when a = 1 then y\n       ^"


def test_catalogue_documented() -> None:
    from pathlib import Path

    from helpline.rules import CATALOGUE

    doc = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    for pid, info in CATALOGUE.items():
        assert f"| {pid} | {info.title} |" in doc, pid
