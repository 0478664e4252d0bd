"""Parts of an address (issue 17, 1,000,000 customers): a customer's single-line fields are gram fields —
trigrams and number joins — so a part of an address asks for short lists and matches adjacent text, while a
customer's remarks (a long text) keep jieba's words and pairs. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from helpline.data.query import ListQuery
from helpline.data.text_index import gram_fields, match_expression
from helpline.data.text_tokens import query_node, value_terms
from helpline.security.actor import Actor
from helpline.services.platform import Platform

SYSTEM = Actor.system()


def admin(p: Platform) -> Actor:
    return Actor("admin", roles=("administrator",)).bind(p.metadata)


def ranked(p: Platform, text: str, who: Actor | None = None) -> list[str]:
    return sorted(h.values["customer_no"] for h in p.search.search(who or admin(p), "customer", text))


def listed(p: Platform, text: str, who: Actor | None = None) -> list[str]:
    query = ListQuery(entity="customer", search=text, sort=[("customer_no", False)])
    return [r["customer_no"] for r in p.records.list_page(who or admin(p), query).rows]


@pytest.fixture
def streets(platform: Platform) -> Platform:
    add = platform.records.create
    for no, address, city in (("A1", "长沙市岳麓区中山路15号", "changsha"),
                              ("A2", "长沙市岳麓区建设路127号", "changsha"),
                              ("A3", "长沙市芙蓉区中山路127号", "changsha"),
                              ("A4", "岳阳市岳阳楼区中山路12号", "yueyang"),
                              ("A5", "长沙市雨花区山路中麓区3号", "changsha")):
        add(SYSTEM, "customer", {"customer_no": no, "name": "刘" + no[-1], "address": address, "city": city})
    add(SYSTEM, "customer", {"customer_no": "A6", "name": "赵六", "city": "changsha",
                             "remarks": "麓区中山的老客户"})
    return platform


def asked(text: str, fields: list[str], grams: frozenset[str] = frozenset()) -> set[str]:
    """The terms of the database's query text."""
    node = query_node(text)
    assert node is not None
    return set(re.findall(r"\w+", match_expression(node, fields, grams))) - {"AND", "OR"}


def test_gram_fields_and_what_an_address_part_asks_for(platform: Platform) -> None:
    customer, article = platform.metadata.entities["customer"], platform.metadata.entities["knowledge_article"]
    assert {"name", "address", "phone"} <= gram_fields(customer) and "remarks" not in gram_fields(customer)
    assert gram_fields(article) == frozenset(), "documents keep jieba's words (searched by questions)"
    terms = value_terms("长沙市岳麓区中山路15号", grams=True)
    assert {"麓区中", "区中山", "山路1_", "中山路15_"} <= terms and "岳麓区中" not in terms
    assert "山路1_" not in value_terms("长沙市岳麓区中山路15号"), "other fields: as before"
    assert "山路1_" not in value_terms("中山路 15号", grams=True), "joined only when adjacent"
    # an address part asks for trigrams and the number join
    grams = gram_fields(customer)
    assert asked("麓区中山", ["address"], grams) == {"address_麓区中", "address_区中山"}
    assert asked("中山路1", ["address"], grams) == {"address_中山路1_"}, "one list, not 中山路 and 1_"
    assert asked("麓区中山", ["address", "remarks"], grams) == {
        "address_麓区中", "address_区中山", "remarks_麓区", "remarks_区中", "remarks_中山"}, "a long text: pairs"
    assert asked("麓区中山", ["address"]) == {"address_麓区", "address_区中", "address_中山"}, "no gram fields"


def test_an_address_part_finds_adjacent_text_only(streets: Platform) -> None:
    assert ranked(streets, "麓区中山") == ["A1", "A6"], "A5 holds the pairs apart; A6's remarks by pairs"
    assert listed(streets, "麓区中山") == ["A1"], "the quick search does not look in the remarks"
    assert ranked(streets, "中山路1") == ["A1", "A3", "A4"] and listed(streets, "山路12") == ["A3", "A4"]
    assert ranked(streets, "中山路12") == ["A3", "A4"] and ranked(streets, "区中山路12") == ["A3", "A4"]
    assert ranked(streets, "中山路2") == [] and ranked(streets, "建设路13") == [], "from the number's start"
    assert ranked(streets, "岳麓 中山路") == ["A1"] and ranked(streets, "长沙岳麓") == ["A1", "A2"], \
        "words apart still match apart"
    assert ranked(streets, "路127号") == ["A2", "A3"] and ranked(streets, "芙蓉区中山路127号") == ["A3"]
    agent = Actor("agent1", roles=("agent",), regions=("changsha",)).bind(streets.metadata)
    assert listed(streets, "中山路1", agent) == ["A1", "A3"], "the row scope applies"
    assert ranked(streets, "中山路1", agent) == ["A1", "A3"]


def test_a_part_held_by_thousands_scores_the_first_matches(streets: Platform,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring reads each match's index entry: a part of an address held by a whole county's customers scores
    the first :data:`RANK_FIRST` matches by id (the list's quick search still finds every one)."""
    import helpline.services.search as search

    assert ranked(streets, "中山路") == ["A1", "A3", "A4"]
    monkeypatch.setattr(search, "RANK_FIRST", 2)
    assert ranked(streets, "中山路") == ["A1", "A3"] and listed(streets, "中山路") == ["A1", "A3", "A4"]


def test_the_bound_holds_when_the_index_cannot_check_the_scope(streets: Platform,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A scope the index holds no terms for (here a narrowing by customer no.): the first matches are out of
    it, so the search ranks the first matches within it — bounded the same way, never all of them."""
    import helpline.services.search as search
    from helpline.data.conditions import Cmp

    def narrowed(first: int) -> list[str]:
        monkeypatch.setattr(search, "RANK_FIRST", first)
        hits = streets.search.search(admin(streets), "customer", "中山路",
                                     narrow=Cmp("customer_no", "in", ["A3", "A4"]))
        return [h.values["customer_no"] for h in hits]

    assert sorted(narrowed(200)) == ["A3", "A4"]
    assert narrowed(1) == ["A3"], "A1 (the first match) is out of the scope: the first one within it"


def test_a_quick_search_counts_its_matches_up_to_the_search_cap(streets: Platform,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The count of a quick search through the text index stops at SEARCH_COUNT_CAP (the list shows "More
    than N records"); a list without a search keeps its own cap, and a smaller cap of the caller wins."""
    import helpline.data.query as query

    monkeypatch.setattr(query, "SEARCH_COUNT_CAP", 2)
    agent = admin(streets)

    def page(search: str | None, cap: int = 10_000) -> tuple[list[str], int, bool]:
        found = streets.records.list_page(agent, ListQuery(entity="customer", search=search, page_size=2,
                                                           sort=[("customer_no", False)], count_cap=cap))
        return [r["customer_no"] for r in found.rows], found.total, found.capped

    assert page("中山路") == (["A1", "A3"], 2, True), "3 match: counted up to 2, shown as more than 2"
    assert page(None) == (["A1", "A2"], 6, False), "no search: the list's own cap"
    assert page("长沙") == (["A1", "A2"], 2, True)
    assert page("中山路", cap=1) == (["A1", "A3"], 1, True), "the caller's smaller cap"
    monkeypatch.setattr(query, "SEARCH_COUNT_CAP", 3)
    assert page("中山路") == (["A1", "A3"], 3, False), "exactly the cap: not more"
