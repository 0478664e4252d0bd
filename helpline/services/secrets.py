"""Secret fields (``type: secret``, e.g. a customer's service password): migration of plain values and
verification.

Values are hashed by :func:`helpline.services.values.clean_values` on every write through the services and the
data layer refuses anything but a hash, so a secret is never stored, shown, listed, searched or exported in
plain text. :func:`hash_plain_secrets` runs at every start and metadata change: values stored in plain text
before the field became secret are hashed (idempotent: hashes are left alone).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from helpline.data.database import session, write_transaction
from helpline.data.entities import EntityModels, SecretField, column, plain_secrets, read_secret
from helpline.security.audit import audit
from helpline.security.passwords import hash_password, is_hash, verify_password

log = logging.getLogger("helpline.secrets")


def hash_plain_secrets(models: EntityModels) -> int:
    """Hash the plain values of every secret field; the number hashed (each field's count is audited)."""
    total = 0
    for name, entity in models.metadata.entities.items():
        for f in entity.fields:
            if f.type != "secret" or name not in models:
                continue
            model = models[name]
            with session(), write_transaction():
                found = plain_secrets(model, f.name)
                for record_id, plain in found:
                    model.update({column(model, f.name): hash_password(plain)}).where(model.id == record_id).execute()
                if found:
                    audit("system", "hash_secrets", entity=name, detail={"field": f.name, "count": len(found)})
                    log.warning("hashed %d plain-text values of %s.%s", len(found), name, f.name)
            total += len(found)
    return total


def secret_matches(models: EntityModels, entity: str, record: dict[str, Any] | None, field: str,
                   entered: str) -> bool:
    """True when ``entered`` is the record's secret (its stored hash; a field that is not ``secret`` in the
    metadata holds plain text, compared in constant time)."""
    if not entered or record is None or record.get("id") is None or entity not in models:
        return False
    model = models[entity]
    if isinstance(model._meta.fields.get(field), SecretField):
        with session():
            stored = read_secret(model, field, int(record["id"]))
    else:
        stored = record.get(field)
    if not isinstance(stored, str) or not stored:
        return False
    if is_hash(stored):
        return verify_password(entered, stored)
    return hmac.compare_digest(stored.encode(), entered.encode())
