"""The designers in real headless Chromium, end to end (the issue's flow): an administrator adds the field
"Number of set-top boxes" to the customer entity, places it on the customer form, makes a query with an
input on it OR'ed with a tier input, and adds a menu item for the query that the agent role sees — all in
the designer pages (choosing kind and object on the left, "+" for the new query), publishing the entity
first (a query's inputs offer the live fields) and then the form, query, menu and role drafts together;
then agent1 signs in, finds the new item in the drawer, fills the field on one of their customers and finds
that customer with the new query (and, through the OR, another customer by tier). The browser helpers are in
tests/ui/browser_helpers.py."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import (  # noqa: F401 - markers_as_classes and patient_browser are fixtures
    center,
    choose,
    click,
    draft,
    element,
    gone,
    log_in,
    markers_as_classes,
    open_object,
    patient_browser,
    publish,
    text_shown,
    type_into,
    until,
    visible,
)
from nicegui.testing import Screen

from helpline.data.database import db, session
from helpline.data.query import ListQuery
from helpline.security.actor import Actor
from helpline.services.auth import actor_for, find_user
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser

FIELD, LABEL_EN, LABEL_ZH = "set_top_boxes", "Number of set-top boxes", "机顶盒数量"
QUERY, QUERY_TITLE = "customers_by_boxes", "Customers by set-top boxes"


# ------------------------------------------------------------------------------------ data helpers
def agent1_customers(p: Platform) -> list[dict[str, Any]]:
    """Customers in agent1's regions (their row scope), oldest first."""
    row = find_user("agent1")
    assert row is not None
    page = p.records.list_page(actor_for(row, p.metadata), ListQuery(entity="customer", page_size=5,
                                                                      sort=[("id", False)]))
    return list(page.rows)


# ------------------------------------------------------------------------------------ the flow
def test_a_new_field_placed_queried_and_offered_in_the_menu_reaches_the_agent(
        patient_browser: Screen, ui_platform: Platform) -> None:  # noqa: F811
    screen = patient_browser
    mine, other = agent1_customers(ui_platform)[:2]
    log_in(screen, "admin", "/designer/entity/customer")
    add_the_field(screen, ui_platform)
    place_it_on_the_form(screen, ui_platform)
    make_the_query(screen, ui_platform)
    add_the_menu_item(screen, ui_platform)
    publish_the_rest(screen, ui_platform)

    # another customer of agent1 with fewer boxes, of a tier the OR'ed input can find
    system = Actor.system()
    ui_platform.records.update(system, "customer", other["id"], {FIELD: 1, "value_tier": "diamond"})
    if mine.get("value_tier") == "diamond":
        ui_platform.records.update(system, "customer", mine["id"], {"value_tier": "gold"})

    click(screen, ".logout")
    element(screen, ".login-submit")
    log_in(screen, "agent1")
    agent_fills_the_field(screen, ui_platform, mine)
    agent_runs_the_query(screen, mine, other)


def add_the_field(screen: Screen, p: Platform) -> None:
    """Entity designer: a whole-number field with its labels, published with a comment."""
    type_into(screen, ".m-entity-new-name", FIELD, leave="")
    choose(screen, ".m-entity-new-type", "Whole number")
    click(screen, ".m-entity-add")
    m = f".m-entity-field-{FIELD}"
    element(screen, f"{m}-label-en")
    type_into(screen, f"{m}-label-en", LABEL_EN)
    until(lambda: field_label(p, "en") == LABEL_EN, "English label saved")
    type_into(screen, f"{m}-label-zh_CN", LABEL_ZH)
    until(lambda: field_label(p, "zh_CN") == LABEL_ZH, "Chinese label saved")
    element(screen, ".m-designer-ok")
    publish(screen, "Customers' number of set-top boxes")
    field = p.metadata.entities["customer"].field(FIELD)
    assert field is not None and field.type == "int" and field.label.get("zh_CN") == LABEL_ZH
    with session():
        assert FIELD in {c.name for c in db.get_columns(p.models["customer"]._meta.table_name)}


