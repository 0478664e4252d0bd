"""Checks of ``roster`` objects — its queues exist in a routing (``HL-E303``), its calendar exists (``HL-E412``),
its routing exists (``HL-E106``), its pattern names are unique (``HL-E212``) — and of ``performance`` objects: the
weights add up to 100 (``HL-E430``)."""

from __future__ import annotations

from helpline.diagnostics import Problem

from .kinds.performance import Performance
from .kinds.roster import Roster
from .kinds.routing import Routing
from .metaset import MetadataSet


def roster_problems(mset: MetadataSet) -> list[Problem]:
    routings = {n: r for n, r in mset.objects.get("routing", {}).items() if isinstance(r, Routing)}
    queues = {q.name for r in routings.values() for q in r.queues}
    calendars = set(mset.objects.get("calendar", {}))
    out: list[Problem] = []
    for roster in mset.objects.get("roster", {}).values():
        if not isinstance(roster, Roster):
            continue
        src = mset.source(roster)
        for i, q in enumerate(roster.queues):
            if q not in queues:
                out.append(src.problem("HL-E303", f"unknown queue '{q}'", ("queues", i)))
        if roster.calendar and roster.calendar not in calendars and ("calendar", roster.calendar) not in mset.broken:
            out.append(src.problem("HL-E412", f"unknown calendar '{roster.calendar}'", ("calendar",)))
        if roster.routing and roster.routing not in routings and ("routing", roster.routing) not in mset.broken:
            out.append(src.problem("HL-E106", f"unknown routing '{roster.routing}'", ("routing",)))
        seen: set[str] = set()
        for i, p in enumerate(roster.patterns):
            if p.name in seen:
                out.append(src.problem("HL-E212", f"shift pattern '{p.name}' appears twice", ("patterns", i, "name")))
            seen.add(p.name)
    for perf in mset.objects.get("performance", {}).values():
        if isinstance(perf, Performance):
            w = perf.weights
            total = w.handled + w.aht + w.adherence + w.qa
            if abs(total - 100) > 0.01:
                out.append(mset.source(perf).problem("HL-E430", f"the weights add up to {total:g}, not 100",
                                                     ("weights",)))
    return out
