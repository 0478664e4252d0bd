"""Turn submitted values into typed, valid field values, or say per field what is wrong.

Used by forms before saving (shown on the field) and by the record service on the server (enforced
again). Errors are ``{field: message}``; messages come from ``locale/`` keys with parameters, so a page can
show them in the user's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from helpline.data.base import centre_today, utcnow
from helpline.metadata.kinds import Category, Entity, EntityField
from helpline.security.passwords import hash_password

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9]{3,20}$")


@dataclass(frozen=True)
class FieldError:
    key: str
    """A locale key (``errors.required``)."""
    params: dict[str, Any]

    def text(self) -> str:
        """English fallback text (the UI translates ``key``)."""
        templates = {
            "errors.required": "required",
            "errors.type": "not a valid {type}",
            "errors.min": "must be at least {min}",
            "errors.max": "must be at most {max}",
            "errors.min_length": "must have at least {min_length} characters",
            "errors.max_length": "must have at most {max_length} characters",
            "errors.regex": "does not have the expected format",
            "errors.email": "not a valid e-mail address",
            "errors.phone": "not a valid phone number",
            "errors.category": "'{code}' is not a code of {tree}",
            "errors.retired": "'{code}' is retired and cannot be chosen any more",
            "errors.unique": "another record already has this value",
            "errors.link": "no {entity} record '{value}'",
            "errors.link_level": "'{value}' is not a {entity} of level {level}",
            "errors.rule": "{message}",
        }
        return templates.get(self.key, self.key).format(**self.params)


def normalise_phone(text: str) -> str:
    """Digits only, keeping a leading ``+``: ``0731-8888 1234`` → ``073188881234``."""
    text = text.strip()
    plus = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    return ("+" + digits) if plus else digits


def phone_variants(number: str) -> list[str]:
    """The forms a caller's number may be stored in: as given, without ``+86``/``86``/trunk ``0`` prefixes."""
    n = normalise_phone(number)
    variants = [n]
    for prefix in ("+86", "0086", "86"):
        if n.startswith(prefix) and len(n) - len(prefix) >= 7:
            variants.append(n[len(prefix):])
    if n.startswith("0") and len(n) == 12 and n[1] == "1":  # 0 + mobile number
        variants.append(n[1:])
    return list(dict.fromkeys(variants))


def coerce(field: EntityField, raw: Any) -> Any:
    """The typed value of ``raw`` for ``field``; raises ValueError when it is not one."""
    if raw is None or (isinstance(raw, str) and raw.strip() == "" and field.type != "json"):
        return [] if (field.type == "category" and field.multiple) else None
    t = field.type
    if t == "secret":  # a form sends back the read marker (True/False): no new secret
        return None if isinstance(raw, bool) else str(raw)
    if t in ("text", "long_text"):
        return str(raw).strip() if t == "text" else str(raw)
    if t == "email":
        value = str(raw).strip()
        if not EMAIL.match(value):
            raise ValueError("errors.email")
        return value
    if t == "phone":
        value = normalise_phone(str(raw))
        if not PHONE.match(value):
            raise ValueError("errors.phone")
        return value
    if t == "int":
        if isinstance(raw, bool):
            raise ValueError("errors.type")
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError("errors.type")
        return int(str(raw).strip()) if not isinstance(raw, (int, float)) else int(raw)
    if t == "decimal":
        try:
            return Decimal(str(raw).strip())
        except InvalidOperation as exc:
            raise ValueError("errors.type") from exc
    if t == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "y", "是"):
            return True
        if text in ("0", "false", "no", "n", "否"):
            return False
        raise ValueError("errors.type")
    if t == "date":
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        return date.fromisoformat(str(raw).strip()[:10])
    if t == "datetime":
        if isinstance(raw, datetime):
            return raw.replace(tzinfo=None)
        if isinstance(raw, date):
            return datetime(raw.year, raw.month, raw.day)
        return datetime.fromisoformat(str(raw).strip()).replace(tzinfo=None)
    if t == "category":
        if field.multiple:
            items = raw if isinstance(raw, (list, tuple, set)) else [s for s in str(raw).split(",") if s.strip()]
            return [str(i).strip() for i in items]
        return str(raw).strip()
    if t == "link":
        return raw if isinstance(raw, int) else str(raw).strip()
    if t == "json":
        return raw
    raise ValueError("errors.type")