def draft_field(p: Platform) -> dict[str, Any] | None:
    return next((f for f in draft(p, "entity", "customer").get("fields", []) if f.get("name") == FIELD), None)


def field_label(p: Platform, language: str) -> str | None:
    return ((draft_field(p) or {}).get("label") or {}).get(language)


def place_it_on_the_form(screen: Screen, p: Platform) -> None:
    """Screen designer: the field placed in the form's first section (offered from the live entity)."""
    open_object(screen, "Screens", "customer_form")
    choose(screen, ".m-screen-section-0-add", f"({FIELD})", typed="set_top")
    element(screen, f".m-screen-field-{FIELD}")
    until(lambda: FIELD in str(draft(p, "screen", "customer_form")["layout"][0]["fields"]), "placed")


def make_the_query(screen: Screen, p: Platform) -> None:
    """The designer page: a new query (kind, name, +), its inputs, the OR logic and the result columns."""
    choose(screen, ".m-designer-kind", "Queries")
    type_into(screen, ".m-designer-new-name", QUERY, leave="")
    click(screen, ".m-designer-new")
    element(screen, ".m-designer-query-entity")
    assert "Customer" in element(screen, ".m-designer-query-entity").text
    type_into(screen, ".m-designer-query-title-en", QUERY_TITLE)
    until(lambda: query(p).get("title", {}).get("en") == QUERY_TITLE, "title saved")

    add_input(screen, p, 0, f"({FIELD})", "set_top", "boxes")
    form = element(screen, ".m-designer-query-new-field")
    choose(screen, ".m-designer-query-input-0-op", "at least")
    until(lambda: inputs(p)[0].get("op") == "ge", "operator saved")
    until(lambda: gone(form), "the form rebuilt")
    add_input(screen, p, 1, "(value_tier)", "value_t", "tier")

    type_into(screen, ".m-designer-query-logic", "boxes or tier")
    until(lambda: query(p).get("logic") == "boxes or tier", "logic saved")
    for typed, caption in (("customer_no", "(customer_no)"), ("set_top", f"({FIELD})")):
        choose(screen, ".m-designer-query-columns", caption, typed=typed, close=True)
        until(lambda c=caption: c.strip("()") in query(p).get("columns", []), f"column {caption} saved")
    until(lambda: visible(screen, ".m-designer-ok"), "no problems")


def query(p: Platform) -> dict[str, Any]:
    return draft(p, "query", QUERY)


def inputs(p: Platform) -> list[dict[str, Any]]:
    return list(query(p).get("inputs") or [])


def add_input(screen: Screen, p: Platform, i: int, caption: str, typed: str, name: str) -> None:
    choose(screen, ".m-designer-query-new-field", caption, typed=typed)
    click(screen, ".m-designer-query-add-input")
    until(lambda: len(inputs(p)) == i + 1, f"input {i} added")
    type_into(screen, f".m-designer-query-input-{i}-name", name)
    until(lambda: inputs(p)[i].get("name") == name, f"input {i} named {name}")


def add_the_menu_item(screen: Screen, p: Platform) -> None:
    """Menu designer: a top-level item opening the query, granted to the agent role by ticking it in "who
    sees it". (Not inside the "Queries" group: the agent role grants that whole group, so an item there is
    already seen by agents — and QA staff and supervisors — and the agent's box is ticked and fixed.)"""
    open_object(screen, "Menus", "main")
    click(screen, ".m-menu-add")
    until(lambda: element(screen, ".m-menu-item-name input").get_attribute("value") == "new_item",
          "the new item chosen")
    type_into(screen, ".m-menu-item-name", QUERY)
    element(screen, f".m-menu-row-{QUERY}")
    until(lambda: element(screen, ".m-menu-item-name input").get_attribute("value") == QUERY, "renamed")
    type_into(screen, ".m-menu-item-label-en", QUERY_TITLE)
    until(lambda: element(screen, f".m-menu-item-{QUERY}").text.strip() == QUERY_TITLE, "label saved")
    choose(screen, ".m-menu-item-kind", "Query")
    until(lambda: visible(screen, ".m-menu-item-target"), "the query choice shown")
    choose(screen, ".m-menu-item-target", f"({QUERY})", typed="boxes")
    until(lambda: menu_item(p).get("query") == QUERY, "target saved")
    assert "parent" not in menu_item(p)

    def granted() -> bool:
        """Tick agent (again, if the list of roles was redrawn before the tick reached the server)."""
        if f"main.{QUERY}" in draft(p, "role", "agent").get("menus", []):
            return True
        box = element(screen, ".m-menu-grant-agent")
        if box.get_attribute("aria-checked") != "true":
            center(screen, box)
            box.click()
        return False
    until(granted, "granted to agent")
    until(lambda: "agent" in element(screen, ".m-menu-who-sees").text
          and element(screen, ".m-menu-sees-agent").text.strip() == "visibility", "agent sees it")
    assert element(screen, ".m-menu-sees-supervisor").text.strip() == "visibility_off"
    until(lambda: visible(screen, ".m-designer-ok"), "no problems")


