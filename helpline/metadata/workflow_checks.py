"""Checks of ``workflow`` objects: states, transitions, roles, fields and rules must fit together.

- ``HL-E202`` / ``HL-E203`` / ``HL-E208``: an unknown entity, field or role.
- ``HL-E401``: a transition, the initial state or ``state_map`` names a state the workflow does not define.
- ``HL-E402``: a state no transition reaches (and not the initial state).
- ``HL-E403``: an open or waiting state with no transition out of it (records would stay there for ever).
- ``HL-E404``: the state field cannot hold the states (missing, not text or category, or a category whose tree
  lacks a state's code).
- ``HL-E405``: two processes govern the same new records (same entity, neither has ``applies``).
- ``HL-E106``: an unknown recipient of a ``notify`` effect.
- Guards (place of use ``guard``) and assignment rules (``assign``) keep the rule language's ids, placed in the
  file; ``record.<field>`` must be a field of the entity.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from helpline.diagnostics import Problem
from helpline.rules.checker import check_expression, check_program
from helpline.rules.uses import ASSIGN, GUARD, Use

from .kinds import Entity
from .kinds.workflow import RECIPIENTS, Workflow
from .metaset import MetadataSet, Source
from .rule_checks import _codes, place, record_context
from .yamlpos import Path

USER_CONTEXT = {"user.name": "text", "user.roles": "set(text)", "user.regions": "set(text)",
                "user.departments": "set(text)"}


def workflows_of(mset: MetadataSet) -> dict[str, Workflow]:
    """The workflows of a metadata set, by name."""
    return {n: o for n, o in mset.objects.get("workflow", {}).items() if isinstance(o, Workflow)}


def guard_use(entity: Entity, mset: MetadataSet | None = None) -> Use:
    """The ``guard`` place of use for one entity's workflows: its fields as ``record.<field>``, the user, now."""
    closed = Use.expression(GUARD.name, {}, description=GUARD.description)
    names: dict[str, Any] = {**record_context(entity, mset), **USER_CONTEXT, "now": "datetime",
                             "now.hour": "number", "today.weekday": "number"}
    return closed.with_context(names).with_codes(_codes(mset))


def assign_use(entity: Entity, mset: MetadataSet | None = None) -> Use:
    """The ``assign`` place of use for one entity: the rule list that names a department or a user."""
    from dataclasses import replace

    base = replace(ASSIGN, open_prefixes=MappingProxyType({}))
    return base.with_context({**record_context(entity, mset), **USER_CONTEXT}).with_codes(_codes(mset))


