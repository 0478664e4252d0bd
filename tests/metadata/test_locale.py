"""The UI string files: same keys in every language, flat dotted keys, matching placeholders, data only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

LOCALE = Path(__file__).parents[2] / "locale"
LANGUAGES = ("en", "zh_CN")
AREAS = {"app", "home", "page", "profile", "users", "login", "shell", "list", "form", "query", "category", "audit",
         "errors", "desktop", "supervisor", "ivr", "designer"}


def _load(language: str) -> dict[str, str]:
    text = (LOCALE / f"{language}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# "), "a header comment explains the format"
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def test_locale_is_not_a_package() -> None:
    assert not (LOCALE / "__init__.py").exists()


@pytest.mark.parametrize("language", LANGUAGES)
def test_keys_are_flat_dotted_strings(language: str) -> None:
    data = _load(language)
    assert len(data) >= 150
    for key, value in data.items():
        assert re.fullmatch(r"[a-z_]+(\.[a-zA-Z0-9_]+)+", key), key
        assert key.split(".")[0] in AREAS, key
        assert isinstance(value, str) and value.strip(), key


def test_same_keys_and_placeholders_in_every_language() -> None:
    en, zh = _load("en"), _load("zh_CN")
    assert list(en) == list(zh)
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", zh[key])), key


def test_chinese_uses_the_glossary_terms() -> None:
    zh = _load("zh_CN")
    for key, term in {"desktop.ready": "示闲", "desktop.not_ready": "示忙", "desktop.sign_in": "签入",
                      "desktop.wrapup": "整理", "desktop.conference": "三方通话", "supervisor.barge": "插入",
                      "supervisor.listen": "旁听", "desktop.customer.serial_no": "流水号"}.items():
        assert term in zh[key], key
