"""Departments on both databases: the tree from the category with members, head and regions; every change
checked (permission, department, user, region) and audited."""

from __future__ import annotations

import pytest
from wf_helpers import actor

from helpline.data.database import session
from helpline.data.system import User
from helpline.security.actor import PermissionDenied
from helpline.security.audit import search_audit
from helpline.services.platform import Platform
from helpline.services.workflow import DepartmentError, DepartmentService


def test_members_head_and_regions(wf_platform: Platform) -> None:
    p = wf_platform
    admin = actor(p, "admin", "administrator", ())
    with session():
        for name in ("tech2", "tech3"):
            User.create(username=name, password_hash="x")
        User.create(username="tech1", password_hash="x")
    service = DepartmentService(p)
    service.add_member(admin, "maint_changsha", "tech2")
    service.add_member(admin, "maint_changsha", "tech3", head=True)
    service.set_regions(admin, "maint_changsha", ["changsha", " changsha", "zhuzhou"])
    tree = {d.code: d for d in service.tree()}
    team = tree["maint_changsha"]
    assert (team.parent, team.depth, team.members, team.regions) == (
        "maintenance", 1, [("tech2", False), ("tech3", True)], ["changsha", "zhuzhou"])
    assert list(tree).index("maintenance") < list(tree).index("maint_changsha")
    assert tree["qa_desk"].depth == 0
    service.set_head(admin, "maint_changsha", "tech2")
    assert service.tree()[list(tree).index("maint_changsha")].heads == ["tech2"]
    assert p.workflows.directory.heads("maint_changsha") == ["tech2"]
    assert service.serving("zhuzhou") == ["maint_changsha"]
    assert service.remove_member(admin, "maint_changsha", "tech3") and not service.remove_member(
        admin, "maint_changsha", "tech3")
    with session():
        entries = search_audit(action="department")
    assert {e["detail"]["change"] for e in entries} == {"member", "regions", "head", "removed"}


def test_bad_input_is_refused_clearly(wf_platform: Platform) -> None:
    p = wf_platform
    service = DepartmentService(p)
    admin = actor(p, "admin", "administrator", ())
    with pytest.raises(PermissionDenied):
        service.add_member(actor(p, "agent1", "agent"), "qa_desk", "agent1")
    with pytest.raises(DepartmentError, match="no department 'nowhere'") as info:
        service.add_member(admin, "nowhere", "admin")
    assert info.value.key == "departments.error.no_department"
    with pytest.raises(DepartmentError, match="no user 'ghost'"):
        service.add_member(admin, "qa_desk", "ghost")
    with pytest.raises(DepartmentError, match="no region 'atlantis'"):
        service.set_regions(admin, "qa_desk", ["changsha", "atlantis"])
    assert service.regions_of("qa_desk") == []  # nothing half-written
    with pytest.raises(DepartmentError, match="not a member"):
        service.set_head(admin, "qa_desk", "admin")


def test_the_demo_puts_its_users_in_departments(wf_platform: Platform) -> None:
    from helpline.demo.generator import DemoGenerator

    gen = DemoGenerator(wf_platform)
    assert gen.departments() == 2 and gen.departments() == 0  # once
    directory = wf_platform.workflows.directory
    assert directory.heads("maint_changsha") == ["tech1"] and "qa1" in directory.members("qa_desk")
    assert DepartmentService(wf_platform).serving("changsha") == ["maint_changsha"]
    assert wf_platform.metadata.roles["technician"].entities["work_order"].scope == "record.city in user.regions"
