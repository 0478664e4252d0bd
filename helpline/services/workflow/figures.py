"""Service figures stamped on the governed record, so query screens (which read entity tables) can count them.

Query screens average and sum fields of an entity; the times a process took live on its instance and steps
(``hl_wf_instance``, ``hl_wf_step``). This listener, run by the engine inside each transition's transaction
after the service-level listener, copies the figures onto the record when the entity has the fields:

- ``response_minutes`` — when the response happens: the counted (working) minutes the policy measured, or,
  with no policy, the wall-clock minutes from the start to leaving the initial state;
- ``resolution_minutes`` — when the record reaches a closed state: the counted minutes to the resolution
  (the policy's ``resolved_in`` state, else closing), or the wall-clock minutes from the start;
- ``on_time_pct`` — 100 when the resolution was within the policy's target, else 0 (so its average over a
  group of records is the on-time rate in per cent); left empty when no policy covers the record.

An entity without these fields is left alone; a figure already written is not written again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import TransitionEvent, WorkflowService

FIELDS = ("response_minutes", "resolution_minutes", "on_time_pct")


def _minutes(seconds: float) -> Decimal:
    return Decimal(str(round(max(seconds, 0.0) / 60.0, 1)))


class Figures:
    def __init__(self, workflows: WorkflowService) -> None:
        self.wf = workflows

    def on_event(self, event: TransitionEvent) -> None:
        """The engine's listener (see the module docstring)."""
        tr, flow, inst = event.transition, event.workflow, event.instance
        entity = self.wf.platform.metadata.entities.get(flow.entity)
        if tr is None or entity is None:
            return
        has = {f for f in FIELDS if entity.field(f) is not None}
        if not has:
            return
        record, now = event.record, event.step.at
        policy = self.wf.sla.policy(inst.sla_policy)
        stopped: dict[str, Any] = dict((inst.sla_state or {}).get("stopped") or {}) if policy else {}
        wall = (now - inst.opened_at).total_seconds() if inst.opened_at is not None else 0.0
        writes: dict[str, Any] = {}
        if "response_minutes" in has and record.get("response_minutes") is None:
            if "response" in stopped:
                writes["response_minutes"] = _minutes(float(stopped["response"]))
            elif policy is None and event.step.from_state == flow.initial and tr.to != flow.initial:
                writes["response_minutes"] = _minutes(wall)
        target = flow.state(tr.to)
        if target is not None and target.kind == "closed" and record.get("resolution_minutes") is None:
            seconds = float(stopped["resolution"]) if "resolution" in stopped else wall
            if "resolution_minutes" in has:
                writes["resolution_minutes"] = _minutes(seconds)
            goal = policy.target("resolution") if policy is not None else None
            if "on_time_pct" in has and goal is not None:
                writes["on_time_pct"] = 100 if seconds <= goal else 0
        if writes:
            model = self.wf.platform.models[flow.entity]
            model.update(**writes).where(model.id == record["id"]).execute()
            record.update(writes)
