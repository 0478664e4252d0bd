"""A stand-in for the billing system (BOSS) connector: the caller's prepaid balance, for the IVR demo.

``billing_demo.balance`` puts the balance of the caller's account (in whole yuan) into ``var.balance``
for a following ``say`` node. The figure is made up from the customer's id, so demo calls are repeatable;
a real connector would ask BOSS here (and should answer within a second: the caller waits in silence).

Parameters (``params`` of the hook node): ``no_customer`` — the node to go to when the caller has no
customer record (else the hook fails and the node's ``on_error`` is taken).

It is also the example of an extension's declarations (``helpline.extension_registry``, docs/extensions.md):
``IVR_HOOKS``, a time limit of one second (a caller never waits longer for the balance), and a check that
``run.py check`` runs: every flow that asks for the balance says where a caller without a customer goes.
"""

from __future__ import annotations

from typing import Any

from telephony.ivr.hooks import HookCall, HookFunction


def balance(call: HookCall) -> str | None:
    """Set ``var.balance`` for the caller's customer; see the module docstring."""
    if call.customer is None or call.customer.get("id") is None:
        target = call.params.get("no_customer")
        if isinstance(target, str):
            return target
        raise LookupError("the caller has no customer record")
    customer_id = int(call.customer["id"])
    call.vars["balance"] = 20 + (customer_id * 37) % 300
    return None


def flows_say_where_unknown_callers_go(metadata: Any) -> list[tuple[str, str]]:
    """A finding for each ``billing_demo.balance`` hook node without ``params.no_customer``."""
    found = []
    for flow in metadata.objects.get("ivr", {}).values():
        for name, node in flow.nodes.items():
            if getattr(node, "hook", None) == "billing_demo.balance" and "no_customer" not in (node.params or {}):
                found.append((f"flow '{flow.name}', node '{name}': a caller without a customer record gets "
                              f"the node's on_error", "add params: {no_customer: <node>} to the node"))
    return found


IVR_HOOKS: dict[str, HookFunction] = {"balance": balance}
TIME_LIMIT_S = 1.0
CHECKS = [flows_say_where_unknown_callers_go]
