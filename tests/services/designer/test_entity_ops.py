"""The entity designer's data operations: typed defaults and validation bounds from what was typed (a bad
one kept for the checker to report, HL-E215), adding and retiring fields, where a field is used, taking it
off screens; and the server's refusal of destructive changes that the designer does not offer."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from helpline.data.database import db, session
from helpline.data.migrate import DestructiveChangeRefused
from helpline.metadata.kinds import Entity, EntityField
from helpline.metadata.kinds.common import Label
from helpline.security.actor import Actor
from helpline.services.designer import entity_ops as ops
from helpline.services.designer.drafts import DraftService
from helpline.services.designer.screen_ops import placed_fields
from helpline.services.platform import Platform


@pytest.mark.parametrize(("type_", "text", "expected"), [
    ("int", "3", 3), ("int", " 0 ", 0), ("int", "abc", "abc"), ("int", "1.5", "1.5"), ("int", "", None),
    ("decimal", "1.5", 1.5), ("decimal", "2", 2), ("bool", "true", True), ("bool", "False", False),
    ("bool", "maybe", "maybe"), ("date", "today", "today"), ("date", "2026-01-31", date(2026, 1, 31)),
    ("date", "31/01/2026", "31/01/2026"), ("text", " hi ", "hi"), ("category", "gold", "gold"),
])
def test_coerce_default(type_: str, text: str, expected: Any) -> None:
    assert ops.coerce_default(type_, text) == expected
    assert type(ops.coerce_default(type_, text)) is type(expected)


def test_multiple_category_default_is_a_list_and_round_trips() -> None:
    value = ops.coerce_default("category", "cable, broadband", multiple=True)
    assert value == ["cable", "broadband"]
    assert ops.default_text(value) == "cable, broadband"
    assert ops.default_text(True) == "true" and ops.default_text(None) == ""


def test_validation_keeps_numbers_plain_and_drops_empty() -> None:
    field: dict[str, Any] = {"name": "boxes", "type": "int"}
    ops.set_validation(field, "min", "0")
    ops.set_validation(field, "max", 99.0)
    assert field["validation"] == {"min": 0, "max": 99}
    assert isinstance(field["validation"]["max"], int)
    ops.set_validation(field, "min", "")
    ops.set_validation(field, "max", "")
    assert "validation" not in field


def test_add_remove_and_retire() -> None:
    data: dict[str, Any] = {"fields": [{"name": "name", "type": "text", "label": {"en": "Name"}}],
                            "search_fields": ["name", "note"]}
    ops.add_field(data, "tier", "category", category="value_tier")
    ops.add_field(data, "note", "text", label={"en": "Note"})
    assert data["fields"][1] == {"name": "tier", "type": "category", "label": {"en": "Tier"}, "category": "value_tier"}
    assert ops.field_index(data, "note") == 2
    assert ops.retire(data, "note") and data["fields"][2]["retired"] is True
    assert data["search_fields"] == ["name"]  # a retired field leaves the quick search
    assert not ops.retire(data, "note")  # already retired
    assert ops.retire(data, "note", False) and "retired" not in data["fields"][2]
    assert ops.remove_field(data, "tier") and ops.field_index(data, "tier") is None


def test_published_means_the_live_entity_has_the_field() -> None:
    live = Entity(kind="entity", name="x", label=Label(en="X"),
                  fields=[EntityField(name="a", type="text", label=Label(en="A"))])
    assert ops.published(live, "a")
    assert not ops.published(live, "b") and not ops.published(None, "a")


def test_usages_and_taking_a_field_off_a_screen(platform: Platform) -> None:
    usages = ops.field_usages(platform.metadata, "customer", "value_tier")
    places = {(u.kind, u.name, u.where) for u in usages}
    assert ("screen", "customer_form", "layout") in places
    assert ("screen", "customer_list", "columns") in places and ("screen", "customer_list", "filters") in places
    assert any(k == "query" and n == "customers_by_tier" for k, n, _ in places)
    assert ("import", "customer_tiers", "columns") in places  # an import's column maps it
    assert ("import", "customers_xlsx", "columns/key") in {(u.kind, u.name, u.where) for u in
                                                         ops.field_usages(platform.metadata, "customer", "customer_no")}
    screen = copy.deepcopy(platform.store.current("screen", "customer_list").content)  # type: ignore[union-attr]
    assert ops.remove_from_screen(screen, "customer", "value_tier")
    assert "value_tier" not in [c if isinstance(c, str) else c["field"] for c in screen["columns"]]
    assert "value_tier" not in screen["filters"]
    assert not ops.remove_from_screen(screen, "customer", "value_tier")
    form = {"entity": "x", "layout": [{"title": "A", "fields": ["a"]}, {"title": "B", "fields": ["a", "b"]}]}
    assert ops.remove_from_screen(form, "x", "a")
    assert form["layout"] == [{"title": "B", "fields": ["b"]}]  # an emptied section goes


def admin(p: Platform) -> Actor:
    return Actor("admin", roles=("administrator",)).bind(p.metadata)


def test_retire_publishes_and_keeps_the_column(platform: Platform) -> None:
    service, actor = DraftService(platform), admin(platform)
    entity = service.open(actor, "entity", "customer")
    data = copy.deepcopy(entity.data)
    assert data is not None and ops.retire(data, "hobbies")
    problems = service.save(actor, "entity", "customer", data, entity.base_revision)
    assert [p.id for p in problems] == ["HL-E203"]  # customer_form still places it
    form = service.open(actor, "screen", "customer_form")
    assert form.data is not None and ops.remove_from_screen(form.data, "customer", "hobbies")
    assert service.save(actor, "screen", "customer_form", form.data, form.base_revision) == []
    service.publish(actor, "retire hobbies")
    assert platform.metadata.entities["customer"].field("hobbies").retired  # type: ignore[union-attr]
    assert "hobbies" not in placed_fields(platform.store.current("screen", "customer_form").content or {})
    with session():
        assert "hobbies" in {c.name for c in db.get_columns("customer")}


@pytest.mark.parametrize("change", ["delete", "retype"])
def test_server_refuses_destructive_changes(platform: Platform, change: str) -> None:
    """What the designer does not offer (and explains) is refused on the server too, naming the field."""
    service, actor = DraftService(platform), admin(platform)
    entity = service.open(actor, "entity", "customer")
    data = copy.deepcopy(entity.data)
    assert data is not None
    if change == "delete":
        assert ops.remove_field(data, "remarks")
        usages = ops.field_usages(platform.metadata, "customer", "remarks")
        assert {u.name for u in usages if u.kind == "import"} == {"blacklist", "customers_xlsx"}  # their columns
        for kind, name in sorted({(u.kind, u.name) for u in usages}):
            opened = service.open(actor, kind, name)
            assert opened.data is not None
            if kind == "screen":
                assert ops.remove_from_screen(opened.data, "customer", "remarks")
            else:
                opened.data["columns"] = [c for c in opened.data["columns"] if c["field"] != "remarks"]
            service.save(actor, kind, name, opened.data, opened.base_revision)
    else:
        retyped = data["fields"][ops.field_index(data, "remarks")]  # type: ignore[index]
        retyped["type"] = "int"
        retyped.pop("text_search", None)  # text search is for text fields only (HL-E106)
    assert service.save(actor, "entity", "customer", data, entity.base_revision) == []
    with pytest.raises(DestructiveChangeRefused, match="remarks") as refused:
        service.publish(actor, "drop remarks")
    assert "Retire the field instead" in str(refused.value)
    assert platform.metadata.entities["customer"].field("remarks").type == "long_text"  # type: ignore[union-attr]
