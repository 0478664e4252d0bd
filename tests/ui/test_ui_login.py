"""Sign-in: login, wrong password, lock-out, disabled users, logout, expiry, audit entries."""

from __future__ import annotations

from nicegui.testing import User
from ui_helpers import PASSWORD, log_in, see

from helpline.data.database import session
from helpline.security.audit import search_audit


async def test_login_shows_the_shell_and_is_audited(user: User) -> None:
    await log_in(user, "agent1")
    await see(user, "Welcome, 座席一号")
    await user.should_see(content="座席一号 · Agent")
    with session():
        assert search_audit(actor="agent1")[0]["action"] == "login"


async def test_pages_need_a_session(user: User) -> None:
    await user.open("/screen/customer_list")
    await user.should_see(marker="username")


async def test_wrong_password_and_lock_out_after_five(user: User) -> None:
    for _ in range(4):
        await log_in(user, "agent2", "wrong-password", expect_shell=False)
        await see(user, "工号或密码错误。")
    await log_in(user, "agent2", "wrong-password", expect_shell=False)
    await see(user, "该账号已锁定，请联系管理员。")
    await log_in(user, "agent2", PASSWORD, expect_shell=False)
    await see(user, "该账号已锁定，请联系管理员。")
    with session():
        failed = search_audit(actor="agent2", action="login_failed")
    assert len(failed) == 6 and failed[0]["detail"]["reason"] == "locked"


async def test_logout(user: User) -> None:
    await log_in(user, "qa1")
    user.find(marker="logout").click()
    await user.should_see(marker="username", retries=50)
    with session():
        assert search_audit(actor="qa1")[0]["action"] == "logout"
