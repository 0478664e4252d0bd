"""The knowledge base in real headless Chromium (issue 17's "done when", the knowledge part): an administrator
writes an article with a table on the form, adds an image on the knowledge page, places it in the text and
publishes the article through its process; agent1, during a call, finds it in the desktop's knowledge panel by a
two-character keyword, reads the table and sees the image (served by /knowledge/file/<id> and loaded by the
browser), and marks it helpful; the statistics page shows the view and the search."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (  # noqa: F401 - markers_as_classes and patient_browser are fixtures
    choose,
    click,
    element,
    log_in,
    markers_as_classes,
    patient_browser,
    text_shown,
    type_into,
    until,
    visible,
)
from desk_helpers import GOLD, Caller
from nicegui.testing import Screen
from selenium.webdriver.common.by import By

from helpline.data.database import session
from helpline.data.knowledge import KbAttachment
from helpline.services.platform import Platform

pytestmark = pytest.mark.browser
TABLE = "指示灯说明：\n\n| 指示灯 | 状态 |\n|---|---|\n| 信号灯 | 不亮 |\n"


def png(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG (red pixels) the browser can decode."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def article(p: Platform) -> dict[str, Any] | None:
    model = p.models["knowledge_article"]
    with session():
        return model.select().where(model.title == "高清机顶盒指示灯").dicts().first()


def test_an_article_published_found_during_a_call_and_counted(
        patient_browser: Screen, desk: Any, ui_platform: Platform, callers: list[Caller], gold_customer: int,  # noqa: F811
        tmp_path: Path) -> None:
    screen, p = patient_browser, ui_platform
    p.knowledge.files_dir = tmp_path / "knowledge"
    image = tmp_path / "panel.png"
    image.write_bytes(png())

    # the administrator writes the article with a table, adds the image, places it and publishes
    log_in(screen, "admin", "/record/knowledge_article_form/new")
    type_into(screen, ".field-title", "高清机顶盒指示灯")
    choose(screen, ".field-category", "Tariffs")
    type_into(screen, ".field-keywords", "机顶盒 指示灯")
    type_into(screen, ".field-body", TABLE)
    click(screen, ".m-save")
    written = until(lambda: article(p), "the article saved")
    article_id = int(written["id"])
    screen.open(f"/knowledge/{article_id}")
    click(screen, ".m-kb-editing")
    files = until(lambda: screen.selenium.find_elements(By.CSS_SELECTOR, ".m-kb-upload input[type=file]"),
                  "the upload's file input")  # hidden behind Quasar's button, as in a real browser
    files[-1].send_keys(str(image))
    with session():
        attachment = until(lambda: KbAttachment.get_or_none(KbAttachment.article_id == article_id), "uploaded")
    screen.open(f"/record/knowledge_article_form/{article_id}")
    type_into(screen, ".field-body", TABLE + f"\n![面板](attachment:{attachment.id})\n")
    click(screen, ".m-save")
    until(lambda: "attachment:" in str((article(p) or {}).get("body")), "the image placed")
    click(screen, ".m-action-to_review")
    until(lambda: (article(p) or {}).get("status") == "review", "in review")
    click(screen, ".m-action-publish")
    until(lambda: (article(p) or {}).get("status") == "published", "published")

    # agent1, during a call, finds it by two characters in the panel beside the call and marks it helpful
    log_in(screen, "agent1", "/desktop")
    click(screen, ".desk-sign-in")
    click(screen, ".desk-ready")
    until(lambda: desk.view("1001")["status"] == "ready", "agent1 ready")
    callers.append(Caller(p, desk, GOLD))
    until(lambda: visible(screen, ".pop-serial"), "the screen-pop")
    click(screen, ".desk-answer")
    until(lambda: desk.view("1001")["state"] == "talking", "talking")
    type_into(screen, ".m-desk-kb-search", "指示", leave="")
    click(screen, f".m-desk-kb-hit-{article_id}")
    table = element(screen, ".m-desk-kb-content table")
    assert "信号灯" in table.text and "不亮" in table.text and "指示灯" in table.text
    img = element(screen, ".m-desk-kb-content img")
    until(lambda: screen.selenium.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img)
          == 4, "the image loaded from /knowledge/file")
    assert visible(screen, ".pop-serial")  # the call is still on screen beside the article
    click(screen, ".m-desk-kb-helpful")
    until(lambda: (article(p) or {}).get("helpful") == 1, "helpful counted")

    # the statistics page shows the view and the search
    log_in(screen, "admin", "/page/knowledge_stats")
    until(lambda: element(screen, ".m-kbs-views").text == "1", "one view")
    assert element(screen, ".m-kbs-helpful").text == "1" and int(element(screen, ".m-kbs-searches").text) >= 1
    assert "指示" in element(screen, ".m-kbs-searched").text
