"""Build peewee models from entity metadata at run time.

Every entity table has the system columns ``id``, ``created_at``, ``created_by``, ``updated_at``,
``updated_by`` and ``version`` (for optimistic concurrency), then one column per field. Category fields
store the code (a list of codes when ``multiple``); link fields store the linked record's id or its
``link_key`` value; the service layer checks both exist. Secret fields store a password hash and read back only
as ``True`` (set) or ``False`` (not set): lists, exports, forms and the audit log never see the hash, and
writing anything but a hash is refused (the services hash; :func:`read_secret` gives the hash to verify).
"""

from __future__ import annotations

from typing import Any

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    Field,
    IntegerField,
    Model,
    TextField,
)
from peewee import Entity as SqlEntity

from helpline.metadata.kinds import Entity, EntityField
from helpline.metadata.metaset import MetadataSet

from .base import utcnow
from .database import db
from .jsonfield import JSONField

SYSTEM_COLUMNS = ("id", "created_at", "created_by", "updated_at", "updated_by", "version")


class EntityModel(Model):
    """Base of every generated entity model: the system columns every entity table has."""

    id = AutoField()
    created_at = DateTimeField(default=utcnow, index=True)
    created_by = CharField(max_length=64, default="")
    updated_at = DateTimeField(default=utcnow)
    updated_by = CharField(max_length=64, default="")
    version = IntegerField(default=1)

    class Meta:
        database = db
        legacy_table_names = False


SECRET_PREFIXES = ("$argon2", "scrypt$")
"""How a stored secret starts (the hash formats of ``helpline.security.passwords``)."""


class SecretField(CharField):
    """A hashed secret: reads as whether one is set, writes only hashes."""

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        if not (isinstance(value, str) and value.startswith(SECRET_PREFIXES)):
            raise ValueError(f"the secret field '{self.name}' stores only password hashes; hash the value first "
                             "(helpline.security.passwords.hash_password)")
        return value

    def python_value(self, value: Any) -> bool:
        return bool(value)


def read_secret(model: type[EntityModel], name: str, record_id: int) -> str | None:
    """The stored hash of a secret field (for verification only; never show or return it)."""
    field = model._meta.fields[name]
    if not isinstance(field, SecretField):
        raise ValueError(f"'{name}' is not a secret field")
    column = SqlEntity(field.column_name).alias("stored_secret")  # no converter: the stored text
    found = model.select(column).where(model.id == record_id).tuples().first()
    return found[0] if found and isinstance(found[0], str) and found[0] else None


def plain_secrets(model: type[EntityModel], name: str) -> list[tuple[int, str]]:
    """(id, value) of the rows whose secret field holds a value that is not a hash (data from before the
    field was secret)."""
    field = model._meta.fields[name]
    bare = SqlEntity(field.column_name)
    query = model.select(model.id, bare.alias("stored_secret")).where(bare.is_null(False)).tuples()
    found: list[tuple[Any, Any]] = [tuple(row) for row in query.execute()]
    return [(int(i), str(v)) for i, v in found if v and not str(v).startswith(SECRET_PREFIXES)]


def rows(query: Any) -> list[dict[str, Any]]:
    """The rows of a select as plain dicts."""
    return [dict(r) for r in query.dicts()]


def column(model: type[EntityModel], name: str) -> Field:
    """A model's column by field name (entity fields are not attributes mypy can see)."""
    found: Field = model._meta.fields[name]
    return found


def column_for(field: EntityField, entities: dict[str, Entity] | None = None) -> Field:
    """The peewee column of one entity field."""
    common: dict[str, Any] = {"null": True, "index": field.indexed and not field.unique, "unique": field.unique}
    t = field.type
    if t in ("text", "phone", "email"):
        return CharField(max_length=field.max_length, **common)
    if t == "long_text":
        return TextField(**common)
    if t == "int":
        return BigIntegerField(**common)
    if t == "decimal":
        return DecimalField(max_digits=18, decimal_places=4, auto_round=True, **common)
    if t == "bool":
        return BooleanField(**common)
    if t == "date":
        return DateField(**common)
    if t == "datetime":
        return DateTimeField(**common)
    if t == "category":
        return JSONField(**common) if field.multiple else CharField(max_length=64, **common)
    if t == "link":
        target = (entities or {}).get(field.link or "")
        key = target.field(field.link_key) if (target and field.link_key) else None
        if key is not None:
            return CharField(max_length=key.max_length, null=True, index=not field.unique, unique=field.unique)
        return BigIntegerField(null=True, index=not field.unique, unique=field.unique)
    if t == "json":
        return JSONField(**common)
    if t == "secret":
        return SecretField(max_length=255, null=True)
    raise ValueError(f"no column type for field type {t!r}")


def build_model(entity: Entity, entities: dict[str, Entity] | None = None) -> type[EntityModel]:
    """A peewee model class for ``entity`` (retired fields keep their column)."""
    attrs: dict[str, Any] = {}
    for field in entity.fields:
        attrs[field.name] = column_for(field, entities)
    indexes = tuple((tuple(index), False) for index in entity.indexes)
    attrs["Meta"] = type("Meta", (), {"table_name": entity.name, "indexes": indexes})
    model: type[EntityModel] = type(f"E_{entity.name}", (EntityModel,), attrs)
    return model


class EntityModels:
    """The models of every entity of a metadata set, rebuilt when the metadata changes."""

    def __init__(self, metadata: MetadataSet):
        self.metadata = metadata
        self.models: dict[str, type[EntityModel]] = {
            name: build_model(entity, metadata.entities) for name, entity in metadata.entities.items()
        }

    def __getitem__(self, entity: str) -> type[EntityModel]:
        return self.models[entity]

    def __contains__(self, entity: object) -> bool:
        return entity in self.models

    def entity(self, name: str) -> Entity:
        return self.metadata.entities[name]