def publish_the_rest(screen: Screen, p: Platform) -> None:
    """One publish for the drafts of the form, the query, the menu and the agent role."""
    drafted = {"screen": "customer_form", "query": QUERY, "menu": "main", "role": "agent"}
    before = {kind: p.store.current(kind, name) for kind, name in drafted.items()}
    publish(screen, "Set-top boxes: on the customer form, a query, a menu item for agents")
    for kind, name in drafted.items():
        current = p.store.current(kind, name)
        assert current is not None and current.id != getattr(before[kind], "id", None), (kind, name)
    assert FIELD in [r.field for r in p.metadata.screens["customer_form"].layout[0].refs()]
    live = p.metadata.queries[QUERY]
    assert live.logic == "boxes or tier" and [i.name for i in live.inputs] == ["boxes", "tier"]
    assert [(i.field, i.op) for i in live.inputs] == [(FIELD, "ge"), ("value_tier", "in")]
    assert live.columns == ["name", "customer_no", FIELD]
    item = p.metadata.menus["main"].item(QUERY)
    assert item is not None and item.parent is None and item.target == ("query", QUERY)
    assert f"main.{QUERY}" in p.metadata.roles["agent"].menus


def menu_item(p: Platform) -> dict[str, Any]:
    return next((i for i in draft(p, "menu", "main").get("items", []) if i.get("name") == QUERY), {})


def agent_fills_the_field(screen: Screen, p: Platform, mine: dict[str, Any]) -> None:
    """agent1 opens one of their customers from the list and enters 3 set-top boxes."""
    element(screen, f".menu-main-{QUERY}")
    assert QUERY_TITLE in element(screen, f".menu-main-{QUERY}").text
    click(screen, ".menu-main-customers")
    type_into(screen, ".quick-search", mine["customer_no"], leave="")

    def open_the_row() -> bool:
        rows = [r for r in visible(screen, "tbody tr") if mine["customer_no"] in r.text]
        if rows:
            center(screen, rows[0])
            rows[0].click()
        return bool(rows)
    until(open_the_row, "the customer opened from the list")
    element(screen, f".field-{FIELD}")
    type_into(screen, f".field-{FIELD}", "3", leave="")
    click(screen, ".save-button")
    text_shown(screen, "Saved")
    model = p.models["customer"]
    with session():
        assert getattr(model.get_by_id(mine["id"]), FIELD) == 3


def agent_runs_the_query(screen: Screen, mine: dict[str, Any], other: dict[str, Any]) -> None:
    """The new query finds the customer with 3 boxes and not the one with 1; with a tier chosen too
    (``boxes or tier``) the other customer is found as well."""
    click(screen, f".menu-main-{QUERY}")
    type_into(screen, ".m-input-boxes", "3", leave="")
    click(screen, ".run-query")

    def results() -> str:
        tables = visible(screen, ".result-table")
        return tables[-1].text if tables else ""
    until(lambda: mine["customer_no"] in results(), "the customer found")
    assert mine["name"] in results() and other["customer_no"] not in results()

    choose(screen, ".m-input-tier", "Diamond card", close=True)
    click(screen, ".run-query")
    until(lambda: other["customer_no"] in results(), "the other customer found by its tier")
    assert mine["customer_no"] in results()
