"""Built-in pages: category trees edited at run time, the audit log, users, the profile."""

from __future__ import annotations

import asyncio

from nicegui import ui
from nicegui.testing import User
from ui_helpers import PASSWORD, log_in, see

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.security.audit import search_audit
from helpline.services import auth
from helpline.services.platform import Platform
from helpline.ui.context import platform


async def test_category_tree_add_and_retire_at_run_time(user: User, ui_platform: Platform) -> None:
    await log_in(user, "admin", path="/page/categories")
    await user.should_see(marker="category-tree", retries=50)
    user.find(marker="category-picker").elements.pop().value = "value_tier"
    await asyncio.sleep(0.1)
    tree = user.find(marker="category-tree").elements.pop()
    tree.props["selected"] = "vip"
    for listener in tree._event_listeners.values():
        if listener.type == "update:selected":
            from nicegui.events import GenericEventArguments, handle_event

            handle_event(listener.handler, GenericEventArguments(sender=tree, client=tree.client, args="vip"))
    user.find(marker="category-add").click()
    await user.should_see(marker="category-code", retries=100)
    user.find(marker="category-code").type("jade")
    user.find(marker="category-en").type("Jade card")
    user.find(marker="category-zh").type("翡翠卡")
    user.find(marker="category-ok").click()
    await see(user, "Saved")
    jade = ui_platform.metadata.categories["value_tier"].node("jade")
    assert jade is not None and jade.parent == "vip" and jade.label.zh_CN == "翡翠卡"
    history = ui_platform.store.history("category", "value_tier")
    assert history[0].author == "admin" and history[0].comment == "add jade"
    with session():
        assert search_audit(actor="admin", action="publish")[0]["record_id"] == "value_tier"


async def test_agents_may_view_but_not_edit_categories(user: User) -> None:
    await log_in(user, "agent1", path="/page/categories")
    await user.should_see(marker="category-tree", retries=50)
    await user.should_not_see(marker="category-add")


async def test_audit_log_page(user: User) -> None:
    await log_in(user, "admin", path="/page/audit")
    await user.should_see(marker="audit-search", retries=50)
    user.find(marker="audit-search").click()
    for _ in range(50):
        rows = [r for t in user.find(ui.table).elements for r in t.rows]
        if any(r["action"] == "Log in" and r["actor"] == "admin" for r in rows):
            break
        await asyncio.sleep(0.05)
    assert any(r["action"] == "Log in" and r["actor"] == "admin" for r in rows)


async def test_users_create_reset_disable(user: User) -> None:
    admin = Actor("admin", roles=("administrator",)).bind(platform().metadata)
    auth.create_user(admin, "agent9", PASSWORD, ["agent"], regions=["yiyang"], language="en")
    new = auth.reset_password(admin, "agent9")
    assert new != PASSWORD
    await log_in(user, "agent9", new, path="/", expect_shell=False)
    await see(user, "Please choose a new password now.")
    # The login page navigates to the profile on a background task: wait until it has landed, or it can land
    # after the next open of /login and replace that page (signed out, without the message) under load.
    await user.should_see(marker="old-password", retries=150)
    auth.set_active(admin, "agent9", False)
    await log_in(user, "agent9", new, expect_shell=False)
    await see(user, "This account is disabled; ask an administrator.")
    with session():
        actions = [e["action"] for e in search_audit(entity="user", record_id="agent9")]
    assert actions == ["disable", "password_reset", "create"]


async def test_users_page_lists_users_and_needs_the_permission(user: User) -> None:
    await log_in(user, "admin", path="/page/users")
    for _ in range(50):
        rows = [r for t in user.find(ui.table).elements for r in t.rows]
        if rows:
            break
        await asyncio.sleep(0.05)
    assert {"admin", "agent1", "agent2", "supervisor1", "qa1"} <= {r["username"] for r in rows}


async def test_change_own_password(user: User) -> None:
    await log_in(user, "agent1", path="/page/profile")
    await user.should_see(marker="old-password", retries=50)
    user.find(marker="old-password").type(PASSWORD)
    user.find(marker="new-password").type("better-pass-2")
    user.find(marker="repeat-password").type("better-pass-2")
    user.find(marker="change-password").click()
    await see(user, "Password changed")
    assert auth.authenticate("agent1", "better-pass-2").username == "agent1"
