"""The screen designer's data operations (entries as names or placements, moves between sections, list
sort, switching views, new screens) and the preview's sample data (never from the database)."""

from __future__ import annotations

from datetime import date
from typing import Any

from helpline.metadata.kinds import Screen
from helpline.services.designer import screen_ops as ops
from helpline.services.platform import Platform


def form() -> dict[str, Any]:
    return {"kind": "screen", "name": "f", "entity": "customer", "view": "form", "title": {"en": "F"},
            "layout": [{"title": {"en": "A"}, "columns": 3, "fields": ["name", {"field": "age", "readonly": True}]},
                       {"title": {"en": "B"}, "fields": ["phone"]}]}


def test_entries_stay_short_unless_overridden() -> None:
    entries: list[Any] = ["name", {"field": "age", "readonly": True}]
    ops.set_entry_option(entries, 0, "readonly", True)
    assert entries[0] == {"field": "name", "readonly": True}
    ops.set_entry_option(entries, 0, "readonly", False)
    assert entries[0] == "name"
    ops.set_entry_option(entries, 1, "span", 1)
    assert entries[1] == {"field": "age", "readonly": True}
    ops.set_entry_option(entries, 1, "hint", {"en": "Years"})
    assert entries[1] == {"field": "age", "readonly": True, "hint": {"en": "Years"}}
    columns: list[Any] = ["email"]
    ops.set_entry_option(columns, 0, "sortable", False)
    assert columns[0] == {"field": "email", "sortable": False}
    ops.set_entry_option(columns, 0, "sortable", True)
    assert columns[0] == "email"


def test_moves_within_and_between_sections() -> None:
    data = form()
    assert ops.move(data["layout"][0]["fields"], 1, -1)
    assert ops.placed_fields(data) == ["age", "name", "phone"]
    assert not ops.move(data["layout"][0]["fields"], 0, -1)  # already first
    assert ops.move_to_section(data, "phone", 0)
    assert data["layout"][0]["fields"][-1] == "phone" and data["layout"][1]["fields"] == []
    assert not ops.move_to_section(data, "phone", 0) and not ops.move_to_section(data, "nope", 1)
    assert ops.find_entry(data, "age") == (0, 0)
    assert ops.remove_entry(data, "age") and ops.find_entry(data, "age") is None


def test_unplaced_offers_active_fields(platform: Platform) -> None:
    entity = platform.metadata.entities["customer"]
    names = [f.name for f in ops.unplaced(entity, ["name", "phone"])]
    assert "name" not in names and "email" in names and len(names) == len(entity.active_fields) - 2


def test_sort_and_view_switch() -> None:
    data: dict[str, Any] = {"view": "list", "columns": ["name", "phone"], "sort": ["-name", "phone"]}
    assert ops.sort_entries(data) == [("name", True), ("phone", False)]
    ops.set_sort(data, [("phone", True)])
    assert data["sort"] == ["-phone"]
    ops.set_sort(data, [])
    assert "sort" not in data
    ops.switch_view(data, "form")
    assert data["layout"][0]["fields"] == ["name", "phone"] and "columns" not in data
    ops.switch_view(data, "list")
    assert data["columns"] == ["name", "phone"] and "layout" not in data


def test_template_is_a_valid_screen(platform: Platform) -> None:
    for name, view in (("customer_form", "form"), ("customer_list", "list")):
        data = ops.template(name)
        screen = Screen.model_validate(data)
        assert screen.entity == "customer" and screen.view == view


def test_sample_data_fits_the_fields(platform: Platform) -> None:
    mset = platform.metadata
    entity = mset.entities["customer"]
    record = ops.sample_record(entity, mset)
    assert record["tv_count"] == 1  # the declared default
    assert record["lifecycle"] == "in_use"
    assert record["phone"] == "13800000000" and record["city"] is None  # links stay empty
    tier = mset.categories["value_tier"]
    rows = ops.sample_rows(entity, mset, 5)
    assert len(rows) == 5 and [r["id"] for r in rows] == [1, 2, 3, 4, 5]
    for row in rows:
        assert row["value_tier"] in tier.codes()
        assert isinstance(row["birth_date"], date)
        assert 0 <= row["age"] <= 150  # within the validation
    page = ops.sample_page(rows, [("name", True)], 1, 2)
    assert page.total == 5 and [r["name"] for r in page.rows] == ["Name 5", "Name 4"]