class _Checker:
    def __init__(self, mset: MetadataSet, flow: Workflow) -> None:
        self.mset, self.flow = mset, flow
        self.src: Source = mset.source(flow)
        self.problems: list[Problem] = []
        self.states = {s.name for s in flow.states}

    def add(self, check_id: str, message: str, path: Path, hint: str | None = None) -> None:
        self.problems.append(self.src.problem(check_id, message, path, hint=hint))

    def state(self, name: str, path: Path) -> None:
        if name not in self.states:
            import difflib

            close = difflib.get_close_matches(name, sorted(self.states), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            self.add("HL-E401", f"workflow '{self.flow.name}' has no state '{name}'{hint}", path)

    def field(self, entity: Entity, name: str, path: Path) -> None:
        if name != "*" and entity.field(name) is None:
            self.add("HL-E203", f"unknown field '{name}' of entity '{entity.name}'", path)

    def role(self, name: str, path: Path) -> None:
        if name not in self.mset.roles and ("role", name) not in self.mset.broken:
            self.add("HL-E208", f"unknown role '{name}'", path)

    def rule(self, text: str, use: Use, path: Path, rules: bool = False) -> None:
        result = check_program(text, use) if rules else check_expression(text, use)
        self.problems.extend(place(p, self.src, path) for p in result.problems)

    def run(self) -> list[Problem]:
        flow, mset = self.flow, self.mset
        entity = mset.entities.get(flow.entity)
        if entity is None:
            if ("entity", flow.entity) not in mset.broken:
                self.add("HL-E202", f"unknown entity '{flow.entity}'", ("entity",))
            return self.problems
        self._state_field(entity)
        self.state(flow.initial, ("initial",))
        for old, new in flow.state_map.items():
            self.state(new, ("state_map", old))
        for i, st in enumerate(flow.states):
            for role, fields in (st.edit or {}).items():
                self.role(role, ("states", i, "edit", role))
                for j, name in enumerate(fields):
                    self.field(entity, name, ("states", i, "edit", role, j))
        for i in range(len(flow.transitions)):
            self._transition(entity, i)
        if flow.applies:
            self.rule(flow.applies, guard_use(entity, mset), ("applies",))
        self._reachability()
        return self.problems

    def _state_field(self, entity: Entity) -> None:
        f = entity.field(self.flow.state_field)
        if f is None or f.type not in ("text", "category"):
            kind = "missing" if f is None else f"of type {f.type}"
            self.add("HL-E404", f"state field '{self.flow.state_field}' of entity '{entity.name}' is {kind}; "
                                f"it must be a text or category field", ("state_field",))
            return
        if f.type == "category":
            tree = self.mset.categories.get(f.category or "")
            codes = tree.codes() if tree else set()
            for i, st in enumerate(self.flow.states):
                if tree is not None and st.name not in codes:
                    self.add("HL-E404", f"state '{st.name}' is not a code of the category tree '{f.category}' "
                                        f"of the state field '{f.name}'", ("states", i, "name"))

    def _transition(self, entity: Entity, i: int) -> None:
        tr = self.flow.transitions[i]
        for j, name in enumerate(tr.from_):
            self.state(name, ("transitions", i, "from", j))
        self.state(tr.to, ("transitions", i, "to"))
        for j, role in enumerate(tr.roles):
            self.role(role, ("transitions", i, "roles", j))
        for j, name in enumerate(tr.require):
            self.field(entity, name, ("transitions", i, "require", j))
        if tr.guard:
            self.rule(tr.guard, guard_use(entity, self.mset), ("transitions", i, "guard"))
        if tr.assign is not None:
            a = tr.assign
            if a.field:
                self.field(entity, a.field, ("transitions", i, "assign", "field"))
            if a.region_field:
                self.field(entity, a.region_field, ("transitions", i, "assign", "region_field"))
            if a.role:
                self.role(a.role, ("transitions", i, "assign", "role"))
            if a.rule:
                self.rule(a.rule, assign_use(entity, self.mset), ("transitions", i, "assign", "rule"), rules=True)
        for k, effect in enumerate(tr.effects):
            for name in effect.set or {}:
                self.field(entity, name, ("transitions", i, "effects", k, "set", name))
            for j, who in enumerate(effect.notify or []):
                kind, _, target = who.partition(":")
                if who in RECIPIENTS or (kind == "user" and target):
                    continue
                if kind == "role" and target:
                    self.role(target, ("transitions", i, "effects", k, "notify", j))
                    continue
                self.add("HL-E106", f"'{who}' is not a recipient; use {', '.join(RECIPIENTS)}, role:<role> or "
                                    f"user:<username>", ("transitions", i, "effects", k, "notify", j))

    def _reachability(self) -> None:
        flow = self.flow
        reached = {flow.initial}
        frontier = [flow.initial]
        while frontier:
            here = frontier.pop()
            for tr in flow.leaving(here):
                if tr.to not in reached:
                    reached.add(tr.to)
                    frontier.append(tr.to)
        for i, st in enumerate(flow.states):
            if st.name not in reached:
                self.add("HL-E402", f"no transition of workflow '{flow.name}' reaches state '{st.name}'",
                         ("states", i, "name"))
            elif st.kind != "closed" and not flow.leaving(st.name):
                self.add("HL-E403", f"state '{st.name}' is {st.kind} but no transition leaves it: its records "
                                    f"would stay there for ever", ("states", i, "name"))


def workflow_problems(mset: MetadataSet) -> list[Problem]:
    """Problems of every workflow of the set, then processes that govern the same records (HL-E405)."""
    problems: list[Problem] = []
    flows = workflows_of(mset)
    for flow in flows.values():
        problems.extend(_Checker(mset, flow).run())
    unconditional: dict[str, str] = {}
    for name, flow in sorted(flows.items()):
        if flow.applies:
            continue
        if flow.entity in unconditional:
            other = unconditional[flow.entity]
            problems.append(mset.source(flow).problem(
                "HL-E405", f"workflows '{other}' and '{name}' both govern every new {flow.entity} record",
                ("entity",)))
        else:
            unconditional[flow.entity] = name
    return problems
