"""Rolling back an object that others still refer to: the plan names them (with the problem each would
have) and the earlier revision of each to roll back together; together it goes through in one change."""

from __future__ import annotations

import copy

import pytest

from helpline.diagnostics import ProblemsError
from helpline.security.actor import Actor
from helpline.security.audit import search_audit
from helpline.services.designer import menu_ops
from helpline.services.designer.drafts import DraftService
from helpline.services.platform import Platform


def test_a_menu_item_still_granted_by_a_role_is_rolled_back_with_the_role(platform: Platform) -> None:
    service, actor = DraftService(platform), Actor("admin", roles=("administrator",)).bind(platform.metadata)
    menu = service.open(actor, "menu", "main")
    role = service.open(actor, "role", "agent")
    assert menu.data is not None and role.data is not None
    menu_before, role_before = menu.base_revision, role.base_revision
    assert menu_before is not None and role_before is not None
    data = copy.deepcopy(menu.data)
    menu_ops.add_item(data, "Set-top boxes", parent="service", name="boxes", target=("screen", "customer_list"))
    service.save(actor, "menu", "main", data, menu_before)
    service.publish(actor, "boxes")
    granted = copy.deepcopy(role.data)
    granted["menus"].append("main.boxes")
    service.save(actor, "role", "agent", granted, role_before)
    service.publish(actor, "agents see boxes")

    with pytest.raises(ProblemsError) as refused:
        service.rollback(actor, "menu", "main", menu_before)
    assert [p.id for p in refused.value.problems] == ["HL-E207"]

    plan = service.plan_rollback(actor, "menu", "main", menu_before)
    assert plan.possible and [(r.kind, r.name) for r in plan.referrers] == [("role", "agent")]
    assert "main.boxes" in plan.referrers[0].problems[0].message
    assert plan.together == [("role", "agent", role_before)]

    revision = service.rollback(actor, "menu", "main", menu_before, together=plan.together)
    assert platform.metadata.menus["main"].item("boxes") is None
    assert "main.boxes" not in platform.metadata.roles["agent"].menus
    assert platform.store.current("menu", "main").id == revision  # type: ignore[union-attr]
    assert "with role agent to revision" in str(platform.store.current("role", "agent").comment)  # type: ignore[union-attr]
    rolled = {(e["entity"], e["record_id"]) for e in search_audit(actor="admin", action="rollback")}
    assert rolled == {("metadata.menu", "main"), ("metadata.role", "agent")}


def test_a_plan_without_referrers_is_empty(platform: Platform) -> None:
    service, actor = DraftService(platform), Actor("admin", roles=("administrator",)).bind(platform.metadata)
    live = service.open(actor, "menu", "main")
    assert live.base_revision is not None
    plan = service.plan_rollback(actor, "menu", "main", live.base_revision)
    assert plan.possible and plan.referrers == [] and plan.together == []
