"""Kinds that later parts of Helpline fill in: ``job``, ``import`` (``ivr``, ``routing`` and ``workflow`` have
their own modules now).

Until their own schema exists each is recognised and its header validated (kind, name, label,
description); its body sits under ``spec`` and is kept as written.
"""

from __future__ import annotations

from typing import Any, Literal

from .common import MetaObject


class Placeholder(MetaObject):
    spec: dict[str, Any] = {}


class Job(Placeholder):
    kind: Literal["job"]


class Import(Placeholder):
    kind: Literal["import"]
