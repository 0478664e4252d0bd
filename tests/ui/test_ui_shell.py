"""The shell: menus filtered by role, tabs, language switch, and direct URLs refused on the server."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.database import session
from helpline.security.audit import search_audit
from helpline.services.platform import Platform


async def test_menu_items_follow_the_role(user: User) -> None:
    await log_in(user, "agent1")
    await user.should_see("Customers")
    await user.should_see("Customers by tier")
    await user.should_not_see("Audit log")
    await user.should_not_see("Users")


async def test_admin_sees_administration(user: User) -> None:
    await log_in(user, "admin")
    await user.should_see("Audit log")
    await user.should_see("Users")


async def test_direct_url_without_permission_is_refused_and_audited(user: User) -> None:
    await log_in(user, "agent1", path="/page/audit")
    await see(user, "Not allowed: you do not have permission to open this page.")
    await user.open("/page/users")
    await see(user, "Not allowed: you do not have permission to open this page.")
    await user.open("/query/no_such_query")
    await see(user, "Not allowed: you do not have permission to open this page.")
    with session():
        denied = search_audit(actor="agent1", action="denied")
    assert {d["detail"]["name"] for d in denied} == {"audit", "users", "no_such_query"}


async def test_a_query_needs_a_menu_item_that_grants_it(user: User) -> None:
    from helpline.security.actor import Actor
    from helpline.services.auth import create_user

    create_user(Actor.system(), "reader", "reader-pass-1", [], language="en")
    await log_in(user, "reader", "reader-pass-1", path="/query/customers_by_tier")
    await see(user, "Not allowed: you do not have permission to open this page.")
    await user.should_not_see("Customers")


async def test_an_administrator_opens_a_published_query_not_yet_on_a_menu(user: User, ui_platform: Platform) -> None:
    from helpline.security.actor import Actor
    from helpline.services.auth import create_user

    live = ui_platform.store.current("query", "customers_by_tier")
    assert live is not None and live.content is not None
    fresh = {**live.content, "name": "fresh_query", "title": {"en": "Fresh query", "zh_CN": "新查询"}}
    admin = Actor("admin", roles=("administrator",)).bind(ui_platform.metadata)
    ui_platform.publish("query", "fresh_query", fresh, actor=admin, comment="not on a menu yet")
    await log_in(user, "admin", path="/query/fresh_query")
    await see(user, "Fresh query")
    await user.should_not_see("Not allowed: you do not have permission to open this page.")
    # others still need a menu grant: agent1 may read customers but no menu item opens this query
    create_user(admin, "reader2", "reader-pass-1", ["agent"], language="en")
    user.find(marker="logout").click()
    await log_in(user, "reader2", "reader-pass-1", path="/query/fresh_query")
    await see(user, "Not allowed: you do not have permission to open this page.")


async def test_tabs_open_switch_and_keep_their_state(user: User) -> None:
    await log_in(user, "agent1")
    user.find("Customers").click()
    search = user.find(marker="quick-search")
    search.type("zzz-not-there")
    box = search.elements.pop()
    user.find("Work orders").click()
    await user.should_see("Work orders")
    tabs = user.find(ui.tabs).elements.pop()
    assert len(tabs.default_slot.children) == 3  # home, customers, work orders
    user.find("Customers").click()  # back to the open tab: the typed search is still there
    assert box.value == "zzz-not-there" and box.visible


async def test_language_switch_is_remembered(user: User) -> None:
    await log_in(user, "agent2")
    select = user.find(marker="language").elements.pop()
    select.value = "zh_CN"
    await user.should_see(marker="logout", retries=50)
    await see(user, "欢迎，座席二号")
    from helpline.data.system import User as UserRow

    with session():
        assert UserRow.get(UserRow.username == "agent2").language == "zh_CN"
