"""Cross-reference checks over a whole metadata set: every name an object refers to must exist.

Each check adds catalogued problems placed at the referring value. Rule texts embedded in metadata
(query logic, row scopes, validation rules) are checked by :mod:`helpline.metadata.rule_checks`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from helpline.diagnostics import Problem

from .kinds import PAGES, Category, Entity, EntityField, Menu, Query, Role, Screen
from .kinds.entity import NUMBER_TYPES, ORDERABLE_TYPES, SHOWN_TYPES, TEXT_TYPES
from .kinds.role import EntityGrant
from .metaset import MetadataSet, Source
from .permissions import PERMISSIONS
from .series import series_problem
from .yamlpos import Path


class _Report:
    def __init__(self, mset: MetadataSet):
        self.mset = mset
        self.problems: list[Problem] = []

    def add(self, source: Source, check_id: str, message: str, path: Path, hint: str | None = None) -> None:
        self.problems.append(source.problem(check_id, message, path, hint=hint))

    def entity(self, source: Source, name: str, path: Path) -> Entity | None:
        entity = self.mset.entities.get(name)
        if entity is None and ("entity", name) not in self.mset.broken:
            self.add(source, "HL-E202", f"unknown entity '{name}'{_suggest(name, self.mset.entities)}", path)
        return entity

    def missing(self, kind: str, name: str, known: Iterable[str]) -> bool:
        """True when ``name`` is neither defined nor a broken object already reported."""
        return name not in set(known) and (kind, name) not in self.mset.broken

    def field(self, source: Source, entity: Entity, name: str, path: Path, *,
              types: Iterable[str] | None = None, allow_retired: bool = False,
              purpose: str = "", system: bool = True) -> EntityField | None:
        field = entity.any_field(name) if system else entity.field(name)
        if field is None or (field.retired and not allow_retired):
            state = "a retired" if field is not None else "an unknown"
            names = {f.name: f for f in entity.active_fields}
            hint = _suggest(name, names)
            self.add(source, "HL-E203", f"{state} field '{name}' of entity '{entity.name}'{hint}", path)
            return None
        allowed = set(types) if types is not None else None
        if allowed is not None and field.type not in allowed:
            self.add(source, "HL-E214", f"field '{name}' is of type {field.type}; {purpose or 'here'} needs one of: "
                                        f"{', '.join(sorted(allowed))}", path)
            return None
        return field


def _suggest(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _default_ok(field: EntityField, value: Any, categories: dict[str, Category]) -> str | None:
    """Why ``value`` is not a valid default of ``field``, or None."""
    checks: dict[str, Any] = {
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "date": lambda v: isinstance(v, date) or (isinstance(v, str) and v == "today"),
        "datetime": lambda v: isinstance(v, datetime) or (isinstance(v, str) and v == "now"),
    }
    if field.type in checks:
        return None if checks[field.type](value) else f"{value!r} is not a valid {field.type}"
    if field.type == "decimal":
        try:
            Decimal(str(value))
        except InvalidOperation:
            return f"{value!r} is not a number"
        return None
    if field.type == "category":
        tree = categories.get(field.category or "")
        values = value if isinstance(value, list) else [value]
        if tree is None:
            return None
        bad = [v for v in values if v not in tree.codes(include_retired=False)]
        if bad:
            return f"{', '.join(map(str, bad))} not an active code of tree '{field.category}'"
        if tree.selectable == "leaves":
            inner = [v for v in values if tree.children(str(v))]
            if inner:
                return f"{', '.join(map(str, inner))} is not a leaf, and tree '{tree.name}' allows only leaves"
        return None
    if field.type in TEXT_TYPES:
        return None if isinstance(value, str) else f"{value!r} is not text"
    return None


def _check_level(r: _Report, src: Source, f: EntityField, target: Entity, path: Path) -> None:
    """A link's ``level`` is a code of the linked entity's ``level`` category field (HL-E221)."""
    level_field = target.field("level")
    if level_field is None or level_field.type != "category":
        r.add(src, "HL-E221", f"'{target.name}' has no category field 'level', so field '{f.name}' cannot be "
                              "limited to a level", path)
        return
    tree = r.mset.categories.get(level_field.category or "")
    if tree is not None and f.level not in tree.codes():
        r.add(src, "HL-E221", f"'{f.level}' is not a level of '{target.name}' (a code of tree '{tree.name}')"
                              f"{_suggest(str(f.level), tree.codes())}", path)


def _check_entity(r: _Report, e: Entity) -> None:
    src = r.mset.source(e)
    seen: set[str] = set()
    for i, f in enumerate(e.fields):
        base: Path = ("fields", i)
        if f.name in seen:
            r.add(src, "HL-E212", f"field '{f.name}' is defined twice", (*base, "name"))
        seen.add(f.name)
        if f.name in ("id", "created_at", "updated_at", "created_by", "updated_by", "version"):
            r.add(src, "HL-E212", f"'{f.name}' is a system column every entity has", (*base, "name"),
                  hint="Choose another name; id, created_at/by, updated_at/by and version are added automatically.")
        if f.type == "category" and f.category and r.missing("category", f.category, r.mset.categories):
            r.add(src, "HL-E204", f"unknown category tree '{f.category}'{_suggest(f.category, r.mset.categories)}",
                  (*base, "category"))
        if f.type == "link" and f.link:
            target = r.entity(src, f.link, (*base, "link"))
            if target and f.link_key:
                key = r.field(src, target, f.link_key, (*base, "link_key"))
                if key and not key.unique:
                    r.add(src, "HL-E214", f"link_key '{f.link_key}' of '{f.link}' is not unique", (*base, "link_key"),
                          hint="A link key must identify one record: mark it 'unique: true'.")
            if target and f.level:
                _check_level(r, src, f, target, (*base, "level"))
        if f.series is not None and (problem := series_problem(f)):
            r.add(src, "HL-E220", problem, (*base, "series"))
        if f.default is not None:
            why = _default_ok(f, f.default, r.mset.categories)
            if why:
                r.add(src, "HL-E215", f"default of field '{f.name}': {why}", (*base, "default"))
        v = f.validation
        if v is not None:
            if v.regex:
                try:
                    re.compile(v.regex)
                except re.error as exc:
                    r.add(src, "HL-E216", f"regex of field '{f.name}' does not compile: {exc}",
                          (*base, "validation", "regex"))
            if (v.min is not None or v.max is not None) and f.type not in NUMBER_TYPES:
                r.add(src, "HL-E214", f"min/max are for numbers; field '{f.name}' is {f.type}", (*base, "validation"))
            if (v.min_length or v.max_length or v.regex) and f.type not in TEXT_TYPES | {"secret"}:
                r.add(src, "HL-E214", f"length and regex are for text; field '{f.name}' is {f.type}",
                      (*base, "validation"))
    if e.title_field:
        r.field(src, e, e.title_field, ("title_field",), types=SHOWN_TYPES, purpose="a title")
    for i, name in enumerate(e.search_fields):
        r.field(src, e, name, ("search_fields", i), types=TEXT_TYPES | {"category"}, purpose="quick search")
    for i, index in enumerate(e.indexes):
        for j, name in enumerate(index):
            r.field(src, e, name, ("indexes", i, j), allow_retired=True, types=SHOWN_TYPES, purpose="an index")


def _check_tree(r: _Report, src: Source, list_key: str, key: str, owner: str, cycle_id: str,
                pairs: list[tuple[str, str | None]]) -> None:
    """Flat trees (category nodes, menu items): unique keys, known parents, no cycles."""
    known: dict[str, int] = {}
    for i, (name, _) in enumerate(pairs):
        if name in known:
            r.add(src, "HL-E212", f"{key} '{name}' appears twice in {owner}", (list_key, i, key))
        known.setdefault(name, i)
    for i, (name, parent) in enumerate(pairs):
        if parent is not None and parent not in known:
            r.add(src, "HL-E213", f"parent '{parent}' of '{name}' is not in {owner}{_suggest(parent, known)}",
                  (list_key, i, "parent"))
    _check_cycles(r, src, cycle_id, list_key, pairs)


def _check_category(r: _Report, c: Category) -> None:
    _check_tree(r, r.mset.source(c), "nodes", "code", f"tree '{c.name}'", "HL-E210",
                [(n.code, n.parent) for n in c.nodes])


def _check_cycles(r: _Report, src: Source, check_id: str, list_key: str, pairs: list[tuple[str, str | None]]) -> None:
    parent = dict(pairs)
    index = {name: i for i, (name, _) in reversed(list(enumerate(pairs)))}
    reported: set[str] = set()
    for start, _ in pairs:
        chain: list[str] = []
        current: str | None = start
        while current is not None and current in parent and current not in chain:
            chain.append(current)
            current = parent[current]
        if current is not None and current in chain:
            cycle = chain[chain.index(current):]
            key = min(cycle)
            if key not in reported:
                reported.add(key)
                loop = " → ".join([*cycle, current])
                r.add(src, check_id, f"cycle: {loop}", (list_key, index[current], "parent"))


def _check_screen(r: _Report, s: Screen) -> None:
    src = r.mset.source(s)
    entity = r.entity(src, s.entity, ("entity",))
    if entity is None:
        return
    for i, section in enumerate(s.layout):
        for j, ref in enumerate(section.refs()):
            path: Path = ("layout", i, "fields", j) if isinstance(section.fields[j], str) else (
                "layout", i, "fields", j, "field")
            r.field(src, entity, ref.field, path)
    for i, col in enumerate(s.column_refs()):
        path = ("columns", i) if isinstance(s.columns[i], str) else ("columns", i, "field")
        r.field(src, entity, col.field, path, types=SHOWN_TYPES, purpose="a list column")
    _check_sort(r, src, entity, s.sort)
    for i, name in enumerate(s.filters):
        r.field(src, entity, name, ("filters", i), types=ORDERABLE_TYPES, purpose="a filter")
    for i, rel in enumerate(s.related):
        other = r.entity(src, rel.entity, ("related", i, "entity"))
        if other is None:
            continue
        via = r.field(src, other, rel.via, ("related", i, "via"), types={"link"}, purpose="'via'")
        if via is not None and via.link != entity.name:
            r.add(src, "HL-E214", f"'{rel.via}' of '{rel.entity}' links to '{via.link}', not to '{entity.name}'",
                  ("related", i, "via"))
        for j, name in enumerate(rel.columns):
            r.field(src, other, name, ("related", i, "columns", j), types=SHOWN_TYPES, purpose="a list column")
        _check_sort(r, src, other, rel.sort, ("related", i, "sort"))
    if s.form:
        _check_form_ref(r, src, s.form, entity.name, ("form",))


def _check_form_ref(r: _Report, src: Source, name: str, entity: str, path: Path) -> None:
    form = r.mset.screens.get(name)
    if form is None:
        if ("screen", name) in r.mset.broken:
            return
        r.add(src, "HL-E205", f"unknown screen '{name}'{_suggest(name, r.mset.screens)}", path)
    elif form.view != "form" or form.entity != entity:
        r.add(src, "HL-E218", f"screen '{name}' is a {form.view} of '{form.entity}'; a form of '{entity}' is needed",
              path)


def _check_sort(r: _Report, src: Source, entity: Entity, sort: list[str], base: Path = ("sort",)) -> None:
    for i, key in enumerate(sort):
        name = key.removeprefix("-")
        if name in ("id", "created_at", "updated_at"):
            continue
        r.field(src, entity, name, (*base, i), types=ORDERABLE_TYPES, purpose="sorting")


def _check_query(r: _Report, q: Query) -> None:
    src = r.mset.source(q)
    entity = r.entity(src, q.entity, ("entity",))
    if entity is None:
        return
    seen: set[str] = set()
    for i, inp in enumerate(q.inputs):
        if inp.name in seen:
            r.add(src, "HL-E212", f"input '{inp.name}' is defined twice", ("inputs", i, "name"))
        seen.add(inp.name)
        types = {"contains": TEXT_TYPES, "starts_with": TEXT_TYPES,
                 "lt": ORDERABLE_TYPES, "le": ORDERABLE_TYPES, "gt": ORDERABLE_TYPES, "ge": ORDERABLE_TYPES,
                 "between": ORDERABLE_TYPES}.get(inp.op, SHOWN_TYPES)
        f = r.field(src, entity, inp.field, ("inputs", i, "field"), types=types, purpose=f"operator '{inp.op}'")
        if f is not None and inp.default is not None:
            _check_input_default(r, src, f, inp.default, ("inputs", i, "default"))
    for i, name in enumerate(q.columns):
        r.field(src, entity, name, ("columns", i), types=SHOWN_TYPES, purpose="a result column")
    if q.pivot:
        groupable = {"text", "category", "bool", "int", "link", "date"}
        r.field(src, entity, q.pivot.rows, ("pivot", "rows"), types=groupable, purpose="pivot rows")
        r.field(src, entity, q.pivot.columns, ("pivot", "columns"), types=groupable, purpose="pivot columns")
        if q.pivot.of:
            r.field(src, entity, q.pivot.of, ("pivot", "of"), types=NUMBER_TYPES, purpose=f"'{q.pivot.measure}'")
    _check_sort(r, src, entity, q.sort)
    if q.form:
        _check_form_ref(r, src, q.form, entity.name, ("form",))


def _check_input_default(r: _Report, src: Source, f: EntityField, default: Any, path: Path) -> None:
    """A query input's default: a code of the tree for category fields, a valid value otherwise."""
    if f.type == "category":
        tree = r.mset.categories.get(f.category or "")
        values = default if isinstance(default, list) else [default]
        for v in values:
            if tree is not None and v not in tree.codes():
                r.add(src, "HL-E219", f"'{v}' is not a code of tree '{tree.name}'{_suggest(str(v), tree.codes())}",
                      path)
        return
    values = default if isinstance(default, list) else [default]
    for v in values:
        why = _default_ok(f, v, r.mset.categories)
        if why:
            r.add(src, "HL-E215", f"default of input: {why}", path)


