"""What a form shows of a record's process, read in one go: the state (its label and kind), the instance's
version (sent back with an action, so a stale form is refused), the assignment, the actions the user may take
now, the timeline with the states' labels, and the service-level deadlines with the time left."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from helpline.data.base import utcnow
from helpline.data.database import session
from helpline.security.actor import Actor

from .engine import ActionState

if TYPE_CHECKING:
    from .engine import WorkflowService


@dataclass(frozen=True)
class Deadline:
    target: str
    """``response`` or ``resolution``."""
    due: datetime
    """UTC (naive, as stored)."""
    met_at: datetime | None
    seconds_left: float
    """Negative when overdue; counted to ``met_at`` when the target was met."""

    @property
    def overdue(self) -> bool:
        return self.seconds_left < 0


@dataclass
class ProcessView:
    workflow: str
    state_field: str
    state: str
    state_label: Any
    state_kind: str
    version: int
    department: str | None
    assignee: str | None
    actions: list[ActionState] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    """Oldest first; each with ``from_label`` / ``to_label`` besides the engine's timeline keys."""
    deadlines: list[Deadline] = field(default_factory=list)


def deadlines(instance: Any, now: datetime) -> list[Deadline]:
    """The response and resolution deadlines set on an instance row, with the time left at ``now`` (or at the
    moment the target was met)."""
    out = []
    met = {"response": instance.responded_at,
           "resolution": instance.closed_at}
    for target in ("response", "resolution"):
        due = getattr(instance, f"{target}_due", None)
        if due is None:
            continue
        until = met[target] or now
        out.append(Deadline(target, due, met[target], (due - until).total_seconds()))
    return out


def process_view(workflows: WorkflowService, actor: Actor, entity: str, record_id: int,
                 now: datetime | None = None) -> ProcessView | None:
    """The record's process as ``actor`` sees it (None: no process governs it). Row scope applies (the
    engine's reads refuse a record out of scope)."""
    if not workflows.governed(entity):
        return None
    actions = workflows.actions(actor, entity, record_id)
    steps = workflows.timeline(actor, entity, record_id)
    with session():
        instance = workflows.instance(entity, record_id)
    if instance is None:
        return None
    flow = workflows.flow_of(instance)
    state = flow.state(instance.state)

    def state_label(name: str | None) -> Any:
        st = flow.state(name) if name else None
        return st.label if st is not None else name

    for step in steps:
        step["from_label"] = state_label(step["from_state"])
        step["to_label"] = state_label(step["to_state"])
    return ProcessView(flow.name, flow.state_field, instance.state, state_label(instance.state),
                       state.kind if state is not None else "open", int(instance.version), instance.department,
                       instance.assignee, actions, steps, deadlines(instance, now or utcnow()))


def progress(workflows: WorkflowService, entity: str, record_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Where each of ``record_ids`` stands in its process (records with none are left out): ``state``,
    ``state_label``, ``open`` (not in a closed state), ``resolution_due`` (UTC or None). For lists that show
    records the caller already may see (e.g. a customer's orders on the screen-pop)."""
    from helpline.data.workflow import WorkflowInstance
    from helpline.metadata.workflow_checks import workflows_of

    if not record_ids:
        return {}
    flows = workflows_of(workflows.platform.metadata)
    with session():
        rows = list(WorkflowInstance.select(WorkflowInstance.record_id, WorkflowInstance.workflow,
                                            WorkflowInstance.state, WorkflowInstance.closed_at,
                                            WorkflowInstance.resolution_due)
                    .where((WorkflowInstance.entity == entity) & WorkflowInstance.record_id.in_(record_ids)))
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        flow = flows.get(r.workflow)
        st = flow.state(r.state) if flow is not None else None
        out[int(r.record_id)] = {"state": r.state, "state_label": st.label if st is not None else r.state,
                                 "open": r.closed_at is None, "resolution_due": r.resolution_due}
    return out
