"""Bulletins and notes in the web UI (issue 17 items 4 and 5), with NiceGUI's simulated user: a must-read
bulletin shown on the desktop keeps agent1 from going ready (the server refuses, the desktop says why) until
the acknowledge button is pressed; an administrator publishes from the bulletins page (a bulletin to nobody
refused with the message) and sees who has not read it; notes opened from the desktop toolbar with F8, written,
found by the search, and never shown to another user."""

from __future__ import annotations

from typing import Any

from desk_helpers import agent, element, press, shown, until
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services.platform import Platform

SYSTEM = Actor.system()


async def test_must_read_bulletin_blocks_ready_until_acknowledged(user: User, ui_platform: Platform,
                                                                  desk: Any) -> None:
    ui_platform.bulletins.publish(SYSTEM, "必读：今晚割接", "22:00 起系统割接，请提前保存工单。", roles=["agent"],
                                  must_read=True)
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    await user.should_see("必读：今晚割接", retries=100)  # the strip shows it at once
    user.find(marker="desk-sign-in").click()
    await until(lambda: agent(desk)["status"] == "not_ready")
    user.find(marker="desk-ready").click()
    await see(user, "acknowledge the must-read bulletin '必读：今晚割接' first")
    assert agent(desk)["status"] == "not_ready"
    press(user, "F2")  # the shortcut asks the server too
    await until(lambda: agent(desk)["status"] == "not_ready")
    user.find(marker="bulletin-ack").click()
    await until(lambda: not shown(user, "bulletin-ack"))
    user.find(marker="desk-ready").click()
    await until(lambda: agent(desk)["status"] == "ready")


async def test_admin_publishes_and_sees_who_has_not_read(user: User, ui_platform: Platform) -> None:
    await log_in(user, "admin", path="/page/bulletins")
    await user.should_see(marker="bulletin-form", retries=100)
    user.find(marker="bulletin-title").type("Nobody's bulletin")
    user.find(marker="bulletin-body").type("text")
    user.find(marker="bulletin-publish").click()
    await see(user, "A bulletin sent to nobody")
    assert ui_platform.bulletins.published(SYSTEM) == []
    element(user, "bulletin-roles").value = ["agent"]
    user.find(marker="bulletin-must-read").click()
    user.find(marker="bulletin-publish").click()
    await see(user, "The bulletin is published")
    [published] = ui_platform.bulletins.published(SYSTEM)
    assert published.must_read and published.targets == [("role", "agent")]
    ui_platform.bulletins.acknowledge(Actor("agent1", roles=("agent",)).bind(ui_platform.metadata), published.id)
    table = element(user, "bulletins-published")
    await until(lambda: len(table.rows) == 1)
    table.selected = [table.rows[0]]
    user.find(marker="bulletin-receipts").click()
    await user.should_see(marker="receipt-unread", retries=100)
    unread = str(element(user, "receipt-unread").text)
    assert "agent2" in unread and "agent1" not in unread
    user.find(marker="bulletin-withdraw").click()  # the row is still selected
    await see(user, "The bulletin has ended")
    agent2 = Actor("agent2", roles=("agent",)).bind(ui_platform.metadata)
    assert ui_platform.bulletins.pending_must_read(agent2) == []


async def test_notes_from_the_desktop_key_are_private(user: User, ui_platform: Platform, desk: Any) -> None:
    other = Actor("agent2", roles=("agent",)).bind(ui_platform.metadata)
    ui_platform.notes.save(other, "agent2 的私人便笺", "机顶盒 密码 123")
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    press(user, "F8")
    await user.should_see(marker="notes-dialog", retries=100)
    await user.should_see(marker="notes-none", retries=100)
    user.find(marker="note-title").type("机顶盒重启步骤")
    user.find(marker="note-body").type("先断电十秒")
    user.find(marker="note-save").click()
    await see(user, "Note saved.")
    await user.should_see("机顶盒重启步骤", retries=100)
    user.find(marker="notes-search").type("机顶盒").trigger("keydown.enter")
    await user.should_see("机顶盒重启步骤", retries=100)
    await user.should_not_see("agent2 的私人便笺")
    assert [n.title for n in ui_platform.notes.notes(other)] == ["agent2 的私人便笺"]


async def test_supervisor_declares_an_emergency(user: User, ui_platform: Platform) -> None:
    await log_in(user, "supervisor1", path="/page/bulletins")
    await user.should_see(marker="emergency-form", retries=100)
    user.find(marker="emergency-declare").click()
    await see(user, "Choose the region first.")
    element(user, "emergency-region").value = "changsha"
    user.find(marker="emergency-title").type("长沙光缆中断")
    user.find(marker="emergency-notice").type("长沙地区有线电视信号中断，正在抢修。")
    user.find(marker="emergency-declare").click()
    await see(user, "Emergency declared")
    agent1 = Actor("agent1", roles=("agent",)).bind(ui_platform.metadata)
    assert [b.title for b in ui_platform.bulletins.pending_must_read(agent1)] == ["长沙光缆中断"]
    orders = ui_platform.models["work_order"]
    outages = ui_platform.models["outage"]
    with session():
        assert [(o.type, o.status) for o in orders.select().where(orders.title == "长沙光缆中断")] == [
            ("emergency", "new")]
        assert outages.select().where(outages.region == "changsha").count() == 1


async def test_the_study_state_shows_the_bulletins(user: User, ui_platform: Platform, desk: Any) -> None:
    ui_platform.bulletins.publish(SYSTEM, "本周学习：新套餐", "新套餐资费说明", roles=["agent"])
    await log_in(user, "agent1", path="/desktop")
    await user.should_see(marker="desk-sign-in", retries=150)
    user.find(marker="desk-sign-in").click()
    await until(lambda: agent(desk)["status"] == "not_ready")
    user.find(marker="desk-study").click()
    await until(lambda: agent(desk)["status"] == "study")
    await until(lambda: shown(user, "bulletins-mine"), timeout=8)
    await user.should_see("本周学习：新套餐", retries=100)
