"""Knowledge articles' content (issue 17 item 2): Markdown with tables, images and charts rendered inert against
the classic XSS payloads; attachments stored on disk with a checksum, their type read from the content, size
and count limits named in the refusal, and an altered file refused."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpline.security.actor import Actor, PermissionDenied
from helpline.services.knowledge import attachments as files
from helpline.services.knowledge.attachments import AttachmentError
from helpline.services.knowledge.markdown import chart_options, render, render_html
from helpline.services.platform import Platform

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "![x](javascript:alert(1))",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<body onload=alert(1)>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "\"><script>alert(1)</script>",
    "<scr<script>ipt>alert(1)</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | [x](javascript:alert(1)) |",
]


class Elements(HTMLParser):
    """The tags and attributes a browser would build from the HTML (escaped text is only text)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = Elements()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("payload", PAYLOADS)
def test_classic_payloads_are_rendered_inert(payload: str) -> None:
    found = elements(render_html(f"正文\n\n{payload}\n\n结束"))
    assert found, "the text around the payload is still there"
    for tag, attrs in found:
        assert tag not in ("script", "iframe", "svg", "style", "body", "math", "object", "embed", "form"), tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name in ("href", "src"):
                scheme = "".join((value or "").split()).lower().split(":", 1)
                assert len(scheme) == 1 or scheme[0] in ("http", "https", "mailto"), (tag, name, value)
            if name == "style":
                assert (value or "").replace(" ", "").rstrip(";").split(":")[0] == "text-align", value


def test_tables_images_and_charts_survive() -> None:
    text = ("| 业务 | 资费 |\n|:--|--:|\n| 高清 | 10元 |\n\n![机顶盒](attachment:7)\n\n"
            "```echarts\n{\"xAxis\": {\"data\": [\"一月\", \"二月\"]},"
            " \"series\": [{\"type\": \"bar\", \"data\": [3, 5]}],"
            " \":formatter\": \"alert(1)\", \"tooltip\": {\"formatter\": \"function(){alert(1)}\"}}\n```\n\n尾")
    parts = render(text)
    assert [p.kind for p in parts] == ["html", "chart", "html"]
    assert "<table>" in parts[0].html and '<td style="text-align:right">10元</td>' in parts[0].html
    assert '<img src="/knowledge/file/7" alt="机顶盒">' in parts[0].html
    assert parts[1].chart == {"xAxis": {"data": ["一月", "二月"]}, "series": [{"type": "bar", "data": [3, 5]}],
                              "tooltip": {}}  # no ':' key (run as JavaScript by ui.echart), no function text
    broken = render("```echarts\n{not json\n```")
    assert broken[0].kind == "error" and "not JSON" in broken[0].error
    with pytest.raises(ValueError, match="at most 20000"):
        chart_options("[" + "1," * 20_000 + "1]")


def test_attachment_types_read_from_the_content_and_limits_named() -> None:
    assert files.check_file("图.png", PNG, 0) == "image/png"
    assert files.check_file("说明.txt", "纯文本".encode(), 0) == "text/plain"
    assert files.check_file("表.xlsx", b"PK\x03\x04rest", 0).endswith("spreadsheetml.sheet")
    with pytest.raises(AttachmentError, match="at most 5,242,880 bytes"):
        files.check_file("big.png", PNG + b"\x00" * files.MAX_BYTES, 0)
    with pytest.raises(AttachmentError, match="at most 20"):
        files.check_file("one.png", PNG, 20)
    with pytest.raises(AttachmentError, match="SVG and HTML"):
        files.check_file("a.png", b"<svg onload=alert(1)>", 0)
    with pytest.raises(AttachmentError, match="not a file type"):
        files.check_file("a.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\xff\xfe\x00", 0)
    with pytest.raises(AttachmentError, match="empty"):
        files.check_file("a.txt", b"", 0)


def test_attachments_stored_with_a_checksum_and_served_to_readers(platform: Platform, tmp_path: Path) -> None:
    platform.knowledge.files_dir = tmp_path
    editor = Actor("sup1", roles=("supervisor",)).bind(platform.metadata)
    agent = Actor("agent1", roles=("agent",), regions=("changsha",)).bind(platform.metadata)
    a = platform.records.create(editor, "knowledge_article", {"title": "图", "category": "tariffs", "body": "x"}).id
    row = platform.knowledge.attach(editor, a, "图.png", PNG)
    assert row["content_type"] == "image/png" and row["size"] == len(PNG)
    stored = tmp_path / row["sha256"][:2] / row["sha256"]
    assert stored.read_bytes() == PNG and row["sha256"] == files.digest(PNG)
    with pytest.raises(PermissionDenied):
        platform.knowledge.attach(agent, a, "x.png", PNG)
    with pytest.raises(Exception, match="outside your scope"):  # a draft's file is not the agent's to read
        platform.knowledge.attachment_file(agent, row["id"])
    platform.workflows.take(editor, "knowledge_article", a, "to_review")
    platform.workflows.take(editor, "knowledge_article", a, "publish")
    assert platform.knowledge.attachment_file(agent, row["id"]) == ("图.png", "image/png", PNG)
    stored.write_bytes(PNG + b"tampered")
    with pytest.raises(AttachmentError, match="does not match its checksum"):
        platform.knowledge.attachment_file(agent, row["id"])
