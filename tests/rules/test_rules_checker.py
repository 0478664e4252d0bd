"""Checker: names, types, actions, category codes, structure, limits -- one test per error id."""

from __future__ import annotations

import pytest

from helpline.rules import (
    GUARD,
    IVR,
    MAX_DEPTH,
    MAX_LENGTH,
    QUERY,
    SCOPE,
    TIER,
    VALIDATION,
    RuleError,
    Use,
    ast,
    check,
    compile_expression,
    compile_rules,
    query_use,
    scope_use,
)


def problems(text: str, use: Use) -> list[tuple[str, int | None, int | None]]:
    return [(p.id, p.line, p.column) for p in check(text, use)]


def test_clean_ivr_branch(ivr: Use) -> None:
    text = """when caller.blacklisted then block
when customer.tier in {platinum, diamond} then skip_ivr, transfer vip
when customer.tier == gold and call.wait >= 20s then set priority 30
when var.lang == "en" or now.hour < 8 then goto menu_en
when customer.name contains "张" then play 欢迎
otherwise goto menu_main
"""
    assert check(text, ivr) == []


def test_r201_unknown_name_did_you_mean() -> None:
    (p,) = check("when caller.numbr == '1' then block", IVR)
    assert (p.id, p.line, p.column) == ("HL-R201", 1, 6)
    assert "caller.number" in p.hint


def test_r201_bare_word_outside_category() -> None:
    assert problems("when caller.number == gold then block", IVR) == [("HL-R201", 1, 23)]


def test_r202_type_mismatch() -> None:
    assert problems("when customer.tier > 3 then block", IVR) == [("HL-R202", 1, 6)]
    assert problems("when caller.number + 1 > 3 then block", IVR) == [("HL-R202", 1, 6)]
    assert problems("when caller.known == 1 then block", IVR) == [("HL-R202", 1, 6)]
    assert problems("when call.retries in caller.number then block", IVR) == [("HL-R202", 1, 22)]
    assert problems("when call.retries starts_with 'a' then block", IVR) == [("HL-R202", 1, 6)]


def test_durations_compare_with_numbers() -> None:
    assert problems("when call.wait > 20 and call.wait < 2m + 5 then block", IVR) == []
    assert problems("when call.wait / 2 > 10s and call.wait / 1s > 3 then block", IVR) == []
    assert problems("when call.wait * call.elapsed > 3 then block", IVR) == [("HL-R202", 1, 6)]


def test_r203_unknown_action() -> None:
    (p,) = check("when caller.known then blok", IVR)
    assert (p.id, p.line, p.column) == ("HL-R203", 1, 24)
    assert "block" in p.hint


def test_r204_wrong_argument_count() -> None:
    assert problems("when caller.known then goto", IVR) == [("HL-R204", 1, 24)]
    assert problems("when caller.known then block now", IVR) == [("HL-R204", 1, 24)]


def test_r205_wrong_argument_type() -> None:
    assert problems("when caller.known then goto 1 + 2", IVR) == [("HL-R101", 1, 31)]
    assert problems("when caller.known then goto(1 + 2)", IVR) == [("HL-R205", 1, 29)]
    assert problems("when queue.waiting > 3 then add_priority 'x'", TIER.with_context({})) == [
        ("HL-R307", 1, 1),
        ("HL-R205", 1, 42),
    ]


def test_r206_unknown_category_code(ivr: Use) -> None:
    (p,) = check("when customer.tier in {platnum, gold} then block", ivr)
    assert (p.id, p.line, p.column) == ("HL-R206", 1, 24)
    assert "platinum" in p.hint
    assert problems("when customer.tier == 'golden' then block", ivr) == [("HL-R206", 1, 23)]
    assert problems("when silvr != customer.tier then block", ivr) == [("HL-R206", 1, 6)]


def test_code_in_set_of_categories() -> None:
    codes = {"value_tier": ["gold", "silver"]}
    use = Use.expression("t", {"record.tags": "set(category(value_tier))"}, codes=codes.get)
    assert check("gold in record.tags and silver not in record.tags", use) == []
    assert problems("glod in record.tags", use) == [("HL-R206", 1, 1)]
    assert compile_expression("gold in record.tags", use).evaluate({"record": {"tags": ["gold"]}}) is True


