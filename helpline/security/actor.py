"""Who is acting, and what their roles allow: the object every service call checks.

An :class:`Actor` is built from a user and the live role metadata. ``can(entity, action)``,
``has(permission)`` and ``sees_menu(menu, item)`` answer permission questions; row scopes and masks are
read per entity. The ``system`` actor (start-up, sync, demo data) may do everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from helpline.metadata.kinds import EntityGrant, Role
from helpline.metadata.metaset import MetadataSet

Action = Literal["create", "read", "update", "delete"]


class PermissionDenied(Exception):
    """The actor may not do this; the message says what was refused."""


@dataclass
class Actor:
    username: str
    roles: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    user_id: int | None = None
    display_name: str = ""
    language: str = "zh_CN"
    is_system: bool = False
    _role_objs: list[Role] = field(default_factory=list, repr=False)
    _metadata: MetadataSet | None = field(default=None, repr=False)

    @classmethod
    def system(cls) -> Actor:
        return cls(username="system", is_system=True)

    def bind(self, metadata: MetadataSet) -> Actor:
        """Resolve role names (and the roles they extend) against the live metadata; unknown roles grant
        nothing."""
        found: list[Role] = []
        pending = list(self.roles)
        while pending:
            name = pending.pop(0)
            role = metadata.roles.get(name)
            if role is None or role in found:
                continue
            found.append(role)
            pending.extend(role.extends)
        self._role_objs = found
        self._metadata = metadata
        return self

    def grants(self, entity: str) -> list[EntityGrant]:
        return [r.entities[entity] for r in self._role_objs if entity in r.entities]

    def can(self, entity: str, action: Action) -> bool:
        if self.is_system:
            return True
        return any(getattr(g, action) for g in self.grants(entity))

    def require(self, entity: str, action: Action) -> None:
        if not self.can(entity, action):
            raise PermissionDenied(f"user '{self.username}' may not {action} {entity} records")

    def has(self, permission: str) -> bool:
        return self.is_system or any(permission in r.permissions for r in self._role_objs)

    def require_permission(self, permission: str) -> None:
        if not self.has(permission):
            raise PermissionDenied(f"user '{self.username}' lacks the permission '{permission}'")

    def sees_menu(self, menu: str, item: str | None = None) -> bool:
        if self.is_system:
            return True
        refs = {m for r in self._role_objs for m in r.menus}
        if "*" in refs or menu in refs:
            return True
        if item is None:
            return any(ref.startswith(menu + ".") for ref in refs)
        # A granted item grants the items below it.
        menu_obj = self._metadata.menus.get(menu) if self._metadata else None
        current: str | None = item
        seen: set[str] = set()
        while current is not None and current not in seen:
            if f"{menu}.{current}" in refs:
                return True
            seen.add(current)
            node = menu_obj.item(current) if menu_obj else None
            current = node.parent if node else None
        return False

    def scopes(self, entity: str) -> list[str] | None:
        """The row-scope rules of the roles that may read ``entity``; None when one of them is unscoped
        (roles add up: the widest wins)."""
        if self.is_system:
            return None
        readers = [g for g in self.grants(entity) if g.read]
        if any(g.scope is None for g in readers):
            return None
        return [g.scope for g in readers if g.scope]

    def masks(self, entity: str) -> dict[str, str]:
        """Field masks applied for this actor: a field is masked only if every reading role masks it."""
        if self.is_system:
            return {}
        readers = [g for g in self.grants(entity) if g.read]
        if not readers:
            return {}
        common = set(readers[0].masks)
        for g in readers[1:]:
            common &= set(g.masks)
        return {f: readers[0].masks[f] for f in common}

    def role_names(self) -> set[str]:
        """Every role the actor holds, with the roles they extend (after :meth:`bind`)."""
        return {r.name for r in self._role_objs} | set(self.roles)

    def context(self) -> dict[str, object]:
        """What rules see as ``user.*``."""
        return {"id": self.user_id, "name": self.username, "regions": list(self.regions), "roles": list(self.roles)}