def _check_menu(r: _Report, m: Menu) -> None:
    src = r.mset.source(m)
    _check_tree(r, src, "items", "name", f"menu '{m.name}'", "HL-E211", [(i.name, i.parent) for i in m.items])
    for i, item in enumerate(m.items):
        base: Path = ("items", i)
        if item.screen and r.missing("screen", item.screen, r.mset.screens):
            r.add(src, "HL-E205", f"unknown screen '{item.screen}'{_suggest(item.screen, r.mset.screens)}",
                  (*base, "screen"))
        if item.query and r.missing("query", item.query, r.mset.queries):
            r.add(src, "HL-E206", f"unknown query '{item.query}'{_suggest(item.query, r.mset.queries)}",
                  (*base, "query"))
        if item.page and item.page not in PAGES:
            r.add(src, "HL-E217", f"unknown page '{item.page}'; pages are: {', '.join(sorted(PAGES))}",
                  (*base, "page"))
        if item.permission and item.permission not in PERMISSIONS:
            r.add(src, "HL-E209", f"unknown permission '{item.permission}'{_suggest(item.permission, PERMISSIONS)}",
                  (*base, "permission"))


def _check_role(r: _Report, role: Role) -> None:
    src = r.mset.source(role)
    for i, parent in enumerate(role.extends):
        if r.missing("role", parent, r.mset.roles) or parent == role.name:
            r.add(src, "HL-E208", f"unknown role '{parent}'{_suggest(parent, r.mset.roles)}"
                  if parent != role.name else f"role '{parent}' cannot extend itself", ("extends", i))
    for i, ref in enumerate(role.menus):
        if ref == "*":
            continue
        menu_name, _, item = ref.partition(".")
        menu = r.mset.menus.get(menu_name)
        if menu is None and ("menu", menu_name) in r.mset.broken:
            continue  # the broken menu's own problem is the cause; its references are not reported again
        if menu is None or (item and menu.item(item) is None):
            known = [m for m in r.mset.menus] + [f"{m.name}.{it.name}" for m in r.mset.menus.values() for it in m.items]
            r.add(src, "HL-E207", f"unknown menu '{ref}'{_suggest(ref, known)}", ("menus", i))
    for name, grant in role.entities.items():
        entity = r.entity(src, name, ("entities", name))
        if entity is None:
            continue
        for field in grant.masks:
            r.field(src, entity, field, ("entities", name, "masks", field), allow_retired=True)
    for i, perm in enumerate(role.permissions):
        if perm not in PERMISSIONS:
            r.add(src, "HL-E209", f"unknown permission '{perm}'{_suggest(perm, PERMISSIONS)}", ("permissions", i))


