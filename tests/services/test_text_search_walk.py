"""A list's quick search with many matches (issue 17: a part of an address held by a whole county, 8,355 of an
agent's customers at a million): on PostgreSQL the page walks the rows in the sort order and checks each one's
text index entry (``query_many.walk_page``) instead of reading and sorting every match — the same rows as the
plain page, for any sort, page, filter and scope; the plain page when the walk does not fill the page."""

from __future__ import annotations

from typing import Any

import pytest

import helpline.data.query as query
import helpline.data.query_many as many
from helpline.data import text_rebuild
from helpline.data.conditions import All, AnyOf, Cmp
from helpline.data.database import db, is_postgres, session
from helpline.data.query import ListQuery
from helpline.data.text_index import scope_exact
from helpline.security.actor import Actor
from helpline.services.platform import Platform

SYSTEM = Actor.system()


@pytest.fixture
def street(platform: Platform) -> Platform:
    """12 customers, 8 of them on 中山路 (every third one not), in two cities; every fourth has no employer."""
    for n in range(12):
        platform.records.create(SYSTEM, "customer", {
            "customer_no": f"C{(n * 7) % 12:02d}", "name": f"刘{n}",
            "employer": None if n % 4 == 0 else f"公司{n % 3}",
            "address": f"长沙市{'建设' if n % 3 == 0 else '中山'}路{n}号", "city": "changsha" if n % 5 else "yueyang"})
    return platform


def rows(p: Platform, who: Actor, **kw: Any) -> list[str]:
    q = ListQuery(entity="customer", search="中山路", page_size=2, **kw)
    return [r["customer_no"] for r in p.records.list_page(who, q).rows]


def test_the_walked_page_is_the_plain_page(street: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query, "SEARCH_COUNT_CAP", 2)  # 8 matches: more than the cap, as a county's 8,355
    walked: list[list[dict[str, Any]] | None] = []
    walk = many.walk_page

    def spy(*args: Any) -> list[dict[str, Any]] | None:
        walked.append(walk(*args))
        return walked[-1]

    monkeypatch.setattr(many, "walk_page", spy)
    admin = Actor("admin", roles=("administrator",)).bind(street.metadata)
    agent = Actor("agent1", roles=("agent",), regions=("changsha",)).bind(street.metadata)
    cases = [(admin, {"sort": [("customer_no", False)]}), (admin, {"sort": [("customer_no", True)], "page": 2}),
             (admin, {"sort": [("employer", False)], "page": 3}), (admin, {"sort": [("employer", True)]}),
             (agent, {"sort": [("customer_no", False)], "page": 2}), (agent, {"sort": [("employer", True)]}),
             (admin, {"sort": [("customer_no", False)], "where": Cmp("city", "eq", "changsha")}), (admin, {})]
    got = [rows(street, who, **kw) for who, kw in cases]
    assert all(len(page) == 2 for page in got)
    monkeypatch.setattr(many, "WALK_ROWS", 0)  # the walk finds nothing: the plain page
    assert [rows(street, who, **kw) for who, kw in cases] == got
    if is_postgres():
        assert all(w is not None for w in walked[:len(cases)]), "each page above was walked"
        assert all(w is None for w in walked[len(cases):])
    else:
        assert walked == [], "SQLite: its plan already walks the matches (NOT INDEXED)"
    assert got[0] == ["C01", "C02"] and got[4] == ["C04", "C05"], "in order, within agent1's scope"


def test_a_walk_too_short_for_the_page_falls_back(street: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query, "SEARCH_COUNT_CAP", 2)
    monkeypatch.setattr(many, "WALK_ROWS", 1)  # page 3 of 2: 6 rows walked, 4 of them match
    admin = Actor("admin", roles=("administrator",)).bind(street.metadata)
    assert rows(street, admin, sort=[("customer_no", False)], page=3) == ["C07", "C08"]
    page = street.records.list_page(admin, ListQuery(entity="customer", search="中山路", page_size=2))
    assert (page.total, page.capped) == (2, True)


def test_the_count_is_read_from_the_index_where_it_checks_the_scope(street: Platform,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """agent1's scope (city or county changsha) is held in the index as exact terms: the capped count reads
    the index alone (count_matches); a filter or a scope the index cannot check counts the rows."""
    entity = street.metadata.entities["customer"]
    assert scope_exact(entity, AnyOf((Cmp("city", "in", ["changsha"]), Cmp("county", "eq", "changsha"))))
    assert scope_exact(entity, All((Cmp("city", "eq", "changsha"),)))
    assert not scope_exact(entity, Cmp("city", "eq", "ChangSha")), "the index folds case: a superset"
    assert not scope_exact(entity, All((Cmp("city", "eq", "changsha"), Cmp("name", "eq", "刘1"))))
    assert not scope_exact(entity, AnyOf((Cmp("city", "eq", "changsha"), Cmp("name", "eq", "刘1"))))
    counted: list[tuple[int, bool] | None] = []
    count = many.count_matches

    def spy(*args: Any) -> tuple[int, bool] | None:
        counted.append(count(*args))
        return counted[-1]

    monkeypatch.setattr(many, "count_matches", spy)
    agent = Actor("agent1", roles=("agent",), regions=("changsha",)).bind(street.metadata)

    def total(**kw: Any) -> tuple[int, bool]:
        page = street.records.list_page(agent, ListQuery(entity="customer", search="中山路", page_size=2, **kw))
        return page.total, page.capped

    assert total() == (6, False), "8 on 中山路, 6 of them in changsha"
    assert total(count_cap=5) == (5, True)
    assert total(where=Cmp("employer", "eq", "公司1")) == (2, False)
    if is_postgres():
        assert counted == [(6, False), (5, True), None], "the filter: counted from the rows"


def test_the_walk_on_a_partitioned_index_runs_without_jit(street: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild of many records partitions the index table (text_rebuild): the planner then prices each walked
    row's entry look-up in every part, and the walk's cost passed the server's JIT threshold — compiling it took
    22 of its 34 ms at a million customers. The walk runs with JIT off, on either layout, and answers alike."""
    if not is_postgres():
        pytest.skip("the walk is PostgreSQL's")
    monkeypatch.setattr(query, "SEARCH_COUNT_CAP", 2)
    admin = Actor("admin", roles=("administrator",)).bind(street.metadata)
    cases: list[dict[str, Any]] = [{"sort": [("customer_no", False)]}, {"sort": [("employer", True)], "page": 2}]
    whole = [rows(street, admin, **kw) for kw in cases]
    with session():
        assert text_rebuild.rebuild(street.models, "customer", part_rows=3) == 12
        default = db.execute_sql("SHOW jit").fetchone()[0]
    settings: list[str] = []

    def noting(kind: Any, walk: Any) -> Any:  # many.cast: given the walk's query just before it runs
        settings.append(db.execute_sql("SHOW jit").fetchone()[0])
        return walk

    monkeypatch.setattr(many, "cast", noting)
    assert [rows(street, admin, **kw) for kw in cases] == whole and all(len(page) == 2 for page in whole)
    assert settings == ["off", "off"]
    with session():
        assert db.execute_sql("SHOW jit").fetchone()[0] == default, "for the walk's statement only"
