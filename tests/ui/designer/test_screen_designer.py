"""The screen designer at /designer/screen/<name>: a form's fields moved, columns per row, read-only and
hints; a list's columns, default sort and filters; the live preview rendered by the runtime views from the
drafts with sample data (a field of an entity draft placed and shown, nothing written to the database);
publish reaches agent1 without a restart; roll back from the History tab."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from designer_helpers import admin, confirmed, found, log_in_agent, one, retype, set_value, settled, until
from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in, see

import helpline.ui.views.designer.screen_designer  # noqa: F401 - registers the designer
from helpline.data.database import db, session
from helpline.services.designer.drafts import DraftService
from helpline.services.designer.screen_ops import placed_fields
from helpline.services.platform import Platform


async def rerendered(old: ui.element) -> None:
    """Wait until a structural change has re-rendered the designer (the old widget is gone): the next
    action then works on the new form, as a person would."""
    await until(lambda: old.is_deleted, "the designer re-rendered")


def inside(element: ui.element, marker: str) -> bool:
    return any(marker in a._markers for a in element.ancestors())


def in_preview(user: User, content: str = "", kind: type | None = None) -> list[ui.element]:
    return [e for e in found(user, content=content, kind=kind) if inside(e, "screen-preview")]


def draft(p: Platform, name: str) -> dict[str, Any]:
    return DraftService(p).open(admin(p), "screen", name).data or {}


def counts() -> tuple[int, int]:
    """Customers, and audit entries other than signing in (reading customers is audited)."""
    with session():
        customers = db.execute_sql("select count(*) from customer").fetchone()[0]
        audited = db.execute_sql("select count(*) from hl_audit where action not in ('login', 'logout')").fetchone()[0]
    return int(customers), int(audited)


async def open_screen(user: User, name: str) -> None:
    await log_in(user, "admin", path=f"/designer/screen/{name}")
    await user.should_see(marker="screen-preview", retries=150)


async def test_form_fields_moved_columns_readonly_preview_publish_roll_back(
        user: User, create_user: Callable[[], User], ui_platform: Platform) -> None:
    before = ui_platform.store.current("screen", "customer_form")
    assert before is not None
    await open_screen(user, "customer_form")
    await until(lambda: in_preview(user, "Customer no."), "the preview shows the form")

    old = one(user, "screen-field-name-up")
    user.find(marker="screen-field-name-up").click()  # name before customer_no
    await rerendered(old)
    assert placed_fields(draft(ui_platform, "customer_form"))[:2] == ["name", "customer_no"]
    old = one(user, "screen-field-email-section")
    set_value(user, "screen-field-email-section", 0)  # email from 'contact and region' into 'basic'
    await rerendered(old)
    assert "email" in [f if isinstance(f, str) else f["field"]
                       for f in draft(ui_platform, "customer_form")["layout"][0]["fields"]]
    await user.should_see(marker="screen-section-0-columns", retries=150)
    set_value(user, "screen-section-0-columns", 2)
    await until(lambda: draft(ui_platform, "customer_form")["layout"][0]["columns"] == 2, "two columns")
    set_value(user, "screen-field-phone-readonly", True)
    retype(user, "screen-field-phone-hint-en", "The number the caller is recognised by")
    await until(lambda: {"field": "phone", "readonly": True, "hint": {"en": "The number the caller is recognised by"}}
                in draft(ui_platform, "customer_form")["layout"][1]["fields"], "phone read-only with a hint")

    # the preview is the runtime form on the draft: the first section's grid has two columns
    def grid_of_name() -> str:
        names = [e for e in in_preview(user) if "field-name" in e._markers]
        grids = [a for e in names for a in e.ancestors() if isinstance(a, ui.grid)]
        return str(grids[0]._style.get("grid-template-columns")) if grids else ""
    await until(lambda: grid_of_name().startswith("repeat(2,"), "the preview shows two columns")

    user.find(marker="designer-comment").type("basic section in two columns")
    user.find(marker="designer-publish").click()
    await until(lambda: ui_platform.metadata.screens["customer_form"].layout[0].columns == 2, "published")
    live = ui_platform.metadata.screens["customer_form"]
    assert [r.field for r in live.layout[0].refs()][:2] == ["name", "customer_no"]
    assert any(r.field == "phone" and r.readonly for r in live.layout[1].refs())

    agent = create_user()
    await log_in_agent(agent, "/record/customer_form/new")
    await agent.should_see(marker="field-phone", retries=150)
    phone = next(iter(agent.find(marker="field-phone").elements))
    assert "readonly" in phone.props  # the agent's form follows the published screen

    await user.open("/designer/screen/customer_form")  # (the simulation may have navigated this User too)
    await user.should_see(marker="designer-tab-history", retries=150)
    user.find(marker="designer-tab-history").click()
    table = await until(lambda: [t for t in found(user, "designer-history") if isinstance(t, ui.table)
                                 and len(t.rows) >= 2], "history listed")
    table[0].selected = [r for r in table[0].rows if r["id"] == before.id]
    user.find(marker="designer-rollback").click()
    await confirmed(user, "designer-rollback-ok")
    await until(lambda: ui_platform.metadata.screens["customer_form"].layout[0].columns == 3, "rolled back")
    assert placed_fields(ui_platform.store.current("screen", "customer_form").content or {}) == \
        placed_fields(before.content or {})
    await settled(user, ui_platform, "screen", "customer_form")


async def test_preview_places_a_field_of_an_entity_draft_and_writes_nothing(user: User,
                                                                            ui_platform: Platform) -> None:
    service, actor = DraftService(ui_platform), admin(ui_platform)
    entity = service.open(actor, "entity", "customer")
    data = copy.deepcopy(entity.data)
    assert data is not None
    data["fields"].append({"name": "set_top_boxes", "type": "int", "default": 2,
                           "label": {"en": "Number of set-top boxes", "zh_CN": "机顶盒数量"}})
    assert service.save(actor, "entity", "customer", data, entity.base_revision) == []
    written = counts()

    await open_screen(user, "customer_form")
    picker = next(iter(user.find(marker="screen-section-4-add").elements))
    assert isinstance(picker, ui.select)
    await until(lambda: "set_top_boxes" in picker.options, "the draft field is offered")
    old = one(user, "screen-section-4-add")
    set_value(user, "screen-section-4-add", "set_top_boxes")
    await rerendered(old)
    await until(lambda: in_preview(user, "Number of set-top boxes"), "the preview shows the draft field")
    number = [e for e in in_preview(user, kind=ui.number) if "field-set_top_boxes" in e._markers]
    assert number and number[0].value == 2  # a new record with the field's default
    assert ui_platform.metadata.entities["customer"].field("set_top_boxes") is None
    await until(lambda: in_preview(user, kind=ui.button), "the preview's buttons")
    assert [b for b in in_preview(user, kind=ui.button) if "save" in b._markers]  # the runtime's save button ...
    user.find(marker="save").click()
    await see(user, "This is a preview: nothing is saved.")  # ... saves nothing
    assert counts() == written  # no record, no audit entry (reads of customers are audited)


async def test_list_columns_sort_filters_preview_and_publish(user: User, ui_platform: Platform) -> None:
    written = counts()
    await open_screen(user, "customer_list")
    await until(lambda: [t for t in in_preview(user, kind=ui.table) if t.rows], "the preview lists sample rows")
    assert counts() == written  # sample rows: no customer was read (a real list's reads are audited)

    old = one(user, "screen-add-column")
    set_value(user, "screen-add-column", "email")
    await rerendered(old)
    assert "email" in draft(ui_platform, "customer_list")["columns"]
    old = one(user, "screen-column-email-up")
    user.find(marker="screen-column-email-up").click()
    await rerendered(old)
    assert draft(ui_platform, "customer_list")["columns"][-2] == "email"
    retype(user, "screen-column-email-width", "180")
    await until(lambda: {"field": "email", "width": 180} in draft(ui_platform, "customer_list")["columns"], "width")

    old = one(user, "screen-sort-0-remove")
    user.find(marker="screen-sort-0-remove").click()
    await rerendered(old)
    assert "sort" not in draft(ui_platform, "customer_list")
    old = one(user, "screen-add-sort")
    set_value(user, "screen-add-sort", "name")
    await rerendered(old)
    assert draft(ui_platform, "customer_list").get("sort") == ["name"]
    old = one(user, "screen-sort-0-desc")
    set_value(user, "screen-sort-0-desc", True)
    await rerendered(old)
    assert draft(ui_platform, "customer_list").get("sort") == ["-name"]
    set_value(user, "screen-filters", ["value_tier", "email"])
    await until(lambda: draft(ui_platform, "customer_list").get("filters") == ["value_tier", "email"], "filters")

    def preview_table() -> ui.table | None:
        tables = [t for t in in_preview(user, kind=ui.table) if t.rows and "email" in [c["name"] for c in t.columns]]
        return tables[-1] if tables else None
    table = await until(preview_table, "the preview shows the new column")
    names = [r["name"] for r in table.rows]
    assert names == sorted(names, reverse=True) and len(names) == 5  # sample rows, default sort applied
    assert next(c for c in table.columns if c["name"] == "email")["label"] == "E-mail"

    user.find(marker="designer-comment").type("e-mail column, newest names first")
    user.find(marker="designer-publish").click()
    await until(lambda: ui_platform.metadata.screens["customer_list"].sort == ["-name"], "published")
    live = ui_platform.metadata.screens["customer_list"]
    assert [c.field for c in live.column_refs()][-2] == "email" and live.filters == ["value_tier", "email"]
    await settled(user, ui_platform, "screen", "customer_list")
