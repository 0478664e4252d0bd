"""Translations from ``locale/<language>.yaml`` (flat dotted keys); English is the fallback.

Pages call :func:`t` with a key and parameters. The language is the signed-in user's saved choice (remembered
in the database and in the browser session), else the browser's ``Accept-Language``, else the server default
(``HELPLINE_LANGUAGE``); the login page, before anyone is known, skips the first. Quasar's own texts (pager,
"rows per page", dates) follow the same language (:func:`apply_quasar_language`). Metadata labels are not here:
they carry their own languages.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

import yaml

from helpline.config import shipped
from helpline.metadata.kinds import Label

if TYPE_CHECKING:
    from nicegui.language import Language

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
"""The built-in server default (``HELPLINE_LANGUAGE`` overrides it, see :func:`set_default_language`)."""
QUASAR_LANGUAGES: dict[str, Language] = {"zh_CN": "zh-CN", "en": "en-US"}
"""Quasar's language pack per UI language."""
log = logging.getLogger("helpline.i18n")
_default = DEFAULT_LANGUAGE


def set_default_language(language: str) -> None:
    """Set the server default (``HELPLINE_LANGUAGE``): the language of browsers that ask for none we have."""
    global _default
    if language not in LANGUAGES:
        raise ValueError(f"HELPLINE_LANGUAGE must be one of {', '.join(LANGUAGES)} (got {language!r})")
    _default = language


def default_language() -> str:
    return _default


@cache
def accepted_language(header: str) -> str | None:
    """The first language of ``Accept-Language`` (by weight, then order) that the UI has: ``zh``, ``zh-CN``,
    ``zh-Hans`` → ``zh_CN``; ``en``, ``en-GB`` → ``en``; None when none is."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        primary = tag.strip().lower().replace("_", "-").split("-")[0]
        code = {"zh": "zh_CN", "en": "en"}.get(primary)
        if code is not None and weight > 0:
            ranked.append((-weight, index, code))
    return min(ranked)[2] if ranked else None


def browser_language() -> str | None:
    """The language the current page's browser asks for (``Accept-Language``), None outside a page."""
    from nicegui import context
    from nicegui.slot import Slot

    if not Slot.get_stack():
        return None
    try:
        request = context.client.request
    except (RuntimeError, AssertionError):
        return None
    return accepted_language(request.headers.get("accept-language", ""))


def apply_quasar_language(language: str) -> None:
    """Serve the page being built with Quasar's language pack of ``language`` (NiceGUI sets the pack per page
    route or for the whole app; this page's client gets its own copy of the route's settings)."""
    from nicegui import context

    client = context.client
    if client.page.resolve_language() == QUASAR_LANGUAGES[language]:
        return
    client.page = copy.copy(client.page)
    client.page.language = QUASAR_LANGUAGES[language]


@cache
def catalogue(language: str) -> dict[str, str]:
    """``locale/<language>.yaml`` and then every ``locale/<language>/*.yaml`` (one file per area of the UI,
    e.g. ``desk.yaml``), merged; a key defined twice is logged and the later file wins."""
    base = shipped("locale")
    paths = [base / f"{language}.yaml", *sorted((base / language).glob("*.yaml"))]
    merged: dict[str, str] = {}
    for path in paths:
        if not path.exists():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            if str(key) in merged:
                log.warning("locale key %s is defined again in %s", key, path.name)
            merged[str(key)] = str(value)
    return merged


def translate(language: str, key: str, **params: Any) -> str:
    text = catalogue(language).get(key) or catalogue("en").get(key)
    if text is None:
        log.warning("missing locale key %s", key)
        return key
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


_speaking: ContextVar[str | None] = ContextVar("helpline_language", default=None)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Render in ``language`` where there is no request to ask (a page rebuilt by a published change)."""
    token = _speaking.set(language)
    try:
        yield
    finally:
        _speaking.reset(token)


def current_language() -> str:
    """The language inside a page or event handler (or the one set by :func:`speaking`): the signed-in user's
    saved choice, else the browser's, else the server default — which is also the answer elsewhere (worker
    threads, services): code that runs there gets the language passed in."""
    from nicegui import app
    from nicegui.slot import Slot

    forced = _speaking.get()
    if forced is not None:
        return forced
    if not Slot.get_stack():
        return _default
    try:
        storage = app.storage.user
        chosen = storage.get("language") if storage.get("username") else None
    except (RuntimeError, AssertionError):
        chosen = None
    if chosen in LANGUAGES:
        return str(chosen)
    return browser_language() or _default


def t(key: str, **params: Any) -> str:
    """The text of ``key`` in the current user's language."""
    return translate(current_language(), key, **params)


def label(value: Label | None, fallback: str = "") -> str:
    """A metadata label in the current user's language."""
    return value.get(current_language()) if value is not None else fallback
