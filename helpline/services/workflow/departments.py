"""Departments: who works in each, who heads it, which regions it serves.

The tree itself is the ``department`` category (province centre, city companies, maintenance teams, the QA
desk…), edited on the categories page like any category; this service keeps what the tree does not hold:
the members (``hl_department_member``, one of them the head) and the regions served
(``hl_department_region``). Every change needs the ``departments.manage`` permission, names a department of
the tree, a user and a region that exist, and is audited (``department``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from helpline.data.database import session, write_transaction
from helpline.data.entities import column
from helpline.data.entities import rows as select_rows
from helpline.data.system import User
from helpline.data.workflow import DepartmentMember, DepartmentRegion
from helpline.security.actor import Actor
from helpline.security.audit import audit

if TYPE_CHECKING:
    from helpline.services.platform import Platform

PERMISSION = "departments.manage"
TREE = "department"
"""The category whose codes are the departments."""


class DepartmentError(ValueError):
    """A change names a department, user or region that does not exist; ``key`` is a locale key."""

    def __init__(self, key: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.key, self.params = key, params


@dataclass
class Department:
    code: str
    label: Any
    parent: str | None
    depth: int
    retired: bool
    members: list[tuple[str, bool]] = field(default_factory=list)
    """(username, head) in username order."""
    regions: list[str] = field(default_factory=list)

    @property
    def heads(self) -> list[str]:
        return [u for u, head in self.members if head]


class DepartmentService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    # -- reading --------------------------------------------------------------------------------------------
    def tree(self) -> list[Department]:
        """Every department of the tree, parents before children (depth-first, in the tree's order), with
        its members and regions."""
        category = self.platform.metadata.categories.get(TREE)
        if category is None:
            return []
        with session():
            members: dict[str, list[tuple[str, bool]]] = {}
            for m in DepartmentMember.select().order_by(DepartmentMember.department, DepartmentMember.username):
                members.setdefault(m.department, []).append((m.username, bool(m.head)))
            regions: dict[str, list[str]] = {}
            for r in DepartmentRegion.select().order_by(DepartmentRegion.department, DepartmentRegion.region):
                regions.setdefault(r.department, []).append(r.region)
        out: list[Department] = []

        def walk(parent: str | None, depth: int) -> None:
            for node in category.children(parent):
                out.append(Department(node.code, node.label, node.parent, depth, node.retired,
                                      members.get(node.code, []), regions.get(node.code, [])))
                walk(node.code, depth + 1)

        walk(None, 0)
        return out

    def regions_of(self, department: str) -> list[str]:
        with session():
            return [r.region for r in DepartmentRegion.select(DepartmentRegion.region)
                    .where(DepartmentRegion.department == department).order_by(DepartmentRegion.region)]

    def serving(self, region: str) -> list[str]:
        """The departments serving ``region``."""
        with session():
            return [r.department for r in DepartmentRegion.select(DepartmentRegion.department)
                    .where(DepartmentRegion.region == region).order_by(DepartmentRegion.department)]

    def choices(self, language: str = "zh_CN") -> tuple[list[str], dict[str, str]]:
        """What the department page offers: the active usernames, and the regions (code → name in
        ``language``, provinces and cities before counties)."""
        with session():
            users = [u.username for u in User.select(User.username).where(User.active).order_by(User.username)]
            regions: dict[str, str] = {}
            if "region" in self.platform.models:
                model = self.platform.models["region"]
                for r in select_rows(model.select().order_by(column(model, "level"), column(model, "code"))):
                    name = r.get("name_en") if language == "en" and r.get("name_en") else r.get("name")
                    regions[str(r["code"])] = f"{name} ({r['code']})"
        return users, regions

    # -- checks -----------------------------------------------------------------------------------------------
    def _department(self, code: str) -> None:
        category = self.platform.metadata.categories.get(TREE)
        if category is None or category.node(code) is None:
            raise DepartmentError("departments.error.no_department", f"no department '{code}' in the "
                                  "department tree", code=code)

    def _user(self, username: str) -> None:
        if User.get_or_none(User.username == username) is None:
            raise DepartmentError("departments.error.no_user", f"no user '{username}'", user=username)

    def _regions(self, regions: list[str]) -> None:
        if "region" not in self.platform.models:
            return
        model = self.platform.models["region"]
        code = column(model, "code")
        found: list[dict[str, Any]] = select_rows(model.select(code).where(code.in_(regions))) if regions else []
        known = {r["code"] for r in found}
        unknown = sorted(set(regions) - known)
        if unknown:
            raise DepartmentError("departments.error.no_region", f"no region '{', '.join(unknown)}'",
                                  region=", ".join(unknown))

    # -- changing ---------------------------------------------------------------------------------------------
    def add_member(self, actor: Actor, department: str, username: str, head: bool = False) -> None:
        """Make ``username`` a member (the head when ``head``: the previous head stays a member)."""
        actor.require_permission(PERMISSION)
        self._department(department)
        with session(), write_transaction():
            self._user(username)
            if head:
                DepartmentMember.update(head=False).where(DepartmentMember.department == department).execute()
            row = DepartmentMember.get_or_none((DepartmentMember.department == department)
                                               & (DepartmentMember.username == username))
            if row is None:
                DepartmentMember.create(department=department, username=username, head=head)
            elif head and not row.head:
                DepartmentMember.update(head=True).where(DepartmentMember.id == row.id).execute()
            audit(actor, "department", entity=TREE, record_id=department,
                  detail={"change": "member", "user": username, "head": head})

    def set_head(self, actor: Actor, department: str, username: str | None) -> None:
        """Make the member ``username`` the department's only head (None: no head)."""
        actor.require_permission(PERMISSION)
        self._department(department)
        with session(), write_transaction():
            if username is not None and DepartmentMember.get_or_none(
                    (DepartmentMember.department == department) & (DepartmentMember.username == username)) is None:
                raise DepartmentError("departments.error.not_member", f"'{username}' is not a member of "
                                      f"'{department}'", user=username, code=department)
            DepartmentMember.update(head=False).where(DepartmentMember.department == department).execute()
            if username is not None:
                DepartmentMember.update(head=True).where((DepartmentMember.department == department)
                                                         & (DepartmentMember.username == username)).execute()
            audit(actor, "department", entity=TREE, record_id=department, detail={"change": "head", "user": username})

    def remove_member(self, actor: Actor, department: str, username: str) -> bool:
        actor.require_permission(PERMISSION)
        with session(), write_transaction():
            n = DepartmentMember.delete().where((DepartmentMember.department == department)
                                                & (DepartmentMember.username == username)).execute()
            if n:
                audit(actor, "department", entity=TREE, record_id=department,
                      detail={"change": "removed", "user": username})
        return bool(n)

    def set_regions(self, actor: Actor, department: str, regions: list[str]) -> None:
        """Replace the regions ``department`` serves."""
        actor.require_permission(PERMISSION)
        self._department(department)
        wanted = sorted({r.strip() for r in regions if r and r.strip()})
        with session(), write_transaction():
            self._regions(wanted)
            DepartmentRegion.delete().where(DepartmentRegion.department == department).execute()
            for region in wanted:
                DepartmentRegion.create(department=department, region=region)
            audit(actor, "department", entity=TREE, record_id=department,
                  detail={"change": "regions", "regions": wanted})

    def members_changed(self, department: str) -> list[str]:
        """The members of ``department`` (whose inbox counts a change concerns)."""
        with session():
            return [m.username for m in DepartmentMember.select(DepartmentMember.username)
                    .where(DepartmentMember.department == department)]
