"""Knowledge articles' Markdown rendered to safe HTML and charts (docs/knowledge.md).

An article is Markdown with tables, images and charts. :func:`render` cuts it into parts: HTML parts and chart
parts (a fenced ```` ```echarts ```` block holding ECharts options as JSON, shown with ``ui.echart``). The
HTML is made inert twice over:

1. markdown2 runs with ``safe_mode="escape"``: HTML written in the article is shown as text, never parsed;
2. the result is cleaned by nh3 (the Ammonia sanitiser): only the tags and attributes of :data:`TAGS` /
   :data:`ATTRIBUTES` survive, no ``on*`` event attribute, no ``<script>``/``<style>``/``<iframe>``, links and
   images only to ``http``, ``https``, ``mailto`` or a relative address (``javascript:`` and ``data:`` are
   dropped), inline style only ``text-align`` (the tables' column alignment).

A chart's options are JSON only (no JavaScript): keys starting with ``:`` — which ``ui.echart`` would run as
JavaScript — are dropped at every depth, and so are strings that look like functions. Images of the article's
attachments are written ``![caption](attachment:12)`` and served by ``/knowledge/file/12`` (the reader's
access is checked there).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import markdown2
import nh3

TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "del", "code",
        "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "span",
        "div", "sup", "sub"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
              "th": {"style", "colspan", "rowspan"}, "td": {"style", "colspan", "rowspan"},
              "span": {"class"}, "div": {"class"}, "code": {"class"}}
URL_SCHEMES = {"http", "https", "mailto"}
STYLES = {"text-align"}
CHART_FENCE = re.compile(r"^```echarts[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
ATTACHMENT = re.compile(r"\(attachment:(\d+)\)")
MAX_CHART_CHARS = 20_000
"""A chart's options may be this long (a bigger one is shown as an error in its place)."""
FUNCTION = re.compile(r"^\s*(function\b|\(?[\w\s,]*\)?\s*=>)")


@dataclass
class Part:
    kind: str
    """``html`` (``html`` is safe to insert as is) or ``chart`` (``chart``: ECharts options) or ``error``."""
    html: str = ""
    chart: dict[str, Any] | None = None
    error: str = ""


def sanitise(html: str) -> str:
    """Only the safe part of ``html`` (see the module docstring)."""
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     filter_style_properties=STYLES, link_rel="noopener noreferrer nofollow")


def markdown_html(text: str) -> str:
    """Markdown → sanitised HTML (tables, fenced code, strike-through); attachments' images resolved."""
    text = ATTACHMENT.sub(lambda m: f"(/knowledge/file/{m.group(1)})", text)
    raw = markdown2.markdown(text, extras=["tables", "fenced-code-blocks", "cuddled-lists", "strike"],
                             safe_mode="escape")
    return sanitise(str(raw))


def _inert(value: Any) -> Any:
    """Chart options without anything ``ui.echart`` or ECharts could run: ``:key`` entries and function-like
    strings dropped at every depth."""
    if isinstance(value, dict):
        return {str(k): _inert(v) for k, v in value.items()
                if not str(k).startswith(":") and not (isinstance(v, str) and FUNCTION.match(v))}
    if isinstance(value, list):
        return [_inert(v) for v in value if not (isinstance(v, str) and FUNCTION.match(v))]
    return value


def chart_options(source: str) -> dict[str, Any]:
    """The ECharts options of a chart block; ValueError with the reason when they cannot be used."""
    if len(source) > MAX_CHART_CHARS:
        raise ValueError(f"the chart is {len(source)} characters long; a chart takes at most {MAX_CHART_CHARS}")
    try:
        options = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the chart is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    if not isinstance(options, dict):
        raise ValueError("the chart must be a JSON object of ECharts options")
    cleaned = _inert(options)
    assert isinstance(cleaned, dict)
    return cleaned


def render(text: str) -> list[Part]:
    """The article's parts in order: sanitised HTML between the charts."""
    parts: list[Part] = []
    at = 0
    for match in CHART_FENCE.finditer(text):
        before = text[at:match.start()]
        if before.strip():
            parts.append(Part("html", markdown_html(before)))
        try:
            parts.append(Part("chart", chart=chart_options(match.group(1))))
        except ValueError as exc:
            parts.append(Part("error", error=str(exc)))
        at = match.end()
    rest = text[at:]
    if rest.strip():
        parts.append(Part("html", markdown_html(rest)))
    return parts


def render_html(text: str) -> str:
    """All the article as HTML (charts left out): what the tests and a print view use."""
    return "".join(p.html for p in render(text) if p.kind == "html")
