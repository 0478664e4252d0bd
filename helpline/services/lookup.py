"""Caller identification: find the customer behind a phone number, fast (an indexed equality lookup).

The IVR calls this at the start of every call; the agent desktop's screen-pop too. The number is
normalised and tried in the forms it may be stored in (with or without +86, a trunk 0).
"""

from __future__ import annotations

from typing import Any

from helpline.data.database import session

from .platform import Platform
from .values import phone_variants

LOOKUP_FIELDS = ("phone", "phone2")


def find_customer_by_phone(platform: Platform, number: str, *, entity: str = "customer") -> dict[str, Any] | None:
    """The customer whose indexed phone field holds ``number``, or None (never raises for odd input)."""
    if not number or not any(ch.isdigit() for ch in number):
        return None
    meta = platform.metadata.entities.get(entity)
    if meta is None:
        return None
    model = platform.models[entity]
    variants = phone_variants(number)
    fields = [f for f in LOOKUP_FIELDS if (fd := meta.field(f)) is not None and (fd.indexed or fd.unique)]
    if not fields:
        return None
    with session():
        for name in fields:
            column = getattr(model, name)
            clause = column == variants[0] if len(variants) == 1 else column.in_(variants)
            row = model.select().where(clause).order_by(model.id).limit(1).dicts().first()
            if row is not None:
                return dict(row)
    return None
