"""What the agent desktop sends and keeps: clocks that tick in the browser, counters sent only when they
change, a call's pop and contact form released once the call is finished, category trees loaded only when a
select opens."""



from __future__ import annotations

import asyncio
import gc
import time
import weakref
from typing import Any

import pytest
from desk_helpers import (
    GOLD,
    STRANGER,
    Caller,
    agent,
    contact_records,
    element,
    enabled,
    field,
    press,
    ready_desktop,
    settings,
    shown,
    talking,
    text,
    until,
)
from nicegui import ui
from nicegui.testing import User
from ui_helpers import see

from helpline.services.platform import Platform
from helpline.ui.views.desktop import REFRESH_TICKS, TICKER


# ------------------------------------------------------------------------------------------- what is sent
def watch_updates(user: User, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The elements the page sends to the browser from now on (each update, in order)."""
    assert user.client is not None
    outbox = user.client.outbox
    sent: list[Any] = []
    enqueue = outbox.enqueue_update

    def recorded(element: Any) -> None:
        sent.append(element)
        enqueue(element)

    monkeypatch.setattr(outbox, "enqueue_update", recorded)
    return sent


async def test_clocks_tick_in_the_browser_and_unchanged_counters_are_not_sent(
        user: User, desk: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    await ready_desktop(user, desk)
    clock = element(user, "desk-status-time")
    await until(lambda: clock.props.get("data-clock-from"))
    assert abs(time.time() - agent(desk)["in_status_s"] - clock.props["data-clock-from"]) < 1.5
    first = clock.text
    sent = watch_updates(user, monkeypatch)
    await until(lambda: clock.text != first)  # the shared timer keeps the server's text in step ...
    desktop = next(d for d in TICKER.desktops if d.root.client is user.client)
    for _ in range(REFRESH_TICKS + 1):  # six more ticks (the timer's work, without waiting six seconds) and
        desktop.tick()                  # a view refresh among them
    assert sent == []  # ... but nothing is sent: the clocks run in the browser and no counter changed
    user.find(marker="desk-not-ready").click()  # a new status: its clock starts again and is sent
    await until(lambda: any(e is clock for e in sent))
    assert text(user, "desk-status").startswith("Not ready")


async def test_the_toolbar_is_left_alone_when_only_queue_figures_change(
        user: User, desk: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refresh bringing other agents' queue figures (most refreshes on a busy server) changes no toolbar button
    and costs the toolbar nothing; a new state still enables and disables its buttons."""
    from helpline.ui.views import desk_toolbar

    await ready_desktop(user, desk)
    desktop = next(d for d in TICKER.desktops if d.root.client is user.client)
    desktop.refresh()
    view = dict(desktop.view)
    computed: list[Any] = []
    available = desk_toolbar.available
    monkeypatch.setattr(desk_toolbar, "available", lambda v, a: computed.append(v) or available(v, a))
    queues = {name: {"waiting": 7, "ready_agents": 3} for name in view["queues"]}
    desktop.toolbar.update({**view, "queues": queues, "in_status_s": view["in_status_s"] + 5})
    assert computed == []
    assert enabled(user, "desk-not-ready") and not enabled(user, "desk-ready")
    desktop.toolbar.update({**view, "status": "not_ready"})
    assert len(computed) == 1 and enabled(user, "desk-ready")


def call_elements(user: User, idle: set[int]) -> list[weakref.ref[Any]]:
    """Weak references to the elements on the page that the idle desktop did not have (the call's), and to their
    props, classes and style (NiceGUI's observables, each holding a bound method of itself)."""
    assert user.client is not None
    return [weakref.ref(x) for i, e in user.client.elements.items() if i not in idle
            for x in (e, e._props, e._classes, e._style)]


async def test_a_finished_call_releases_its_elements_and_an_unfiled_record_stays(
        user: User, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int) -> None:
    """Issue 22 (memory per desktop with calls flowing): once a call is over — wrap-up ended and its contact record
    filed or closed — the desktop deletes the call's pop, contact record form and knowledge panel and nothing keeps
    them alive (handlers, timers, the desktop's attributes); the element count returns to the idle desktop's. A
    record not yet filed stays open with its pop until it is filed. The next call builds them again."""
    settings(desk, wrap_up_s=300.0)
    await ready_desktop(user, desk)
    assert user.client is not None
    idle = set(user.client.elements)
    desktop = next(d for d in TICKER.desktops if d.root.client is user.client)
    try:
        for number, name in ((GOLD, "Zhang Wei"), (STRANGER, "Caller not recognised")):
            if number == GOLD:  # no automatic collection: what is freed is freed by reference counting
                gc.collect()
                gc.disable()
            await talking(user, desk, ui_platform, callers, number)
            assert text(user, "pop-name") == name and shown(user, "desk-kb-search")
            built = call_elements(user, idle)
            assert len(built) > 80
            assert field(user, "caller_number").value == number and field(user, "remarks").value == ""
            serial = text(user, "pop-serial")
            field(user, "remarks").value = f"call from {number}"
            user.find(marker="desk-release").click()
            await until(lambda: enabled(user, "desk-file"))
            if number == STRANGER:  # wrap-up ends before the record is filed: the record and its pop stay
                press(user, "F7")
                await until(lambda: agent(desk)["state"] == "idle")
                await asyncio.sleep(0.1)
                assert shown(user, "desk-file") and enabled(user, "desk-file") and text(user, "pop-serial") == serial
                assert field(user, "remarks").value == f"call from {number}"
            user.find(marker="desk-file").click()
            await see(user, "Contact record filed")
            if number == GOLD:
                assert shown(user, "desk-file")  # filed during wrap-up: shown until wrap-up ends
                press(user, "F7")
            await until(lambda: len(user.client.elements) <= len(idle))  # type: ignore[union-attr]
            assert set(user.client.elements) <= idle  # the idle desktop's elements, no new one
            await user.should_see(marker="pop-strip")
            assert not shown(user, "pop-serial") and not shown(user, "desk-file") and not shown(user, "desk-kb-search")
            assert desktop.pops == {} and desktop.call.pop is None and desktop.contact.form is None
            await asyncio.sleep(0.1)
            user.client.outbox.prune_history(user.client.outbox.next_message_id)  # acknowledged, as browsers do
            if number == GOLD:  # freed by reference counting, not left for a collection (which a freeze of the
                gc.enable()     # garbage-collector tuning would postpone to its next thaw)
                assert [r() for r in built if r() is not None] == []
            gc.collect()
            assert [r() for r in built if r() is not None] == []  # nothing keeps a deleted element alive
            assert contact_records(ui_platform, serial)[0]["remarks"] == f"call from {number}"
    finally:
        gc.enable()


async def test_category_options_are_loaded_when_the_select_opens_and_the_choice_is_filed(
        user: User, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int) -> None:
    """The contact record's category selects hold only their chosen codes' options (the desktop keeps the form):
    opening one loads the tree's codes, the agent's choice is made among them as the browser sends it, closing
    it drops the others again (the chips keep their labels), and filing saves the chosen codes."""
    from helpline.ui.views.display import category_options

    settings(desk, wrap_up_s=300.0)
    await ready_desktop(user, desk)
    await talking(user, desk, ui_platform, callers)
    serial = text(user, "pop-serial")
    select = field(user, "consultation_types")
    assert select.options == {} and select.value == []
    tree = category_options(ui_platform.metadata.categories["consultation_types"], language="en")
    assert "tariffs" in tree and len(tree) > 3

    user.find(marker="field-consultation_types").trigger("popupShow")  # the browser's popup-show
    await until(lambda: select.options == tree)
    index = list(tree).index("tariffs")
    user.find(marker="field-consultation_types").trigger("update:modelValue",
                                                        [{"value": index, "label": tree["tariffs"]}])
    await until(lambda: select.value == ["tariffs"])
    user.find(marker="field-consultation_types").trigger("popupHide")
    await until(lambda: select.options == {"tariffs": tree["tariffs"]})
    assert select.value == ["tariffs"] and select.props["model-value"] == [{"value": 0, "label": tree["tariffs"]}]
    assert not user.find(marker="field-acceptance_types").elements.pop().options  # the others never opened
    grids = {e.parent_slot.parent for name in ("remarks", "consultation_types", "serial_no")
             if (e := field(user, name)).parent_slot is not None}
    assert len(grids) == 3 and all(isinstance(g, ui.grid) for g in grids)  # no wrapper per field, no card

    user.find(marker="desk-release").click()
    await until(lambda: enabled(user, "desk-file"))
    user.find(marker="desk-file").click()
    await see(user, "Contact record filed")
    assert contact_records(ui_platform, serial)[0]["consultation_types"] == ["tariffs"]
    assert select.options == {"tariffs": tree["tariffs"]}  # the saved record shown again: its chosen code only


async def test_filing_keeps_the_contact_form_and_its_masks(
        user: User, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int) -> None:
    """Filing saves the record and fills the same widgets again: the form is built once per call. (The record
    the desk created came back without the agent's masks, so the first save saw them appear and built the whole
    form again — a sixth of the desktop server's event-loop time at 500 desktops, issue 22's screen-pop.)"""
    settings(desk, wrap_up_s=300.0)
    await ready_desktop(user, desk)
    await talking(user, desk, ui_platform, callers)
    assert user.client is not None
    serial, remarks = text(user, "pop-serial"), field(user, "remarks")
    before = set(user.client.elements)
    desktop = next(d for d in TICKER.desktops if d.root.client is user.client)
    form = desktop.contact.form
    assert form is not None and form.masked == {"survey_satisfaction", "survey_resolved", "survey_at"}
    remarks.value = "kept"
    user.find(marker="desk-release").click()
    await until(lambda: enabled(user, "desk-file"))
    user.find(marker="desk-file").click()
    await see(user, "Contact record filed")
    assert contact_records(ui_platform, serial)[0]["remarks"] == "kept"
    assert field(user, "remarks") is remarks and remarks.value == "kept"
    new = [e for e in user.client.elements.values() if e.id not in before]
    assert not [e for e in new if any(m.startswith("field-") for m in e._markers)], "the form was built again"


async def test_the_contact_form_is_built_a_few_fields_per_loop_turn(
        user: User, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 22: the contact record form's first build gives the event loop back every FIELDS_PER_TURN fields, so
    another desktop's screen-pop goes out between two steps; a build whose form is released stops, and one whose
    record changed meanwhile shows the new record whole."""
    from helpline.services.records import Record
    from helpline.ui import gc_tuning
    from helpline.ui.views.desk_contact import FIELDS_PER_TURN, ContactForm

    events: list[str] = []
    build_field = ContactForm.build_field

    def recorded(self: ContactForm, ref: Any, values: dict[str, Any], columns: int) -> None:
        if not events:  # runs at the loop's next turn: between two steps, not after the whole form
            asyncio.get_running_loop().call_soon(events.append, "turn")
        events.append(ref.field)
        build_field(self, ref, values, columns)

    monkeypatch.setattr(ContactForm, "build_field", recorded)
    settings(desk, wrap_up_s=300.0)
    await ready_desktop(user, desk)
    await talking(user, desk, ui_platform, callers)
    await until(lambda: "remarks" in events)
    fields = [e for e in events if e != "turn"]
    assert len(fields) == 15 and events.index("turn") == FIELDS_PER_TURN, events
    assert field(user, "remarks").value == "" and shown(user, "field-remarks")

    desktop = next(d for d in TICKER.desktops if d.root.client is user.client)
    form = desktop.contact.form
    assert form is not None and form.record is not None
    record = form.record
    events.clear()
    changed = Record(record.entity, {**record.values, "remarks": "changed meanwhile"}, record.masked)
    building = asyncio.create_task(form.build_in_turns(record))
    await asyncio.sleep(0)
    form.record = changed
    await building  # stopped, then the new record built whole
    assert field(user, "remarks").value == "changed meanwhile" and set(form.fields) >= {"remarks", "serial_no"}

    events.clear()
    building = asyncio.create_task(form.build_in_turns(changed))
    await asyncio.sleep(0)
    gc_tuning.discard(form.container)  # released meanwhile
    await building
    assert len([e for e in events if e != "turn"]) == FIELDS_PER_TURN  # nothing built into the deleted form


# ------------------------------------------------------------------------------------- what is built
async def test_an_idle_desktop_builds_only_what_is_shown(user: User, desk: Any, ui_platform: Platform,
                                                         callers: list[Caller]) -> None:
    """Memory per desktop is per element (≈ 4-5 KB each): the knowledge panel waits for the first call, the queries
    menu for its first opening; captions and rules are drawn by the browser (issue 22, bench/README.md)."""
    await ready_desktop(user, desk)
    root = element(user, "desktop")
    assert len(list(root.descendants())) <= 80  # 118 before (175 elements on the page, the shell included)
    assert not shown(user, "desk-kb")
    assert user.client is not None  # agent1 may join campaigns; none is running: the panel is hidden
    campaign = next(e for e in user.client.elements.values() if "desk-campaign" in e._markers)
    await until(lambda: not campaign.visible)
    assert not [e for e in root.descendants() if isinstance(e, ui.timer)]  # no campaign poll either
    assert element(user, "desk-answered").props["data-caption"] == "Calls answered"
    button = element(user, "shortcut-queries")
    (menu,) = [e for e in button.descendants() if isinstance(e, ui.menu)]
    assert not menu.default_slot.children
    user.find(marker="shortcut-queries-menu").trigger("beforeShow")
    user.find(marker="shortcut-queries-menu").trigger("beforeShow")  # built once
    items = [e for e in menu.descendants() if isinstance(e, ui.menu_item)]
    assert items and len({id(e) for e in items}) == len(items) == len(menu.default_slot.children)
    await user.should_see(marker="desk-sign-out")
    callers.append(Caller(ui_platform, desk))
    await until(lambda: shown(user, "desk-kb-search"))  # beside the first call


async def test_the_offer_starts_loading_the_pop_on_its_own_pool_once(
        user: User, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The pop's data starts loading on the router's thread as the offer is relayed, on the desk's pop pool (not
    after a hop through the event loop, not behind the io_bound pool's saves): issue 22, pop p95 at 500 desktops;
    answering uses the same load."""
    import threading

    from helpline.ui.views import desktop as module

    threads: list[str] = []
    load = module.load_pop

    def recorded(ctx: Any, call_id: int, customer_id: int | None = None) -> dict[str, Any]:
        threads.append(threading.current_thread().name)
        return load(ctx, call_id, customer_id)

    monkeypatch.setattr(module, "load_pop", recorded)
    await ready_desktop(user, desk)
    await talking(user, desk, ui_platform, callers)
    assert text(user, "pop-name") == "Zhang Wei"
    assert len(threads) == 1 and threads[0].startswith("desk-pop")



async def test_the_ticker_lets_a_pop_through_between_chunks_of_desktops() -> None:
    """The one-second tick of every desktop of the process runs TICK_CHUNK desktops at a time: something ready on
    the event loop (a screen-pop to build or send) waits for one chunk, not for all of them (issue 22)."""
    from types import SimpleNamespace

    from helpline.ui.views.desktop import TICK_CHUNK, Ticker

    done: list[str] = []

    class Desk:
        closed = False
        root = SimpleNamespace(is_deleted=False)

        def tick(self) -> None:
            done.append("tick")

    ticker = Ticker()
    ticker.desktops = [Desk() for _ in range(3 * TICK_CHUNK)]  # type: ignore[misc]
    asyncio.get_running_loop().call_soon(done.append, "pop")
    await ticker.tick_all()
    assert done.count("tick") == 3 * TICK_CHUNK
    assert done.index("pop") == TICK_CHUNK  # after the first chunk, before the others
