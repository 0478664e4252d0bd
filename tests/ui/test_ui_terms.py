"""One word per agent status and call state: the desktop's chip, its toolbar and the supervisor's wallboard
say the same, from the glossary (示闲 ready, 示忙 not ready, 整理 wrap-up, 签出 signed out)."""

from __future__ import annotations

import pytest

from helpline.ui.i18n import LANGUAGES, translate
from helpline.ui.views.desk_status import STATE_KEYS, STATUS_KEYS

GLOSSARY = {"zh_CN": {"ready": "示闲", "not_ready": "示忙", "wrap_up": "整理", "logged_out": "已签出"},
            "en": {"ready": "Ready", "not_ready": "Not ready", "wrap_up": "Wrap-up", "logged_out": "Signed out"}}


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_desktop_and_wallboard_use_one_word_per_status_and_state(language: str) -> None:
    for status, key in STATUS_KEYS.items():
        assert translate(language, key) == translate(language, f"supervisor.status.{status}"), status
    for state, key in STATE_KEYS.items():
        assert translate(language, key) == translate(language, f"supervisor.state.{state}"), state
    words = GLOSSARY[language]
    assert translate(language, STATUS_KEYS["ready"]) == translate(language, "desktop.ready") == words["ready"]
    assert translate(language, STATUS_KEYS["not_ready"]) == translate(language, "desktop.not_ready") \
        == words["not_ready"]
    assert translate(language, STATE_KEYS["wrap_up"]) == words["wrap_up"]
    assert translate(language, STATUS_KEYS["logged_out"]) == words["logged_out"]


def test_idle_is_never_worded_like_ready() -> None:
    texts = {translate("zh_CN", k) for k in ("desk.queue_figures", "desktop.counter.idle_agents",
                                              "supervisor.state.idle", STATE_KEYS["idle"])}
    assert not any("空闲" in text for text in texts)
