"""The one workflow engine: every process (work orders, article publishing, QA appeals, emergency dispatch)
runs here, on ``workflow`` metadata (``helpline.metadata.kinds.workflow``).

- :meth:`WorkflowService.governing` chooses the process of a new record (``applies``, lowest ``order``);
  the record service stores the initial state and calls :meth:`WorkflowService.start` in the same
  transaction, which opens the instance (``hl_wf_instance``) and its first step.
- :meth:`WorkflowService.actions` lists what a user may do with a record now: every transition leaving its
  state that one of the user's roles may take, disabled with the reason when its guard is false.
- :meth:`WorkflowService.take` takes one, enforced on the server: the role, the row scope, the guard
  (a guard failing at run time refuses with the rule's position), the required fields, the comment, and the
  instance's version (two people acting at once: the second is refused). In one transaction it writes the
  record (the given values, the effects' values, the state field), the instance (state, assignment), the
  step (who, when, from, to, comment, time in the state left) and the audit entry, and tells the
  in-transaction listeners (notices are written there, so a crash loses or doubles none of them).
- The record service refuses direct edits of the state field and applies each state's ``edit`` rights
  (:meth:`WorkflowService.check_edit`).

Who is told and where a record goes are named here (recipients, assignment) and resolved by the
:class:`~helpline.services.workflow.directory.Directory` (departments, their heads and members).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from peewee import fn

from helpline.data.base import utcnow
from helpline.data.database import session, write_transaction
from helpline.data.workflow import WorkflowInstance, WorkflowStep
from helpline.extension_registry import RecordEvent, registry
from helpline.metadata.kinds import Entity
from helpline.metadata.kinds.workflow import Assignment, Workflow, WorkflowTransition
from helpline.metadata.workflow_checks import assign_use, guard_use, workflows_of
from helpline.rules import RuleError
from helpline.rules.errors import RuleRuntimeError
from helpline.rules.runtime import compile_expression, compile_rules
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

from .directory import Directory
from .figures import Figures
from .sla import NoticeHook, SlaService

if TYPE_CHECKING:
    from helpline.services.platform import Platform

from helpline.services.records import StaleRecord

log = logging.getLogger("helpline.workflow")


class StatesStillHeld(Exception):
    """A published revision drops states that records are still in, with no ``state_map`` for them."""

    def __init__(self, held: list[tuple[str, str, int]]) -> None:
        self.held = held
        lines = "\n".join(f"  - workflow '{w}': {n} record(s) in state '{st}'" for w, st, n in held)
        super().__init__("the new revision drops states that records are still in:\n" + lines +
                         "\nKeep the states, or say where their records go with 'state_map: {old: new}'.")


class TransitionRefused(Exception):
    """A transition cannot be taken now; ``reason`` is a locale key and ``params`` its values."""

    def __init__(self, reason: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.reason, self.params = reason, params


@dataclass(frozen=True)
class ActionState:
    """One action a user sees on a record: enabled, or disabled with the reason."""

    name: str
    label: Any
    to: str
    enabled: bool
    reason: str = ""
    require: tuple[str, ...] = ()
    comment_required: bool = False
    confirm: Any = None


@dataclass
class TransitionEvent:
    """What the in-transaction listeners see of a transition just written."""

    workflow: Workflow
    transition: WorkflowTransition | None
    instance: WorkflowInstance
    step: WorkflowStep
    record: dict[str, Any]
    actor: Actor
    recipients: list[str] = field(default_factory=list)
    """The effects' ``notify`` entries resolved to usernames (deduplicated, the actor left out)."""
    callbacks: int = 0


