"""A work order from the call on the agent desktop: the values a new order starts with.

:func:`order_from_call` takes the screen-pop of the call (``telephony.desk.screenpop.screen_pop``) and the
contact record's values as the agent has them (saved or still on the form) and gives the new order's values: the
contact's serial number (once the contact record exists), the customer, the caller number, the customer's city,
the agent, the type and title from the category the agent chose on the contact record (a fault or complaint
type, an acceptance type, a consultation type), and a description holding the caller number and the IVR trail.
"""

from __future__ import annotations

from typing import Any

from helpline.services.platform import Platform

from .screenpop import trail_text

__all__ = ["CATEGORY_TYPES", "order_from_call"]

CATEGORY_TYPES: dict[str, dict[str | None, str]] = {
    "complaint_types": {"fault_report": "fault", "complaint": "complaint", "suggestion": "suggestion"},
    "acceptance_types": {None: "acceptance"},
    "consultation_types": {None: "consultation"},
}
"""Contact-record category field → (root code of the chosen code, None: any) → work-order type."""


def _chosen(values: dict[str, Any], field: str) -> list[str]:
    value = values.get(field)
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v]
    return [str(value)] if value else []


def order_from_call(platform: Platform, pop: dict[str, Any], contact: dict[str, Any] | None, *, agent: str,
                    language: str = "zh_CN") -> dict[str, Any]:
    """The values of a new work order for the popped call (see the module docstring); fields the entity lacks
    are left out."""
    contact = contact or {}
    customer = pop.get("customer") or {}
    metadata = platform.metadata
    entity = metadata.entities["work_order"]
    order: dict[str, Any] = {"customer": pop.get("customer_id"), "contact": contact.get("serial_no"),
                             "caller_number": pop.get("caller_number") or contact.get("caller_number"),
                             "city": customer.get("city") or pop.get("city"), "agent": agent}
    types = metadata.categories.get("work_order_type")
    for field, mapping in CATEGORY_TYPES.items():
        tree = metadata.categories.get(field)
        for code in _chosen(contact, field):
            path = tree.path(code) if tree is not None else []
            root = path[0].code if path else code
            kind = mapping.get(root) or mapping.get(None)
            if kind is None or (types is not None and types.node(kind) is None):
                continue
            order.setdefault("type", kind)
            node = tree.node(code) if tree is not None else None
            if node is not None and "title" not in order:
                order["title"] = node.label.get(language) or code
    lines = []
    if order.get("caller_number"):
        lines.append(f"{_word(language, 'caller')}: {order['caller_number']}")
    trail = trail_text(pop.get("trail") or [])
    if trail:
        lines += [f"{_word(language, 'trail')}:", trail]
    if lines:
        order["description"] = "\n".join(lines)
    return {k: v for k, v in order.items() if v not in (None, "") and entity.field(k) is not None}


_WORDS = {"en": {"caller": "Caller number", "trail": "IVR trail"}, "zh_CN": {"caller": "主叫号码", "trail": "IVR轨迹"}}


def _word(language: str, key: str) -> str:
    return _WORDS.get(language, _WORDS["zh_CN"])[key]
