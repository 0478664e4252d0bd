"""Inboxes: the open records of a process a user should look at, in four boxes.

- ``mine``: assigned to the user, or to ``role:<role>@<region>`` (or ``role:<role>``) for a role and region
  the user holds;
- ``department``: assigned to a department the user is a member of;
- ``overdue``: open and past their resolution deadline (``resolution_due < now``);
- ``waiting``: in a state of kind ``open`` (the centre's move, not the customer's) and assigned to the user or
  to one of the user's departments.

Each box is ``hl_wf_instance`` joined with the entity's table, the user's row scope applied through the same
condition compiler as the lists (:func:`helpline.data.query.build_select`), open rows only (``closed_at`` is null),
newest first (overdue: the longest overdue first). A page's count stops at :data:`COUNT_CAP` and the menu's counts
at :data:`MENU_CAP` (``99+``, a badge), so no count scans an unbounded set: a row scope is checked row by row, and
at 1,000,000 orders "overdue" alone can be tens of thousands of rows to check. The indexes on ``(department,
closed_at)``, ``(assignee, closed_at)`` and ``(closed_at, resolution_due)`` keep a box's first page and count to
index ranges.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from peewee import JOIN, SQL, Expression, fn

from helpline.data.base import utcnow
from helpline.data.conditions import TRUE
from helpline.data.database import db, session
from helpline.data.entities import rows as select_rows
from helpline.data.query import ListQuery, build_select
from helpline.data.workflow import WorkflowInstance
from helpline.security.actor import Actor
from helpline.security.masking import apply_masks

if TYPE_CHECKING:
    from .engine import WorkflowService

BOXES = ("mine", "department", "overdue", "waiting")
COUNT_CAP = 200
"""A page's count stops here ("more than 200": an inbox is worked from its first pages)."""
MENU_CAP = 99
"""The menu's counts stop here (shown as ``99+``)."""
WI = WorkflowInstance


@dataclass
class InboxPage:
    rows: list[dict[str, Any]]
    """The records (masked for the user) with ``wf_state``, ``wf_workflow``, ``wf_department``,
    ``wf_assignee``, ``wf_state_since``, ``wf_response_due``, ``wf_resolution_due`` and ``wf_version``."""
    total: int
    capped: bool
    page: int
    page_size: int


def _filter(column: Any) -> Any:
    """``column`` as a filter only: on SQLite ``column || ''``, which no index serves, so that its planner walks
    the assignee's or department's open rows rather than (entity, record_id) or (workflow) over every instance;
    on PostgreSQL the column itself (its statistics make the estimates, and ``|| ''`` would hide them)."""
    return column.concat("") if "sqlite" in type(db.obj).__name__.lower() else column


@dataclass
class _Viewer:
    keys: list[str]
    departments: list[str]
    scopes: dict[str, Expression | None] = field(default_factory=dict)
    """Entity → the compiled row scope (None: every row)."""