Listener = Callable[[TransitionEvent], None]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class WorkflowService:
    def __init__(self, platform: Platform, directory: Directory | None = None) -> None:
        self.platform = platform
        self.directory = directory or Directory()
        self.listeners: list[Listener] = []
        self.notices: list[NoticeHook] = []
        """Where the service-level timer hands its notices: ``hook(usernames, kind, detail)`` in its transaction
        (``kind``: ``sla_warning``, ``sla_breach``, ``escalate``); the notice centre registers here."""
        self.sla = SlaService(self)
        """Service-level deadlines and timers (``helpline.services.workflow.sla``); its listener runs first."""
        self.listeners.append(self.sla.on_event)
        self.figures = Figures(self)
        """Response and resolution minutes and on-time stamped on the record for query screens (its listener
        runs after the service-level one: ``helpline.services.workflow.figures``)."""
        self.listeners.append(self.figures.on_event)
        self._compiled: dict[tuple[str, str], Any] = {}

    # -- which process --------------------------------------------------------------------------------
    def workflows(self, entity: str) -> list[Workflow]:
        flows = [w for w in workflows_of(self.platform.metadata).values() if w.entity == entity]
        return sorted(flows, key=lambda w: (w.order, w.applies is None, w.name))

    def governed(self, entity: str) -> bool:
        return bool(self.workflows(entity))

    def governing(self, entity: str, values: dict[str, Any], actor: Actor | None = None) -> Workflow | None:
        """The process that governs a new record with ``values`` (None: the entity has none that applies)."""
        for flow in self.workflows(entity):
            if flow.applies is None or self._guard_true(flow, flow.applies, values, actor, now=utcnow()):
                return flow
        return None

    def flow_of(self, instance: WorkflowInstance) -> Workflow:
        flow = workflows_of(self.platform.metadata).get(instance.workflow)
        if flow is None:
            raise TransitionRefused("workflow.gone", f"the process '{instance.workflow}' no longer exists")
        return flow

    # -- rules ----------------------------------------------------------------------------------------------
    def _entity(self, flow: Workflow) -> Entity:
        return self.platform.metadata.entities[flow.entity]

    def _context(self, record: dict[str, Any], actor: Actor | None, now: datetime) -> dict[str, Any]:
        user = dict(actor.context()) if actor is not None else {}
        if actor is not None:
            user["roles"] = sorted(actor.role_names())
            user["departments"] = sorted(self.directory.departments_of(actor.username))
        return {"record": record, "user": user, "now": now,
                "now.hour": now.hour, "today.weekday": now.isoweekday()}

    def _guard_true(self, flow: Workflow, text: str, record: dict[str, Any], actor: Actor | None, now: datetime
                    ) -> bool:
        key = ("guard", f"{flow.entity}\x00{text}")
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = compile_expression(text, guard_use(self._entity(flow), self.platform.metadata))
            self._compiled[key] = compiled
        return bool(compiled.test(self._context(record, actor, now)))

    # -- starting ---------------------------------------------------------------------------------------------
    def start(self, actor: Actor, flow: Workflow, record: dict[str, Any]) -> WorkflowInstance:
        """Open the instance of a record just created in ``flow``'s initial state (in the caller's
        transaction)."""
        now = utcnow()
        instance = WorkflowInstance.create(entity=flow.entity, record_id=record["id"], workflow=flow.name,
                                           state=flow.initial, state_since=now, created_by=actor.username,
                                           opened_at=now, assignee=None if actor.is_system else actor.username)
        step = WorkflowStep.create(instance_id=instance.id, action="create", from_state=None, to_state=flow.initial,
                                   actor=actor.username, at=now, assignee=instance.assignee)
        self._tell(TransitionEvent(flow, None, instance, step, record, actor))
        return instance

    def instance(self, entity: str, record_id: int) -> WorkflowInstance | None:
        return WorkflowInstance.get_or_none((WorkflowInstance.entity == entity)
                                            & (WorkflowInstance.record_id == record_id))

    # -- what may be done ----------------------------------------------------------------------------------
    def actions(self, actor: Actor, entity: str, record_id: int) -> list[ActionState]:
        """The actions ``actor`` may take on the record now (guards evaluated; row scope applied)."""
        ent = self.platform.metadata.entities[entity]
        with session():
            record = self.platform.records._row(actor, ent, record_id)
            instance = self.instance(entity, record_id)
        if instance is None:
            return []
        flow = self.flow_of(instance)
        roles = actor.role_names()
        out = []
        now = utcnow()
        for tr in flow.leaving(instance.state):
            if not (actor.is_system or roles & set(tr.roles)):
                continue
            enabled, reason = True, ""
            if tr.guard:
                try:
                    enabled = self._guard_true(flow, tr.guard, record, actor, now)
                except RuleRuntimeError as exc:
                    enabled, reason = False, f"{exc.message} (line {exc.line}, column {exc.column})"
                if not enabled and not reason:
                    reason = tr.guard_message.get(actor.language) if tr.guard_message else tr.guard
            out.append(ActionState(tr.name, tr.label, tr.to, enabled, reason, tuple(tr.require),
                                   tr.comment == "required", tr.confirm))
        return out

    def timeline(self, actor: Actor, entity: str, record_id: int) -> list[dict[str, Any]]:
        """The steps of the record's process, oldest first (row scope applied)."""
        ent = self.platform.metadata.entities[entity]
        with session():
            self.platform.records._row(actor, ent, record_id)
            instance = self.instance(entity, record_id)
            if instance is None:
                return []
            steps = WorkflowStep.select().where(WorkflowStep.instance_id == instance.id).order_by(WorkflowStep.id)
            return [dict(action=s.action, from_state=s.from_state, to_state=s.to_state, actor=s.actor, at=s.at,
                         comment=s.comment, seconds_in_state=s.seconds_in_state,
                         business_seconds=s.business_seconds, department=s.department, assignee=s.assignee)
                    for s in steps]

    # -- taking an action -------------------------------------------------------------------------------------
    def take(self, actor: Actor, entity: str, record_id: int, action: str, values: dict[str, Any] | None = None,
             comment: str = "", expected_version: int | None = None) -> dict[str, Any]:
        """Take ``action`` on the record; returns the record as written. Refusals: :class:`PermissionDenied`
        (audited), :class:`TransitionRefused` (guard, required fields, comment, stale version, wrong state)."""
        ent = self.platform.metadata.entities[entity]
        values = dict(values or {})
        events: list[TransitionEvent] = []

        def work() -> dict[str, Any]:
            before = self.platform.records._row(actor, ent, record_id)
            instance = self.instance(entity, record_id)
            if instance is None:
                raise TransitionRefused("workflow.not_governed", f"{entity} {record_id} follows no process")
            flow = self.flow_of(instance)
            tr = flow.transition(action)
            if tr is None or instance.state not in tr.from_:
                raise TransitionRefused("workflow.wrong_state",
                                        f"'{action}' cannot be taken in the state '{instance.state}'",
                                        action=action, state=instance.state)
            if not (actor.is_system or actor.role_names() & set(tr.roles)):
                raise PermissionDenied(f"user '{actor.username}' may not take '{action}' (roles: "
                                       f"{', '.join(tr.roles)})")
            if expected_version is not None and instance.version != expected_version:
                raise TransitionRefused("workflow.stale", f"{entity} {record_id} was moved on meanwhile "
                                        f"(now '{instance.state}'); reload it", state=instance.state)
            now = utcnow()
            merged = {**before, **values}
            if tr.guard:
                try:
                    ok = self._guard_true(flow, tr.guard, merged, actor, now)
                except RuleRuntimeError as exc:
                    raise TransitionRefused("workflow.guard_error", f"the guard of '{action}' failed: "
                                            f"{exc.message} at line {exc.line}, column {exc.column}",
                                            line=exc.line, column=exc.column) from exc
                if not ok:
                    why = tr.guard_message.get(actor.language) if tr.guard_message else tr.guard
                    raise TransitionRefused("workflow.guard", f"'{action}' is not allowed now: {why}", why=why)
            missing = [f for f in tr.require if _text(merged.get(f)) == ""]
            if missing:
                raise TransitionRefused("workflow.required", f"'{action}' needs {', '.join(missing)}",
                                        fields=missing)
            if tr.comment == "required" and not comment.strip():
                raise TransitionRefused("workflow.comment", f"'{action}' needs a comment")
            writes = dict(values)
            stamped = {flow.state_field, *tr.require}  # the action's own fields, whatever the state's edit rights
            for effect in tr.effects:
                for name, value in (effect.set or {}).items():
                    writes[name] = now if value == "now" else actor.username if value == "user" else value
                    stamped.add(name)
            writes[flow.state_field] = tr.to
            try:
                after = self.platform.records._write_changes(actor, ent, before, writes, system_fields=stamped)
            except StaleRecord as exc:  # another action or edit wrote the record first
                raise TransitionRefused("workflow.stale", f"{entity} {record_id} was changed meanwhile; reload it"
                                        ) from exc
            department, assignee = self._assignment(tr.assign, after, actor, instance)
            seconds = (now - instance.state_since).total_seconds()
            target = flow.state(tr.to)
            n = (WorkflowInstance.update(state=tr.to, state_since=now, version=WorkflowInstance.version + 1,
                                         department=department, assignee=assignee,
                                         closed_at=now if target is not None and target.kind == "closed" else None)
                 .where((WorkflowInstance.id == instance.id) & (WorkflowInstance.version == instance.version))
                 .execute())
            if n != 1:
                raise TransitionRefused("workflow.stale", f"{entity} {record_id} was moved on meanwhile; reload it")
            step = WorkflowStep.create(instance_id=instance.id, action=tr.name, from_state=instance.state,
                                       to_state=tr.to, actor=actor.username, at=now, comment=comment.strip(),
                                       seconds_in_state=seconds, department=department, assignee=assignee)
            fresh = WorkflowInstance.get_by_id(instance.id)
            audit(actor, "transition", entity=entity, record_id=record_id,
                  detail={"workflow": flow.name, "action": tr.name, "from": instance.state, "to": tr.to,
                          "comment": comment.strip() or None})
            event = TransitionEvent(flow, tr, fresh, step, after, actor,
                                    self._recipients(tr, fresh, after, actor),
                                    sum(1 for e in tr.effects if e.callback))
            self._tell(event)
            events.append(event)
            return after

        try:
            with session(), write_transaction():
                written = work()
        except PermissionDenied as exc:
            with session():
                audit(actor, "denied", entity=entity, record_id=record_id,
                      detail={"kind": "transition", "action": action, "reason": str(exc)})
            raise
        for event in events:  # extensions after the commit: they never undo a transition
            registry().fire(entity, "on_transition", RecordEvent(
                entity, "on_transition", dict(event.record), None, actor.username, record_id,
                {"workflow": event.workflow.name, "action": action, "from": event.step.from_state,
                 "to": event.step.to_state}))
        return written

    def _tell(self, event: TransitionEvent) -> None:
        for listener in list(self.listeners):
            listener(event)  # in the transaction: a listener's failure rolls the transition back

    # -- assignment and recipients --------------------------------------------------------------------------
    def _assignment(self, assign: Assignment | None, record: dict[str, Any], actor: Actor,
                    instance: WorkflowInstance) -> tuple[str | None, str | None]:
        """(department, assignee) on entering the state; an assignee is a username or ``role:<role>@<region>``."""
        if assign is None or assign.to == "keep":
            return instance.department, instance.assignee
        if assign.to == "department":
            code = assign.department or _text(record.get(assign.field or "")) or None
            return code, None
        if assign.to == "creator":
            return instance.department, instance.created_by or None
        if assign.to == "actor":
            return instance.department, actor.username
        if assign.to == "role":
            region = _text(record.get(assign.region_field or "")) if assign.region_field else ""
            return instance.department, f"role:{assign.role}@{region}" if region else f"role:{assign.role}"
        # rule
        flow = self.flow_of(instance)
        key = ("assign", f"{flow.entity}\x00{assign.rule}")
        compiled = self._compiled.get(key)
        if compiled is None:
            try:
                compiled = compile_rules(assign.rule or "", assign_use(self._entity(flow), self.platform.metadata))
            except RuleError as exc:
                raise TransitionRefused("workflow.assign_error", f"the assignment rule is broken: {exc}") from exc
            self._compiled[key] = compiled
        try:
            match = compiled.evaluate(self._context(record, actor, utcnow()))
        except RuleRuntimeError as exc:
            raise TransitionRefused("workflow.assign_error", f"the assignment rule failed: {exc.message} at line "
                                    f"{exc.line}, column {exc.column}") from exc
        if match is None:
            return instance.department, instance.assignee
        for act in match.actions:
            if act.name == "department":
                return str(act.args[0]), None
            if act.name == "assignee":
                return instance.department, str(act.args[0])
        return instance.department, instance.assignee

    def _recipients(self, tr: WorkflowTransition, instance: WorkflowInstance, record: dict[str, Any],
                    actor: Actor) -> list[str]:
        who: list[str] = []
        for effect in tr.effects:
            for entry in effect.notify or []:
                who.extend(self.directory.resolve(entry, instance, record, actor))
        seen: set[str] = set()
        return [u for u in who if u and u != actor.username and not (u in seen or seen.add(u))]  # type: ignore[func-returns-value]

    # -- publishing --------------------------------------------------------------------------------------------
    def refuse_dropped_states(self, candidate: Any) -> None:
        """Raise :class:`StatesStillHeld` when a workflow of ``candidate`` (a metadata set about to be
        published) drops a state records are in and its ``state_map`` does not move them."""
        held: list[tuple[str, str, int]] = []
        with session():
            for name, flow in sorted(workflows_of(candidate).items()):
                kept = {st.name for st in flow.states}
                rows = (WorkflowInstance.select(WorkflowInstance.state, fn.COUNT(WorkflowInstance.id))
                        .where(WorkflowInstance.workflow == name).group_by(WorkflowInstance.state).tuples())
                for row in rows:
                    state, count = str(row[0]), int(row[1])  # type: ignore[index]
                    if state not in kept and state not in flow.state_map:
                        held.append((name, state, count))
        if held:
            raise StatesStillHeld(held)

    def apply_state_maps(self, metadata: Any) -> int:
        """Move records out of states a live workflow dropped, as its ``state_map`` says (a ``migrate`` step
        each, and the service-level clock set running or paused by the new state); returns how many moved."""
        moved = 0
        for name, flow in sorted(workflows_of(metadata).items()):
            kept = {st.name for st in flow.states}
            stale = {old: new for old, new in flow.state_map.items() if old not in kept and new in kept}
            if not stale:
                continue
            model = self.platform.models[flow.entity]
            with session(), write_transaction():
                for inst in WorkflowInstance.select().where((WorkflowInstance.workflow == name)
                                                            & WorkflowInstance.state.in_(list(stale))):
                    new = stale[inst.state]
                    now = utcnow()
                    model.update(**{flow.state_field: new}).where(model.id == inst.record_id).execute()
                    WorkflowInstance.update(state=new, state_since=now, version=WorkflowInstance.version + 1
                                            ).where(WorkflowInstance.id == inst.id).execute()
                    step = WorkflowStep.create(instance_id=inst.id, action="migrate", from_state=inst.state,
                                               to_state=new, actor="system", at=now,
                                               comment="state dropped by a published revision",
                                               seconds_in_state=(now - inst.state_since).total_seconds())
                    # the service-level clock follows the move (it runs or pauses as the new state says)
                    self.sla.on_event(TransitionEvent(flow, None, WorkflowInstance.get_by_id(inst.id), step,
                                                      {}, Actor.system()))
                    moved += 1
        if moved:
            log.warning("%d record(s) moved out of dropped workflow states", moved)
        return moved

    # -- what the record service asks ---------------------------------------------------------------------
    def check_edit(self, actor: Actor, entity: str, record_id: int, fields: set[str]) -> None:
        """Refuse direct edits of the state field, and edits a state's ``edit`` rights do not allow."""
        if actor.is_system or not fields:
            return
        instance = self.instance(entity, record_id)
        if instance is None:
            return
        flow = self.flow_of(instance)
        if flow.state_field in fields:
            raise PermissionDenied(f"the state of {entity} {record_id} changes only by its actions")
        state = flow.state(instance.state)
        if state is None or state.edit is None:
            return
        allowed: set[str] = set()
        for role in actor.role_names():
            allowed.update(state.edit.get(role, []))
        if "*" in allowed:
            return
        refused = sorted(fields - allowed)
        if refused:
            raise PermissionDenied(f"in the state '{instance.state}' you may not change: {', '.join(refused)}")
