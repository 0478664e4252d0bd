"""Field masks: how a masked value looks (``138****5678``, ``张*``, ``a***@example.com``)."""

from __future__ import annotations

from typing import Any


def mask_value(value: Any, mask: str) -> Any:
    if value is None or value == "":
        return value
    text = str(value)
    if mask == "hidden":
        return "****"
    if mask == "phone":
        if len(text) <= 4:
            return "*" * len(text)
        keep_head = 3 if len(text) >= 7 else 1
        return text[:keep_head] + "*" * (len(text) - keep_head - 4) + text[-4:]
    if mask == "name":
        return text[0] + "*" * (len(text) - 1) if len(text) > 1 else "*"
    if mask == "email":
        local, _, domain = text.partition("@")
        return (local[:1] + "***@" + domain) if domain else mask_value(text, "partial")
    if mask in ("id", "partial"):
        if len(text) <= 4:
            return "*" * len(text)
        return text[:2] + "*" * (len(text) - 4) + text[-2:]
    return "****"


def apply_masks(row: dict[str, Any], masks: dict[str, str]) -> dict[str, Any]:
    if not masks:
        return row
    return {k: (mask_value(v, masks[k]) if k in masks else v) for k, v in row.items()}
