"""The ``routing`` kind: the queues (skill groups) calls are transferred to, and later the tier strategy.

This issue defines the queue catalogue an IVR ``transfer`` node names; the router of the next issue
extends this kind (tier strategy, skill levels, overflow). ``strategy`` is already accepted and checked
as a tier strategy in the rule language (place of use ``tier``) so routing files can carry it.

```yaml
kind: routing
name: main
label: {en: Main routing, zh_CN: 主路由}
queues:
  - {name: general, label: {en: General service, zh_CN: 综合服务}, skill: general, max_wait_s: 300}
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import Label, MetaObject, Name, Strict


class Queue(Strict):
    name: Name
    label: Label
    skill: Name
    """The skill group whose agents answer this queue."""
    max_wait_s: int = Field(default=300, ge=1, le=86400)
    """Longest wait before the call overflows (to ``overflow``, else Asterisk's own queue)."""
    overflow: Name | None = None
    """Another queue that takes the call after ``max_wait_s``."""
    region_routing: bool = False
    """Prefer agents of the caller's region (city or county) when some are free."""


class Routing(MetaObject):
    kind: Literal["routing"]
    label: Label
    queues: list[Queue] = []
    strategy: str | None = None
    """A tier strategy in the rule language (``tier gold: target 80% within 20s, priority 20``); issue 6."""

    def queue(self, name: str) -> Queue | None:
        return next((q for q in self.queues if q.name == name), None)
