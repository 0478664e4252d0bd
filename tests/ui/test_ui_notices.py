"""The notice bell and page: a notice written on another thread (as a transition or the SLA timer writes it)
updates the open page's unread count without a reload, only for its recipient; the bell opens the notices
page, which marks one or all read (and the count follows); administrators see failed deliveries on the jobs
page."""

from __future__ import annotations

import asyncio
import threading

import pytest
from nicegui import ui
from nicegui.testing import User
from ui_helpers import loaded_table, log_in, see

from helpline.data.database import session, write_transaction
from helpline.data.notices import Notice, NoticeDelivery
from helpline.data.system import User as UserRow
from helpline.security.audit import search_audit
from helpline.services.notices import notify
from helpline.services.platform import Platform
from helpline.ui import live_notices


def notify_from_a_thread(username: str, title: str) -> None:
    """Write a notice in a transaction of a worker thread (as the engine does)."""
    def work() -> None:
        with session(), write_transaction():
            notify([username], title, link=("work_order", 1), kind="custom")
    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)


async def badge(user: User, expected: str) -> None:
    (element,) = [e for e in user.client.elements.values() if "notice-count" in e._markers]  # hidden at 0
    assert isinstance(element, ui.badge)
    for _ in range(200):
        if (element.text if element.visible else "") == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bell shows {element.text!r} (visible: {element.visible}), not {expected!r}")


async def test_the_bell_counts_live_and_the_page_marks_read(user: User, ui_platform: Platform) -> None:
    await log_in(user, "agent1")
    await user.should_see(marker="notice-bell")
    await badge(user, "")
    notify_from_a_thread("agent1", "Order WO-1 moved to you")
    await badge(user, "1")  # pushed: no reload, well before the 30 s poll
    notify_from_a_thread("agent2", "Not for agent1")
    notify_from_a_thread("agent1", "Order WO-2 is overdue")
    await badge(user, "2")
    user.find(marker="notice-bell").click()
    await user.should_see(marker="notices-table", retries=100)
    table = user.find(marker="notices-table").elements.pop()
    assert isinstance(table, ui.table)
    for _ in range(100):
        if len(table.rows) == 2:
            break
        await asyncio.sleep(0.05)
    assert [r["title"] for r in table.rows] == ["Order WO-2 is overdue", "Order WO-1 moved to you"]
    assert all(r["read"] == "unread" for r in table.rows)
    table.selected = [table.rows[1]]
    user.find(marker="notices-mark-read").click()
    await see(user, "1 notice(s) marked read.")
    await badge(user, "1")
    user.find(marker="notices-mark-all-read").click()
    await badge(user, "")
    with session():
        assert Notice.select().where((Notice.username == "agent1") & Notice.read_at.is_null()).count() == 0
        assert Notice.select().where((Notice.username == "agent2") & Notice.read_at.is_null()).count() == 1


async def test_a_notice_another_process_wrote_shows_at_the_next_poll(user: User, ui_platform: Platform,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_notices, "POLL_S", 0.3)
    monkeypatch.setattr(live_notices, "_poller", None)  # the process's poll loop starts on this test's loop
    with session(), write_transaction():  # rows written without notify(): nothing is pushed, as from another process
        Notice.create(username="agent1", kind="custom", title_key="Written elsewhere")
    await log_in(user, "agent1")
    await user.should_see(marker="notice-bell")
    await badge(user, "1")  # the page's first count
    with session(), write_transaction():
        Notice.create(username="agent1", kind="custom", title_key="Written elsewhere too")
    await badge(user, "2")  # only the poll re-counts
    assert live_notices._poller is not None and not live_notices._poller.done()


async def test_admin_sees_failed_deliveries_on_the_jobs_page(user: User, ui_platform: Platform) -> None:
    ids = notify(["agent1"], "Line down", kind="custom")
    with session():
        NoticeDelivery.create(notice_id=ids[0], channel="email", address="agent1@example.test", status="failed",
                              attempts=5, next_attempt_at=None, last_error="SendError: SMTP refused")
    await log_in(user, "admin", path="/page/jobs")
    await see(user, "Notices that could not be sent")
    table = user.find(marker="failed-deliveries").elements.pop()
    assert isinstance(table, ui.table)
    for _ in range(100):
        if table.rows:
            break
        await asyncio.sleep(0.05)
    row = table.rows[0]
    assert (row["user"], row["attempts"], row["error"]) == ("agent1", 5, "SendError: SMTP refused")
    assert row["kind"] == "custom"  # a kind the locale does not name: its code
    table.selected = [row]
    user.find(marker="failed-retry").click()  # no mail server in this process: tried, and due again
    await see(user, f"Delivery {row['id']}: not sent yet, will retry.")
    with session():
        again = NoticeDelivery.get_by_id(row["id"])
        assert search_audit(actor="admin", action="retry_delivery")[0]["record_id"] == str(row["id"])
    assert (again.status, again.attempts) == ("pending", 1) and "not set up" in again.last_error
    for _ in range(100):
        if not table.rows:
            break
        await asyncio.sleep(0.05)
    assert table.rows == []


async def test_the_profile_sets_where_notices_go(user: User, ui_platform: Platform) -> None:
    await log_in(user, "agent1", path="/page/profile")
    await user.should_see(marker="notice-email", retries=100)
    user.find(marker="notice-email").type("agent1-at-centre")
    user.find(marker="notice-contact-save").click()
    await see(user, "That is not an e-mail address.")
    user.find(marker="notice-email").clear().type("agent1@centre.test")
    user.find(marker="notice-phone").type("13800000009")
    user.find(marker="notice-contact-save").click()
    await see(user, "Saved.")
    with session():
        row = UserRow.get(UserRow.username == "agent1")
    assert (row.email, row.phone) == ("agent1@centre.test", "13800000009")


async def test_an_administrator_sets_a_users_addresses(user: User, ui_platform: Platform) -> None:
    await log_in(user, "admin", path="/page/users")
    table = await loaded_table(user, "username")
    table.selected = [next(r for r in table.rows if r["username"] == "agent2")]
    user.find(marker="users-contact").click()
    await user.should_see("Where agent2's notices also go", retries=100)
    user.find(marker="notice-phone").type("+86 138 0000 0022")
    user.find(marker="notice-contact-save").click()
    await see(user, "Saved.")
    with session():
        row = UserRow.get(UserRow.username == "agent2")
    assert (row.email, row.phone) == (None, "+8613800000022")
