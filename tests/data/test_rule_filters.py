"""Rule-language conditions (query logic, row scopes) become condition trees for SQL."""

from __future__ import annotations

import pytest

from helpline.data.conditions import FALSE, TRUE, All, AnyOf, Cmp, Not
from helpline.data.rule_filters import Const, FieldRef, NotTranslatable, SubCondition, to_condition
from helpline.rules.checker import check_expression
from helpline.rules.uses import SCOPE, query_use

FIELDS = {"record.city": "text", "record.income": "number", "record.tier": "category(value_tier)",
          "record.blacklisted": "bool", "record.name": "text"}
USER = {"regions": ["changsha", "yueyang"], "name": "agent1", "roles": []}


def scope(text: str):
    result = check_expression(text, SCOPE.with_context(FIELDS))
    assert result.ok, [p.format() for p in result.problems]

    def resolve(parts):
        return FieldRef(parts[1]) if parts[0] == "record" else Const(USER.get(parts[1]))

    return to_condition(result.expr, resolve)


@pytest.mark.parametrize(("text", "cond"), [
    ("record.city in user.regions", Cmp("city", "in", ["changsha", "yueyang"])),
    ("record.city not in {\"changsha\"}", Cmp("city", "not_in", ["changsha"])),
    ("record.income >= 3000", Cmp("income", "ge", 3000)),
    ("3000 < record.income", Cmp("income", "gt", 3000)),
    ("record.tier == gold", Cmp("tier", "eq", "gold")),
    ("record.blacklisted", Cmp("blacklisted", "eq", True)),
    ("not record.blacklisted", Not(Cmp("blacklisted", "eq", True))),
    ("record.name starts_with \"张\"", Cmp("name", "starts_with", "张")),
    ("record.city is empty", Cmp("city", "is_empty")),
    ("record.city is not empty", Cmp("city", "not_empty")),
    ("record.city in user.regions or record.income > 5 and record.tier == gold",
     AnyOf((Cmp("city", "in", ["changsha", "yueyang"]), All((Cmp("income", "gt", 5), Cmp("tier", "eq", "gold")))))),
    ("true", TRUE),
    ("user.name == \"agent1\"", TRUE),
    ("user.name == \"other\"", FALSE),
])
def test_scope_translation(text: str, cond) -> None:
    assert scope(text) == cond


def test_matches_cannot_be_a_filter() -> None:
    with pytest.raises(NotTranslatable, match="matches"):
        scope('record.name matches "^张"')


def test_query_logic_with_optional_inputs_dropping_out() -> None:
    use = query_use({"tier": "category(value_tier)", "city": "text", "county": "text", "life": "text"})
    result = check_expression("tier and (city or county) and not life", use)
    assert result.ok, result.problems
    atoms = {"tier": Cmp("tier", "in", ["gold"]), "city": None, "county": Cmp("county", "eq", "x"), "life": None}

    def resolve(parts):
        return SubCondition(atoms[parts[0]])

    assert to_condition(result.expr, resolve) == All((Cmp("tier", "in", ["gold"]), Cmp("county", "eq", "x")))
    atoms.update(tier=None, county=None)
    assert to_condition(result.expr, resolve) == TRUE
