"""The routing's revisions as the supervisor's routing editor uses them: history, diff and roll back.

The routing metadata ``main`` is published like any metadata object (``Platform.publish`` with
``permission="routing.edit"``); rolling back makes an old revision's content live again as a new revision,
audited as ``publish`` with the revision it went back to. The running router applies either at once.

```python
rows = history(platform)                       # newest first: id, at, author, origin, comment
new_id = rollback(platform, actor, rows[-1]["id"])
```
"""

from __future__ import annotations

from typing import Any

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.security.audit import audit

from .platform import Platform

PERMISSION = "routing.edit"
KIND, NAME = "routing", "main"


def rollback(platform: Platform, actor: Actor, revision_id: int) -> int:
    """Make revision ``revision_id`` of the routing live again (a new revision, audited); its id.

    ``PermissionDenied`` without ``routing.edit``; ``ValueError`` for a revision of another object."""
    actor.require_permission(PERMISSION)
    comment = f"rolled back to revision {revision_id}"
    rev = platform.store.rollback(KIND, NAME, revision_id, author=actor.username, comment=comment)
    with session():
        audit(actor, "publish", entity=f"metadata.{KIND}", record_id=NAME,
              detail={"revision": rev.id, "rollback_to": revision_id, "comment": comment})
    return int(rev.id)


def history(platform: Platform) -> list[dict[str, Any]]:
    """The routing's revisions, newest first (id, at, author, origin, comment)."""
    return [{"id": r.id, "at": r.created_at.isoformat(sep=" ", timespec="seconds") if r.created_at else "",
             "author": r.author, "origin": r.origin, "comment": r.comment}
            for r in platform.store.history(KIND, NAME)]


def diff(platform: Platform, old_id: int, new_id: int) -> str:
    """A unified diff of two routing revisions' YAML ("" when they are the same)."""
    for revision_id in (old_id, new_id):
        found = platform.store.revision(revision_id)
        if (found.kind, found.name) != (KIND, NAME):
            raise ValueError(f"revision {revision_id} is of {found.kind} '{found.name}', not {KIND} '{NAME}'")
    return platform.store.diff(old_id, new_id)