def check_value(field: EntityField, value: Any, categories: dict[str, Category], previous: Any = None
                ) -> FieldError | None:
    """Metadata checks of one typed value (required, ranges, lengths, regex, category codes)."""
    if value is None or value == [] or value == "":
        return FieldError("errors.required", {}) if field.required else None
    v = field.validation
    if v is not None:
        if v.min is not None and isinstance(value, (int, Decimal)) and value < v.min:
            return FieldError("errors.min", {"min": v.min})
        if v.max is not None and isinstance(value, (int, Decimal)) and value > v.max:
            return FieldError("errors.max", {"max": v.max})
        if isinstance(value, str):
            if v.min_length is not None and len(value) < v.min_length:
                return FieldError("errors.min_length", {"min_length": v.min_length})
            if v.max_length is not None and len(value) > v.max_length:
                return FieldError("errors.max_length", {"max_length": v.max_length})
            if v.regex and not re.fullmatch(v.regex, value):
                return FieldError("errors.regex", {"regex": v.regex})
    if isinstance(value, str) and field.type in ("text", "phone", "email", "secret") and len(value) > field.max_length:
        return FieldError("errors.max_length", {"max_length": field.max_length})
    if field.type == "category":
        tree = categories.get(field.category or "")
        codes = value if isinstance(value, list) else [value]
        before = set(previous if isinstance(previous, list) else ([previous] if previous else []))
        for code in codes:
            node = tree.node(code) if tree else None
            if node is None:
                return FieldError("errors.category", {"code": code, "tree": field.category})
            if node.retired and code not in before:
                return FieldError("errors.retired", {"code": code})
    return None


def clean_values(entity: Entity, raw: dict[str, Any], categories: dict[str, Category], *,
                 previous: dict[str, Any] | None = None, partial: bool = False
                 ) -> tuple[dict[str, Any], dict[str, FieldError]]:
    """Typed values and per-field errors. ``partial`` (updates) checks only the fields given; retired
    fields and unknown keys are refused. A ``secret`` field's new value is checked, then hashed; an update that
    gives no new secret (empty, or the read marker) keeps the stored one."""
    values: dict[str, Any] = {}
    errors: dict[str, FieldError] = {}
    _, by_name, active = entity._lookup()  # looked up once a call, not once a field (an import: 20 a row)
    for key in raw:
        f = by_name.get(key)
        if f is None or f.retired:
            errors[key] = FieldError("errors.unknown_field", {"field": key})
    before = previous or {}
    for f in active:
        name = f.name
        if name in raw:
            given = raw[name]
        elif partial:
            continue
        else:
            given = default_value(f) if previous is None and f.default is not None else None
        if f.type == "secret" and previous is not None and not (isinstance(given, str) and given.strip()):
            continue
        if given is None:  # most fields of a row (an import's 20 columns of 33 fields): no coerce, no checks
            if f.required:
                errors[name] = FieldError("errors.required", {})
            else:
                values[name] = [] if f.type == "category" and f.multiple else None
            continue
        if type(given) is str and f.validation is None and given:  # an import's usual cells, without the calls:
            t = f.type  # exactly what coerce and check_value give a non-blank text (tests/services/test_values.py)
            if t == "text":
                value = given.strip()
                if value and len(value) <= f.max_length:
                    values[name] = value
                    continue
            elif t == "category" and not f.multiple:
                value = given.strip()
                tree = categories.get(f.category or "")
                node = tree.node(value) if value and tree is not None else None
                if node is not None and not node.retired:
                    values[name] = value
                    continue
        try:
            value = coerce(f, given)
        except (ValueError, TypeError) as exc:
            key = str(exc) if str(exc).startswith("errors.") else "errors.type"
            errors[name] = FieldError(key, {"type": f.type})
            continue
        err = check_value(f, value, categories, before.get(name))
        if err:
            errors[name] = err
        else:
            values[name] = hash_password(value) if f.type == "secret" and value else value
    return values, errors


def default_value(f: EntityField) -> Any:
    """The value a new record starts with: ``today`` / ``now`` resolved, else the declared default."""
    if f.default == "today" and f.type == "date":
        return centre_today()
    if f.default == "now" and f.type == "datetime":
        return utcnow()  # stored in UTC like every timestamp (datetime.now() is the server's zone)
    return f.default