def test_category_codes_unchecked_without_callback() -> None:
    assert problems("when customer.tier == anything then block", IVR) == []


def test_r207_tier_not_allowed() -> None:
    text = "when caller.known then block\ntier vip: target 80% within 20s, priority 1"
    assert problems(text, IVR) == [("HL-R207", 2, 6)]


def test_r208_duplicated_tier() -> None:
    text = "tier a: target 80% within 20s, priority 1\ntier a: target 70% within 20s, priority 2"
    assert problems(text, TIER) == [("HL-R208", 2, 6)]


def test_r209_duplicated_clause() -> None:
    text = "tier a: target 80% within 20s, priority 1, priority 2"
    assert problems(text, TIER) == [("HL-R209", 1, 44)]
    text = "tier a: target 80% within 20s, priority 1, open level 2 after 5s, open level 2 after 9s"
    assert problems(text, TIER) == [("HL-R209", 1, 67)]


def test_r210_unknown_function() -> None:
    (p,) = check("when mx(call.retries, 1) > 2 then block", IVR)
    assert (p.id, p.line, p.column) == ("HL-R210", 1, 6)
    assert "max" in p.hint


def test_r211_function_arguments() -> None:
    assert problems("when len(call.retries) > 2 then block", IVR) == [("HL-R211", 1, 6)]
    assert problems("when abs() > 2 then block", IVR) == [("HL-R211", 1, 6)]
    assert problems("when lower(1) == 'a' then block", IVR) == [("HL-R211", 1, 6)]


def test_r212_condition_not_bool() -> None:
    assert problems("when call.wait then block", IVR) == [("HL-R212", 1, 6)]
    assert problems("when caller.known and 3 then block", IVR) == [("HL-R212", 1, 23)]
    assert problems("1 + 2", QUERY) == [("HL-R212", 1, 1)]


def test_r213_unknown_reference(ivr: Use) -> None:
    (p,) = check("when caller.known then transfer biling", ivr)
    assert (p.id, p.line, p.column) == ("HL-R213", 1, 33)
    assert "billing" in p.hint


def test_r214_group_used_as_value() -> None:
    assert problems("when customer == 1 then block", IVR) == [("HL-R214", 1, 6)]
    assert problems("when customer is empty then block", IVR) == []


def test_r215_invalid_tier_value() -> None:
    assert problems("tier a: target 120% within 20s, priority 1", TIER) == [("HL-R215", 1, 16)]
    assert problems("tier a: target 90% within 20s, priority 1, open level 1 after 5s", TIER) == [
        ("HL-R215", 1, 55)
    ]


def test_r216_invalid_reserve() -> None:
    head = "tier a: target 90% within 20s, priority 1\n"
    assert problems(head + "when true then reserve 1, reserve 0", TIER) == []
    assert problems(head + "when true then reserve -1", TIER) == [("HL-R216", 2, 24)]
    assert problems(head + "when true then reserve 1.5, reserve 100", TIER) == [("HL-R216", 2, 24), ("HL-R216", 2, 37)]
    assert problems(head + "when true then reserve(tier.priority)", TIER) == []  # computed: clamped at run time


def test_r301_rule_after_otherwise() -> None:
    text = "when caller.known then block\notherwise hangup\nwhen outage.active then hangup\notherwise block"
    assert problems(text, IVR) == [("HL-R301", 3, 1)]


def test_r302_unreachable_after_always_true_is_warning() -> None:
    (p,) = check("when true then block\nwhen caller.known then hangup", IVR)
    assert (p.id, p.line, p.column, p.severity) == ("HL-R302", 2, 1, "warning")
    compile_rules("when true then block\nwhen caller.known then hangup", IVR)  # warnings do not fail


def test_r303_bad_regex() -> None:
    assert problems("when caller.number matches '[0-9' then block", IVR) == [("HL-R303", 1, 28)]


