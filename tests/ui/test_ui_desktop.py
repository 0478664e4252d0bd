"""The agent desktop (``/desktop``) with the simulated user on the live router and simulated phones: each
toolbar function and the states it needs, refusals shown from the server, keyboard shortcuts, the
not-ready countdown, the screen-pop (customer, tier, trail, notices, history, work orders), the contact
record created on answer and filed in wrap-up, transfer and consultation, resuming after a reload, the
browser's disappearance, an unknown caller linked by search, and who may open the desktop at all. What the
desktop sends (and does not) is in test_ui_desktop_updates.py."""

from __future__ import annotations

import asyncio
from typing import Any

from desk_helpers import (
    GOLD,
    STRANGER,
    Caller,
    agent,
    contact_records,
    element,
    enabled,
    field,
    form_values,
    offered,
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
from ui_helpers import log_in, see

from helpline.data.database import session
from helpline.security.audit import search_audit
from helpline.services.auth import actor_for, find_user
from helpline.services.platform import Platform
from telephony.desk.screenpop import screen_pop


# ------------------------------------------------------------------------------------------------ access
async def test_the_desktop_needs_its_permission(user: User, desk: Any) -> None:
    await log_in(user, "qa1", path="/desktop")
    await see(user, "Not allowed: you do not have permission to open this page.")
    await user.should_not_see(marker="desk-sign-in")


async def test_without_telephony_the_desktop_says_so(user: User) -> None:
    await log_in(user, "agent1", path="/desktop")
    await see(user, "Telephony is not running")


async def test_a_user_without_agent_profile_is_told(user: User, desk: Any) -> None:
    await log_in(user, "admin", path="/desktop")
    await see(user, "You have no agent profile yet")
    await user.should_not_see(marker="desk-sign-in")


async def test_the_menu_item_opens_the_desktop(user: User, desk: Any) -> None:
    await log_in(user, "agent1")
    user.find("Agent desktop").click()
    await user.should_see(marker="desk-sign-in", retries=150)


# ------------------------------------------------------------------------------------ status functions
async def test_status_functions_follow_the_agents_status(user: User, desk: Any) -> None:
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    assert enabled(user, "desk-sign-in") and not enabled(user, "desk-ready")
    assert not any(enabled(user, f"desk-{n}") for n in ("answer", "hold", "release", "transfer", "end-wrap-up"))
    assert text(user, "desk-status").startswith("Signed out")

    user.find(marker="desk-sign-in").click()
    await see(user, "Not ready · Just signed in")
    assert enabled(user, "desk-ready") and shown(user, "desk-sign-out")
    assert not shown(user, "desk-sign-in")

    user.find(marker="desk-ready").click()
    await until(lambda: text(user, "desk-status") == "Ready")
    assert not enabled(user, "desk-ready") and enabled(user, "desk-not-ready")

    reason = element(user, "desk-reason")
    assert "no_answer" not in reason.options and "disconnected" not in reason.options
    assert reason.options["meal"] == "Meal (30:00)"
    reason.value = "rest"
    user.find(marker="desk-not-ready").click()
    await until(lambda: text(user, "desk-status") == "Not ready · Rest")
    assert agent(desk)["reason"] == "rest"

    user.find(marker="desk-study").click()
    await until(lambda: text(user, "desk-status") == "Study")
    assert not enabled(user, "desk-study")

    user.find(marker="desk-shift-out").click()
    await until(lambda: agent(desk)["status"] == "logged_out")
    await until(lambda: shown(user, "desk-shift-in"))
    user.find(marker="desk-shift-in").click()
    await until(lambda: agent(desk)["status"] == "not_ready")
    user.find(marker="desk-sign-out").click()
    await until(lambda: agent(desk)["status"] == "logged_out")
    with session():
        actions = [a["action"] for a in search_audit(actor="agent1")]
    assert "desk.shift_out" in actions and "desk.shift_in" in actions


async def test_not_ready_reason_counts_down_and_alerts_over_its_limit(user: User, desk: Any) -> None:
    settings(desk, not_ready_limits={"meal": 2.0})
    await ready_desktop(user, desk)
    element(user, "desk-reason").value = "meal"
    user.find(marker="desk-not-ready").click()
    await until(lambda: text(user, "desk-countdown").endswith("left"))
    assert text(user, "desk-countdown") in ("00:02 left", "00:01 left")
    await see(user, "Your not-ready time is over its limit")
    await until(lambda: text(user, "desk-countdown").startswith("Over the time limit by"), timeout=5)
    user.find(marker="desk-ready").click()
    await until(lambda: text(user, "desk-countdown") == "")


async def test_shortcut_keys_and_refusals_from_the_server(user: User, desk: Any) -> None:
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    press(user, "F2")  # ready before signing in: the server says why not
    await see(user, "Not possible: sign in first")
    user.find(marker="desk-sign-in").click()
    await until(lambda: agent(desk)["status"] == "not_ready")
    press(user, "F2")
    await until(lambda: agent(desk)["status"] == "ready")
    press(user, "F5")  # hold while idle
    await see(user, "Not possible: hold is possible while talking, not while idle")
    assert not enabled(user, "desk-hold")
    press(user, "F4")  # answer while nothing rings
    await see(user, "Not possible: answer is possible while")
    press(user, "F3")
    await until(lambda: agent(desk)["status"] == "not_ready")
    assert element(user, "desk-ready").props["title"] == "Ready (F2)"  # the tooltip names the key


async def test_toolbar_tooltips_are_the_buttons_titles_not_elements(user: User, desk: Any) -> None:
    """Each button's tooltip is its ``title`` (the browser's own tooltip), naming its shortcut key: no tooltip
    element per button (≈ 40 objects each, 15 % of an idle page)."""
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    toolbar = next(e for e in element(user, "desk-sign-in").ancestors() if "desk-toolbar" in e.classes)
    buttons = [e for e in toolbar.descendants() if isinstance(e, ui.button)]
    assert len(buttons) >= 17 and all(b.props.get("title") for b in buttons)
    assert not [e for e in toolbar.descendants() if isinstance(e, ui.tooltip)]
    titles = {b.props["title"] for b in buttons}
    assert {"Ready (F2)", "Not ready (F3)", "Answer (F4)", "Hold (F5)", "Release (F6)"} <= titles
    assert "Transfer" in titles


async def test_auto_answer_needs_its_permission_and_is_recorded(user: User, desk: Any) -> None:
    await ready_desktop(user, desk)
    user.find(marker="desk-auto-answer").click()
    await until(lambda: agent(desk)["auto_answer"] is True)
    user.find(marker="desk-auto-answer").click()
    await until(lambda: agent(desk)["auto_answer"] is False)
    with session():
        assert [a["detail"]["on"] for a in search_audit(actor="agent1", action="desk.auto_answer")] == [False, True]


# ---------------------------------------------------------------------------------------------- calls
async def test_a_call_pops_is_answered_held_muted_released_and_filed(
        user: User, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int) -> None:
    settings(desk, wrap_up_s=300.0)
    await ready_desktop(user, desk)
    phone = await offered(user, desk, ui_platform, callers)
    # the screen-pop: customer, tier, region, trail, outage notice, history, work orders
    await see(user, "Zhang Wei")
    assert text(user, "pop-caller") == GOLD and text(user, "pop-tier") == "Gold card"
    assert text(user, "pop-name") == "Zhang Wei" and text(user, "pop-region") == "Region: Changsha"
    serial = text(user, "pop-serial")
    call_id = agent(desk)["call"]["call_id"]
    assert len(serial) == 16 and serial.endswith(f"{call_id:08d}")
    trail = element(user, "pop-trail").rows
    assert [r["node"] for r in trail][:2] == ["answer", "outage"]
    menu = next(r for r in trail if r["node"] == "main_menu")
    assert menu["digits"] == "0" and menu["next"] == "to_agent" and menu["type"] == "Menu"  # worded, not a code
    assert any("customer.tier in {gold, silver}" in r["rule"] for r in trail)
    await see(user, "Outage notice: Fibre cut in Changsha")
    assert [r["serial_no"] for r in element(user, "pop-history").rows] == ["2026100100000001"]
    orders = element(user, "pop-orders").rows
    assert orders[0]["order_no"] == "WO-DESK-1" and orders[0]["open"] is True
    with session():
        reads = search_audit(actor="agent1", action="read")
    assert any(r["entity"] == "customer" and r["record_id"] == str(gold_customer) for r in reads)

    # ringing: only answer (and the status functions) make sense
    assert enabled(user, "desk-answer") and not enabled(user, "desk-hold") and not enabled(user, "desk-release")
    user.find(marker="desk-answer").click()
    await until(lambda: agent(desk)["state"] == "talking")
    assert phone.state == "talking"
    await until(lambda: shown(user, "desk-file"))
    [created] = contact_records(ui_platform, serial)
    assert created["customer"] == gold_customer and created["agent"] == "agent1"
    assert field(user, "customer").options == {gold_customer: "Zhang Wei"}  # the customer's name, not its key
    assert created["caller_number"] == GOLD and "main_menu (menu) 0 → to_agent" in created["ivr_trail"]
    assert not enabled(user, "desk-file") and not enabled(user, "desk-answer")
    await see(user, "Being written during the call")

    user.find(marker="desk-hold").click()
    await until(lambda: agent(desk)["state"] == "hold")
    assert phone.held and text(user, "desk-state") == "On hold"
    await until(lambda: element(user, "desk-hold").text == "Unhold")
    assert not enabled(user, "desk-consult")  # internal help only while talking
    user.find(marker="desk-hold").click()
    await until(lambda: agent(desk)["state"] == "talking")
    assert not phone.held
    user.find(marker="desk-mute").click()
    await until(lambda: phone.muted)
    await until(lambda: element(user, "desk-mute").text == "Unmute")
    user.find(marker="desk-mute").click()
    await until(lambda: not phone.muted)
    await until(lambda: text(user, "desk-current-talk") not in ("", "00:00"), timeout=5)

    user.find(marker="desk-release").click()
    await until(lambda: agent(desk)["state"] == "wrap_up")
    assert phone.state == "idle"
    await see(user, "Wrap-up: complete and file it")
    assert enabled(user, "desk-file") and enabled(user, "desk-end-wrap-up")
    assert not shown(user, "desk-sign-in") and enabled(user, "desk-sign-out")
    field(user, "remarks").value = "Signal restored after a restart of the box"
    field(user, "consultation_types").value = ["tariffs"]
    user.find(marker="desk-file").click()
    await see(user, "Contact record filed")
    [filed] = contact_records(ui_platform, serial)
    assert filed["ended_at"] is not None and filed["remarks"] == "Signal restored after a restart of the box"
    assert filed["consultation_types"] == ["tariffs"]

    press(user, "F7")
    await until(lambda: agent(desk)["state"] == "idle")
    assert agent(desk)["calls_answered"] == 1 and text(user, "desk-answered") == "1"


async def consult_agent2(user: User, desk: Any) -> None:
    user.find(marker="desk-consult").click()
    await user.should_see(marker="consult-agent")
    consult = element(user, "consult-agent")
    assert list(consult.options) == ["1002"]  # the other signed-in agent
    consult.value = "1002"
    user.find(marker="consult-go").click()
    await until(lambda: agent(desk)["consulting"] == "1002")
    await until(lambda: shown(user, "desk-cancel-consult"))


async def test_consultation_then_cancel_conference_or_transfer(user: User, desk: Any, ui_platform: Platform,
                                                              callers: list[Caller], gold_customer: int) -> None:
    settings(desk, wrap_up_s=300.0)
    agent2 = actor_for(find_user("agent2"), ui_platform.metadata)  # type: ignore[arg-type]
    desk.sign_in(agent2)
    desk.not_ready(agent2, "meal")  # signed in but takes no calls: can be consulted
    await ready_desktop(user, desk)
    phone = await talking(user, desk, ui_platform, callers)

    await consult_agent2(user, desk)
    assert phone.consulting == "PJSIP/1002" and phone.held and agent(desk)["state"] == "hold"
    assert not enabled(user, "desk-hold") and not enabled(user, "desk-transfer") and not enabled(user, "desk-consult")
    assert enabled(user, "desk-complete-transfer") and enabled(user, "desk-conference")
    user.find(marker="desk-cancel-consult").click()
    await until(lambda: agent(desk)["consulting"] is None)
    await until(lambda: not shown(user, "desk-cancel-consult"))
    assert agent(desk)["state"] == "talking" and not phone.held

    await consult_agent2(user, desk)
    user.find(marker="desk-conference").click()  # three-way call
    await until(lambda: agent(desk)["consulting"] is None)
    assert phone.conference == {"PJSIP/1002"} and agent(desk)["state"] == "talking"

    await consult_agent2(user, desk)
    user.find(marker="desk-complete-transfer").click()
    await until(lambda: agent(desk)["state"] == "wrap_up")
    with session():
        actions = [a["action"] for a in search_audit(actor="agent1") if a["action"].startswith("desk.")]
    assert {"desk.consult", "desk.cancel_consult", "desk.conference", "desk.complete_transfer"} <= set(actions)


async def test_transfer_to_a_queue(user: User, desk: Any, ui_platform: Platform, callers: list[Caller],
                                   gold_customer: int) -> None:
    settings(desk, wrap_up_s=300.0)
    await ready_desktop(user, desk)
    await talking(user, desk, ui_platform, callers)
    user.find(marker="desk-transfer").click()
    await user.should_see(marker="transfer-kind")
    kind = element(user, "transfer-kind")
    assert set(kind.options) == {"agent", "queue", "ivr"}  # agent1 may not transfer out (agent.transfer_out)
    target = element(user, "transfer-target")
    assert target.options["general"] == "General service"
    kind.value = "ivr"
    assert target.options["main"] == "Main service line"
    kind.value = "queue"
    target.value = "general"
    user.find(marker="transfer-go").click()
    await until(lambda: agent(desk)["state"] == "wrap_up")
    with session():
        transfers = search_audit(actor="agent1", action="desk.transfer")
    assert transfers and transfers[0]["detail"]["target"] == "queue:general"


async def test_a_reloaded_desktop_resumes_the_call(user: User, desk: Any, ui_platform: Platform,
                                                   callers: list[Caller], gold_customer: int) -> None:
    await ready_desktop(user, desk)
    await talking(user, desk, ui_platform, callers)
    serial = text(user, "pop-serial")
    await user.open("/desktop")  # a reload: a new page on the same agent
    await until(lambda: shown(user, "desk-file"))
    await see(user, "Zhang Wei")
    assert text(user, "pop-serial") == serial and text(user, "desk-state") == "Talking"
    assert enabled(user, "desk-hold") and enabled(user, "desk-release")
    assert len(contact_records(ui_platform, serial)) == 1  # found again, not created twice
    assert agent(desk)["status"] == "ready"
    user.find(marker="shortcut-work_order").click()  # a new work order for this call, in the work area
    await until(lambda: shown(user, "field-order_no"))
    order = form_values(user, "order_no")
    assert order["contact"] == serial and order["customer"] == gold_customer and order["agent"] == "agent1"
    assert order["city"] == "changsha" and order["accepted_at"] and not order["order_no"]


async def test_a_vanished_desktop_makes_the_agent_not_ready_after_the_grace_period(user: User, desk: Any) -> None:
    settings(desk, browser_grace_s=0.3)
    await ready_desktop(user, desk)
    assert user.client is not None
    for socket in list(user.client._socket_to_document_id):  # the browser goes away
        user.client.handle_disconnect(socket)
    await until(lambda: agent(desk)["status"] == "not_ready")
    assert agent(desk)["reason"] == "disconnected"


async def test_a_reconnect_before_the_old_socket_ends_keeps_the_agent_present(user: User, desk: Any) -> None:
    """On a busy server the browser's new socket can be handled before the end of its old one."""
    from helpline.ui.views.desktop import _PRESENT

    settings(desk, browser_grace_s=0.3)
    await ready_desktop(user, desk)
    assert user.client is not None and user.client.has_socket_connection
    for handler in user.client.disconnect_handlers:  # the old socket's end, while the new one is live
        handler()
    assert any(user.client.id in clients for clients in _PRESENT.values())
    await asyncio.sleep(0.6)
    assert agent(desk)["status"] == "ready"


async def test_a_missed_call_and_a_caller_who_hangs_up_are_told(user: User, desk: Any, ui_platform: Platform,
                                                                callers: list[Caller], gold_customer: int) -> None:
    await ready_desktop(user, desk)
    await offered(user, desk, ui_platform, callers)
    callers[0].switch.hang_up()
    await see(user, "The caller hung up.")
    await until(lambda: agent(desk)["state"] == "idle")
    assert not enabled(user, "desk-answer")


async def test_an_unknown_caller_is_found_and_linked(user: User, desk: Any, ui_platform: Platform,
                                                     callers: list[Caller], gold_customer: int) -> None:
    await ready_desktop(user, desk)
    await offered(user, desk, ui_platform, callers, STRANGER)
    await user.should_see(marker="pop-unknown", retries=100)
    assert text(user, "pop-name") == "Caller not recognised" and text(user, "pop-tier") == "Ordinary"
    user.find(marker="desk-answer").click()
    await until(lambda: shown(user, "desk-file"))
    serial = text(user, "pop-serial")
    assert contact_records(ui_platform, serial)[0]["customer"] is None
    element(user, "pop-search").value = "Zhang Wei"
    user.find(marker="pop-search-go").click()
    await until(lambda: shown(user, "pop-search-result"))
    user.find(marker="pop-search-result").click()
    await until(lambda: text(user, "pop-name") == "Zhang Wei")
    await until(lambda: contact_records(ui_platform, serial)[0]["customer"] == gold_customer)


async def test_screen_pop_reads_as_the_agent(desk: Any, ui_platform: Platform, callers: list[Caller],
                                             gold_customer: int) -> None:
    """The pop's customer read is the agent's: agent2 (Yueyang, Yiyang, Changde) does not see a Changsha
    customer; the pop still shows the tier the IVR found, and the trail."""
    agent2 = actor_for(find_user("agent2"), ui_platform.metadata)  # type: ignore[arg-type]
    desk.sign_in(agent2)
    desk.ready(agent2)
    callers.append(Caller(ui_platform, desk, GOLD))
    phone = desk.phones.phone("PJSIP/1002")
    await until(lambda: phone.state == "ringing")
    call_id = desk.view("1002")["call"]["call_id"]
    pop = await asyncio.to_thread(screen_pop, ui_platform, agent2, call_id, language="en")
    assert pop["customer"] is None and pop["customer_outside"] is True
    assert pop["tier"] == "gold" and pop["tier_colour"] == "amber-8" and pop["history"] == []
    assert any(step["digits"] == "0" for step in pop["trail"])


# ------------------------------------------------------------------------------------------------ texts
def test_desk_texts_exist_in_both_languages_with_the_same_placeholders() -> None:
    import re
    from pathlib import Path

    import yaml

    locale = Path(__file__).parents[2] / "locale"
    en, zh = (yaml.safe_load((locale / lang / "desk.yaml").read_text(encoding="utf-8")) for lang in ("en", "zh_CN"))
    assert list(en) == list(zh) and all(key.startswith("desk.") for key in en)
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", zh[key])), key


async def test_the_desktop_speaks_the_agents_language_also_for_pushed_events(user: User, desk: Any) -> None:
    from helpline.data.system import User as UserRow

    with session():
        UserRow.update(language="zh_CN").where(UserRow.username == "agent1").execute()
    settings(desk, not_ready_limits={"rest": 0.5})
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    assert element(user, "desk-sign-in").text == "签入" and element(user, "desk-answer").text == "来话应答"
    user.find(marker="desk-sign-in").click()
    await until(lambda: text(user, "desk-status") == "示忙 · 刚签入")
    element(user, "desk-reason").value = "rest"
    user.find(marker="desk-not-ready").click()
    await see(user, "示忙时间已超过时限，已通知班长。")  # an alert pushed from the router's thread
