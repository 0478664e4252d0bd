"""The ``workflow`` kind: a process that governs the records of one entity (work orders, articles, appeals).

A workflow names its ``entity`` and the ``state_field`` that holds the state; ``applies`` (a rule, place of
use ``guard``) chooses which new records it governs when several processes share an entity (complaints,
faults and consultations are all work orders), lowest ``order`` first. States have a label, a kind
(``open``, ``waiting`` or ``closed``), whether the service-level clock runs in them (default: only in open
states) and, optionally, which fields each role may edit while a record is in them. Transitions are the
actions people take: from one or more states to one state, allowed to one or more roles, with a guard
(rule, place of use ``guard``: ``record.<field>``, ``user.<name>``, ``now``), the fields that must be filled
to take it, whether a comment is required, an assignment on entry (a department — fixed, from a field of
the record, or chosen by a rule —, the users of a role serving the record's region, the creator, or kept),
effects (set or stamp fields, notify people, open a call-back task) and an optional confirmation question.

```yaml
kind: workflow
name: complaint
entity: work_order
state_field: status
applies: 'record.type in {complaint, complaint_service, complaint_quality}'
initial: new
states:
  - {name: new, label: {en: New, zh_CN: 新建}}
  - {name: waiting_customer, label: {en: Waiting for the customer, zh_CN: 等待客户}, kind: waiting}
  - {name: closed, label: {en: Closed, zh_CN: 已闭环}, kind: closed}
transitions:
  - name: forward
    label: {en: Forward to department, zh_CN: 转派}
    from: [new]
    to: dispatched
    roles: [qa, supervisor]
    require: [department]
    assign: {to: department, field: department}
    effects: [{notify: [department]}]
```

Publishing a revision that drops a state still held by records is refused unless ``state_map`` says where
those records go (``state_map: {old_state: new_state}``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .common import Code, Label, MetaObject, Name, Strict

StateKind = Literal["open", "waiting", "closed"]

RECIPIENTS = ("assignee", "department", "head", "creator", "actor")
"""Who a ``notify`` effect may name, besides ``role:<role>`` and ``user:<username>``."""


class WorkflowState(Strict):
    name: Name
    label: Label
    kind: StateKind = "open"
    clock: bool | None = None
    """Whether the service-level clock runs in this state; default: yes in ``open`` states only."""
    edit: dict[Name, list[str]] | None = None
    """Role → the fields it may edit in this state (``"*"``: every field). Unset: as the role's grants allow.
    When set, a role not listed edits nothing while a record is in this state."""

    @property
    def clock_runs(self) -> bool:
        return self.kind == "open" if self.clock is None else self.clock


class Assignment(Strict):
    """Who the record goes to when a transition enters its state."""

    to: Literal["department", "role", "creator", "actor", "keep", "rule"]
    department: Code | None = None
    """``to: department``: this department (a code of the ``department`` category tree)."""
    field: Name | None = None
    """``to: department``: the department named by this field of the record (after the transition's input)."""
    role: Name | None = None
    """``to: role``: the users holding this role ..."""
    region_field: Name | None = None
    """... who serve the region in this field of the record (e.g. ``city``)."""
    rule: str | None = None
    """``to: rule``: a rule list (place of use ``assign``) whose action names the department:
    ``when record.type == fault and record.city == changsha then department(maint_cs)``."""

    @model_validator(mode="after")
    def _what_it_needs(self) -> Assignment:
        need = {"department": ("department", "field"), "role": ("role",), "rule": ("rule",)}.get(self.to, ())
        if need and not any(getattr(self, n) for n in need):
            raise ValueError(f"'to: {self.to}' needs {' or '.join(need)}")
        return self


class Effect(Strict):
    """One thing a transition does besides changing the state; exactly one of the properties."""

    set: dict[Name, Any] | None = None
    """Field → value; ``now`` stamps the time, ``user`` the acting user's name, ``null`` clears."""
    notify: list[str] | None = None
    """Who is told: ``assignee``, ``department`` (its members), ``head`` (the department's head), ``creator``,
    ``actor``, ``role:<role>``, ``user:<username>``."""
    callback: bool = False
    """Open a call-back task to the record's customer (the call-back queue; done by an agent)."""

    @model_validator(mode="after")
    def _one(self) -> Effect:
        chosen = [n for n in ("set", "notify") if getattr(self, n)] + (["callback"] if self.callback else [])
        if len(chosen) != 1:
            raise ValueError("an effect is one of 'set', 'notify' or 'callback: true'")
        return self


class WorkflowTransition(Strict):
    name: Name
    label: Label
    from_: list[Name] = Field(alias="from", min_length=1)
    to: Name
    roles: list[Name] = Field(min_length=1)
    """Roles that may take it (any of them)."""
    guard: str | None = None
    """A condition (place of use ``guard``) that must be true to take it; shown as the reason when false."""
    guard_message: Label | None = None
    """What the user reads when the guard is false (default: the guard's text)."""
    require: list[Name] = []
    """Fields that must have a value (on the record or given with the action) to take it."""
    comment: Literal["optional", "required"] = "optional"
    assign: Assignment | None = None
    effects: list[Effect] = []
    confirm: Label | None = None
    """A question the user confirms before the action is taken."""


class Workflow(MetaObject):
    kind: Literal["workflow"]
    entity: Name
    state_field: Name
    applies: str | None = None
    """Which new records of the entity this process governs (place of use ``guard``); unset: all."""
    order: int = 0
    """When several processes of one entity apply, the lowest order governs."""
    initial: Name
    states: list[WorkflowState] = Field(min_length=1)
    transitions: list[WorkflowTransition] = []
    state_map: dict[Name, Name] = {}
    """Where records in a state this revision drops go when it is published (old state → new state)."""

    def state(self, name: str) -> WorkflowState | None:
        return next((s for s in self.states if s.name == name), None)

    def transition(self, name: str) -> WorkflowTransition | None:
        return next((t for t in self.transitions if t.name == name), None)

    def leaving(self, state: str) -> list[WorkflowTransition]:
        """The transitions that may be taken from ``state``, in the order written."""
        return [t for t in self.transitions if state in t.from_]
