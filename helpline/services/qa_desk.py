"""What the evaluation page shows beside the recording: the call, its IVR trail and transfers as markers on the
timeline, the contact records and work orders written during it, and the queue of calls to evaluate.

Markers are seconds from the start of the call (``at_s``) and, for what happened after an agent answered, from
the start of the conversation recording (``rec_s``; None before the answer): the player seeks to ``rec_s``.
Contact records are the agent's records written during the call or within two minutes after it; work orders
are those of these contact records. Only fields the actor's role reads unmasked are shown (serial no., times,
types, satisfaction, remarks; order no., title, status). Reading needs ``qa.evaluate`` (audited refusal).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from helpline.data.agents import CallRoute
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.qa import QaSample
from helpline.security.actor import Actor

from .platform import Platform
from .qa import PERMISSION, _require

_SLACK = timedelta(minutes=2)
TRANSFER_KINDS = frozenset({"transfer", "transferred", "consult", "conference", "requeue", "overflow"})


def _markers(call: Call, routes: list[CallRoute]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for step in call.trail or []:
        at_s = float(step.get("at_ms") or 0) / 1000
        out.append({"at_s": round(at_s, 1), "kind": "ivr", "label": f"{step.get('flow', '')}:{step.get('node', '')}",
                    "detail": " ".join(step.get("digits") or [])})
        for target in step.get("transfers") or []:
            out.append({"at_s": round(at_s + float(step.get("duration_ms") or 0) / 1000, 1), "kind": "transfer",
                        "label": str(target), "detail": ""})
    answered_s: float | None = None
    for route in routes:
        at_s = (route.at - call.started_at).total_seconds()
        if route.kind == "answered" and answered_s is None:
            answered_s = at_s
        kind = "transfer" if route.kind in TRANSFER_KINDS else "route"
        out.append({"at_s": round(at_s, 1), "kind": kind, "label": f"{route.kind} {route.agent or route.queue or ''}"
                    .strip(), "detail": route.reason[:120]})
    if answered_s is None and call.wait_s is not None and call.routed == "answered":
        ivr_end = max((m["at_s"] for m in out), default=0.0)
        answered_s = ivr_end + float(call.wait_s)
    for m in out:
        m["rec_s"] = round(m["at_s"] - answered_s, 1) if answered_s is not None and m["at_s"] >= answered_s else None
    return sorted(out, key=lambda m: m["at_s"])


def call_context(platform: Platform, actor: Actor, call_id: int) -> dict[str, Any]:
    """The call, its markers, contact records and work orders (see the module docstring)."""
    with session():
        _require(actor, PERMISSION, call_id)
        call = Call.get_or_none(Call.id == call_id)
        if call is None:
            raise LookupError(f"no call {call_id}")
        routes = list(CallRoute.select().where(CallRoute.call_id == call_id).order_by(CallRoute.at, CallRoute.id))
        contacts: list[dict[str, Any]] = []
        orders: list[dict[str, Any]] = []
        if call.agent and actor.can("contact_record", "read"):
            cr: Any = platform.models["contact_record"]
            end = (call.ended_at or call.started_at) + _SLACK
            contacts = list(cr.select(cr.serial_no, cr.started_at, cr.consultation_types, cr.acceptance_types,
                                      cr.complaint_types, cr.satisfaction, cr.remarks)
                            .where((cr.agent == call.agent) & (cr.started_at >= call.started_at - _SLACK)
                                   & (cr.started_at <= end)).order_by(cr.started_at).limit(20).dicts())
            serials = [c["serial_no"] for c in contacts]
            if serials and actor.can("work_order", "read"):
                wo: Any = platform.models["work_order"]
                orders = list(wo.select(wo.order_no, wo.title, wo.type, wo.status, wo.contact)
                              .where(wo.contact.in_(serials)).order_by(wo.id).limit(50).dicts())
        return {
            "id": call.id, "agent": call.agent, "queue": call.queue, "flow": call.flow,
            "started_at": call.started_at, "ended_at": call.ended_at, "talk_s": call.talk_s,
            "recording": bool(call.call_recording), "customer_id": call.customer_id,
            "markers": _markers(call, routes), "contacts": contacts, "orders": orders,
        }


def queue_rows(actor: Actor, *, limit: int = 200) -> list[dict[str, Any]]:
    """The calls waiting for evaluation (and the skipped ones with their reason), for the page's queue."""
    with session():
        _require(actor, PERMISSION, 0)
        rows: list[Any] = list(QaSample.select().where(QaSample.status.in_(["queued", "skipped"]))
                               .order_by(QaSample.status, QaSample.id).limit(limit).dicts())
        return rows
