"""Check the rule texts embedded in metadata with the rule language's checker.

Query logic (place of use ``query``: each input is a boolean name), row scopes (``scope``: the entity's
fields as ``record.<field>`` and the user as ``user.*``) and validation rules (``validation``: ``value``
and ``record.<field>``) are checked against the context their object declares. Problems keep the rule
ids (``HL-R...``) and are placed in the metadata file at the rule's own line and column.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from helpline.diagnostics import Problem, caret_excerpt
from helpline.rules.checker import check_expression
from helpline.rules.uses import SCOPE, VALIDATION, Use, query_use

from .kinds import Entity, EntityField, Query
from .metaset import MetadataSet, Source
from .yamlpos import Path

_TYPES = {
    "text": "text", "long_text": "text", "phone": "text", "email": "text", "int": "number", "decimal": "number",
    "bool": "bool", "date": "date", "datetime": "datetime", "json": "any", "secret": "bool",
}


def field_type(field: EntityField, mset: MetadataSet | None = None) -> str:
    """The rule-language type of an entity field."""
    if field.type == "category":
        base = f"category({field.category})"
        return f"set({base})" if field.multiple else base
    if field.type == "link":
        target = mset.entities.get(field.link or "") if mset else None
        if target is None:
            return "any"
        key = target.field(field.link_key) if field.link_key else None
        return _TYPES.get(key.type, "text") if key else ("any" if field.link_key else "number")
    return _TYPES[field.type]


def record_context(entity: Entity, mset: MetadataSet | None, prefix: str = "record") -> dict[str, str]:
    names = {f"{prefix}.{f.name}": field_type(f, mset) for f in entity.fields}
    names.update({f"{prefix}.id": "number", f"{prefix}.created_by": "text", f"{prefix}.updated_by": "text",
                  f"{prefix}.created_at": "datetime", f"{prefix}.updated_at": "datetime"})
    return names


def _codes(mset: MetadataSet | None):  # type: ignore[no-untyped-def]
    def codes(tree: str) -> set[str] | None:
        cat = mset.categories.get(tree) if mset else None
        return cat.codes() if cat else None
    return codes


def scope_use(entity: Entity, mset: MetadataSet | None = None) -> Use:
    return SCOPE.with_context(record_context(entity, mset)).with_codes(_codes(mset))


def validation_use(entity: Entity, mset: MetadataSet | None = None, field: EntityField | None = None) -> Use:
    extra = record_context(entity, mset)
    if field is not None:
        extra["value"] = field_type(field, mset)
    closed = replace(VALIDATION, open_prefixes=MappingProxyType({}))  # record.* is declared field by field
    return closed.with_context(extra).with_codes(_codes(mset))


def query_logic_use(query: Query, mset: MetadataSet) -> Use:
    entity = mset.entities.get(query.entity)
    inputs: dict[str, str] = {}
    for inp in query.inputs:
        f = entity.field(inp.field) if entity else None
        inputs[inp.name] = field_type(f, mset) if f else "any"
    return query_use(inputs).with_codes(_codes(mset))


def place(problem: Problem, source: Source, path: Path) -> Problem:
    """A rule problem (positions within the rule text) placed in the metadata file."""
    line, column = source.locate(path)
    if line is None or column is None or problem.line is None:
        return replace(problem, file=source.file)
    src_lines = source.text.splitlines()
    head = src_lines[line - 1][column - 1:] if line - 1 < len(src_lines) else ""
    if head[:1] in ("|", ">"):  # block scalar: the text starts on the next line, indented
        first = line + 1
        while first - 1 < len(src_lines) and not src_lines[first - 1].strip():
            first += 1
        body = src_lines[first - 1] if first - 1 < len(src_lines) else ""
        indent = len(body) - len(body.lstrip())
        file_line, file_col = first + problem.line - 1, indent + (problem.column or 1)
    else:
        quoted = 1 if head[:1] in ("'", '"') else 0
        file_line = line + problem.line - 1
        file_col = (column + quoted + (problem.column or 1) - 1) if problem.line == 1 else (problem.column or 1)
    excerpt = caret_excerpt(source.text, file_line, file_col)
    return replace(problem, file=source.file, line=file_line, column=file_col, excerpt=excerpt or problem.excerpt)


def rule_problems(mset: MetadataSet) -> list[Problem]:
    """Problems of every rule text in the set."""
    problems: list[Problem] = []
    for q in mset.queries.values():
        if q.logic and q.entity in mset.entities:
            result = check_expression(q.logic, query_logic_use(q, mset))
            problems += [place(p, mset.source(q), ("logic",)) for p in result.problems]
    for role in mset.roles.values():
        for name, grant in role.entities.items():
            entity = mset.entities.get(name)
            if grant.scope and entity is not None:
                result = check_expression(grant.scope, scope_use(entity, mset))
                problems += [place(p, mset.source(role), ("entities", name, "scope")) for p in result.problems]
    for entity in mset.entities.values():
        for i, f in enumerate(entity.fields):
            if f.validation and f.validation.rule:
                result = check_expression(f.validation.rule, validation_use(entity, mset, f))
                problems += [place(p, mset.source(entity), ("fields", i, "validation", "rule"))
                             for p in result.problems]
    return problems
