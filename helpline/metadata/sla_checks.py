"""Checks of ``calendar`` and ``sla`` objects.

- ``HL-E410``: a calendar with no working hours on any weekday (a deadline on it would never come).
- ``HL-E411`` / ``HL-E412``: a policy names an unknown workflow or calendar.
- ``HL-E413`` / ``HL-E414``: ``responded_in`` or ``resolved_in`` names a state, ``responded_by`` a transition,
  its workflow lacks.
- ``HL-E415``: the warning threshold is not more than 0 and less than 100 per cent.
- ``HL-E106``: an escalation step notifies someone who is not a recipient; ``HL-E219``: it reassigns to a code
  the ``department`` tree lacks. The ``applies`` rule (place of use ``guard``) keeps the rule language's ids.
"""

from __future__ import annotations

import difflib
from typing import Any

from helpline.diagnostics import Problem
from helpline.rules.uses import Use

from .kinds import Entity
from .kinds.calendar import Calendar
from .kinds.sla import Sla
from .kinds.workflow import RECIPIENTS
from .metaset import MetadataSet
from .rule_checks import place, record_context
from .workflow_checks import guard_use, workflows_of


def _hint(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def calendars_of(mset: MetadataSet) -> dict[str, Calendar]:
    return {n: o for n, o in mset.objects.get("calendar", {}).items() if isinstance(o, Calendar)}


def slas_of(mset: MetadataSet) -> dict[str, Sla]:
    return {n: o for n, o in mset.objects.get("sla", {}).items() if isinstance(o, Sla)}


RESERVED = {"record", "user", "now", "today"}


def linked_fields(entity: Entity, mset: MetadataSet | None) -> dict[str, Entity]:
    """The entity's link fields whose linked record a policy's ``applies`` may read (``customer.value_tier``)."""
    out: dict[str, Entity] = {}
    for f in entity.fields:
        linked = mset.entities.get(f.link or "") if mset is not None and f.type == "link" else None
        if linked is not None and f.name not in RESERVED:
            out[f.name] = linked
    return out


def applies_use(entity: Entity, mset: MetadataSet | None = None) -> Use:
    """The place of use of a policy's ``applies``: a workflow guard's names plus, for each link field, the
    linked record's fields (``customer.value_tier == platinum``)."""
    extra: dict[str, Any] = {}
    for name, linked in linked_fields(entity, mset).items():
        extra.update(record_context(linked, mset, prefix=name))
    return guard_use(entity, mset).with_context(extra)


def _sla(mset: MetadataSet, sla: Sla, calendars: set[str]) -> list[Problem]:
    from helpline.rules.checker import check_expression

    src = mset.source(sla)
    out: list[Problem] = []
    if sla.calendar not in calendars and ("calendar", sla.calendar) not in mset.broken:
        out.append(src.problem("HL-E412", f"unknown calendar '{sla.calendar}'{_hint(sla.calendar, calendars)}",
                               ("calendar",)))
    if not 0 < sla.warning < 100:
        out.append(src.problem("HL-E415", f"warning {sla.warning:g} % is not between 0 and 100", ("warning",)))
    for i, step in enumerate(sla.escalation):
        for j, who in enumerate(step.notify):
            kind, _, target = who.partition(":")
            if (who in RECIPIENTS and who != "actor") or (kind in ("role", "user") and target):
                if kind == "role" and target not in mset.roles and ("role", target) not in mset.broken:
                    out.append(src.problem("HL-E208", f"unknown role '{target}'", ("escalation", i, "notify", j)))
                continue
            out.append(src.problem("HL-E106", f"'{who}' is not a recipient of an escalation; use assignee, "
                                              f"department, head, creator, role:<role> or user:<username>",
                                   ("escalation", i, "notify", j)))
        tree = mset.categories.get("department")
        if step.reassign and tree is not None and step.reassign not in tree.codes():
            out.append(src.problem("HL-E219", f"'{step.reassign}' is not a code of tree 'department'"
                                              f"{_hint(step.reassign, tree.codes())}", ("escalation", i, "reassign")))
    flow = workflows_of(mset).get(sla.workflow)
    if flow is None:
        if ("workflow", sla.workflow) not in mset.broken:
            flows = set(workflows_of(mset))
            out.append(src.problem("HL-E411", f"unknown workflow '{sla.workflow}'{_hint(sla.workflow, flows)}",
                                   ("workflow",)))
        return out
    states = {s.name for s in flow.states}
    for prop in ("responded_in", "resolved_in"):
        for i, name in enumerate(getattr(sla, prop)):
            if name not in states:
                out.append(src.problem("HL-E413", f"workflow '{flow.name}' has no state '{name}'"
                                                  f"{_hint(name, states)}", (prop, i)))
    actions = {t.name for t in flow.transitions}
    for i, name in enumerate(sla.responded_by):
        if name not in actions:
            out.append(src.problem("HL-E414", f"workflow '{flow.name}' has no transition '{name}'"
                                              f"{_hint(name, actions)}", ("responded_by", i)))
    entity = mset.entities.get(flow.entity)
    if sla.applies and entity is not None:
        result = check_expression(sla.applies, applies_use(entity, mset))
        out.extend(place(p, src, ("applies",)) for p in result.problems)
    return out


def sla_problems(mset: MetadataSet) -> list[Problem]:
    """Problems of every calendar and service-level policy of the set."""
    problems: list[Problem] = []
    calendars = calendars_of(mset)
    for cal in calendars.values():
        if not cal.has_hours():
            problems.append(mset.source(cal).problem(
                "HL-E410", f"calendar '{cal.name}' has no working hours on any weekday",
                ("hours",)))
    for sla in slas_of(mset).values():
        problems.extend(_sla(mset, sla, set(calendars)))
    return problems
