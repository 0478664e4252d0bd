"""Which language a page speaks: the signed-in user's saved choice, else the browser's Accept-Language, else
the server default (HELPLINE_LANGUAGE); Quasar's own texts follow it (its language pack per page)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.database import session
from helpline.data.system import User as UserRow
from helpline.ui import i18n


@pytest.fixture
def default_language() -> Iterator[None]:
    """Restore the server default a test changed."""
    before = i18n.default_language()
    yield
    i18n.set_default_language(before)


def test_accept_language_picks_the_first_language_we_have() -> None:
    assert i18n.accepted_language("en-GB,en;q=0.9,zh-CN;q=0.8") == "en"
    assert i18n.accepted_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh_CN"
    assert i18n.accepted_language("de-DE,de;q=0.9,zh-Hans;q=0.5,en;q=0.4") == "zh_CN"
    assert i18n.accepted_language("en;q=0.3, zh-TW;q=0.7") == "zh_CN"
    assert i18n.accepted_language("de, fr;q=0.8") is None
    assert i18n.accepted_language("zh;q=0, en;q=0.1") == "en"
    assert i18n.accepted_language("") is None


def test_an_unknown_server_default_is_refused(default_language: None) -> None:
    with pytest.raises(ValueError, match="HELPLINE_LANGUAGE must be one of zh_CN, en"):
        i18n.set_default_language("fr")


async def test_login_page_speaks_the_browsers_language(user: User) -> None:
    user.http_client.headers["Accept-Language"] = "en-US,en;q=0.9"
    client = await user.open("/login")
    await user.should_see("Agent ID")
    await user.should_not_see("工号")
    assert client.page.resolve_language() == "en-US"


async def test_login_page_in_chinese_for_a_chinese_browser(user: User, default_language: None) -> None:
    i18n.set_default_language("en")
    user.http_client.headers["Accept-Language"] = "zh-CN,zh;q=0.9"
    client = await user.open("/login")
    await user.should_see("工号")
    assert client.page.resolve_language() == "zh-CN"


async def test_without_accept_language_the_server_default(user: User, default_language: None) -> None:
    i18n.set_default_language("en")
    client = await user.open("/login")
    await user.should_see("Agent ID")
    assert client.page.resolve_language() == "en-US"


async def test_a_user_without_a_choice_gets_the_browsers_language_and_a_choice_wins(user: User) -> None:
    with session():
        UserRow.update(language="").where(UserRow.username == "agent1").execute()
    user.http_client.headers["Accept-Language"] = "zh-CN"
    await log_in(user, "agent1")
    await see(user, "欢迎，座席一号")
    user.http_client.headers["Accept-Language"] = "en"
    client = await user.open("/")
    await see(user, "Welcome, 座席一号")
    assert client.page.resolve_language() == "en-US"
    with session():
        UserRow.update(language="zh_CN").where(UserRow.username == "agent1").execute()
    await log_in(user, "agent1")  # the saved choice is read at sign-in
    client = await user.open("/")
    await see(user, "欢迎，座席一号")
    assert client.page.resolve_language() == "zh-CN"


async def test_new_users_have_no_saved_choice() -> None:
    from helpline.security.actor import Actor
    from helpline.services.auth import create_user

    assert create_user(Actor.system(), "fresh", "fresh-pass-1", ["agent"]).language == ""
