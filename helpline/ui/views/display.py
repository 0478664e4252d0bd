"""How stored values are shown: category codes as their labels, flags, dates, linked records' titles."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from helpline.data.base import to_centre
from helpline.metadata.kinds import Category, EntityField
from helpline.metadata.metaset import MetadataSet

from ..i18n import DEFAULT_LANGUAGE, catalogue, translate


def category_label(tree: Category | None, code: Any, *, path: bool = False, language: str = DEFAULT_LANGUAGE) -> str:
    if tree is None or code in (None, ""):
        return "" if code is None else str(code)
    node = tree.node(str(code))
    if node is None:
        return str(code)
    if path:
        return " › ".join(n.label.get(language) for n in tree.path(node.code))
    return node.label.get(language)


def category_options(tree: Category | None, current: Any = None, language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """Codes offered in a picker, in tree order with their path, retired codes only if already chosen."""
    if tree is None:
        return {}
    chosen = set(current if isinstance(current, list) else ([current] if current else []))
    parents = {n.parent for n in tree.nodes if n.parent}
    options: dict[str, str] = {}

    def walk(parent: str | None, depth: int) -> None:
        for node in tree.children(parent):
            leaf = node.code not in parents
            selectable = (leaf or tree.selectable == "any") and (not node.retired or node.code in chosen)
            if selectable:
                options[node.code] = category_label(tree, node.code, path=True, language=language)
            walk(node.code, depth + 1)

    walk(None, 0)
    for code in chosen - set(options):
        options[str(code)] = category_label(tree, code, language=language)
    return options


def show(field: EntityField | None, value: Any, metadata: MetadataSet, titles: dict[Any, str] | None = None,
         language: str = DEFAULT_LANGUAGE) -> str:
    """The text a list cell or a read-only field shows (safe on worker threads: the language is given)."""
    if value is None or value == "" or value == []:
        return ""
    if field is None:
        return to_centre(value).isoformat(sep=" ", timespec="minutes") if isinstance(value, datetime) else str(value)
    if field.type == "category":
        tree = metadata.categories.get(field.category or "")
        if isinstance(value, list):
            return ", ".join(category_label(tree, v, language=language) for v in value)
        return category_label(tree, value, language=language)
    if field.type == "bool":
        return translate(language, "app.yes" if value else "app.no")
    if field.type == "datetime" and isinstance(value, datetime):  # stored in UTC, shown in the centre's time
        return to_centre(value).isoformat(sep=" ", timespec="minutes")
    if field.type == "date" and isinstance(value, date):
        return value.isoformat()
    if field.type == "decimal" and isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if field.type == "link" and titles is not None:
        return titles.get(value, str(value))
    return str(value)


def node_type_label(node_type: str | None, language: str) -> str:
    """An IVR node type in the user's words (the designer's names: ``menu`` → 菜单), else the type itself."""
    if not node_type:
        return ""
    key = f"designer.ivr.type.{node_type}"
    return catalogue(language).get(key) or catalogue("en").get(key) or node_type


OUTCOMES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), key) for pattern, key in (
    (r"caller hung up", "caller_hung_up"), (r"channel failed", "channel_failed"), (r"failed", "failed"),
    (r"nothing to say", "nothing_to_say"), (r"timeout", "timeout"), (r"retries exhausted", "retries_exhausted"),
    (r"no rule matched", "no_rule_matched"), (r"found", "found"), (r"not found", "not_found"),
    (r"no active outage", "no_outage"), (r"blocked: (?P<why>.*)", "blocked"),
    (r"accepted on attempt (?P<n>\d+)", "accepted"), (r"(?P<n>\d+) wrong entries", "wrong_entries"),
    (r"(?P<n>\d+) notice\(s\)", "notices"), (r"recorded \((?P<how>.*)\)", "recorded"),
    (r"to queue (?P<queue>.*)", "to_queue"), (r"call back (?P<number>.*)", "call_back"),
    (r"hook chose (?P<target>.*)", "hook_chose"), (r"answered by agent (?P<agent>.*)", "answered_by"),
    (r"transferred to (?P<target>.*) \((?P<status>.*)\)", "transferred"),
))
"""The IVR engine's trail outcomes (English log wording) → ``ivr.outcome.<key>`` with the captured values."""


def trail_outcome(text: str | None, language: str) -> str:
    """A trail step's outcome in the user's words; a wording the table does not know stays as it is."""
    if not text:
        return ""
    for pattern, key in OUTCOMES:
        found = pattern.fullmatch(text)
        if found is not None:
            words = catalogue(language).get(f"ivr.outcome.{key}") or catalogue("en").get(f"ivr.outcome.{key}")
            return words.format(**found.groupdict()) if words else text
    return text
