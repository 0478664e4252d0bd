"""The query designer at /designer/query/<name>: add an input on a customer field related by OR in the
logic, a typo in the logic shows its HL-R id under the logic input, "run" previews the draft's rows with
the designer's permissions, publish, an agent sees the new input without a restart, roll back; the 2-D
layout and a misplaced operator (HL-E214 beside the input); the draft run keeps the runner's masks and
needs the designer permission."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from designer_helpers import actor, confirmed, found, one, retype, set_value, until
from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.query import ListQuery
from helpline.security.actor import PermissionDenied
from helpline.services.auth import create_user
from helpline.services.designer.drafts import DraftService
from helpline.services.designer.query_ops import parse_default, run_draft_query
from helpline.services.platform import Platform
from helpline.ui.views.designer.query_designer import rename_atom  # registers the designer

QUERY = "customers_by_tier"
LOGIC = "(tier or tv_count) and (city or county) and lifecycle"


def draft(platform: Platform) -> dict[str, Any]:
    opened = DraftService(platform).open(actor("admin", platform), "query", QUERY)
    assert opened.data is not None
    return opened.data


def under(user: User, marker: str, field_marker: str) -> bool:
    """Whether an element marked ``marker`` is in the error slot right after the widget ``field_marker``."""
    widget = one(user, field_marker)
    for element in found(user, marker):
        slot = element.parent_slot.parent if element.parent_slot else None
        container = slot.parent_slot.parent if slot is not None and slot.parent_slot else None
        if container is None or slot is None:
            continue
        siblings = list(container.default_slot.children)
        if widget in siblings and siblings.index(slot) == siblings.index(widget) + 1:
            return True
    return False


def result_numbers(user: User) -> set[str]:
    tables = [t for t in found(user, "designer-query-preview")[0].descendants() if isinstance(t, ui.table)]
    return {str(r["customer_no"]) for t in tables for r in t.rows}


def expected_numbers(platform: Platform, condition: Callable[[dict[str, Any]], bool]) -> set[str]:
    page = platform.records.list_page(actor("admin", platform), ListQuery(entity="customer", page_size=500))
    return {str(r["customer_no"]) for r in page.rows if condition(r)}


async def open_query(user: User) -> None:
    await log_in(user, "admin", path=f"/designer/query/{QUERY}")
    await user.should_see(marker="designer-query-logic", retries=150)
    await user.should_see(marker="designer-ok", retries=150)


async def test_or_input_typo_run_publish_agent_sees_it_and_roll_back(user: User, create_user: Callable[[], User],
                                                                     ui_platform: Platform) -> None:
    before = ui_platform.store.current("query", QUERY)
    assert before is not None
    await open_query(user)

    # a new input on the customers' number of TVs, at least N, related to the tier by OR
    set_value(user, "designer-query-new-field", "tv_count")
    user.find(marker="designer-query-add-input").click()
    await user.should_see(marker="designer-query-input-4-op", retries=150)
    set_value(user, "designer-query-input-4-op", "ge")
    await until(lambda: draft(ui_platform)["inputs"][4].get("op") == "ge", "operator saved")
    await until(lambda: one(user, "designer-query-input-4-op").value == "ge", "the form rebuilt")
    set_value(user, "designer-query-input-0-required", False)  # the tier is optional now
    await until(lambda: "required" not in draft(ui_platform)["inputs"][0], "tier optional")
    retype(user, "designer-query-logic", LOGIC.replace("tv_count", "tv_cuont"))
    await until(lambda: found(user, "designer-error-HL-R201"), "HL-R201 shown")
    assert under(user, "designer-error-HL-R201", "designer-query-logic"), "the rule id is under the logic input"
    assert "tv_cuont" in " ".join(str(getattr(e, "text", "")) for e in found(user, "designer-error-HL-R201"))
    assert ui_platform.metadata.queries[QUERY].input("tv_count") is None  # nothing live changed
    retype(user, "designer-query-logic", LOGIC)
    await until(lambda: found(user, "designer-ok"), "no problems")
    saved = draft(ui_platform)
    assert saved["logic"] == LOGIC
    assert saved["inputs"][4] == {"name": "tv_count", "field": "tv_count", "op": "ge"}

    # run the draft: tier empty drops out, so TVs >= 2 alone; then gold OR TVs >= 2
    user.find(marker="designer-query-run").click()
    await user.should_see(marker="input-tv_count", retries=150)
    set_value(user, "input-tv_count", 2)
    user.find(marker="run-query").click()
    many = expected_numbers(ui_platform, lambda r: (r["tv_count"] or 0) >= 2)
    assert many, "the demo data has customers with several TVs"
    await until(lambda: result_numbers(user) == many, "rows with TVs >= 2")
    set_value(user, "input-tier", ["gold"])
    user.find(marker="run-query").click()
    either = expected_numbers(ui_platform, lambda r: (r["tv_count"] or 0) >= 2 or r["value_tier"] == "gold")
    await until(lambda: result_numbers(user) == either, "rows of gold OR TVs >= 2")
    assert ui_platform.metadata.queries[QUERY].input("tv_count") is None  # still only a draft

    # publish: an agent (another role) sees the new input without a restart
    user.find(marker="designer-comment").type("customers with several TVs")
    user.find(marker="designer-publish").click()
    await see(user, "Published as revision")
    await until(lambda: ui_platform.metadata.queries[QUERY].input("tv_count") is not None, "live")
    agent = create_user()
    await log_in(agent, "agent1", path=f"/query/{QUERY}")
    await agent.should_see(marker="input-tv_count", retries=150)
    await agent.should_see(content=LOGIC, retries=150)

    # roll back from the History tab
    user.find(marker="designer-tab-history").click()
    table = one(user, "designer-history")
    await until(lambda: len(table.rows) >= 2, "history loaded")
    table.selected = [r for r in table.rows if r["id"] == int(before.id)]
    user.find(marker="designer-rollback").click()
    await confirmed(user, "designer-rollback-ok")
    await see(user, f"Revision {before.id} is live again")
    assert ui_platform.metadata.queries[QUERY].input("tv_count") is None
    again = create_user()
    await log_in(again, "agent1", path=f"/query/{QUERY}")
    await again.should_see(marker="input-tier", retries=150)
    await again.should_not_see(marker="input-tv_count")


async def test_wrong_operator_and_two_dimensional_layout(user: User, ui_platform: Platform) -> None:
    await open_query(user)
    # "contains" needs a text field: HL-E214 beside the input's field, as `run.py check` reports it
    set_value(user, "designer-query-new-field", "tv_count")
    user.find(marker="designer-query-add-input").click()
    await user.should_see(marker="designer-query-input-4-op", retries=150)
    set_value(user, "designer-query-input-4-op", "contains")
    await until(lambda: found(user, "designer-error-HL-E214"), "HL-E214 shown")
    assert under(user, "designer-error-HL-E214", "designer-query-input-4-field")
    user.find(marker="designer-query-input-4-delete").click()
    await until(lambda: not found(user, "designer-query-input-4"), "the form rebuilt without the input")
    await until(lambda: found(user, "designer-ok"), "no problems after removing the input")
    assert len(draft(ui_platform)["inputs"]) == 4

    # a 2-D table: tiers down the side, lifecycle across, with a bar chart; run it as drafted
    set_value(user, "designer-query-shape", "pivot")
    await user.should_see(marker="designer-query-pivot-rows", retries=150)
    set_value(user, "designer-query-pivot-rows", "value_tier")
    set_value(user, "designer-query-pivot-columns", "lifecycle")
    await until(lambda: draft(ui_platform).get("pivot") == {"rows": "value_tier", "columns": "lifecycle"}, "saved")
    set_value(user, "designer-query-chart", True)
    await until(lambda: draft(ui_platform).get("chart") == {"type": "bar"}, "chart saved")
    await user.should_see(marker="designer-query-chart-type", retries=150)  # the form rebuilt
    saved = draft(ui_platform)
    assert saved["pivot"] == {"rows": "value_tier", "columns": "lifecycle"} and "columns" not in saved
    await until(lambda: found(user, "designer-ok"), "the 2-D draft has no problems")
    user.find(marker="designer-query-run").click()
    await user.should_see(marker="input-tier", retries=150)
    set_value(user, "input-tier", ["ordinary", "gold", "silver", "diamond", "platinum", "vip"])
    user.find(marker="run-query").click()
    pivot = await until(lambda: [t for t in found(user, "designer-query-preview")[0].descendants()
                                 if isinstance(t, ui.table) and "pivot-table" in t.classes], "the 2-D result")
    total = pivot[0].rows[-1]
    everyone = expected_numbers(ui_platform, lambda r: True)
    assert list(total.values())[-1] == len(everyone), "the grand total counts every customer"
    assert ui_platform.metadata.queries[QUERY].pivot is None  # only drafted
    user.find(marker="designer-discard").click()
    await confirmed(user, "designer-discard-ok")
    await see(user, "Draft discarded")


async def test_draft_run_uses_the_runners_permissions(ui_platform: Platform) -> None:
    # QA staff who may also design: the draft runs with QA's masks; without the permission it is refused
    qa_role = ui_platform.store.current("role", "qa")
    assert qa_role is not None and qa_role.content is not None
    role = copy.deepcopy(qa_role.content)
    role["permissions"] = [*role["permissions"], "designer"]
    admin = actor("admin", ui_platform)
    ui_platform.publish("role", "qa", role, actor=admin, comment="QA may design")
    create_user(admin, "qa_designer", "demo-pass-1", ["qa"], language="en")
    designer = actor("qa_designer", ui_platform)
    service = DraftService(ui_platform)
    opened = service.open(designer, "query", QUERY)
    data = copy.deepcopy(opened.data)
    assert data is not None
    data["inputs"][0].pop("required")
    service.save(designer, "query", QUERY, data, opened.base_revision)
    run = run_draft_query(ui_platform, designer, QUERY, {})
    assert run.result.page is not None and run.result.page.rows
    assert all("*" in str(r["name"]) for r in run.result.page.rows), "names masked for QA"
    assert run_draft_query(ui_platform, admin, QUERY, {"tier": ["gold", "ordinary", "vip", "silver", "diamond",
                                                                 "platinum"]}).result.page is not None
    with pytest.raises(PermissionDenied):
        run_draft_query(ui_platform, actor("agent1", ui_platform), QUERY, {"tier": ["gold"]})


def test_defaults_and_renames_as_typed(ui_platform: Platform) -> None:
    tv_count = ui_platform.metadata.entities["customer"].field("tv_count")
    assert parse_default(tv_count, "ge", " 2 ") == 2
    assert parse_default(tv_count, "between", "1,") == [1, None]
    assert parse_default(None, "in", "gold, vip") == ["gold", "vip"]
    assert parse_default(None, "eq", "  ") is None
    assert rename_atom("tier and (tiers or input.tier == 'tier')", "tier", "level") == \
        "level and (tiers or input.tier == 'tier')"
