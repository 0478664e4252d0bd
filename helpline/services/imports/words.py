"""Import messages in their reader's language.

A row problem (:class:`~.rows.RowProblem`) and a file refusal (:class:`~.sources.SourceError`) carry a locale key
and its parameters besides their English text; the import page, the error workbook and ``run.py import`` word them
here in the reader's language, from the same catalogue files the web UI merges (``locale/<language>.yaml`` and
``locale/<language>/imports.yaml``). A parameter is worded too: ``{"en": ..., "zh_CN": ...}`` (a definition's
cleansing message, an entity's label) in the language, ``{"key": ..., "params": {...}}`` as another locale text.
A problem stored before keys existed (no key) keeps its stored English text.

An entity's field errors (:class:`~helpline.services.values.FieldError`) go through the texts the record form
shows (``errors.*``, ``form.invalid.*``), see :func:`field_problem`.

A run that fails part-way keeps its error (``hl_import_run.error``) as a locale key and its parameters, stored by
:func:`failure` (JSON) and worded by :func:`failure_text`: the known failure (a refusal's key, a database error)
in the reader's language, then the technical detail (the exception's type and text) for the administrator.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from functools import cache
from typing import TYPE_CHECKING, Any

import yaml
from peewee import DatabaseError, InterfaceError

from helpline.config import shipped

if TYPE_CHECKING:
    from helpline.services.values import FieldError

    from .rows import RowProblem

LANGUAGES = ("zh_CN", "en")
log = logging.getLogger("helpline.imports")

FORM_KEYS = {"errors.max_length": ("form.invalid.max_length", "max_length", "max"),
             "errors.min_length": ("form.invalid.min_length", "min_length", "min"),
             "errors.max": ("form.invalid.max", "max", "max"), "errors.min": ("form.invalid.min", "min", "min"),
             "errors.regex": ("form.invalid.regex", "", ""), "errors.unique": ("form.invalid.unique", "", "")}
"""A field error's key → the record form's text for it (the widget's check) and how its parameter is named."""


@cache
def _catalogue(language: str) -> dict[str, str]:
    base = shipped("locale")
    merged: dict[str, str] = {}
    for path in (base / f"{language}.yaml", base / language / "imports.yaml"):
        if path.exists():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            merged.update({str(k): str(v) for k, v in data.items()})
    return merged


def word(value: Any, language: str) -> str:
    """One parameter in ``language``."""
    if isinstance(value, dict):
        if "key" in value:
            return say(language, str(value["key"]), **dict(value.get("params") or {}))
        if "en" in value:
            return str(value.get(language) or value["en"])
    return "" if value is None else str(value)


def say(language: str, key: str, /, **params: Any) -> str:
    """The text of ``key`` in ``language`` (English when the language lacks it, the key when none has it)."""
    language = language if language in LANGUAGES else "en"
    text = _catalogue(language).get(key) or _catalogue("en").get(key)
    if text is None:
        log.warning("missing locale key %s", key)
        return key
    try:
        return text.format(**{k: word(v, language) for k, v in params.items()}) if params else text
    except (KeyError, IndexError, ValueError):
        log.warning("locale text %s does not fit its parameters %s", key, sorted(params))
        return text


def message(problem: RowProblem, language: str) -> str:
    """A problem's message in ``language`` (its stored text when it has no key)."""
    if not problem.key:
        return problem.message
    return say(language, problem.key, **problem.params)


def line(problem: RowProblem, language: str) -> str:
    """``row 4, column 客户等级 ('09'): …`` in ``language``."""
    where = say(language, "imports.where.column" if problem.column else "imports.where.row", row=problem.row,
                column=problem.column)
    shown = "" if problem.value in (None, "") else say(language, "imports.where.value", value=problem.value)
    return say(language, "imports.where.line", where=where, value=shown, message=message(problem, language))


def refusal(exc: Exception, language: str) -> str:
    """A refused file, source or definition in ``language`` (its English text when it has no key)."""
    key = getattr(exc, "key", "")
    return say(language, key, **getattr(exc, "params", {})) if key else str(exc)


def problem(number: int, column: str, value: Any, key: str, severity: str = "error", /, **params: Any
            ) -> RowProblem:
    """A row problem worded by ``key``; its (English) message is the English text."""
    from .rows import RowProblem

    return RowProblem(number, column, value, say("en", key, **params), severity, key, params)


def field_problem(number: int, column: str, value: Any, error: FieldError, label: Any = None) -> RowProblem:
    """An entity's field error as a row problem worded like the record form's (``label``: the field's label as
    ``{"en": ..., "zh_CN": ...}``, named by a required-value text)."""
    key, params = error.key, dict(error.params)
    if key in FORM_KEYS:
        key, given, wanted = FORM_KEYS[key]
        params = {wanted: params.get(given)} if given else {"value": value if value is not None else ""}
    elif key == "errors.required":
        params = {"field": label or column}
    return problem(number, column, value, key, **params)


def languages_of(label: Any) -> dict[str, str] | None:
    """A metadata label as a ``{"en": ..., "zh_CN": ...}`` parameter (None without one)."""
    if label is None:
        return None
    return {"en": str(getattr(label, "en", "") or ""), "zh_CN": str(getattr(label, "zh_CN", "") or "")}


def both(en: Any, zh_cn: Any) -> dict[str, str]:
    """A parameter worded ``en`` in English and ``zh_cn`` in Chinese (a field's name and its header)."""
    return {"en": str(en), "zh_CN": str(zh_cn or en)}


STORED_ERROR = 2000
"""The length of ``hl_import_run.error``."""
DATABASE_ERRORS: tuple[type[BaseException], ...] = (DatabaseError, InterfaceError, sqlite3.Error)
try:
    import psycopg2

    DATABASE_ERRORS += (psycopg2.Error,)
except ImportError:  # pragma: no cover
    pass


def _plain(value: Any, limit: int) -> Any:
    """A parameter as JSON keeps it (a long text cut to ``limit`` characters)."""
    if isinstance(value, dict):
        return {str(k): _plain(v, limit) for k, v in value.items()}
    if isinstance(value, bool | int | float) or value is None:
        return value
    text = str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def failure_of(exc: BaseException, unexpected: str = "imports.failed.unexpected") -> dict[str, Any]:
    """What failed, as ``{"key": ..., "params": {...}}``: ``imports.failed.line`` with the ``reason`` (a refusal's
    own key and parameters, ``imports.failed.database`` for a database error, else ``unexpected``) and the
    ``detail`` (the exception's type and text: for a refusal, the error it was raised from when there is one)."""
    key = str(getattr(exc, "key", "") or "")
    cause = exc.__cause__ if key and exc.__cause__ is not None else exc
    detail = f"{type(cause).__name__}: {cause}"
    if key:
        reason: dict[str, Any] = {"key": key, "params": dict(getattr(exc, "params", {}) or {})}
    else:
        reason = {"key": "imports.failed.database" if isinstance(exc, DATABASE_ERRORS) else unexpected}
    return {"key": "imports.failed.line", "params": {"reason": reason, "detail": detail}}


def failure(exc: BaseException) -> str:
    """A failed run's error as ``hl_import_run.error`` keeps it (:func:`failure_of` as JSON, within its length)."""
    found = failure_of(exc)
    for limit in (500, 200, 60):
        stored = json.dumps(_plain(found, limit), ensure_ascii=False)
        if len(stored) <= STORED_ERROR:
            return stored
    reason = {"key": found["params"]["reason"]["key"]}
    return json.dumps({"key": "imports.failed.line", "params": {"reason": reason, "detail": type(exc).__name__}})


def failure_text(stored: str | None, language: str) -> str:
    """A run's stored error in ``language``; an error stored as plain text (before keys were kept) as it is."""
    if not stored:
        return ""
    if stored.startswith("{"):
        try:
            found = json.loads(stored)
        except ValueError:
            return stored
        if isinstance(found, dict) and "key" in found:
            return word(found, language)
    return stored
