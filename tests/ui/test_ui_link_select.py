"""Link pickers (issue 14 item 5): the City select shows its first options when it gets the focus (a select
with an input and no options opened no list until one typed), offers only cities (the field's ``level``), and
typing keeps only options whose label has the text (长 used to return 常德's counties, found by their codes
while an input method still showed ``chang``)."""

from __future__ import annotations

import asyncio

from nicegui import ui
from nicegui.events import GenericEventArguments, handle_event
from nicegui.testing import User
from ui_helpers import log_in

from helpline.security.actor import Actor
from helpline.services.platform import Platform


def fire(element: ui.element, event: str, args: object = None) -> None:
    """What the browser sends for ``event`` on ``element``."""
    for listener in element._event_listeners.values():
        if listener.type in (event, event.replace("-", "")) or listener.type.lower() == event.replace("-", ""):
            handle_event(listener.handler, GenericEventArguments(sender=element, client=element.client, args=args))


async def options_after(select: ui.select, check: object) -> dict[str, str]:
    for _ in range(30):  # the search is throttled
        options = select.options if isinstance(select.options, dict) else {}
        if callable(check) and check(options):
            return options
        await asyncio.sleep(0.1)
    raise AssertionError(f"options not as expected: {select.options}")


async def test_city_offers_cities_on_focus_and_filters_by_label(user: User) -> None:
    await log_in(user, "admin", path="/record/customer_form/new")
    await user.should_see(marker="field-city", retries=100)
    city = user.find(marker="field-city").elements.pop()
    county = user.find(marker="field-county").elements.pop()
    assert isinstance(city, ui.select) and city.options == {}
    fire(city, "focus")
    options = await options_after(city, lambda o: len(o) > 0)
    assert len(options) == 14 and options["changsha"] == "长沙市 (changsha)", "Hunan's 14 cities, no county"
    assert list(options)[:2] == ["changde", "changsha"], "in the order of their codes (pinyin)"
    fire(city, "input-value", "chang")  # what an input method sends while 长 is being typed
    assert set(await options_after(city, lambda o: set(o) == {"changde", "changsha"})) == {"changde", "changsha"}
    fire(city, "input-value", "长")
    options = await options_after(city, lambda o: set(o) == {"changsha"})
    assert all("长" in label for label in options.values())
    fire(county, "focus")
    counties = await options_after(county, lambda o: len(o) > 0)
    assert len(counties) == 122 and "changsha" not in counties and counties["changsha_07"] == "长沙县 (changsha_07)"


async def test_the_chosen_record_keeps_its_title_when_a_search_finds_other_records(
        user: User, ui_platform: Platform) -> None:
    """The input's text is sent as a search (Quasar fills the input with the chosen label, "魏延 (31)", which
    finds nothing): the chosen customer stayed among the options, but as its row id — the form showed "31"."""
    system = Actor.system()
    customer = ui_platform.records.create(system, "customer", {"customer_no": "ZZ-LAST", "name": "魏延"}).id
    order = ui_platform.records.create(system, "work_order", {"type": "suggestion", "title": "t",
                                                              "customer": customer}).id
    await log_in(user, "admin", path=f"/record/work_order_form/{order}")
    await user.should_see(marker="field-customer", retries=100)
    picker = user.find(marker="field-customer").elements.pop()
    assert isinstance(picker, ui.select) and picker.options == {customer: "魏延"}
    fire(picker, "input-value", f"魏延 ({customer})")
    await asyncio.sleep(0.6)  # the search is throttled (0.4 s)
    assert picker.options == {customer: "魏延"} and picker.value == customer