def test_r304_text_too_long() -> None:
    text = "when caller.known then block\n" * (MAX_LENGTH // 28 + 1)
    assert problems(text, IVR) == [("HL-R304", 1, 1)]
    assert problems("x" * (MAX_LENGTH + 1), QUERY) == [("HL-R304", 1, 1)]


def test_r305_nesting_too_deep() -> None:
    deep_parens = "(" * (MAX_DEPTH + 1) + "true" + ")" * (MAX_DEPTH + 1)
    assert problems(deep_parens, QUERY) == [("HL-R305", 1, 1)]
    deep_not = "not " * 4000 + "true"
    assert [p[0] for p in problems(deep_not, QUERY)] == ["HL-R305"]
    long_chain = " + ".join(["1"] * 3000) + " > 2"
    assert [p[0] for p in problems(long_chain, QUERY)] == ["HL-R305"]
    rule = "when " + "(" * 100 + "true" + ")" * 100 + " then block"
    assert problems(rule, IVR) == [("HL-R305", 1, 1)]
    ok = "not " * (MAX_DEPTH - 2) + "true"
    assert problems(ok, QUERY) == []


def test_r306_missing_tier_clause() -> None:
    assert problems("tier a: priority 1", TIER) == [("HL-R306", 1, 1)]
    assert problems("tier a: target 90% within 20s", TIER) == [("HL-R306", 1, 1)]


def test_r307_no_tier() -> None:
    assert problems("when queue.waiting > 3 then add_priority 5", TIER) == [("HL-R307", 1, 1)]


def test_all_problems_at_once(ivr: Use) -> None:
    text = (
        "when caller.numbr == 1 then blok\nwhen a = b then x\nwhen customer.tier in {platnum} then transfer x"
    )
    assert [p.id for p in check(text, ivr)] == ["HL-R201", "HL-R203", "HL-R103", "HL-R206", "HL-R213"]


def test_file_and_line_offset() -> None:
    (p,) = check("when caller.knwn then block", IVR, file="flows/main.yaml", line_offset=10)
    assert (p.file, p.line, p.column) == ("flows/main.yaml", 11, 6)
    assert p.format().startswith("flows/main.yaml:11:6: HL-R201 unknown name `caller.knwn`")


def test_compile_raises_rule_error_with_all_problems() -> None:
    with pytest.raises(RuleError) as exc:
        compile_rules("when caller.nmber then blok", IVR)
    assert [p.id for p in exc.value.problems] == ["HL-R201", "HL-R203"]


def test_category_codes_resolved_to_literals(ivr: Use) -> None:
    expr = compile_expression("customer.tier in {platinum, gold}", ivr).ast
    assert isinstance(expr, ast.In) and isinstance(expr.right, ast.SetLiteral)
    assert expr.right.items[0] == ast.Literal("platinum", "category(value_tier)", ast.Pos(1, 19, 1, 27))
    rules = compile_rules("when caller.known then transfer vip", ivr)
    assert rules.program.rules[0].actions[0].args[0] == ast.Literal(
        "vip", "ref(queue)", ast.Pos(1, 33, 1, 36)
    )


def test_dynamic_uses() -> None:
    scope = scope_use({"region": "text", "owner_id": "any"})
    assert check("record.region in user.regions or record.owner_id == user.id", scope) == []
    assert problems("record.regon in user.regions", scope) == [("HL-R201", 1, 1)]
    q = query_use({"vip_only": "bool", "since": "date"})
    assert check("not vip_only or input.since is empty", q) == []
    assert check("'admin' in user.roles", SCOPE) == []
    assert check("record.amount > 0 and user.name != ''", GUARD) == []
    assert check("value is not empty and len(value) <= 20", VALIDATION) == []
    custom = Use.expression("report", {"call.wait": "duration"}).with_context({"agent.skills": "set(text)"})
    assert check("'billing' in agent.skills and call.wait > 1m", custom) == []


def test_open_prefix_and_names() -> None:
    compiled = compile_expression("var.menu_choice == '1' and call.retries < 3", IVR)
    assert compiled.names == frozenset({"var.menu_choice", "call.retries"})
