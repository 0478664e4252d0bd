"""The one query builder: every operator, and/or/not, search, paging, capped counts, pivots, parameters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from helpline.data.conditions import FALSE, TRUE, All, AnyOf, Cmp, Not, all_of, any_of, describe
from helpline.data.database import session
from helpline.data.query import ListQuery, QueryError, count_capped, fetch_page, fetch_pivot, sort_keys
from helpline.security.actor import Actor
from helpline.services.platform import Platform

PEOPLE = [
    # name, tier, city, income, birth, business lines, phone
    ("张三", "gold", "changsha", 5000, date(1980, 1, 2), ["basic_dtv", "broadband"], "13800000001"),
    ("李四", "ordinary", "changsha", 3000, date(1990, 5, 6), ["basic_dtv"], "13800000002"),
    ("王五", "platinum", "yueyang", 20000, date(1975, 3, 4), ["broadband"], "13800000003"),
    ("赵六", "silver", "yiyang", None, None, [], "07373456789"),
    ("100%_real!", "ordinary", "xiangtan", 1000, date(2000, 1, 1), ["vas_two_way"], None),
]


@pytest.fixture
def people(platform: Platform) -> Platform:
    system = Actor.system()
    for i, (name, tier, city, income, birth, lines, phone) in enumerate(PEOPLE):
        platform.records.create(system, "customer", {
            "customer_no": f"T{i:04d}", "name": name, "value_tier": tier, "city": city, "income": income,
            "birth_date": birth, "business_line": lines, "phone": phone})
    return platform


def names(platform: Platform, where=TRUE, **kw) -> list[str]:
    q = ListQuery(entity="customer", where=where, sort=[("customer_no", False)], **kw)
    with session():
        return [r["name"] for r in fetch_page(platform.models, q).rows]


@pytest.mark.parametrize(("cond", "expected"), [
    (Cmp("value_tier", "eq", "gold"), ["张三"]),
    (Cmp("value_tier", "ne", "ordinary"), ["张三", "王五", "赵六"]),
    (Cmp("income", "gt", 4000), ["张三", "王五"]),
    (Cmp("income", "le", 3000), ["李四", "100%_real!"]),
    (Cmp("income", "between", (2000, 6000)), ["张三", "李四"]),
    (Cmp("income", "between", (None, 1000)), ["100%_real!"]),
    (Cmp("birth_date", "lt", date(1985, 1, 1)), ["张三", "王五"]),
    (Cmp("city", "in", ["changsha", "yiyang"]), ["张三", "李四", "赵六"]),
    (Cmp("city", "not_in", ["changsha"]), ["王五", "赵六", "100%_real!"]),
    (Cmp("city", "in", []), []),
    (Cmp("name", "contains", "%_"), ["100%_real!"]),
    (Cmp("name", "contains", "_"), ["100%_real!"]),
    (Cmp("phone", "starts_with", "0737"), ["赵六"]),
    (Cmp("phone", "ends_with", "03"), ["王五"]),
    (Cmp("income", "is_empty"), ["赵六"]),
    (Cmp("phone", "not_empty"), ["张三", "李四", "王五", "赵六"]),
    (Cmp("business_line", "in", ["broadband"]), ["张三", "王五"]),
    (Cmp("business_line", "eq", "basic_dtv"), ["张三", "李四"]),
    (Cmp("business_line", "not_in", ["basic_dtv"]), ["王五", "赵六", "100%_real!"]),
    (Cmp("business_line", "is_empty"), ["赵六"]),
    (All((Cmp("city", "eq", "changsha"), Cmp("income", "gt", 4000))), ["张三"]),
    (AnyOf((Cmp("value_tier", "eq", "platinum"), Cmp("value_tier", "eq", "silver"))), ["王五", "赵六"]),
    (Not(Cmp("city", "eq", "changsha")), ["王五", "赵六", "100%_real!"]),
    (FALSE, []),
    (Not(TRUE), []),
])
def test_operators(people: Platform, cond, expected: list[str]) -> None:
    assert names(people, cond) == expected


def test_values_are_parameters_not_sql(people: Platform) -> None:
    evil = "x' OR '1'='1"
    assert names(people, Cmp("name", "eq", evil)) == []
    assert names(people, Cmp("name", "contains", evil)) == []
    assert names(people, Cmp("business_line", "in", [evil])) == []


def test_unknown_field_is_refused(people: Platform) -> None:
    with pytest.raises(QueryError, match="no field 'nope'"):
        names(people, Cmp("nope", "eq", 1))
    with pytest.raises(ValueError, match="unknown operator"):
        Cmp("name", "like", "x")


def test_quick_search_every_word_in_some_search_field(people: Platform) -> None:
    assert names(people, search="张") == ["张三"]
    assert names(people, search="1380000000") == ["张三", "李四", "王五"]
    assert names(people, search="T0001 李") == ["李四"]
    assert names(people, search="   ") == [p[0] for p in PEOPLE]


def test_paging_sorting_and_stable_order(people: Platform) -> None:
    with session():
        page = fetch_page(people.models, ListQuery(entity="customer", sort=[("income", True)], page=1, page_size=2))
        assert [r["name"] for r in page.rows] == ["王五", "张三"]
        assert (page.total, page.capped, page.pages) == (5, False, 3)
        last = fetch_page(people.models, ListQuery(entity="customer", sort=[("income", True)], page=3, page_size=2))
        assert [r["name"] for r in last.rows] == ["赵六"]  # nulls last
        tied = fetch_page(people.models, ListQuery(entity="customer", sort=[("value_tier", False)], page_size=50))
        ids = [r["id"] for r in tied.rows if r["value_tier"] == "ordinary"]
        assert ids == sorted(ids)


def test_count_is_capped(people: Platform) -> None:
    with session():
        page = fetch_page(people.models, ListQuery(entity="customer", count_cap=3, page_size=2))
        assert (page.total, page.capped) == (3, True)
        model = people.models["customer"]
        assert count_capped(model.select(), 10) == (5, False)


def test_page_size_is_bounded(people: Platform) -> None:
    with session():
        page = fetch_page(people.models, ListQuery(entity="customer", page_size=10_000, page=0))
    assert page.page_size == 500 and page.page == 1


def test_pivot_counts_sums_and_averages(people: Platform) -> None:
    with session():
        table = fetch_pivot(people.models, "customer", TRUE, None, "city", "value_tier")
        assert table.cell("changsha", "gold") == 1 and table.cell("changsha", "ordinary") == 1
        assert table.row_total("changsha") == 2
        assert table.column_total("ordinary") == 2
        assert table.row_keys == sorted(table.row_keys)
        sums = fetch_pivot(people.models, "customer", Cmp("income", "not_empty"), None, "city", "value_tier",
                           "sum", "income")
        assert sums.cell("changsha", "gold") == pytest.approx(5000)
        avg = fetch_pivot(people.models, "customer", TRUE, Cmp("city", "eq", "changsha"), "city", "city",
                          "avg", "income")
        assert avg.cell("changsha", "changsha") == pytest.approx(4000)
        with pytest.raises(QueryError):
            fetch_pivot(people.models, "customer", TRUE, None, "city", "value_tier", "sum")


def test_condition_helpers() -> None:
    a, b = Cmp("x", "eq", 1), Cmp("y", "eq", 2)
    assert all_of(None, TRUE, a) == a
    assert all_of(a, All((b,))) == All((a, b))
    assert all_of(a, FALSE) == FALSE
    assert any_of(a, TRUE) == TRUE
    assert any_of(FALSE, b) == b
    assert describe(All((a, Not(b)))) == {"and": [["x", "eq", 1], {"not": ["y", "eq", 2]}]}
    assert sort_keys(["-a", "b"]) == [("a", True), ("b", False)]
    assert isinstance(Decimal("1"), Decimal)


def test_number_words_match_indexed_fields_from_the_start_and_phones_anywhere(people: Platform) -> None:
    assert names(people, search="13800000") == ["张三", "李四", "王五"]
    assert names(people, search="138-0000-0003") == ["王五"]
    assert names(people, search="0000003") == ["王五"], "any part of a phone number (issue 14 item 6)"
    assert names(people, search="3456789") == ["赵六"] and names(people, search="734567") == ["赵六"]
    assert names(people, search="T0001") == ["李四"] and names(people, search="0001") == ["张三", "李四"]
    assert names(people, search="0000009") == []
    assert names(people, search="real") == ["100%_real!"], "other words still match anywhere"


def test_search_input_is_bounded_with_a_clear_message(people: Platform) -> None:
    from helpline.data.query import MAX_PATTERN_LENGTH, MAX_SEARCH_LENGTH

    assert names(people, search="x" * MAX_SEARCH_LENGTH) == []
    with pytest.raises(QueryError, match=f"at most {MAX_SEARCH_LENGTH} characters"):
        names(people, search="1" * 100_000)
    with pytest.raises(QueryError, match=f"at most {MAX_PATTERN_LENGTH}"):
        names(people, where=Cmp("name", "contains", "%" * 100_000))


def test_a_short_page_gives_the_total_without_counting(people: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    import helpline.data.query as query_module

    def no_count(*_: object) -> tuple[int, bool]:
        raise AssertionError("counted although the page told the total")

    monkeypatch.setattr(query_module, "count_capped", no_count)
    with session():
        page = fetch_page(people.models, ListQuery(entity="customer", page_size=50))
        assert (page.total, page.capped) == (5, False)
        last = fetch_page(people.models, ListQuery(entity="customer", page=3, page_size=2))
        assert (last.total, len(last.rows)) == (5, 1)
