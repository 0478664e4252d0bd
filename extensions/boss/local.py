"""BOSS customers written into the local customer records one by one, for the pop of an unknown caller and the
key persons' sync: mapped by the nightly sync's import definition (``boss_customers``: its columns, code
tables and transforms, so a customer is stored exactly as the nightly run stores it) and saved through the
record service as the system user (validated, audited, in the text index; a customer of that customer number
is updated, else created). Each customer is one transaction: written whole or not at all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from helpline.data.database import session
from helpline.metadata.kinds.imports import Import
from helpline.security.actor import Actor
from helpline.services.imports.rows import RowConverter, map_headers
from helpline.services.records import ValidationFailed

DEFINITION = "boss_customers"
"""The import definition whose mapping and ``source.params`` (the interface's settings) the connector uses."""
WRITER = Actor.system()


class NotStored(ValueError):
    """A BOSS customer the local validation refuses; the message names the customer and the problems."""


def definition(platform: Any) -> Import:
    found = platform.metadata.objects.get("import", {}).get(DEFINITION)
    if not isinstance(found, Import):
        raise LookupError(f"boss: no import definition '{DEFINITION}' (metadata/imports/{DEFINITION}.yaml)")
    return found


def params(platform: Any) -> dict[str, Any]:
    """The interface's settings: the definition's ``source.params``."""
    return dict(definition(platform).source.params or {})


class Mapper:
    """The local customer's field values of BOSS customers, as the nightly sync maps them (its converter built
    once for the feed's headers)."""

    def __init__(self, platform: Any) -> None:
        self.definition = definition(platform)
        self.entity = platform.metadata.entities[self.definition.entity]
        self.converters: dict[tuple[str, ...], RowConverter] = {}

    def values(self, item: dict[str, Any]) -> dict[str, Any]:
        headers = tuple(item)
        converter = self.converters.get(headers)
        if converter is None:
            mapping = map_headers(self.definition, self.entity, list(headers))
            converter = self.converters[headers] = RowConverter(self.definition, self.entity, mapping)
        mapped, problems = converter.convert(1, [item[h] for h in headers])
        errors = [p.text() for p in problems if p.severity == "error"]
        if errors:
            raise NotStored(f"boss customer {item.get('cust_no')}: {'; '.join(errors)}")
        return mapped


def save_customer(platform: Any, item: dict[str, Any], mapper: Mapper | None = None) -> int:
    """Create or update the local customer of BOSS customer ``item``; its id. :class:`NotStored` when the local
    validation refuses it (nothing written)."""
    found = definition(platform)
    fields = (mapper or Mapper(platform)).values(item)
    key = found.key or "customer_no"
    model = platform.models[found.entity]
    records = platform.records
    for _ in range(2):  # a second desktop may create it between the look-up and the create
        with session():
            row = model.select(model.id).where(getattr(model, key) == fields[key]).first()
        try:
            if row is None:
                return int(records.create(WRITER, found.entity, fields).id)
            records.update(WRITER, found.entity, int(row.id), fields)
            return int(row.id)
        except ValidationFailed as exc:
            if row is None and key in exc.errors:
                continue
            raise NotStored(f"boss customer {item.get('cust_no')}: {exc}") from exc
    raise NotStored(f"boss customer {item.get('cust_no')}: created and gone at once")


def money(item: dict[str, Any]) -> Decimal:
    return Decimal(str(item.get("balance") or 0)).quantize(Decimal("0.01"))
