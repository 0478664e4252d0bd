"""Checks of ``import`` and ``job`` objects.

- ``HL-E202`` / ``HL-E203``: an import names an unknown entity, or a column or cleansing rule an unknown
  field; ``HL-E212``: two columns fill the same field; ``HL-E214``: a code table on a field that is not a
  category; ``HL-E219``: a code table maps to a code the field's tree lacks.
- ``HL-E420``: the key is not a unique field of the entity mapped by a column.
- ``HL-E421``: a column names a code table the definition lacks.
- ``HL-E422``: one header is an alias of two columns (the mapping would be ambiguous).
- ``HL-E423``: a job runs an import definition that does not exist; ``HL-E208``: it notifies an unknown role.
- Transforms and cleansing conditions (place of use ``import``) keep the rule language's ids.
"""

from __future__ import annotations

import difflib
from dataclasses import replace

from helpline.diagnostics import Problem
from helpline.rules.checker import check_expression
from helpline.rules.uses import IMPORT

from .kinds.imports import Import
from .kinds.jobs import Job
from .metaset import MetadataSet
from .rule_checks import _codes, place


def _hint(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def header_key(text: str) -> str:
    """How headers are compared: without case, spaces, underscores and full-width spaces."""
    return "".join(str(text).split()).replace("_", "").replace("\u3000", "").casefold()


def imports_of(mset: MetadataSet) -> dict[str, Import]:
    return {n: o for n, o in mset.objects.get("import", {}).items() if isinstance(o, Import)}


def _import(mset: MetadataSet, imp: Import) -> list[Problem]:
    src = mset.source(imp)
    out: list[Problem] = []
    entity = mset.entities.get(imp.entity)
    if entity is None:
        if ("entity", imp.entity) not in mset.broken:
            out.append(src.problem("HL-E202", f"unknown entity '{imp.entity}'{_hint(imp.entity, set(mset.entities))}",
                                   ("entity",)))
        return out
    names = {f.name for f in entity.active_fields}
    seen: set[str] = set()
    aliases: dict[str, str] = {}
    use = IMPORT.with_codes(_codes(mset))
    for i, col in enumerate(imp.columns):
        f = entity.field(col.field)
        if f is None or f.retired:
            out.append(src.problem("HL-E203", f"entity '{entity.name}' has no field '{col.field}'"
                                              f"{_hint(col.field, names)}", ("columns", i, "field")))
            continue
        if col.field in seen:
            out.append(src.problem("HL-E212", f"field '{col.field}' is filled by two columns", ("columns", i, "field")))
        seen.add(col.field)
        for j, header in enumerate(col.headers):
            key = header_key(header)
            if key in aliases and aliases[key] != col.field:
                out.append(src.problem("HL-E422", f"header '{header}' is also an alias of column "
                                                  f"'{aliases[key]}'", ("columns", i, "headers", j)))
            aliases.setdefault(key, col.field)
        if col.codes:
            table = imp.code_tables.get(col.codes)
            if table is None:
                out.append(src.problem("HL-E421", f"no code table '{col.codes}'"
                                                  f"{_hint(col.codes, set(imp.code_tables))}", ("columns", i, "codes")))
            elif f.type != "category":
                out.append(src.problem("HL-E214", f"'{col.field}' is a {f.type} field; a code table maps to "
                                                  f"category codes", ("columns", i, "codes")))
            else:
                tree = mset.categories.get(f.category or "")
                for code, target in table.items() if tree is not None else []:
                    if target not in tree.codes():  # type: ignore[union-attr]
                        out.append(src.problem("HL-E219", f"'{target}' is not a code of tree '{f.category}'"
                                                          f"{_hint(target, tree.codes())}",  # type: ignore[union-attr]
                                               ("code_tables", col.codes, code)))
        if col.transform:
            result = check_expression(col.transform, replace(use, expect_bool=False))
            out.extend(place(p, src, ("columns", i, "transform")) for p in result.problems)
    if imp.key is not None:
        key_field = entity.field(imp.key)
        if key_field is None or not key_field.unique or imp.key not in seen:
            why = ("is not a field of the entity" if key_field is None else
                   "is not a unique field" if not key_field.unique else "is not filled by any column")
            out.append(src.problem("HL-E420", f"key '{imp.key}' {why}", ("key",)))
    for i, rule in enumerate(imp.cleansing):
        if rule.field and rule.field not in names:
            out.append(src.problem("HL-E203", f"entity '{entity.name}' has no field '{rule.field}'"
                                              f"{_hint(rule.field, names)}", ("cleansing", i, "field")))
        result = check_expression(rule.when, replace(use, expect_bool=True))
        out.extend(place(p, src, ("cleansing", i, "when")) for p in result.problems)
        if rule.value:
            result = check_expression(rule.value, replace(use, expect_bool=False))
            out.extend(place(p, src, ("cleansing", i, "value")) for p in result.problems)
    return out


def import_problems(mset: MetadataSet) -> list[Problem]:
    """Problems of every import definition and job of the set."""
    problems: list[Problem] = []
    imports = imports_of(mset)
    for imp in imports.values():
        problems.extend(_import(mset, imp))
    for job in mset.objects.get("job", {}).values():
        if not isinstance(job, Job):
            continue
        src = mset.source(job)
        target = job.run.import_
        if target and target not in imports and ("import", target) not in mset.broken:
            problems.append(src.problem("HL-E423", f"no import definition '{target}'{_hint(target, set(imports))}",
                                        ("run", "import")))
        for j, who in enumerate(job.notify):
            kind, _, name = who.partition(":")
            if kind == "role" and name not in mset.roles and ("role", name) not in mset.broken:
                problems.append(src.problem("HL-E208", f"unknown role '{name}'", ("notify", j)))
    return problems
