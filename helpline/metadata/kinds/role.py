"""The ``role`` kind: what a role may see and do.

- ``menus``: whole menus (``main``) or items (``main.customers``); ``"*"`` for all.
- ``entities``: per entity, create/read/update/delete, a row scope (a rule, place of use ``scope``) and
  field masks (``phone`` shows 138****5678, ``name`` shows 张*, ``hidden`` shows nothing).
- ``permissions``: functions (designer, audit, agent and supervisor functions, ...).
- ``extends``: other roles whose grants are included.

A granted menu item grants the items below it too. Roles add up: what any of a user's roles allows, the
user may do.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from .common import MetaObject, Name, Strict

Mask = Literal["phone", "name", "email", "id", "hidden", "partial"]


class EntityGrant(Strict):
    create: bool = False
    read: bool = False
    update: bool = False
    delete: bool = False
    scope: str | None = None
    masks: dict[Name, Mask] = {}

    @model_validator(mode="before")
    @classmethod
    def _from_letters(cls, value: Any) -> Any:
        """``"crud"``, ``"r"``, ``"ru"`` ... as a shorthand."""
        if isinstance(value, str):
            bad = set(value) - set("crud")
            if bad:
                raise ValueError(f"'{value}': use the letters c, r, u, d (create, read, update, delete)")
            return {"create": "c" in value, "read": "r" in value, "update": "u" in value, "delete": "d" in value}
        return value


class Role(MetaObject):
    kind: Literal["role"]
    extends: list[Name] = []
    """Roles whose grants this role has too (a supervisor extends agent)."""
    menus: list[str] = []
    entities: dict[Name, EntityGrant] = {}
    permissions: list[str] = []
