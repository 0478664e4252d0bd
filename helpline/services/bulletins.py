"""Bulletins (公告): published to roles, departments or regions for a validity window, normal or must-read.

``platform.bulletins`` publishes (permission ``bulletins.publish``, audited, the audience told by a notice),
answers which bulletins a user has now (:meth:`BulletinService.bulletins_for` — the desktop, the bulletins page
and the study state call it), records reading and acknowledging, lists who has not read a
bulletin, and searches bulletins through the one text search (:mod:`helpline.services.search`). A must-read
bulletin not yet acknowledged keeps its reader from going ready: the desk service asks
:meth:`BulletinService.pending_must_read` in its ``ready`` action (``telephony/desk/service.py``).

Who a bulletin reaches: a user holding one of its roles (or a role extending it), a member of one of its
departments or of a department below one, or a user serving one of its regions or a region below one (a city's
bulletin reaches the users of its counties). A bulletin sent to nobody is refused (:class:`BulletinError`): one
naming no role, department or region, and one whose roles, departments and regions reach no active user.
The bulletin records are read only here (no role reads the ``bulletin`` entity), so a user never sees a bulletin
not sent to them, in a list or a search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from helpline.data.base import utcnow
from helpline.data.bulletins import BulletinRead, BulletinTarget
from helpline.data.conditions import Cmp
from helpline.data.database import session, write_transaction
from helpline.data.entities import column
from helpline.data.entities import rows as select_rows
from helpline.data.system import User, UserRole
from helpline.data.text_index import write_row
from helpline.data.workflow import DepartmentMember
from helpline.security.actor import Actor
from helpline.security.audit import audit

from .values import clean_values

if TYPE_CHECKING:
    from .platform import Platform
    from .search import Hit

ENTITY = "bulletin"
PUBLISH = "bulletins.publish"
KINDS = ("role", "department", "region")
MAX_TARGETS = 200


class BulletinError(ValueError):
    """A bulletin that cannot be published or read as asked; ``key`` is a locale key, the message English."""

    def __init__(self, key: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.key, self.params = key, params


@dataclass
class Bulletin:
    id: int
    title: str
    body: str
    must_read: bool
    starts_at: datetime
    ends_at: datetime | None
    author: str
    targets: list[tuple[str, str]] = field(default_factory=list)
    read_at: datetime | None = None
    acknowledged_at: datetime | None = None
    """The reader's receipt (for :meth:`BulletinService.bulletins_for`); None when unread / not acknowledged."""

    @property
    def pending(self) -> bool:
        """A must-read bulletin its reader has not acknowledged yet."""
        return self.must_read and self.acknowledged_at is None

    def current(self, at: datetime) -> bool:
        return self.starts_at <= at and (self.ends_at is None or self.ends_at > at)


@dataclass
class Receipts:
    """Who of a bulletin's audience read it, acknowledged it, and has not read it."""

    audience: list[str]
    read: list[tuple[str, datetime, datetime | None]]
    """(username, read at, acknowledged at) in username order."""
    unread: list[str]


