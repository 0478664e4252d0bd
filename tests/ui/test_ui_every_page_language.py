"""Every page speaks one language: each menu target, each list's form and each built-in page, opened as the
administrator in English and in Chinese, shows no text of the other language — no CJK character in the English
UI, no English UI word (a value of the en locale that Chinese words differently) in the Chinese UI — apart from
user data (records' values, users' names) — and Quasar's own texts use the same language."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from nicegui import ui
from nicegui.element import Element
from nicegui.testing import User
from ui_helpers import log_in

from helpline.data.database import session
from helpline.data.system import User as UserRow
from helpline.security.actor import PermissionDenied
from helpline.services import routing_revisions
from helpline.services.access import require_open
from helpline.services.auth import actor_for, find_user
from helpline.services.platform import Platform
from helpline.ui.i18n import LANGUAGES, QUASAR_LANGUAGES, catalogue
from helpline.ui.shell import PAGE_VIEWS
from telephony.monitoring import instance_figures

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
TEXT_PROPS = ("label", "placeholder", "hint", "no-data-label", "caption", "title", "error-message", "prefix", "suffix")
LANGUAGE_NEUTRAL = {*LANGUAGES.values(), "Helpline"}
"""Texts the same in every language: the language switch's names of the languages."""
FILE_NAME = re.compile(r"^[\w.-]+\.(yaml|yml|wav|xlsx)$")


def targets(platform: Platform) -> list[str]:
    """The URL of each menu target the administrator may open, each list's form and each built-in page."""
    metadata = platform.metadata
    with session():
        user = find_user("admin")
        assert user is not None
        actor = actor_for(user, metadata)
    urls: dict[str, None] = {}
    for menu in metadata.menus.values():
        for item in menu.items:
            if item.target is None or item.target[0] not in ("screen", "query", "page"):
                continue
            kind, name = item.target
            try:
                require_open(actor, metadata, kind, name)  # type: ignore[arg-type]
            except PermissionDenied:
                continue
            urls[f"/{kind}/{name}"] = None
            screen = metadata.screens.get(name) if kind == "screen" else None
            if screen is not None and screen.form:
                urls[f"/record/{screen.form}/new"] = None
    for name in PAGE_VIEWS:
        urls[f"/page/{name}"] = None
    return list(urls)


def user_data(platform: Platform) -> list[str]:
    """Every text value stored in an entity or a user's name (longest first, so that a name inside an address
    goes with the address)."""
    values: set[str] = set()
    with session():
        for entity in platform.metadata.entities:
            for row in platform.models[entity].select().dicts():
                values.update(v for v in row.values() if isinstance(v, str) and v.strip())
        values.update(u.display_name for u in UserRow.select() if u.display_name)
        values.update(u.username for u in UserRow.select())  # sign-in names (agent1) on the departments page
    values.update(r["author"] for r in routing_revisions.history(platform) if r["author"])  # 'system' published
    figures = instance_figures(platform)  # the system page: the disks' paths and the policy's identifier
    values.update(d["path"] for d in figures["host"]["disks"].values())
    if figures["router"] is not None:
        values.add(figures["router"]["policy"])
    return sorted(values, key=len, reverse=True)


def texts(elements: Iterator[Element]) -> Iterator[tuple[str, str]]:
    """(where, text) of every text the page renders: element texts, captions, choices and table headers; not
    table rows or charts (data)."""
    for element in elements:
        where = type(element).__name__
        text = getattr(element, "text", None)
        if isinstance(text, str) and text.strip():
            yield where, text
        for prop in TEXT_PROPS:
            value = element.props.get(prop)
            if isinstance(value, str) and value.strip():
                yield f"{where}[{prop}]", value
        if isinstance(element, ui.select):  # category labels and the page's own choices; linked records are data
            options = element.options
            for option in options.values() if isinstance(options, dict) else options:
                if isinstance(option, str) and option.strip():
                    yield f"{where}.option", option
        if isinstance(element, ui.table):
            for column in element.columns:
                if isinstance(column.get("label"), str):
                    yield f"{where}.column", column["label"]


WORD = re.compile(r"[A-Za-z][a-z]{2,}")


def english_words() -> set[str]:
    """The words of the en locale that the Chinese locale never uses (not IVR, Excel, ...): an English UI word
    showing in the Chinese UI is one of them."""
    def words(values: Any) -> set[str]:
        return {w.lower() for v in values for w in WORD.findall(re.sub(r"\{[^}]*\}", " ", v))}

    return words(catalogue("en").values()) - words(catalogue("zh_CN").values())


def leaks(language: str, shown: list[tuple[str, str]], data: list[str], english: set[str]) -> list[str]:
    found = []
    for where, text in shown:
        rest = text
        for value in data:
            if value in rest:
                rest = rest.replace(value, " ")
        rest = rest.strip()
        if not rest or rest in LANGUAGE_NEUTRAL or FILE_NAME.match(rest):
            continue
        chinese_in_english = language == "en" and CJK.search(rest)
        english_in_chinese = language == "zh_CN" and any(w.lower() in english for w in WORD.findall(rest))
        if chinese_in_english or english_in_chinese:
            found.append(f"{where}: {text!r}")
    return found


@pytest.mark.parametrize("language", ["en", "zh_CN"])
async def test_every_page_speaks_one_language(user: User, ui_platform: Platform, desk: Any, language: str) -> None:
    with session():
        UserRow.update(language=language).where(UserRow.username == "admin").execute()
    data = user_data(ui_platform)
    english = english_words()
    await log_in(user, "admin")
    problems: dict[str, list[str]] = {}
    for url in targets(ui_platform):
        client = await user.open(url)
        await user.should_see(marker="logout", retries=100)
        await asyncio.sleep(0.4)  # lists and queries fill in on a worker thread
        assert client.page.resolve_language() == QUASAR_LANGUAGES[language], url
        found = leaks(language, list(texts(iter(list(client.elements.values())))), data, english)
        if found:
            problems[url] = sorted(set(found))
    assert not problems, "\n".join(f"{url}: {found}" for url, found in problems.items())
