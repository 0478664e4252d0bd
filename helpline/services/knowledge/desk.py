"""What the desktop's knowledge panel searches for when a call comes (docs/knowledge.md): the label of the
category the agent chose on the contact record (consultation, acceptance or complaint type), else the label of
the customer's first business line — in the agent's language."""

from __future__ import annotations

from typing import Any

from helpline.metadata.metaset import MetadataSet

CALL_CATEGORIES = ("consultation_types", "acceptance_types", "complaint_types")
"""The category trees of the contact record that say what the call is about."""


def _label(metadata: MetadataSet, tree: str, code: Any, language: str) -> str:
    category = metadata.categories.get(tree)
    node = category.node(str(code)) if category is not None and code not in (None, "") else None
    return node.label.get(language) if node is not None else ""


def call_keywords(metadata: MetadataSet, contact: dict[str, Any], customer: dict[str, Any] | None,
                  language: str) -> str:
    """The search text for a call ('' when the call says nothing yet)."""
    entity = metadata.entities.get("contact_record")
    for f in entity.active_fields if entity is not None else []:
        if f.type == "category" and f.category in CALL_CATEGORIES:
            values = contact.get(f.name)
            for code in reversed(values if isinstance(values, list) else [values]):
                text = _label(metadata, f.category, code, language)
                if text:
                    return text
    lines = (customer or {}).get("business_line") or []
    for code in lines if isinstance(lines, list) else [lines]:
        text = _label(metadata, "business_line", code, language)
        if text:
            return text
    return ""
