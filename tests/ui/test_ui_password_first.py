"""A user with a generated or reset password sees only the password change until it is changed."""

from __future__ import annotations

from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.security.actor import Actor
from helpline.services import auth
from helpline.ui.context import platform


async def test_a_reset_password_must_be_changed_before_anything_else(user: User) -> None:
    admin = Actor("admin", roles=("administrator",)).bind(platform().metadata)
    new = auth.reset_password(admin, "agent1")
    await log_in(user, "agent1", new, path="/screen/customer_list", expect_shell=False)
    await user.should_see(marker="password-first", retries=150)
    await user.should_see("Please choose a new password now.")
    await user.should_not_see(marker="logout")
    await user.should_not_see(marker="shell-menu")
    await user.open("/screen/customer_list")  # a direct URL shows the same page, not the list
    await user.should_see(marker="password-first", retries=150)
    await user.should_not_see(marker="shell-menu")
    user.find(marker="old-password").type(new)
    user.find(marker="new-password").type("agent1-own-pass")
    user.find(marker="repeat-password").type("agent1-own-pass")
    user.find(marker="change-password").click()
    await user.should_see(marker="logout", retries=150)
    assert not auth.must_change_password("agent1")
    assert auth.authenticate("agent1", "agent1-own-pass").username == "agent1"


async def test_users_with_a_given_password_go_straight_in(user: User) -> None:
    await log_in(user, "agent2")
    await see(user, "Welcome")
