"""Service levels on the workflow engine: deadlines on the instance rows, and the timer that acts on them.

When a record starts (the engine's ``create`` step) the first ``sla`` policy of its workflow whose ``applies`` is
true is chosen and kept (``hl_wf_instance.sla_policy``). On that start and on every transition, inside the
transition's transaction, :meth:`SlaService.on_event` brings the row up to date:

- ``sla_state``: ``used`` (counted seconds up to ``since``), ``running`` (whether the clock runs in the
  state — a workflow state's ``clock``), ``since``, ``stopped`` (the counted seconds at which the response or the
  resolution was reached) and ``done`` (the timer keys already acted on, with when);
- ``responded_at`` when the response happens, ``response_due`` / ``resolution_due`` (deadlines projected while
  the clock runs, kept as they were while it is paused: a pause moves them by the paused counted time when the
  clock runs again), and ``next_due``, the earliest moment the timer must look at the row (indexed).

:meth:`SlaService.run_due` (the ``sla_timers`` job, every minute) reads the rows whose ``next_due`` has come and,
per row, in one transaction: claims it with a conditional update (same ``version`` and ``next_due`` as read —
two overlapping passes, or a pass and a transition, cannot both act), writes an ``hl_wf_step`` for each key that
fired (``sla_warning``, ``sla_breach``, ``escalate``) and hands the notices to ``WorkflowService.notices``. The
``done`` keys are committed with the steps, so after a restart nothing fires twice and nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from helpline.data.base import utcnow
from helpline.data.database import db, is_sqlite, session, write_transaction
from helpline.data.workflow import WorkflowInstance, WorkflowStep
from helpline.metadata.kinds import Entity
from helpline.metadata.kinds.calendar import Calendar
from helpline.metadata.kinds.sla import Sla
from helpline.metadata.kinds.workflow import Workflow
from helpline.metadata.sla_checks import applies_use, calendars_of, linked_fields, slas_of
from helpline.rules.errors import RuleRuntimeError
from helpline.rules.runtime import compile_expression
from helpline.security.actor import Actor

from .business_time import BusinessCalendar, from_epoch, to_epoch

if TYPE_CHECKING:
    from .engine import TransitionEvent, WorkflowService

NoticeHook = Callable[[list[str], str, dict[str, Any]], None]
"""``hook(usernames, kind, detail)``: called inside the timer's transaction; ``kind`` is ``sla_warning``,
``sla_breach`` or ``escalate``; ``detail`` names the record, the policy, the target and the due time."""

log = logging.getLogger("helpline.workflow.sla")

TARGETS = ("response", "resolution")
SYSTEM = Actor.system()


def _iso(t: datetime) -> str:
    return t.isoformat()


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


class SlaService:
    """Service-level deadlines and timers of one workflow engine."""

    def __init__(self, workflows: WorkflowService) -> None:
        self.wf = workflows
        self._calendars: dict[str, tuple[Calendar, BusinessCalendar]] = {}
        self._policies: tuple[int, dict[str, list[Sla]]] = (0, {})
        self._compiled: dict[tuple[str, str], Any] = {}
        self._seen: tuple[Any, dict[str, Any] | None] = (None, None)
        """The metadata set of the last pass and its policies (with their calendars) as they were."""

    # -- metadata ------------------------------------------------------------------------------------------
    def policies(self, workflow: str) -> list[Sla]:
        """The policies of one workflow, lowest ``order`` first."""
        mset = self.wf.platform.metadata
        if self._policies[0] != id(mset):
            by: dict[str, list[Sla]] = {}
            for sla in slas_of(mset).values():
                by.setdefault(sla.workflow, []).append(sla)
            for items in by.values():
                items.sort(key=lambda s: (s.order, s.applies is None, s.name))
            self._policies = (id(mset), by)
        return self._policies[1].get(workflow, [])

    def policy(self, name: str | None) -> Sla | None:
        return slas_of(self.wf.platform.metadata).get(name or "")

    def calendar(self, name: str) -> BusinessCalendar | None:
        cal = calendars_of(self.wf.platform.metadata).get(name)
        if cal is None:
            return None
        cached = self._calendars.get(name)
        if cached is None or cached[0] is not cal:
            cached = (cal, BusinessCalendar.of(cal))
            self._calendars[name] = cached
        return cached[1]

    def _applies(self, flow: Workflow, policy: Sla, record: dict[str, Any], actor: Actor, now: datetime) -> bool:
        """Whether ``policy`` covers a new record: its ``applies`` on the record, the user, now and the records
        the record links to (read only when the rule names them); a rule failing at run time does not apply."""
        if policy.applies is None:
            return True
        mset = self.wf.platform.metadata
        entity = mset.entities[flow.entity]
        key = (flow.entity, policy.applies)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = compile_expression(policy.applies, applies_use(entity, mset))
            self._compiled[key] = compiled
        context = self.wf._context(record, actor, now)
        for name, linked in linked_fields(entity, mset).items():
            if f"{name}." in policy.applies:
                context[name] = self._linked(entity, name, linked, record.get(name))
        try:
            return bool(compiled.test(context))
        except RuleRuntimeError as exc:
            log.warning("sla '%s': applies failed for %s %s: %s", policy.name, flow.entity, record.get("id"), exc)
            return False

    def _linked(self, entity: Entity, name: str, linked: Entity, value: Any) -> dict[str, Any]:
        field = entity.field(name)
        if value in (None, "") or field is None:
            return {}
        model = self.wf.platform.models[linked.name]
        column = getattr(model, field.link_key or "id")
        return dict(model.select().where(column == value).dicts().first() or {})

    # -- the plan of one row -------------------------------------------------------------------------------
    @staticmethod
    def _used_now(state: dict[str, Any], cal: BusinessCalendar, now: float) -> float:
        used = float(state["used"])
        return used + cal.between_epoch(to_epoch(_parse(state["since"])), now) if state["running"] else used

    def dues(self, policy: Sla, cal: BusinessCalendar, state: dict[str, Any]) -> dict[str, float]:
        """Timer key → the epoch instant it fires, for every key not yet done."""
        done, stopped = state.get("done", {}), state.get("stopped", {})
        since, used = to_epoch(_parse(state["since"])), float(state["used"])
        out: dict[str, float] = {}
        for which in TARGETS:
            target = policy.target(which)
            if target is None:
                continue
            for at, threshold in (("warning", target * policy.warning / 100), ("breach", float(target))):
                key = f"{which}.{at}"
                if key in done:
                    continue
                if which in stopped or not state["running"]:  # not counting: due now if passed, else never
                    reached = float(stopped.get(which, used))
                    if reached >= threshold:
                        out[key] = since
                    continue
                out[key] = cal.add_epoch(since, threshold - used) if threshold > used else since
        for i, step in enumerate(policy.escalation):
            key, base = f"step.{i}", done.get(f"{step.of}.{step.at}")
            if step.after and key not in done and base is not None and step.of not in stopped:
                out[key] = to_epoch(_parse(base)) + step.delay
        return out

    def _deadlines(self, policy: Sla, cal: BusinessCalendar, state: dict[str, Any]) -> dict[str, Any]:
        """The row's columns as ``state`` says (deadlines frozen while the clock does not run)."""
        cols: dict[str, Any] = {"sla_state": state}
        if state["running"]:
            since, used = to_epoch(_parse(state["since"])), float(state["used"])
            for which in TARGETS:
                target = policy.target(which)
                if target is not None and which not in state.get("stopped", {}):
                    cols[f"{which}_due"] = from_epoch(cal.add_epoch(since, max(target - used, 0.0)))
        dues = self.dues(policy, cal, state).values()
        cols["next_due"] = from_epoch(min(dues)) if dues else None
        return cols

    # -- in the transition's transaction -------------------------------------------------------------------
    def on_event(self, event: TransitionEvent) -> None:
        """The engine's listener: start the clock of a new record, move it on a transition."""
        inst, flow, now = event.instance, event.workflow, event.step.at
        if event.transition is None and event.step.action == "create":
            policy = next((p for p in self.policies(flow.name)
                           if self._applies(flow, p, event.record, event.actor, now)), None)
            cal = self.calendar(policy.calendar) if policy is not None else None
            if policy is None or cal is None:
                return
            st = flow.state(inst.state)
            state: dict[str, Any] = {"used": 0.0, "running": bool(st and st.clock_runs and st.kind != "closed"),
                     "since": _iso(now), "stopped": {}, "done": {}}
            self._write(inst, {"sla_policy": policy.name, **self._deadlines(policy, cal, state)})
            return
        policy = self.policy(inst.sla_policy)
        if policy is None or not inst.sla_state:
            return
        cal = self.calendar(policy.calendar)
        if cal is None:
            return
        state = dict(inst.sla_state)
        stopped: dict[str, float] = dict(state.get("stopped") or {})
        state["stopped"], state["done"] = stopped, dict(state.get("done") or {})
        t = to_epoch(now)
        used = self._used_now(state, cal, t)
        cols: dict[str, Any] = {}
        if event.step.seconds_in_state is not None:  # working time spent in the state left
            left = to_epoch(now) - event.step.seconds_in_state
            event.step.business_seconds = round(cal.between_epoch(left, t), 3)
            WorkflowStep.update(business_seconds=event.step.business_seconds).where(
                WorkflowStep.id == event.step.id).execute()
        if inst.responded_at is None and self._is_response(policy, flow, event):
            cols["responded_at"] = now
            stopped.setdefault("response", used)
        target = flow.state(inst.state)
        if target is not None and target.kind == "closed":
            stopped.setdefault("resolution", used)
            stopped.setdefault("response", used)
        elif inst.state in policy.resolved_in:
            stopped.setdefault("resolution", used)
        state.update(used=used, since=_iso(now),
                     running=bool(target and target.clock_runs and target.kind != "closed"))
        cols.update(self._deadlines(policy, cal, state))
        self._write(inst, cols)

    @staticmethod
    def _is_response(policy: Sla, flow: Workflow, event: TransitionEvent) -> bool:
        tr = event.transition
        if tr is None:
            return False
        if policy.responded_by or policy.responded_in:
            return tr.name in policy.responded_by or tr.to in policy.responded_in
        return event.step.from_state == flow.initial and tr.to != flow.initial

    @staticmethod
    def _write(inst: WorkflowInstance, cols: dict[str, Any]) -> None:
        WorkflowInstance.update(**cols).where(WorkflowInstance.id == inst.id).execute()
        for name, value in cols.items():  # later listeners see the row as written
            setattr(inst, name, value)

    # -- what the screens show -----------------------------------------------------------------------------
    def status(self, inst: WorkflowInstance, now: datetime | None = None) -> SlaStatus | None:
        """Where a record stands against its policy now (None: no policy covers it)."""
        policy = self.policy(inst.sla_policy)
        cal = self.calendar(policy.calendar) if policy is not None else None
        if policy is None or cal is None or not inst.sla_state:
            return None
        state = dict(inst.sla_state)
        stopped = state.get("stopped") or {}
        used = self._used_now(state, cal, to_epoch(now or utcnow()))
        left: dict[str, float | None] = {}
        breached, warned = [], []
        for which in TARGETS:
            target = policy.target(which)
            if target is None:
                left[which] = None
                continue
            reached = float(stopped.get(which, used))
            left[which] = None if which in stopped else target - reached
            if reached >= target:
                breached.append(which)
            elif reached >= target * policy.warning / 100:
                warned.append(which)
        return SlaStatus(policy.name, bool(state.get("running")), used, inst.response_due, inst.resolution_due,
                         inst.responded_at, left["response"], left["resolution"], tuple(breached), tuple(warned))

    # -- the timer -----------------------------------------------------------------------------------------
    def run_due(self, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
        """Act on every row whose ``next_due`` has come: the ``sla_timers`` job. Returns counts."""
        now = now or utcnow()
        replanned = self._replan_changed(now)
        with session():
            rows = list(WorkflowInstance.select().where(WorkflowInstance.next_due <= now)
                        .order_by(WorkflowInstance.next_due))
        memo: dict[tuple[str, str | None, str | None, str], list[str]] = {}
        counts = {"due": len(rows), "fired": 0, "skipped": 0, "replanned": replanned}
        for i in range(0, len(rows), batch):
            with session(), write_transaction():
                plans = [self._prepare(inst, now) for inst in rows[i:i + batch]]
                claimed = _claim_many(plans)
                pending: list[tuple[Any, ...]] = []
                for plan in plans:
                    if plan.inst.id in claimed:
                        counts["fired"] += self._apply(plan, now, memo, pending)
                    else:
                        counts["skipped"] += 1
                _insert_steps(pending)
        return counts

    def _replan_changed(self, now: datetime) -> int:
        """When a policy or its calendar changed since the last pass (a published revision), make the open
        records under it due now: this pass plans them again on the new targets (firing only what is due)."""
        mset = self.wf.platform.metadata
        if mset is self._seen[0]:
            return 0
        calendars = calendars_of(mset)
        current = {name: (sla.model_dump(mode="json"), calendars[sla.calendar].model_dump(mode="json")
                          if sla.calendar in calendars else None) for name, sla in slas_of(mset).items()}
        previous, self._seen = self._seen[1], (mset, current)
        if previous is None:
            return 0
        changed = sorted(n for n in set(previous) | set(current) if previous.get(n) != current.get(n))
        if not changed:
            return 0
        with session(), write_transaction():
            return int(WorkflowInstance.update(next_due=now).where(
                WorkflowInstance.sla_policy.in_(changed) & WorkflowInstance.closed_at.is_null()).execute())

    def _fire(self, inst: WorkflowInstance, now: datetime, memo: dict[Any, list[str]]) -> int | None:
        """Act on one due row in the caller's transaction: the number of keys fired, None when another pass or
        a transition got there first."""
        plan = self._prepare(inst, now)
        if inst.id not in _claim_many([plan]):
            return None
        pending: list[tuple[Any, ...]] = []
        fired = self._apply(plan, now, memo, pending)
        _insert_steps(pending)
        return fired

    def _prepare(self, inst: WorkflowInstance, now: datetime) -> _Plan:
        """What acting on one due row writes: its new columns and the keys that fire."""
        policy = self.policy(inst.sla_policy)
        cal = self.calendar(policy.calendar) if policy is not None else None
        keep = {"department": inst.department, "assignee": inst.assignee, "sla_state": inst.sla_state,
                "response_due": inst.response_due, "resolution_due": inst.resolution_due}
        if policy is None or cal is None or not inst.sla_state:  # the policy is gone: stop looking at the row
            return _Plan(inst, {**keep, "next_due": None}, 0, [])
        state: dict[str, Any] = dict(inst.sla_state)
        done: dict[str, str] = dict(state.get("done", {}))
        state["done"] = done
        t = to_epoch(now)
        fired = sorted((due, key) for key, due in self.dues(policy, cal, state).items() if due <= t)
        department, assignee, bump = inst.department, inst.assignee, 0
        actions: list[tuple[str, dict[str, Any], list[str]]] = []
        for due, key in fired:
            done[key] = _iso(now)
            which: str
            at: str
            if key.startswith("step."):
                steps = [policy.escalation[int(key[5:])]]
                which, at = steps[0].of, steps[0].at
            else:
                which, at = key.split(".")
                steps = [s for s in policy.escalation if s.of == which and s.at == at and not s.after]
            notify: list[str] = []
            for esc in steps:
                if esc.reassign:
                    department, assignee, bump = esc.reassign, None, 1
                notify.extend(esc.notify)
            action = "escalate" if key.startswith("step.") else f"sla_{at}"
            actions.append((action, {"policy": policy.name, "target": which, "at": at, "due": _iso(from_epoch(due)),
                                     "notify": notify, "reassign": department if bump else None, "key": key}, notify))
        state["used"] = self._used_now(state, cal, t)
        state["since"] = _iso(now)
        cols = {**keep, "department": department, "assignee": assignee, **self._deadlines(policy, cal, state)}
        return _Plan(inst, cols, bump, actions)

    def _apply(self, plan: _Plan, now: datetime, memo: dict[Any, list[str]], pending: list[tuple[Any, ...]]) -> int:
        """After the claim: the steps (to ``pending``) and the notices of one row."""
        inst = plan.inst
        inst.department, inst.assignee = plan.cols["department"], plan.cols["assignee"]
        for action, detail, notify in plan.actions:
            pending.append((inst.id, action, inst.state, inst.state, "system", now, "", inst.department,
                            inst.assignee, detail))
            users = self._recipients(notify, inst, memo)
            if users and self.wf.notices:
                info = {"entity": inst.entity, "record_id": inst.record_id, "instance_id": inst.id,
                        "workflow": inst.workflow, "state": inst.state, **detail}
                for hook in list(self.wf.notices):
                    hook(users, action, info)
        return len(plan.actions)

    def _recipients(self, entries: Iterable[str], inst: WorkflowInstance, memo: dict[Any, list[str]]) -> list[str]:
        who: list[str] = []
        for entry in entries:
            key = (entry, inst.department, inst.assignee, inst.created_by)
            if key not in memo:
                memo[key] = self.wf.directory.resolve(entry, inst, {}, SYSTEM)
            who.extend(memo[key])
        return list(dict.fromkeys(u for u in who if u))



@dataclass(frozen=True)
class SlaStatus:
    """A record against its policy (instants naive UTC: shown in the user's time zone)."""

    policy: str
    running: bool
    """Whether the clock runs now (false in a paused or closed state)."""
    used: float
    """Counted seconds so far."""
    response_due: datetime | None
    resolution_due: datetime | None
    responded_at: datetime | None
    response_left: float | None
    """Counted seconds to the response target (negative: overdue); None once responded or without a target."""
    resolution_left: float | None
    breached: tuple[str, ...]
    """The targets missed (``response``, ``resolution``)."""
    warned: tuple[str, ...]
    """The targets past the warning threshold but not missed."""


def _param() -> str:
    return "?" if is_sqlite() else "%s"


@dataclass
class _Plan:
    inst: WorkflowInstance
    cols: dict[str, Any]
    """department, assignee, sla_state, next_due, response_due, resolution_due as they will be."""
    bump: int
    actions: list[tuple[str, dict[str, Any], list[str]]]


CLAIMED = ("department", "assignee", "sla_state", "next_due", "response_due", "resolution_due")


def _claim_many(plans: list[_Plan]) -> set[int]:
    """Write each plan's columns if its row still has the version and ``next_due`` it was read with; the ids
    written. SQL built by hand (the timer writes many rows a pass): a statement per row on SQLite (no round
    trips), one ``UPDATE ... FROM (VALUES ...)`` per 500 rows on PostgreSQL."""
    m = WorkflowInstance
    table, state_field = m._meta.table_name, m.sla_state
    claimed: set[int] = set()
    if is_sqlite():
        sets = ", ".join(f"{c} = ?" for c in CLAIMED)
        for plan in plans:
            inst = plan.inst
            values = [state_field.db_value(plan.cols[c]) if c == "sla_state" else plan.cols[c] for c in CLAIMED]
            sql = (f"UPDATE {table} SET {sets}, version = version + {int(plan.bump)} "
                   f"WHERE id = ? AND version = ? AND next_due = ?")
            cursor = db.execute_sql(sql, [*values, inst.id, inst.version, inst.next_due])
            if cursor.rowcount == 1:
                claimed.add(inst.id)
        return claimed
    for i in range(0, len(plans), 500):
        chunk = plans[i:i + 500]
        row = "(" + ", ".join(["%s"] * (4 + len(CLAIMED))) + ")"
        params: list[Any] = []
        for plan in chunk:
            params += [plan.inst.id, plan.inst.version, plan.inst.next_due, plan.bump]
            params += [state_field.db_value(plan.cols[c]) if c == "sla_state" else plan.cols[c] for c in CLAIMED]
        sql = (f"UPDATE {table} AS t SET department = v.department, assignee = v.assignee, "
               f"sla_state = v.sla_state::jsonb, next_due = v.next_due::timestamp, "
               f"response_due = v.response_due::timestamp, resolution_due = v.resolution_due::timestamp, "
               f"version = t.version + v.bump FROM (VALUES {', '.join([row] * len(chunk))}) "
               f"AS v(id, version, old, bump, {', '.join(CLAIMED)}) "
               f"WHERE t.id = v.id AND t.version = v.version AND t.next_due = v.old::timestamp RETURNING t.id")
        claimed.update(int(r[0]) for r in db.execute_sql(sql, params).fetchall())
    return claimed


STEP_COLUMNS = ("instance_id", "action", "from_state", "to_state", "actor", "at", "comment", "department", "assignee",
                "detail")


def _insert_steps(rows: list[tuple[Any, ...]]) -> None:
    """Write the timer's steps in multi-row inserts."""
    if not rows:
        return
    p = _param()
    detail = WorkflowStep.detail
    one = "(" + ", ".join([p] * len(STEP_COLUMNS)) + ")"
    for i in range(0, len(rows), 200):
        chunk = rows[i:i + 200]
        params = [v for r in chunk for v in (*r[:-1], detail.db_value(r[-1]))]
        db.execute_sql(f"INSERT INTO {WorkflowStep._meta.table_name} ({', '.join(STEP_COLUMNS)}) VALUES "
                       + ", ".join([one] * len(chunk)), params)