class BulletinService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    # -- who is who -------------------------------------------------------------------------------------------
    def _ancestors(self, codes: list[str], parent_of: dict[str, str | None]) -> set[str]:
        out: set[str] = set()
        for code in codes:
            current: str | None = code
            while current and current not in out:
                out.add(current)
                current = parent_of.get(current)
        return out

    def _department_parents(self) -> dict[str, str | None]:
        tree = self.platform.metadata.categories.get("department")
        return {n.code: n.parent for n in tree.nodes} if tree is not None else {}

    def _region_parents(self) -> dict[str, str | None]:
        if "region" not in self.platform.models:
            return {}
        model = self.platform.models["region"]
        rows: Any = model.select(column(model, "code"), column(model, "parent")).tuples()
        return {str(code): (str(parent) if parent else None) for code, parent in rows}

    def _reach(self, username: str, roles: set[str], regions: list[str],
               parents: tuple[dict[str, str | None], dict[str, str | None]]) -> set[tuple[str, str]]:
        """Every (kind, value) a bulletin can name that reaches this user (call inside a session)."""
        departments = [m.department for m in DepartmentMember.select(DepartmentMember.department)
                       .where(DepartmentMember.username == username)]
        return ({("role", r) for r in roles}
                | {("department", d) for d in self._ancestors(departments, parents[0])}
                | {("region", r) for r in self._ancestors(regions, parents[1])})

    # -- publishing -------------------------------------------------------------------------------------------
    def _check_targets(self, roles: list[str], departments: list[str], regions: list[str]) -> None:
        if not (roles or departments or regions):
            raise BulletinError("bulletins.error.no_audience",
                                "a bulletin is sent to nobody: choose at least one role, department or region")
        if len(roles) + len(departments) + len(regions) > MAX_TARGETS:
            raise BulletinError("bulletins.error.too_many", f"a bulletin goes to at most {MAX_TARGETS} roles, "
                                "departments and regions", limit=MAX_TARGETS)
        md = self.platform.metadata
        for role in roles:
            if role not in md.roles:
                raise BulletinError("bulletins.error.unknown", f"no role '{role}'", kind="role", value=role)
        parents = self._department_parents()
        for code in departments:
            if code not in parents:
                raise BulletinError("bulletins.error.unknown", f"no department '{code}'", kind="department",
                                    value=code)
        known = self._region_parents()
        for code in regions:
            if code not in known:
                raise BulletinError("bulletins.error.unknown", f"no region '{code}'", kind="region", value=code)

    def publish(self, actor: Actor, title: str, body: str, *, roles: list[str] | tuple[str, ...] = (),
                departments: list[str] | tuple[str, ...] = (), regions: list[str] | tuple[str, ...] = (),
                must_read: bool = False, starts_at: datetime | None = None, ends_at: datetime | None = None,
                notify: bool = True) -> int:
        """Publish a bulletin to its audience (at least one role, department or region); returns its id. Its
        audience is told by a notice when it is valid now (``notify``)."""
        actor.require_permission(PUBLISH)
        roles, departments, regions = (list(dict.fromkeys(x for x in v if x)) for v in (roles, departments, regions))
        starts = starts_at or utcnow()
        if ends_at is not None and ends_at <= starts:
            raise BulletinError("bulletins.error.window", "a bulletin must end after it starts")
        entity = self.platform.metadata.entities[ENTITY]
        audience = ", ".join([*roles, *departments, *regions])[:255]
        values, errors = clean_values(entity, {"title": title, "body": body, "must_read": must_read,
                                               "starts_at": starts, "ends_at": ends_at,
                                               "author": actor.display_name or actor.username,
                                               "audience": audience}, self.platform.metadata.categories)
        if errors:
            from .records import ValidationFailed

            raise ValidationFailed(errors)
        with session():
            self._check_targets(roles, departments, regions)
            with write_transaction():
                model = self.platform.models[ENTITY]
                now = utcnow()
                instance = model.create(**values, created_by=actor.username, updated_by=actor.username,
                                        created_at=now, updated_at=now)
                row = select_rows(model.select().where(model.id == instance.id))[0]
                write_row(entity, row)  # the one text search's index, in this transaction
                BulletinTarget.insert_many(
                    [{"bulletin_id": instance.id, "kind": kind, "value": value}
                     for kind, values_ in (("role", roles), ("department", departments), ("region", regions))
                     for value in values_]).execute()
                audit(actor, "bulletin.publish", entity=ENTITY, record_id=instance.id,
                      after={"title": values["title"], "must_read": bool(values.get("must_read")),
                             "roles": roles, "departments": departments, "regions": regions})
                audience_now = self._audience(int(instance.id))
                if not audience_now:  # roles nobody holds, departments without members, regions nobody serves
                    raise BulletinError("bulletins.error.nobody_reached",
                                        "a bulletin is sent to nobody: no active user holds these roles, belongs "
                                        "to these departments or serves these regions")
                if notify and (ends_at is None or ends_at > now) and starts <= now:
                    self._announce(instance.id, values, audience_now)
                elif not notify:
                    model.update({column(model, "announced"): True}).where(model.id == instance.id).execute()
        return int(instance.id)

    def _announce(self, bulletin_id: int, values: dict[str, Any], audience: list[str]) -> None:
        """Tell the audience by a notice and mark the bulletin announced (inside the caller's transaction)."""
        from .notices import notify as send

        send(audience, "bulletins.notice.title", "bulletins.notice.body", kind="bulletin",
             params={"title": values["title"], "must_read": "!" if values.get("must_read") else ""})
        model = self.platform.models[ENTITY]
        model.update({column(model, "announced"): True}).where(model.id == bulletin_id).execute()

    def announce_due(self, now: datetime | None = None) -> dict[str, Any]:
        """The ``bulletin_notices`` job: tell the audience of each bulletin whose validity has begun since it was
        published (one published to start later) and that was not announced yet."""
        now = now or utcnow()
        model = self.platform.models[ENTITY]
        announced, starts, ends = (column(model, n) for n in ("announced", "starts_at", "ends_at"))
        told = []
        with session(), write_transaction():
            due = select_rows(model.select().where((announced == False) & (starts <= now)  # noqa: E712
                                                   & (ends.is_null() | (ends > now))).order_by(model.id))
            for row in due:
                self._announce(int(row["id"]), row, self._audience(int(row["id"])))
                told.append(int(row["id"]))
        return {"announced": told}

    # -- reading ----------------------------------------------------------------------------------------------
    def _bulletins(self, ids: list[int] | None = None) -> list[Bulletin]:
        model = self.platform.models[ENTITY]
        query = model.select()
        if ids is not None:
            query = query.where(model.id.in_(ids or [0]))
        out = [Bulletin(int(r["id"]), str(r["title"]), str(r.get("body") or ""), bool(r.get("must_read")),
                        r["starts_at"], r.get("ends_at"), str(r.get("author") or ""))
               for r in select_rows(query.order_by(column(model, "starts_at").desc(), model.id.desc()))]
        by_id = {b.id: b for b in out}
        for t in BulletinTarget.select().where(BulletinTarget.bulletin_id.in_(list(by_id) or [0])):
            by_id[t.bulletin_id].targets.append((t.kind, t.value))
        return out

    def bulletins_for(self, actor: Actor, *, at: datetime | None = None) -> list[Bulletin]:
        """The bulletins sent to ``actor`` and valid at ``at`` (now), must-read ones not yet acknowledged first,
        then newest first, each with the actor's receipt."""
        at = at or utcnow()
        with session():
            reach = self._reach(actor.username, actor.role_names(), list(actor.regions),
                                (self._department_parents(), self._region_parents()))
            wanted = [(BulletinTarget.kind == kind)
                      & BulletinTarget.value.in_([v for k, v in reach if k == kind] or [""]) for kind in KINDS]
            ids = sorted({t.bulletin_id for t in BulletinTarget.select(BulletinTarget.bulletin_id)
                          .where(wanted[0] | wanted[1] | wanted[2])})
            found = [b for b in self._bulletins(ids) if b.current(at)]
            receipts = {r.bulletin_id: r for r in BulletinRead.select().where(
                (BulletinRead.username == actor.username) & BulletinRead.bulletin_id.in_([b.id for b in found] or [0]))}
        for b in found:
            receipt = receipts.get(b.id)
            if receipt is not None:
                b.read_at, b.acknowledged_at = receipt.read_at, receipt.acknowledged_at
        found.sort(key=lambda b: not b.pending)  # stable: newest first within each group
        return found

    def pending_must_read(self, actor: Actor) -> list[Bulletin]:
        """The valid must-read bulletins ``actor`` has not acknowledged: while there is one, no ready."""
        return [b for b in self.bulletins_for(actor) if b.pending]

    def open(self, actor: Actor, bulletin_id: int) -> Bulletin:
        """The bulletin, read by ``actor`` (its receipt written on the first read)."""
        return self._receipt(actor, bulletin_id, acknowledge=False)

    def acknowledge(self, actor: Actor, bulletin_id: int) -> Bulletin:
        """``actor`` confirms they read the bulletin (audited); a second acknowledgement keeps the first time."""
        return self._receipt(actor, bulletin_id, acknowledge=True)

    def _receipt(self, actor: Actor, bulletin_id: int, *, acknowledge: bool) -> Bulletin:
        found = {b.id: b for b in self.bulletins_for(actor)}
        bulletin = found.get(bulletin_id)
        if bulletin is None:  # not sent to them, expired or unknown: the same answer
            raise BulletinError("bulletins.error.not_yours", f"no bulletin {bulletin_id} for you")
        now = utcnow()
        with session(), write_transaction():
            BulletinRead.insert(bulletin_id=bulletin_id, username=actor.username, read_at=now) \
                .on_conflict_ignore().execute()  # two tabs reading at once: one receipt
            receipt = BulletinRead.get((BulletinRead.bulletin_id == bulletin_id)
                                       & (BulletinRead.username == actor.username))
            if acknowledge and receipt.acknowledged_at is None:
                receipt.acknowledged_at = now
                receipt.save()
                audit(actor, "bulletin.acknowledge", entity=ENTITY, record_id=bulletin_id)
        bulletin.read_at, bulletin.acknowledged_at = receipt.read_at, receipt.acknowledged_at
        return bulletin

    # -- for publishers ---------------------------------------------------------------------------------------
    def published(self, actor: Actor) -> list[Bulletin]:
        """Every bulletin, newest first (``bulletins.publish``)."""
        actor.require_permission(PUBLISH)
        with session():
            return self._bulletins()

    def withdraw(self, actor: Actor, bulletin_id: int) -> None:
        """End a bulletin's validity now (``bulletins.publish``, audited): nobody sees it from then on, and a
        must-read one no longer holds anyone's ready. An ended bulletin is refused by name."""
        actor.require_permission(PUBLISH)
        model = self.platform.models[ENTITY]
        ends = column(model, "ends_at")
        now = utcnow()
        with session(), write_transaction():
            changed = (model.update({ends: now, column(model, "updated_at"): now,
                                     column(model, "updated_by"): actor.username})
                       .where((model.id == bulletin_id) & (ends.is_null() | (ends > now))).execute())
            if not changed:
                raise BulletinError("bulletins.error.not_current", f"bulletin {bulletin_id} is not valid now")
            audit(actor, "bulletin.withdraw", entity=ENTITY, record_id=bulletin_id)

    def _audience(self, bulletin_id: int) -> list[str]:
        """The active users a bulletin reaches, in username order (inside a session)."""
        targets = {(t.kind, t.value) for t in BulletinTarget.select().where(BulletinTarget.bulletin_id == bulletin_id)}
        parents = (self._department_parents(), self._region_parents())
        roles: dict[str, list[str]] = {}
        for r in UserRole.select(UserRole.username, UserRole.role):
            roles.setdefault(r.username, []).append(r.role)
        out = []
        for user in User.select(User.username, User.regions).where(User.active == True).order_by(User.username):  # noqa: E712
            held = Actor(user.username, roles=tuple(roles.get(user.username, ()))).bind(self.platform.metadata)
            if targets & self._reach(user.username, held.role_names(), list(user.regions or ()), parents):
                out.append(str(user.username))
        return out

    def receipts(self, actor: Actor, bulletin_id: int) -> Receipts:
        """Who the bulletin reaches, who read (and acknowledged) it and who has not read it
        (``bulletins.publish``)."""
        actor.require_permission(PUBLISH)
        with session():
            audience = self._audience(bulletin_id)
            read = [(r.username, r.read_at, r.acknowledged_at) for r in BulletinRead.select()
                    .where(BulletinRead.bulletin_id == bulletin_id).order_by(BulletinRead.username)]
        done = {u for u, _, _ in read}
        return Receipts(audience, read, [u for u in audience if u not in done])

    def statistics(self, actor: Actor, *, limit: int = 50) -> dict[int, tuple[int, int, int]]:
        """For the newest ``limit`` bulletins: id → (users it reaches, read, acknowledged) (``bulletins.publish``;
        the bulletins page's table, and any statistics page)."""
        actor.require_permission(PUBLISH)
        with session():
            ids = [b.id for b in self._bulletins()[:limit]]
            counts: dict[int, list[int]] = {i: [0, 0] for i in ids}
            for r in BulletinRead.select(BulletinRead.bulletin_id, BulletinRead.acknowledged_at) \
                    .where(BulletinRead.bulletin_id.in_(ids or [0])):
                counts[r.bulletin_id][0] += 1
                counts[r.bulletin_id][1] += r.acknowledged_at is not None
            return {i: (len(self._audience(i)), counts[i][0], counts[i][1]) for i in ids}

    # -- search -----------------------------------------------------------------------------------------------
    def search(self, actor: Actor, text: str, *, limit: int = 20) -> list[Hit]:
        """The bulletins sent to ``actor`` and valid now that match ``text``, best first (the one text search,
        within those bulletins only)."""
        ids = [b.id for b in self.bulletins_for(actor)]
        if not ids:
            return []
        return self.platform.search.search(Actor.system(), ENTITY, text, limit=limit,
                                           narrow=Cmp("id", "in", ids))

    # -- for the publishing form ------------------------------------------------------------------------------
    def choices(self, language: str = "zh_CN") -> dict[str, dict[str, str]]:
        """What a bulletin can be sent to, code → name in ``language``: roles, departments, regions (the
        province and cities first)."""
        md = self.platform.metadata

        def name(value: Any, code: str) -> str:
            return str(getattr(value, language, None) or getattr(value, "en", None) or code) if value else code

        roles = {r.name: name(r.label, r.name) for r in md.roles.values()}
        tree = md.categories.get("department")
        departments = {n.code: name(n.label, n.code) for n in (tree.nodes if tree else []) if not n.retired}
        regions: dict[str, str] = {}
        if "region" in self.platform.models:
            model = self.platform.models["region"]
            with session():
                for r in select_rows(model.select().order_by(column(model, "level"), column(model, "code"))):
                    shown = r.get("name_en") if language == "en" and r.get("name_en") else r.get("name")
                    regions[str(r["code"])] = f"{shown} ({r['code']})"
        return {"role": roles, "department": departments, "region": regions}
