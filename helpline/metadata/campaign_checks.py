"""Checks of ``campaign`` objects (docs/outbound.md).

- ``HL-E460``: the list names an import definition or a query screen that does not exist.
- ``HL-E461``: the list's ``phone``, ``name`` or ``region`` is not a field of the rows (the import's entity
  mapped by a column, the query's entity), or an ``inputs`` key is not an input of the query.
- ``HL-E462``: a question's ``when`` reads ``answer.<name>`` of no question asked before it (branching can only
  look back).
- ``HL-E303``: the campaign's queue is not a queue of any routing; ``HL-E212``: two questions or two choices
  of one question share a name; ``HL-E214``: the phone field is not a phone or text field.
- ``when`` conditions (place of use ``campaign``) keep the rule language's ids.
"""

from __future__ import annotations

import difflib

from helpline.diagnostics import Problem
from helpline.rules.checker import check_expression
from helpline.rules.uses import CAMPAIGN

from .kinds.campaign import Campaign
from .kinds.imports import Import
from .kinds.routing import Routing
from .metaset import MetadataSet
from .rule_checks import place


def _hint(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _row_fields(mset: MetadataSet, c: Campaign) -> tuple[set[str], dict[str, str]] | None:
    """The fields a list row has and their types; None when the source itself is unknown or broken."""
    if c.list_.import_:
        imp = mset.typed("import", c.list_.import_, Import)
        entity = mset.entities.get(imp.entity) if imp else None
        if imp is None or entity is None:
            return None
        types = {col.field: (entity.field(col.field).type if entity.field(col.field) else "text")  # type: ignore[union-attr]
                 for col in imp.columns}
        return set(types), types
    query = mset.queries.get(c.list_.query or "")
    entity = mset.entities.get(query.entity) if query else None
    if query is None or entity is None:
        return None
    types = {f.name: f.type for f in entity.active_fields}
    return set(types), types


def _campaign(mset: MetadataSet, c: Campaign, queues: set[str]) -> list[Problem]:
    src = mset.source(c)
    out: list[Problem] = []
    kind, target = ("import", c.list_.import_) if c.list_.import_ else ("query", c.list_.query)
    assert target is not None
    known = set(mset.objects.get(kind, {}))
    if target not in known:
        if (kind, target) not in mset.broken:
            out.append(src.problem("HL-E460", f"no {kind} '{target}'{_hint(target, known)}", ("list", kind)))
    else:
        fields = _row_fields(mset, c)
        if fields is not None:
            names, types = fields
            for prop in ("phone", "name", "region"):
                value = getattr(c.list_, prop)
                if value and value not in names:
                    out.append(src.problem("HL-E461", f"the rows of {kind} '{target}' have no field '{value}'"
                                                      f"{_hint(value, names)}", ("list", prop)))
            if c.list_.phone in types and types[c.list_.phone] not in ("phone", "text"):
                out.append(src.problem("HL-E214", f"'{c.list_.phone}' is a {types[c.list_.phone]} field; the "
                                                  f"number to dial is a phone or text field", ("list", "phone")))
        query = mset.queries.get(c.list_.query or "")
        if query is not None:
            inputs = {i.name for i in query.inputs}
            for key in c.list_.inputs:
                if key not in inputs:
                    out.append(src.problem("HL-E461", f"query '{query.name}' has no input '{key}'"
                                                      f"{_hint(key, inputs)}", ("list", "inputs", key), key=True))
    if c.queue not in queues:
        out.append(src.problem("HL-E303", f"unknown queue '{c.queue}'{_hint(c.queue, queues)}", ("queue",)))
    asked: set[str] = set()
    for i, q in enumerate(c.questions):
        if q.name in asked:
            out.append(src.problem("HL-E212", f"question '{q.name}' is defined twice", ("questions", i, "name")))
        codes: set[str] = set()
        for j, choice in enumerate(q.choices):
            if choice.code in codes:
                out.append(src.problem("HL-E212", f"choice '{choice.code}' appears twice in question '{q.name}'",
                                       ("questions", i, "choices", j, "code")))
            codes.add(choice.code)
        if q.when:
            result = check_expression(q.when, CAMPAIGN)
            out.extend(place(p, src, ("questions", i, "when")) for p in result.problems)
            for name in sorted(result.names):
                head, _, rest = name.partition(".")
                if head == "answer" and rest.split(".")[0] not in asked:
                    out.append(src.problem("HL-E462", f"'{name}' is not a question asked before '{q.name}'"
                                                      f"{_hint(rest, asked)}", ("questions", i, "when")))
        asked.add(q.name)
    return out


def campaign_problems(mset: MetadataSet) -> list[Problem]:
    """Problems of every campaign of the set."""
    queues = {q.name for r in mset.objects.get("routing", {}).values() if isinstance(r, Routing) for q in r.queues}
    problems: list[Problem] = []
    for c in mset.objects.get("campaign", {}).values():
        if isinstance(c, Campaign):
            problems.extend(_campaign(mset, c, queues))
    return problems