class InboxService:
    """The boxes of one workflow engine."""

    def __init__(self, workflows: WorkflowService) -> None:
        self.workflows = workflows

    @property
    def platform(self) -> Any:
        return self.workflows.platform

    def entities(self) -> list[str]:
        """The entities some live process governs (the boxes show their records), in name order."""
        from helpline.metadata.workflow_checks import workflows_of
        return sorted({w.entity for w in workflows_of(self.platform.metadata).values()})

    # -- conditions -----------------------------------------------------------------------------------------
    def assignee_keys(self, actor: Actor) -> list[str]:
        """What ``hl_wf_instance.assignee`` holds for a record assigned to ``actor``: the username and
        ``role:<role>@<region>`` / ``role:<role>`` for each role and region the user holds."""
        keys = [actor.username]
        for role in sorted(actor.role_names()):
            keys.append(f"role:{role}")
            keys.extend(f"role:{role}@{region}" for region in actor.regions)
        return keys

    def _open_states(self, entity: str) -> Expression | None:
        """Instances in a state of kind ``open`` (the pairs workflow × state)."""
        parts: list[Expression] = []
        for flow in self.workflows.workflows(entity):
            states = [s.name for s in flow.states if s.kind == "open"]
            if states:
                parts.append((_filter(WI.workflow) == flow.name) & _filter(WI.state).in_(states))
        if not parts:
            return None
        out = parts[0]
        for p in parts[1:]:
            out = out | p
        return out

    def viewer(self, actor: Actor) -> _Viewer:
        """What the boxes of ``actor`` depend on, read once (inside the caller's connection)."""
        return _Viewer(self.assignee_keys(actor), sorted(self.workflows.directory.departments_of(actor.username)))

    def condition(self, actor: Actor, box: str, entity: str, now: datetime | None = None,
                  viewer: _Viewer | None = None) -> Expression | None:
        """The instance rows of ``box`` for ``actor`` (None: the box is empty by definition)."""
        if box not in BOXES:
            raise ValueError(f"no inbox '{box}' (one of {', '.join(BOXES)})")
        viewer = viewer or self.viewer(actor)
        of_entity: Expression = _filter(WI.entity) == entity
        base = of_entity & WI.closed_at.is_null()
        departments = viewer.departments
        mine = WI.assignee.in_(viewer.keys)
        if box == "mine":
            return base & mine
        if box == "department":
            return base & WI.department.in_(departments) if departments else None
        if box == "overdue":
            return base & (WI.resolution_due < (now or utcnow()))
        opened = self._open_states(entity)
        if opened is None:
            return None
        # open rows through the assignee's and the departments' (x, closed_at) index ranges — an OR of two
        # ranges, with no other term an index could serve (SQLite would walk every open row instead)
        is_open = WI.closed_at.is_null()
        who = (mine & is_open) | (WI.department.in_(departments) & is_open) if departments else mine & is_open
        return of_entity & who & opened

    def _select(self, actor: Actor, box: str, entity: str, now: datetime | None, *fields: Any,
                viewer: _Viewer | None = None) -> Any:
        viewer = viewer or self.viewer(actor)
        cond = self.condition(actor, box, entity, now, viewer)
        if cond is None:
            return None
        model = self.platform.models[entity]
        if entity not in viewer.scopes:
            scope = self.platform.records.scope(actor, entity)
            if scope == TRUE:
                viewer.scopes[entity] = None
            else:
                _, compiler = build_select(self.platform.models, ListQuery(entity=entity))
                viewer.scopes[entity] = compiler.compile(scope)
        expr = viewer.scopes[entity]
        if expr is None:
            return WI.select(*fields).where(cond)
        return WI.select(*fields).join(model, JOIN.INNER, on=(model.id == WI.record_id)).where(cond & expr)

    @staticmethod
    def _ordered(query: Any, box: str, page: bool = False) -> Any:
        """A box in its order: newest first, overdue the most overdue first. A count of the overdue rows is
        ordered too: the open rows' deadline index then gives them in order and a capped count stops early
        instead of collecting every overdue row first."""
        if box == "overdue":
            return query.order_by(WI.resolution_due.asc(), WI.id.asc())
        return query.order_by(WI.id.desc()) if page else query

    # -- reading --------------------------------------------------------------------------------------------
    def count(self, actor: Actor, box: str, entity: str = "work_order", now: datetime | None = None,
              viewer: _Viewer | None = None, cap: int | None = None) -> tuple[int, bool]:
        """How many records are in ``box`` (up to ``cap``, default :data:`COUNT_CAP`): (count, whether capped)."""
        cap = COUNT_CAP if cap is None else cap
        if not actor.can(entity, "read"):
            return 0, False
        with session():
            query = self._select(actor, box, entity, now, SQL("1"), viewer=viewer)
            if query is None:
                return 0, False
            inner = self._ordered(query, box).limit(cap + 1)
            n = int(WI.select(fn.COUNT(SQL("*"))).from_(inner.alias("boxed")).scalar() or 0)
        return min(n, cap), n > cap

    def counts(self, actor: Actor, now: datetime | None = None, cap: int | None = None
               ) -> dict[str, tuple[int, bool]]:
        """Every box's count over the governed entities the user reads, up to ``cap`` (default
        :data:`MENU_CAP`): box → (count, capped)."""
        cap = MENU_CAP if cap is None else cap
        now = now or utcnow()
        parts: list[tuple[str, str, tuple[Any, ...]]] = []
        with session():
            viewer = self.viewer(actor)
            for box in BOXES:
                for entity in self.entities():
                    if not actor.can(entity, "read"):
                        continue
                    query = self._select(actor, box, entity, now, SQL("1"), viewer=viewer)
                    if query is not None:
                        sql, params = self._ordered(query, box).limit(cap + 1).sql()
                        parts.append((box, sql, tuple(params)))
            found: tuple[Any, ...] = ()
            if parts:  # one statement, one round trip: the counts side by side
                sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM ({q}) AS b{i})"
                                            for i, (_b, q, _p) in enumerate(parts))
                found = tuple(db.execute_sql(sql, [v for _b, _q, ps in parts for v in ps]).fetchone())
        totals = dict.fromkeys(BOXES, 0)
        capped = dict.fromkeys(BOXES, False)
        for (box, _q, _p), n in zip(parts, found, strict=True):
            totals[box] += min(int(n), cap)
            capped[box] = capped[box] or int(n) > cap
        return {box: (min(totals[box], cap), capped[box] or totals[box] > cap) for box in BOXES}

    def page(self, actor: Actor, box: str, entity: str = "work_order", page: int = 1, page_size: int = 25,
             now: datetime | None = None) -> InboxPage:
        """One page of ``box`` (newest first; overdue: the most overdue first) with the count."""
        actor.require(entity, "read")
        page, page_size = max(1, page), max(1, min(page_size, 200))
        fields = (WI.id, WI.record_id, WI.workflow, WI.state, WI.department, WI.assignee, WI.state_since,
                  WI.response_due, WI.resolution_due, WI.version)
        with session():
            viewer = self.viewer(actor)
            query = self._select(actor, box, entity, now, *fields, viewer=viewer)
            if query is None:
                return InboxPage([], 0, False, page, page_size)
            found = list(self._ordered(query, box, page=True).paginate(page, page_size).dicts())
            model = self.platform.models[entity]
            records = {r["id"]: r for r in select_rows(model.select().where(
                model.id.in_([f["record_id"] for f in found])))} if found else {}
        offset = (page - 1) * page_size
        if 0 < len(found) < page_size or (page == 1 and not found):
            total, capped = offset + len(found), False
        else:
            total, capped = self.count(actor, box, entity, now, viewer)
        masks = actor.masks(entity)
        rows = []
        for f in found:
            rec = records.get(f["record_id"])
            if rec is None:
                continue
            row = apply_masks(rec, masks)
            row.update({f"wf_{k}": f[k] for k in ("workflow", "state", "department", "assignee", "state_since",
                                                     "response_due", "resolution_due", "version")})
            rows.append(row)
        return InboxPage(rows, total, capped, page, page_size)


_services: weakref.WeakKeyDictionary[Any, InboxService] = weakref.WeakKeyDictionary()


def inboxes(platform: Any) -> InboxService:
    """The inbox service of ``platform``'s workflow engine (one per engine)."""
    service = _services.get(platform.workflows)
    if service is None:
        service = _services[platform.workflows] = InboxService(platform.workflows)
    return service
