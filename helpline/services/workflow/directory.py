"""Who is who for processes: the departments a user belongs to, a department's members and head, and the
users a ``notify`` entry or an assignment names (``hl_department_member``; departments are the codes of the
``department`` category tree)."""

from __future__ import annotations

from typing import Any

from helpline.data.system import User, UserRole
from helpline.data.workflow import DepartmentMember, WorkflowInstance
from helpline.security.actor import Actor


class Directory:
    """Reads memberships from the database (inside the caller's connection)."""

    def departments_of(self, username: str) -> set[str]:
        return {m.department for m in DepartmentMember.select(DepartmentMember.department)
                .where(DepartmentMember.username == username)}

    def members(self, department: str) -> list[str]:
        return [m.username for m in DepartmentMember.select(DepartmentMember.username)
                .where(DepartmentMember.department == department).order_by(DepartmentMember.username)]

    def heads(self, department: str) -> list[str]:
        return [m.username for m in DepartmentMember.select(DepartmentMember.username)
                .where((DepartmentMember.department == department) & DepartmentMember.head)
                .order_by(DepartmentMember.username)]

    def role_users(self, role: str, region: str | None = None) -> list[str]:
        """Active users holding ``role`` (directly), serving ``region`` when given."""
        names = [r.username for r in UserRole.select(UserRole.username).where(UserRole.role == role)]
        users = User.select(User.username, User.regions).where(User.username.in_(names) & User.active)
        return sorted(u.username for u in users if region is None or region in (u.regions or []))

    def resolve(self, entry: str, instance: WorkflowInstance, record: dict[str, Any], actor: Actor) -> list[str]:
        """The usernames a ``notify`` entry names for this record."""
        kind, _, target = entry.partition(":")
        if entry == "assignee":
            return self.assignee_users(instance.assignee, instance.department)
        if entry == "department":
            return self.members(instance.department) if instance.department else []
        if entry == "head":
            return self.heads(instance.department) if instance.department else []
        if entry == "creator":
            return [instance.created_by] if instance.created_by else []
        if entry == "actor":
            return [actor.username]
        if kind == "role":
            return self.role_users(target)
        if kind == "user":
            return [target]
        return []

    def assignee_users(self, assignee: str | None, department: str | None) -> list[str]:
        """The users an assignment reaches: the user, the users of ``role:<role>@<region>``, else the
        department's members."""
        if assignee and assignee.startswith("role:"):
            role, _, region = assignee[5:].partition("@")
            return self.role_users(role, region or None)
        if assignee:
            return [assignee]
        return self.members(department) if department else []
