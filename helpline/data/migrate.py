"""Additive, automatic schema migrations for entity tables.

:func:`plan_migration` compares the entity models with the live schema: a new entity gets its table, a
new field its column, a new index its index. A destructive change (a column no longer in the metadata, a
column whose type family changed) is refused with a message naming the field, unless the administrator
runs the explicit command (``run.py migrate --allow-destructive``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from peewee import Field
from playhouse.migrate import PostgresqlMigrator, SchemaMigrator, SqliteMigrator, migrate

from .database import db, is_postgres
from .entities import SYSTEM_COLUMNS, EntityModel, EntityModels
from .jsonfield import JSONField


@dataclass(frozen=True)
class Step:
    action: str  # create_table | add_column | add_index | drop_column | alter_type
    entity: str
    field: str = ""
    columns: tuple[str, ...] = ()
    unique: bool = False
    destructive: bool = False
    reason: str = ""

    def describe(self) -> str:
        if self.action == "create_table":
            return f"create table {self.entity}"
        if self.action == "add_column":
            return f"add column {self.entity}.{self.field}"
        if self.action == "add_index":
            kind = "unique index" if self.unique else "index"
            return f"add {kind} on {self.entity}({', '.join(self.columns)})"
        return f"{self.action.replace('_', ' ')} {self.entity}.{self.field}: {self.reason}"


@dataclass
class MigrationPlan:
    steps: list[Step] = field(default_factory=list)

    @property
    def additive(self) -> list[Step]:
        return [s for s in self.steps if not s.destructive]

    @property
    def destructive(self) -> list[Step]:
        return [s for s in self.steps if s.destructive]


class DestructiveChangeRefused(Exception):
    """The metadata asks for a change that would lose data; nothing was changed."""

    def __init__(self, steps: list[Step]):
        self.steps = steps
        lines = "\n".join(f"  - {s.describe()}" for s in steps)
        super().__init__(
            "destructive schema change refused:\n" + lines +
            "\nRetire the field instead (retired: true keeps the column), or run "
            "'python run.py migrate --allow-destructive' after a backup.")


_FAMILIES = [
    (r"^(character varying|varchar|char|character|text|clob)$", "text"),
    (r"^(integer|int|bigint|smallint|int4|int8)$", "int"),
    (r"^(numeric|decimal|real|double precision|double|float)$", "decimal"),
    (r"^(bool|boolean)$", "bool"),
    (r"^date$", "date"),
    (r"^(datetime|timestamp|timestamp without time zone|timestamp with time zone)$", "datetime"),
    (r"^(json|jsonb)$", "json"),
]


def type_family(type_name: str) -> str:
    """The family of a column type as the database reports it (``VARCHAR(255)`` → ``text``)."""
    t = re.sub(r"\(.*\)", "", type_name.strip().lower()).strip()
    for pattern, family in _FAMILIES:
        if re.match(pattern, t):
            return family
    return t


def expected_family(column: Field) -> str:
    if isinstance(column, JSONField):
        return "json" if is_postgres() else "text"
    declared = str(column.field_type).upper()
    mapped = db.obj.field_types.get(declared, declared) if hasattr(db.obj, "field_types") else declared
    return type_family(str(mapped))


def _wanted_indexes(model: type[EntityModel]) -> list[tuple[tuple[str, ...], bool]]:
    wanted: list[tuple[tuple[str, ...], bool]] = []
    for f in model._meta.sorted_fields:
        if f.name != "id" and (f.index or f.unique):
            wanted.append(((f.column_name,), bool(f.unique)))
    for columns, unique in model._meta.indexes:
        wanted.append((tuple(columns), bool(unique)))
    return wanted


def plan_migration(models: EntityModels) -> MigrationPlan:
    plan = MigrationPlan()
    tables = set(db.get_tables())
    for name, model in models.models.items():
        table = model._meta.table_name
        if table not in tables:
            plan.steps.append(Step("create_table", name))
            continue
        existing = {c.name: c for c in db.get_columns(table)}
        fields = {f.column_name: f for f in model._meta.sorted_fields}
        for column, f in fields.items():
            if column not in existing:
                plan.steps.append(Step("add_column", name, column))
            elif column not in SYSTEM_COLUMNS:
                have, want = type_family(existing[column].data_type), expected_family(f)
                if have != want:
                    plan.steps.append(Step("alter_type", name, column, destructive=True,
                                           reason=f"column is {have}, the metadata now says {want}"))
        for column in existing:
            if column not in fields:
                plan.steps.append(Step("drop_column", name, column, destructive=True,
                                       reason="the field is no longer in the metadata"))
        have_indexes = {tuple(ix.columns) for ix in db.get_indexes(table)}
        for columns, unique in _wanted_indexes(model):
            if columns not in have_indexes and all(c in existing or c in fields for c in columns):
                plan.steps.append(Step("add_index", name, columns=columns, unique=unique))
    return plan


def _migrator() -> SchemaMigrator:
    return PostgresqlMigrator(db.obj) if is_postgres() else SqliteMigrator(db.obj)


def apply_migration(models: EntityModels, *, allow_destructive: bool = False) -> MigrationPlan:
    """Bring the schema in line with the entity metadata; raises :class:`DestructiveChangeRefused`
    before touching anything if a destructive step is needed and not allowed."""
    plan = plan_migration(models)
    if plan.destructive and not allow_destructive:
        raise DestructiveChangeRefused(plan.destructive)
    migrator = _migrator()
    with db.atomic():
        creates = [models[s.entity] for s in plan.steps if s.action == "create_table"]
        if creates:
            db.create_tables(creates, safe=True)
        operations = []
        for step in plan.steps:
            model = models[step.entity]
            table = model._meta.table_name
            if step.action == "add_column":
                operations.append(migrator.add_column(table, step.field, _fresh(model, step.field)))
            elif step.action == "add_index":
                operations.append(migrator.add_index(table, step.columns, step.unique))
            elif step.action == "drop_column":
                operations.append(migrator.drop_column(table, step.field))
            elif step.action == "alter_type":
                operations.append(migrator.alter_column_type(table, step.field, _fresh(model, step.field)))
        if operations:
            migrate(*operations)
    return plan


def _fresh(model: type[EntityModel], column: str) -> Field:
    """An unbound copy of a model's column, nullable and without its own index (added as a separate step)."""
    original: Field = model._meta.columns[column]
    copy: Field = type(original)(**{**_field_kwargs(original), "null": True, "index": False, "unique": False})
    return copy


def _field_kwargs(f: Field) -> dict[str, object]:
    kwargs: dict[str, object] = {}
    for attr in ("max_length", "max_digits", "decimal_places", "auto_round"):
        if hasattr(f, attr):
            kwargs[attr] = getattr(f, attr)
    if f.default is not None:
        kwargs["default"] = f.default
    return kwargs