def _grants(mset: MetadataSet, role: Role) -> dict[str, list[EntityGrant]]:
    """The entity grants of a role and the roles it extends."""
    found: dict[str, list[EntityGrant]] = {}
    pending, seen = [role.name], set()
    while pending:
        current = mset.roles.get(pending.pop())
        if current is None or current.name in seen:
            continue
        seen.add(current.name)
        pending.extend(current.extends)
        for name, grant in current.entities.items():
            found.setdefault(name, []).append(grant)
    return found


def _check_linked_scopes(r: _Report) -> None:
    """HL-W201: a role reads an entity linking to an entity some role reads through a scope, with no scope of
    its own and no read of the linked entity — so no scope limits what it sees (see RecordService.scope)."""
    scoped = {name for role in r.mset.roles.values() for name, g in role.entities.items() if g.read and g.scope}
    for role in r.mset.roles.values():
        grants = _grants(r.mset, role)
        for name, own in grants.items():
            entity = r.mset.entities.get(name)
            if entity is None or not any(g.read for g in own) or any(g.read and g.scope for g in own):
                continue
            for f in entity.active_fields:
                target = f.link or ""
                if f.type == "link" and target in scoped and target != name and not any(
                        g.read for g in grants.get(target, [])):
                    problem = r.mset.source(role).problem(
                        "HL-W201", f"role '{role.name}' reads {name} (linked to {target} by '{f.name}', which has a "
                                   f"row scope) with no scope and no read of {target}: it sees the {name} records "
                                   f"of every {target}", ("entities", name) if name in role.entities else ("name",))
                    r.problems.append(replace(problem, severity="warning"))
                    break


