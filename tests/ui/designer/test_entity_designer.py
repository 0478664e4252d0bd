"""The entity designer at /designer/entity/<name>: add a field (labels per language, validation), a bad
default shows HL-E215 beside the default, place the field with the screen designer (previewed from the
drafts), publish: the column exists and agent1's customer form shows it without a restart; published fields
cannot be deleted or retyped (explained, retire offered), retiring takes the field off screens; roll back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from designer_helpers import admin, found, log_in_agent, retype, set_value, settled, until
from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in, see

import helpline.ui.views.designer.entity_designer
import helpline.ui.views.designer.screen_designer  # noqa: F401 - both register their designers
from helpline.data.database import db, session
from helpline.data.migrate import DestructiveChangeRefused
from helpline.data.query import ListQuery
from helpline.services.auth import actor_for, find_user
from helpline.services.designer.drafts import DraftService
from helpline.services.designer.screen_ops import placed_fields
from helpline.services.platform import Platform

LABEL_EN, LABEL_ZH = "Number of set-top boxes", "机顶盒数量"


def inside(element: ui.element, marker: str) -> bool:
    return any(marker in a._markers for a in element.ancestors())


def draft_field(p: Platform, name: str) -> dict[str, Any] | None:
    data = DraftService(p).open(admin(p), "entity", "customer").data or {}
    return next((f for f in data.get("fields", []) if f.get("name") == name), None)


def columns(table: str) -> set[str]:
    with session():
        return {c.name for c in db.get_columns(table)}


async def open_entity(user: User) -> None:
    await log_in(user, "admin", path="/designer/entity/customer")
    await user.should_see(marker="entity-new-name", retries=150)
    await user.should_see(marker="designer-ok", retries=150)


def agent_customer(p: Platform) -> int:
    row = find_user("agent1")
    assert row is not None
    agent = actor_for(row, p.metadata)
    page = p.records.list_page(agent, ListQuery(entity="customer", page_size=1))
    return int(page.rows[0]["id"])


async def test_add_field_place_it_publish_agent_sees_it_and_roll_back(
        user: User, create_user: Callable[[], User], ui_platform: Platform) -> None:
    store = ui_platform.store
    form_before = store.current("screen", "customer_form")
    entity_before = store.current("entity", "customer")
    assert form_before is not None and entity_before is not None
    await open_entity(user)

    retype(user, "entity-new-name", "set_top_boxes")
    set_value(user, "entity-new-type", "int")
    user.find(marker="entity-add").click()
    await until(lambda: draft_field(ui_platform, "set_top_boxes"), "field added to the draft")
    await user.should_see(marker="entity-field-set_top_boxes-label-en", retries=150)
    retype(user, "entity-field-set_top_boxes-label-en", LABEL_EN)
    await until(lambda: (draft_field(ui_platform, "set_top_boxes") or {}).get("label", {}).get("en") == LABEL_EN,
                "English label")
    retype(user, "entity-field-set_top_boxes-label-zh_CN", LABEL_ZH)
    retype(user, "entity-field-set_top_boxes-min", "0")
    await until(lambda: (draft_field(ui_platform, "set_top_boxes") or {}).get("validation") == {"min": 0}, "min 0")
    assert (draft_field(ui_platform, "set_top_boxes") or {})["label"] == {"en": LABEL_EN, "zh_CN": LABEL_ZH}

    # a bad default: HL-E215 beside the default field, the same id as run.py check
    retype(user, "entity-field-set_top_boxes-default", "abc")
    errors = await until(lambda: found(user, "designer-error-HL-E215"), "HL-E215 shown")
    assert any(inside(e, "entity-field-set_top_boxes-default-box") for e in errors)
    retype(user, "entity-field-set_top_boxes-default", "0")
    await until(lambda: not found(user, "designer-error-HL-E215"), "HL-E215 gone")
    assert (draft_field(ui_platform, "set_top_boxes") or {})["default"] == 0

    # place it on the customer form with the screen designer: offered and previewed from the entity draft
    await user.open("/designer/screen/customer_form")
    await user.should_see(marker="screen-section-0-add", retries=150)
    picker = next(iter(user.find(marker="screen-section-0-add").elements))
    assert isinstance(picker, ui.select)
    await until(lambda: "set_top_boxes" in picker.options, "the draft field is offered")
    set_value(user, "screen-section-0-add", "set_top_boxes")
    await until(lambda: [e for e in found(user, content=LABEL_EN) if inside(e, "screen-preview")],
                "the preview shows the new field")
    assert ui_platform.metadata.entities["customer"].field("set_top_boxes") is None  # nothing live yet
    assert "set_top_boxes" not in columns("customer")

    user.find(marker="designer-comment").type("set-top boxes per customer")
    user.find(marker="designer-publish").click()
    await until(lambda: ui_platform.metadata.entities["customer"].field("set_top_boxes"), "entity published")
    assert "set_top_boxes" in columns("customer")  # the migration ran
    await settled(user, ui_platform, "screen", "customer_form")
    live_form = ui_platform.metadata.screens["customer_form"]
    assert "set_top_boxes" in [r.field for s in live_form.layout for r in s.refs()]

    # agent1, in another browser, sees it on the customer form without a restart
    agent = create_user()
    customer = agent_customer(ui_platform)
    await log_in_agent(agent, f"/record/customer_form/{customer}")
    await agent.should_see(marker="field-set_top_boxes", retries=150)
    await see(agent, LABEL_EN)

    # roll the screen back: agent1's form no longer shows the field ...
    service = DraftService(ui_platform)
    service.rollback(admin(ui_platform), "screen", "customer_form", int(form_before.id))
    assert "set_top_boxes" not in placed_fields(store.current("screen", "customer_form").content or {})
    # ... the entity cannot be rolled back past the field: its column would be dropped
    with pytest.raises(DestructiveChangeRefused, match="set_top_boxes"):
        service.rollback(admin(ui_platform), "entity", "customer", int(entity_before.id))
    await agent.open(f"/record/customer_form/{customer}")
    await agent.should_see(marker="field-name", retries=150)
    await agent.should_not_see(marker="field-set_top_boxes")


async def test_published_field_cannot_be_deleted_or_retyped(user: User, ui_platform: Platform) -> None:
    await open_entity(user)
    phone_type = next(iter(user.find(marker="entity-field-phone-type").elements))
    assert "disable" in phone_type.props  # the type of a published field is fixed ...
    await user.should_see(marker="entity-field-phone-fixed")  # ... and the designer says why
    user.find(marker="entity-field-phone-delete").click()
    await user.should_see(marker="entity-refusal", retries=150)
    refusal = " ".join(str(getattr(e, "text", "")) for e in found(user, "entity-refusal-text"))
    assert "drop that column and lose the data" in refusal and "Retire" in refusal
    assert draft_field(ui_platform, "phone") is not None  # nothing deleted


async def test_unpublished_field_can_be_deleted(user: User, ui_platform: Platform) -> None:
    await open_entity(user)
    retype(user, "entity-new-name", "scratch")
    user.find(marker="entity-add").click()
    await until(lambda: draft_field(ui_platform, "scratch"), "field added")
    await user.should_see(marker="entity-field-scratch-delete", retries=150)
    user.find(marker="entity-field-scratch-delete").click()
    await until(lambda: draft_field(ui_platform, "scratch") is None, "field removed from the draft")
    await until(lambda: not found(user, "entity-field-scratch-delete"), "the designer re-rendered")
    await user.should_see(marker="designer-ok", retries=150)


async def test_retire_a_field_takes_it_off_screens_and_keeps_the_column(user: User, ui_platform: Platform) -> None:
    await open_entity(user)
    user.find(marker="entity-field-hobbies-delete").click()
    await user.should_see(marker="entity-retire-instead", retries=150)
    user.find(marker="entity-retire-instead").click()
    await until(lambda: (draft_field(ui_platform, "hobbies") or {}).get("retired") is True, "retired in the draft")
    await user.should_see(marker="entity-take-off", retries=150)  # customer_form places it
    await see(user, "customer_form")
    user.find(marker="entity-take-off").click()
    service = DraftService(ui_platform)
    await until(lambda: "hobbies" not in placed_fields(service.open(admin(ui_platform), "screen", "customer_form")
                                                        .data or {}), "screen draft without the field")
    await until(lambda: found(user, "designer-ok"), "no problems left")
    user.find(marker="designer-comment").type("hobbies no longer collected")
    user.find(marker="designer-publish").click()
    await until(lambda: (f := ui_platform.metadata.entities["customer"].field("hobbies")) and f.retired, "live")
    assert "hobbies" in columns("customer")  # the column and its data stay
    live_form = ui_platform.metadata.screens["customer_form"]
    assert "hobbies" not in [r.field for s in live_form.layout for r in s.refs()]
    await settled(user, ui_platform, "entity", "customer")
