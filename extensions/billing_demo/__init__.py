"""A stand-in for the billing system (BOSS) connector: the caller's prepaid balance, for the IVR demo.

``billing_demo.balance`` puts the balance of the caller's account (in whole yuan) into ``var.balance``
for a following ``say`` node. The figure is made up from the customer's id, so demo calls are repeatable;
a real connector would ask BOSS here (and should answer within a second: the caller waits in silence).

Parameters (``params`` of the hook node): ``no_customer`` — the node to go to when the caller has no
customer record (else the hook fails and the node's ``on_error`` is taken).
"""

from __future__ import annotations

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


IVR_HOOKS: dict[str, HookFunction] = {"balance": balance}
