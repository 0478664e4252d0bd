"""Generated forms: a widget per field type, checks in the browser and on the server, create, edit,
concurrent edits, related lists."""

from __future__ import annotations

import asyncio

from nicegui import ui
from nicegui.testing import User
from ui_helpers import loaded_table, log_in, see

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services.platform import Platform


def field(user: User, name: str) -> ui.element:
    return user.find(marker=f"field-{name}").elements.pop()


async def new_customer_form(user: User) -> None:
    await log_in(user, "admin")
    user.find("Customers").click()
    await user.should_see(marker="new", retries=50)
    user.find(marker="new").click()
    await user.should_see(marker="field-customer_no", retries=50)


async def test_widgets_follow_field_types(user: User) -> None:
    await new_customer_form(user)
    assert isinstance(field(user, "name"), ui.input)
    assert isinstance(field(user, "tv_count"), ui.number)
    assert isinstance(field(user, "blacklisted"), ui.checkbox)
    assert field(user, "birth_date").props["type"] == "date"
    assert field(user, "phone").props["type"] == "tel"
    assert isinstance(field(user, "family"), ui.textarea)
    tier = field(user, "value_tier")
    assert isinstance(tier, ui.select)
    options = tier.options if isinstance(tier.options, dict) else {}
    assert options["gold"] == "VIP › Gold card", "category pickers show the tree path"
    lines = field(user, "business_line")
    assert lines.props.get("multiple") is not None or getattr(lines, "multiple", False)
    city = field(user, "city")
    assert isinstance(city, ui.select) and city.options == {}, "link pickers load their options when opened"
    fire(city, "popup-show")
    assert city.options["changsha"] == "长沙市 (changsha)"
    fire(city, "input-value", "岳阳")
    for _ in range(20):  # the search is throttled
        if "yueyang" in city.options:
            break
        await asyncio.sleep(0.1)
    assert "yueyang" in city.options and "changsha" not in city.options


def fire(element: ui.element, event: str, args: object = None) -> None:
    """What the browser sends for ``event`` on ``element``."""
    from nicegui.events import GenericEventArguments, handle_event

    for listener in element._event_listeners.values():
        if listener.type in (event, event.replace("-", "")) or listener.type.lower() == event.replace("-", ""):
            handle_event(listener.handler, GenericEventArguments(sender=element, client=element.client, args=args))


async def test_browser_checks_before_saving(user: User, ui_platform: Platform) -> None:
    await new_customer_form(user)
    field(user, "phone").value = "not-a-phone"
    field(user, "tv_count").value = 500
    user.find(marker="save").click()
    await see(user, "Some fields need attention.")
    assert field(user, "phone").error == "Not a valid phone number"
    assert field(user, "tv_count").error == "At most 99"
    assert field(user, "name").error == "Name is required"
    with session():
        assert ui_platform.models["customer"].select().count() == 30


async def test_server_checks_are_shown_on_the_fields(user: User, ui_platform: Platform) -> None:
    existing = ui_platform.records.list_page(Actor.system(), __import__(
        "helpline.data.query", fromlist=["ListQuery"]).ListQuery(entity="customer")).rows[0]
    await new_customer_form(user)
    field(user, "customer_no").value = existing["customer_no"]
    field(user, "name").value = "王小明"
    user.find(marker="save").click()
    await user.should_see(marker="field-customer_no", retries=100)
    for _ in range(50):
        if field(user, "customer_no").error:
            break
        await __import__("asyncio").sleep(0.05)
    assert "already used" in (field(user, "customer_no").error or "")


async def test_create_then_edit_a_customer(user: User, ui_platform: Platform) -> None:
    await new_customer_form(user)
    field(user, "customer_no").value = "NEW001"
    field(user, "name").value = "刘备"
    field(user, "phone").value = "139-0000-1111"
    field(user, "value_tier").value = "gold"
    field(user, "city").value = "changsha"
    field(user, "birth_date").value = "1985-06-01"
    user.find(marker="save").click()
    await see(user, "Saved")
    model = ui_platform.models["customer"]
    with session():
        saved = model.get(model.customer_no == "NEW001")
    assert (saved.name, saved.phone, saved.value_tier, str(saved.birth_date)) == (
        "刘备", "13900001111", "gold", "1985-06-01")
    field(user, "address").value = "长沙市岳麓区"
    user.find(marker="save").click()
    for _ in range(50):
        with session():
            if model.get_by_id(saved.id).version == 2:
                break
        await __import__("asyncio").sleep(0.05)
    with session():
        again = model.get_by_id(saved.id)
    assert again.address == "长沙市岳麓区" and again.version == 2


async def test_concurrent_edit_is_refused(user: User, ui_platform: Platform) -> None:
    rec = ui_platform.records.create(Actor.system(), "customer", {"customer_no": "C-CONC", "name": "甲"})
    await log_in(user, "admin", path=f"/record/customer_form/{rec.id}")
    await user.should_see(marker="field-name", retries=50)
    ui_platform.records.update(Actor.system(), "customer", rec.id, {"name": "乙"})
    field(user, "name").value = "丙"
    user.find(marker="save").click()
    await see(user, "Someone else changed this record; reload it before saving.")
    assert ui_platform.records.get(Actor.system(), "customer", rec.id).values["name"] == "乙"


async def test_related_lists_on_the_customer_form(user: User, ui_platform: Platform) -> None:
    system = Actor.system()
    rec = ui_platform.records.create(system, "customer", {"customer_no": "C-REL", "name": "关羽", "city": "changsha"})
    for i in range(3):
        ui_platform.records.create(system, "work_order", {"order_no": f"W-REL-{i}", "customer": rec.id,
                                                          "type": "fault", "status": "new", "title": f"故障{i}"})
    await log_in(user, "admin", path=f"/record/customer_form/{rec.id}")
    related = await loaded_table(user, "order_no")
    assert sorted(r["order_no"] for r in related.rows) == ["W-REL-0", "W-REL-1", "W-REL-2"]


async def test_a_new_record_with_a_now_default_opens(user: User) -> None:
    """A datetime field defaulting to ``now`` (work order ``created``/``opened``) starts with the time, not the
    word: the new work-order form used to crash on it."""
    await log_in(user, "admin", path="/record/work_order_form/new")
    await user.should_see(marker="field-accepted_at")
    await user.should_see(marker="save")


async def test_a_link_field_shows_the_linked_records_title(user: User, ui_platform: Platform) -> None:
    """The work order's customer reads as the customer's name, not its row id (the picker is not opened)."""
    system = Actor.system()
    customer = ui_platform.records.create(system, "customer", {"customer_no": "LINK-1", "name": "黄忠"}).id
    order = ui_platform.records.create(system, "work_order", {"type": "suggestion", "title": "More channels",
                                                              "customer": customer}).id
    await log_in(user, "admin", path=f"/record/work_order_form/{order}")
    await user.should_see(marker="field-customer", retries=100)
    picker = field(user, "customer")
    assert picker.value == customer and picker.options == {customer: "黄忠"}
