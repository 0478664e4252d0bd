"""Translations from ``locale/<language>.yaml`` (flat dotted keys); English is the fallback.

Pages call :func:`t` with a key and parameters; the language is the signed-in user's (remembered in the
database and in the browser session). Metadata labels are not here: they carry their own languages.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

import yaml

from helpline.config import ROOT
from helpline.metadata.kinds import Label

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
log = logging.getLogger("helpline.i18n")


@cache
def catalogue(language: str) -> dict[str, str]:
    """``locale/<language>.yaml`` and then every ``locale/<language>/*.yaml`` (one file per area of the UI,
    e.g. ``desk.yaml``), merged; a key defined twice is logged and the later file wins."""
    base = ROOT / "locale"
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
    """The signed-in user's language inside a page or event handler (or the one set by :func:`speaking`);
    the default elsewhere (worker threads, services): code that runs there gets the language passed in."""
    from nicegui import app
    from nicegui.slot import Slot

    forced = _speaking.get()
    if forced is not None:
        return forced
    if not Slot.get_stack():
        return DEFAULT_LANGUAGE
    try:
        language = app.storage.user.get("language", DEFAULT_LANGUAGE)
    except (RuntimeError, AssertionError):
        return DEFAULT_LANGUAGE
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, **params: Any) -> str:
    """The text of ``key`` in the current user's language."""
    return translate(current_language(), key, **params)


def label(value: Label | None, fallback: str = "") -> str:
    """A metadata label in the current user's language."""
    return value.get(current_language()) if value is not None else fallback
