"""Wording a notice in its reader's language: the locale keys of ``locale/<language>/notices.yaml`` (the same
files the web UI's catalogue merges) and the notice's parameters, each worded too — a ``{"en": ..., "zh_CN":
...}`` value in the language, a ``{"utc": iso}`` value as a local time (``Asia/Shanghai`` unless told)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from helpline.config import shipped
from helpline.data.base import centre_zone

LANGUAGES = ("zh_CN", "en")
log = logging.getLogger("helpline.notices")


@cache
def _texts(language: str) -> dict[str, str]:
    path = shipped("locale") / language / "notices.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


def word(value: Any, language: str, time_zone: str | None = None) -> str:
    """One parameter in ``language`` (a time in ``time_zone``, default the centre's)."""
    if isinstance(value, dict):
        if "utc" in value:
            try:
                at = datetime.fromisoformat(str(value["utc"]))
            except ValueError:
                return str(value["utc"])
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            return at.astimezone(ZoneInfo(time_zone) if time_zone else centre_zone()).strftime("%Y-%m-%d %H:%M")
        if "en" in value:
            return str(value.get(language) or value["en"])
    return "" if value is None else str(value)


def render(key: str, params: dict[str, Any] | None, language: str, time_zone: str | None = None) -> str:
    """The text of ``key`` in ``language`` (English when the language lacks it; the key itself, taken as
    literal text, when no language has it) with ``params`` worded."""
    if not key:
        return ""
    language = language if language in LANGUAGES else "zh_CN"
    text = _texts(language).get(key) or _texts("en").get(key)
    if text is None:
        text = key  # a caller's literal text
    values = {name: word(v, language, time_zone) for name, v in (params or {}).items()}
    try:
        return text.format(**values) if values else text
    except (KeyError, IndexError, ValueError):
        log.warning("notice text %s does not fit its parameters %s", key, sorted(values))
        return text