def advice(mset: MetadataSet) -> list[Problem]:
    """Warnings ``run.py check`` reports beside the problems (HL-W...): they never refuse a start, a sync or
    a publish, so they are not part of :func:`cross_check`."""
    r = _Report(mset)
    _check_linked_scopes(r)
    return r.problems


def cross_check(mset: MetadataSet) -> list[Problem]:
    """Every cross-reference problem of the set, in a stable order."""
    r = _Report(mset)
    for e in mset.entities.values():
        _check_entity(r, e)
    for c in mset.categories.values():
        _check_category(r, c)
    for s in mset.screens.values():
        _check_screen(r, s)
    for q in mset.queries.values():
        _check_query(r, q)
    for m in mset.menus.values():
        _check_menu(r, m)
    for role in mset.roles.values():
        _check_role(r, role)
    from .rule_checks import rule_problems

    r.problems.extend(rule_problems(mset))
    from .ivr_checks import ivr_problems

    r.problems.extend(ivr_problems(mset))
    from .workflow_checks import workflow_problems

    r.problems.extend(workflow_problems(mset))
    from .sla_checks import sla_problems

    r.problems.extend(sla_problems(mset))
    from .qa_checks import scorecard_problems

    r.problems.extend(scorecard_problems(mset))
    from .staff_checks import roster_problems

    r.problems.extend(roster_problems(mset))
    from .import_checks import import_problems

    r.problems.extend(import_problems(mset))
    from .report_checks import report_problems

    r.problems.extend(report_problems(mset))
    from .campaign_checks import campaign_problems

    r.problems.extend(campaign_problems(mset))
    return r.problems
