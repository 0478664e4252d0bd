"""The state of one call in the IVR, and the rule context built from it.

:class:`CallState` is created by the engine at call start and passed to every node handler. It holds
the flow revision the call started with, the caller's identification, call variables (``var.*``), the
last digits entered, the outcome so far (result, queue, tier, priority) and the trail.
:meth:`CallState.context` is the mapping rules are evaluated against (the ``ivr`` place of use).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telephony.ivr.flows import CompiledFlow
from telephony.ivr.identify import Identification
from telephony.ivr.trail import Trail
from telephony.switch.base import Switch

SECRET = "***"  # noqa: S105 - the mask shown instead of a secret entry


@dataclass
class CallState:
    """Everything the IVR knows about one call (see the module docstring)."""

    call_id: int
    flow: CompiledFlow
    switch: Switch
    ident: Identification
    dnid: str = ""
    language: str = "zh_CN"
    trail: Trail = field(default_factory=Trail)
    vars: dict[str, Any] = field(default_factory=dict)
    secret_vars: set[str] = field(default_factory=set)
    tier: str | None = None
    digits: str = ""
    retries: int = 0
    pending_digit: str = ""
    result: str | None = None
    queue: str | None = None
    priority: int | None = None
    blocked: bool = False
    hangup_node: str | None = None
    error: dict[str, Any] | None = None
    recording: str | None = None
    callback_number: str | None = None
    callback_queue: str | None = None
    agent: str | None = None
    """The agent who answered (router)."""
    routed: str | None = None
    """How the call left the router: ``answered``, ``abandoned``, ``timeout``, ``empty``."""
    routed_wait_s: float | None = None
    talk_s: float | None = None
    call_recording: str | None = None
    survey: dict[str, str | None] | None = None
    """The post-call survey's answers (question → answer code, None when not answered); None: no survey ran."""
    survey_from: str | None = None
    """The flow the call was in when the survey took it (the call record keeps it as the call's flow)."""
    started: float = field(default_factory=time.monotonic)

    @property
    def customer(self) -> dict[str, Any] | None:
        return self.ident.customer

    def context(self) -> dict[str, Any]:
        """The rule context (names of the ``ivr`` place of use)."""
        now = datetime.now()
        customer = self.ident.customer
        lines = customer.get("business_line") if customer else None
        cust = None if customer is None else {
            "id": customer.get("id"),
            "name": customer.get("name"),
            "tier": self.tier if self.tier is not None else customer.get("value_tier"),
            "lifecycle": customer.get("lifecycle"),
            "business_line": lines[0] if isinstance(lines, list) and lines else (lines or None),
        }
        return {
            "caller": {"number": self.ident.number or None, "known": self.ident.known,
                       "blacklisted": self.ident.blacklisted, "region": self.ident.region, "city": self.ident.city},
            "customer": cust,
            "now": {"hour": now.hour, "minute": now.minute},
            "today": {"weekday": now.isoweekday(), "date": now.date()},
            "call": {"wait": 0.0, "elapsed": time.monotonic() - self.started, "digits": self.digits,
                     "retries": self.retries, "dnid": self.dnid or None},
            "outage": {"active": bool(self.ident.outages)},
            "var": self.vars,
        }

    def public_vars(self) -> dict[str, Any]:
        """Call variables for the record, secrets masked, values made JSON-friendly."""
        out: dict[str, Any] = {}
        for key, value in self.vars.items():
            if key in self.secret_vars:
                out[key] = SECRET
            elif value is None or isinstance(value, str | int | float | bool):
                out[key] = value
            else:
                out[key] = str(value)
        return out

    def fail(self, error: dict[str, Any]) -> None:
        """Remember an error (recovered or not) on the call and on the current step."""
        self.error = error
        step = self.trail.current
        if step is not None:
            step.error = error
