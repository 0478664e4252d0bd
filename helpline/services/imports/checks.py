"""The checks of a batch's rows against the database: links, unique values and validation rules (the record
service's checks, done for a whole batch with one query per field)."""

from __future__ import annotations

from typing import Any

from peewee import SQL

from helpline.metadata.kinds import Entity

from .rows import RowProblem
from .words import both, field_problem, languages_of, problem


def among(column: Any, values: list[Any]) -> Any:
    """``column IN (values)`` (not empty) as one SQL node: peewee's ``column.in_(values)`` builds a node per value
    and renders each (a tenth of an import's time went into the four lookups of 10,000 keys a batch)."""
    database = column.model._meta.database
    return SQL(f'"{column.column_name}" IN ({", ".join([database.param] * len(values))})',
               [column.db_value(v) for v in values])


def row_checks(platform: Any, entity: Entity, pending: list[Any], head: dict[str, str],
               in_flight: dict[str, set[str]] | None = None) -> dict[int, list[RowProblem]]:
    """The problems, by row number, of the rows whose links point nowhere, whose unique values are taken (in the
    database, by the batch being written meanwhile — ``in_flight``: per unique field, the values it takes — or
    by an earlier row of the batch) or whose validation rules are false."""
    bad: dict[int, list[RowProblem]] = {}
    for f in entity.active_fields:
        if not ((f.type == "link" and not f.multiple) or (f.unique and f.name != "id")):
            continue  # nothing to look up for this field
        checked = [p for p in pending  # a value an update leaves as it was is not checked again
                   if p.values.get(f.name) not in (None, "") and (p.existing is None or f.name in p.changes)]
        wanted = {str(p.values[f.name]) for p in checked}
        if not wanted:
            continue
        if f.type == "link" and not f.multiple:
            target: Any = platform.models[f.link or ""]
            column = getattr(target, f.link_key or "id")
            query = target.select(column).where(among(column, list(wanted)))
            if f.level and hasattr(target, "level"):
                query = query.where(target.level == f.level)
            known = {str(v) for (v,) in query.tuples()}
            linked = platform.metadata.entities.get(f.link or "")
            named = both(f.link, linked.label.zh_CN if linked is not None and linked.label else f.link)
            level = both(f.level, _level_label(platform, linked, f.level)) if f.level else ""
            for p in checked:
                v = p.values[f.name]
                if str(v) not in known:
                    bad.setdefault(p.number, []).append(problem(
                        p.number, head.get(f.name, f.name), v,
                        "imports.problem.link_level" if f.level else "imports.problem.link", entity=named, value=v,
                        level=level))
        elif f.unique and f.name != "id":
            model: Any = platform.models[entity.name]
            column = getattr(model, f.name)
            taken = {str(v): i for v, i in model.select(column, model.id).where(among(column, list(wanted))).tuples()}
            for v in (in_flight or {}).get(f.name, set()) & wanted:
                taken.setdefault(v, -1)  # a record of the batch in flight (no id yet)
            used: dict[str, int] = {}
            for p in checked:
                v = p.values[f.name]
                own = p.existing["id"] if p.existing else None
                if str(v) in taken and taken[str(v)] != own:
                    bad.setdefault(p.number, []).append(problem(p.number, head.get(f.name, f.name), v,
                                                                "form.invalid.unique", value=v))
                elif str(v) in used:
                    bad.setdefault(p.number, []).append(problem(
                        p.number, head.get(f.name, f.name), v, "imports.problem.same_in_file", row=used[str(v)],
                        field=both(f.name, head.get(f.name, f.name))))
                else:
                    used[str(v)] = p.number
    if any(f.validation and f.validation.rule for f in entity.active_fields):
        for p in pending:
            record = {**(p.existing or {}), **p.values}
            errors = platform.validation_errors(entity, record, only=set(p.changes or p.values))
            for name, e in errors.items():
                own = entity.field(name)
                found = field_problem(p.number, head.get(name, name), p.values.get(name), e,
                                        languages_of(own.label) if own else None)
                if own is not None and own.validation and own.validation.message and e.key == "errors.rule":
                    found = problem(p.number, head.get(name, name), p.values.get(name), "errors.rule",
                                    message=languages_of(own.validation.message))
                bad.setdefault(p.number, []).append(found)
    return bad



def _level_label(platform: Any, linked: Entity | None, level: str) -> str:
    """The Chinese label of a linked record's level (``city`` → 市州), else the code."""
    own = linked.field("level") if linked is not None else None
    tree = platform.metadata.categories.get(own.category or "") if own is not None else None
    node = tree.node(level) if tree is not None else None
    return str(node.label.zh_CN or level) if node is not None and node.label is not None else level
