"""Who may open which screen, query, record or page — decided on the server for every request.

Screens and records need read permission on their entity; a query needs read permission on its entity and
a menu item the user sees that opens it (menus bind queries to roles) — except for administrators (the
``designer`` permission), who may open any query they can edit, e.g. one just published and not yet on a menu;
built-in pages need their function permission. A refusal is written to the audit log and raised as
:class:`PermissionDenied`.
"""

from __future__ import annotations

from typing import Literal

from helpline.data.database import session
from helpline.metadata.kinds.menu import PAGES
from helpline.metadata.metaset import MetadataSet
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit

Target = Literal["screen", "query", "record", "page"]


def query_in_visible_menu(actor: Actor, metadata: MetadataSet, query: str) -> bool:
    return any(item.query == query and actor.sees_menu(menu.name, item.name)
               for menu in metadata.menus.values() for item in menu.items)


def can_open(actor: Actor, metadata: MetadataSet, kind: Target, name: str) -> bool:
    if actor.is_system:
        return True
    if kind == "screen":
        screen = metadata.screens.get(name)
        return screen is not None and actor.can(screen.entity, "read")
    if kind == "record":
        return name in metadata.entities and actor.can(name, "read")
    if kind == "query":
        query = metadata.queries.get(name)
        return query is not None and actor.can(query.entity, "read") and (
            actor.has("designer") or query_in_visible_menu(actor, metadata, name))
    if name not in PAGES:
        return False
    permission = PAGES[name]
    return permission is None or actor.has(permission)


def require_open(actor: Actor, metadata: MetadataSet, kind: Target, name: str, path: str = "") -> None:
    """Raise :class:`PermissionDenied` (and audit the attempt) unless ``actor`` may open the target."""
    if can_open(actor, metadata, kind, name):
        return
    with session():
        audit(actor, "denied", entity=name if kind == "record" else None,
              detail={"kind": kind, "name": name, "path": path})
    raise PermissionDenied(f"user '{actor.username}' may not open {kind} '{name}'")
