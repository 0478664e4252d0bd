"""The role designer at /designer/role/<name>: grant and revoke function permissions, entity rights and
menus, a row-scope typo shows its HL-R id under the scope input, "view as" lists what the role sees from the
draft, publish reaches agent1's drawer without a restart, roll back; and the pure helpers behind the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from designer_helpers import actor, found, until
from nicegui.testing import User
from ui_helpers import log_in, see

import helpline.ui.views.designer.role_designer as role_designer
from helpline.metadata.permissions import PERMISSIONS
from helpline.services.designer.drafts import DraftService
from helpline.services.platform import Platform
from helpline.ui.views.designer.view_as import role_view


def frame() -> Any:
    frames = list(role_designer._STATE.keys())
    assert frames, "no role designer open"
    return frames[-1]


def draft(platform: Platform) -> dict[str, Any]:
    """The admin's saved draft of the agent role."""
    opened = DraftService(platform).open(actor("admin", platform), "role", "agent")
    assert opened.is_draft and opened.data is not None
    return opened.data


def rights(data: dict[str, Any], entity: str) -> str:
    """A role's grant on an entity as letters (``ru``), whether written short (``ru``) or long (with a scope)."""
    grant = data["entities"].get(entity) or ""
    if isinstance(grant, str):
        return grant
    return "".join(letter for letter, key in (("r", "read"), ("c", "create"), ("u", "update"), ("d", "delete"))
                   if grant.get(key))


def saved(platform: Platform, check: Callable[[dict[str, Any]], bool]) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return check(draft(platform))
        except AssertionError:
            return False
    return probe


async def test_grant_revoke_scope_view_as_publish_and_roll_back(user: User, create_user: Callable[[], User],
                                                                ui_platform: Platform) -> None:
    before = ui_platform.store.current("role", "agent")
    assert before is not None
    await log_in(user, "admin", path="/designer/role/agent")
    await user.should_see(marker="role-perm-agent.transfer_out", retries=150)

    # function permissions: grant external transfers, revoke outbound calls
    user.find(marker="role-perm-agent.transfer_out").click()
    await until(saved(ui_platform, lambda d: "agent.transfer_out" in d["permissions"]), "transfer_out granted")
    user.find(marker="role-perm-agent.outbound").click()
    await until(saved(ui_platform, lambda d: "agent.outbound" not in d["permissions"]), "outbound revoked")
    granted = draft(ui_platform)["permissions"]
    assert granted == [p for p in PERMISSIONS if p in granted]  # catalogue order

    # entity rights: update knowledge articles; read the blacklist (its item is in the telephony group that
    # agents are granted, so agents see it once they may read it); the administration group (its items that
    # agents may open: regions, categories)
    user.find(marker="role-knowledge_article-update").click()
    await until(saved(ui_platform, lambda d: rights(d, "knowledge_article") == "ru"), "update granted")
    assert "status == 'published'" in draft(ui_platform)["entities"]["knowledge_article"]["scope"]  # scope kept
    user.find(marker="role-blacklist-read").click()
    await until(saved(ui_platform, lambda d: d["entities"].get("blacklist") == "r"), "blacklist read")
    assert not user.find(marker="role-menu-main.blacklist").elements.pop().enabled  # granted by main.telephony
    user.find(marker="role-menu-main.admin").click()
    await until(saved(ui_platform, lambda d: "main.admin" in d["menus"]), "menu group granted")
    menus = draft(ui_platform)["menus"]
    assert menus[-1] == "main.admin" and menus.index("main.outages") < menus.index("main.admin")  # tree order
    regions = await until(lambda: [e for e in found(user, "role-menu-main.regions") if e.value],  # type: ignore[attr-defined]
                          "the tree rebuilt")
    assert not regions[0].enabled  # type: ignore[attr-defined] # granted with its group

    # a typo in the row scope: HL-R201 under the scope input; fixed, it goes
    scope = user.find(marker="role-scope-customer")
    original = str(scope.elements.copy().pop().value)  # type: ignore[attr-defined]
    scope.clear().type("record.cty in user.regions").trigger("blur")
    errors = await until(lambda: found(user, "designer-error-HL-R201"), "HL-R201 shown")
    slots = [path for path, _, slot in frame()._slots if not slot.is_deleted
             and any(e in slot.descendants() for e in errors)]
    assert ("entities", "customer", "scope") in slots
    assert draft(ui_platform)["entities"]["customer"]["scope"] == "record.cty in user.regions"
    user.find(marker="role-scope-customer").clear().type(original).trigger("blur")
    await until(lambda: not found(user, "designer-error-HL-R201"), "HL-R201 gone")
    await until(lambda: found(user, "designer-ok"), "no problems")

    # view as the role: the drawer's items from the draft, what may be opened, the rights
    user.find(marker="role-tab-view-as").click()
    user.find(marker="role-view-as").click()
    await until(lambda: found(user, "view-as-item-main-customers"), "view as shown")
    assert found(user, "view-as-item-main-blacklist") and found(user, "view-as-item-main-regions")  # the draft's
    assert found(user, "view-as-item-main-admin")  # the group shows as it has a visible item
    assert found(user, "view-as-screen-blacklist_list")
    assert not found(user, "view-as-item-main-designer") and not found(user, "view-as-item-main-supervisor")
    assert not found(user, "view-as-item-main-users")  # needs users.manage
    permissions = " ".join(str(getattr(e, "text", "")) for e in found(user, "view-as-permissions"))
    assert "agent.transfer_out" in permissions and "agent.outbound" not in permissions
    assert ui_platform.metadata.roles["agent"].permissions.count("agent.outbound") == 1  # nothing live yet

    # publish: agent1 sees the blacklist in the drawer without a restart
    user.find(marker="designer-comment").type("Agents read the blacklist")
    user.find(marker="designer-publish").click()
    await see(user, "Published as revision")
    live = ui_platform.metadata.roles["agent"]
    assert "agent.transfer_out" in live.permissions and "agent.outbound" not in live.permissions
    assert live.entities["knowledge_article"].update
    agent = create_user()
    await log_in(agent, "agent1")
    await agent.should_see(content="Blacklist", retries=150)
    await agent.should_see(content="Regions", retries=150)

    # roll back: the old grants are live again
    DraftService(ui_platform).rollback(actor("admin", ui_platform), "role", "agent", int(before.id))
    assert "main.admin" not in ui_platform.metadata.roles["agent"].menus
    assert "agent.outbound" in ui_platform.metadata.roles["agent"].permissions
    again = create_user()
    await log_in(again, "agent1")
    await again.should_see(content="Customers", retries=150)
    await again.should_not_see(content="Blacklist")
    await again.should_not_see(content="Regions")


async def test_menu_ticks_follow_grants_and_a_non_designer_is_refused(user: User, create_user: Callable[[], User],
                                                                      ui_platform: Platform) -> None:
    await log_in(user, "admin", path="/designer/role/qa")
    await user.should_see(marker="role-menu-main.service", retries=150)
    # qa is granted the "service" group: the items below it are ticked and cannot be unticked one by one
    customers = user.find(marker="role-menu-main.customers").elements.pop()
    assert customers.value and not customers.enabled  # type: ignore[attr-defined]
    assert found(user, "role-mask-customer-phone")
    user.find(marker="role-mask-customer-phone").elements.pop().set_value(False)  # type: ignore[attr-defined]
    await until(lambda: "phone" not in (DraftService(ui_platform).open(actor("admin", ui_platform), "role", "qa")
                                        .data or {})["entities"]["customer"]["masks"], "mask removed")

    agent = create_user()
    await log_in(agent, "agent1", path="/designer/role/qa")
    await see(agent, "Not allowed")
    assert not found(agent, "role-perm-export") and not found(agent, "designer-publish")


def test_role_view_of_qa(ui_platform: Platform) -> None:
    view = role_view(ui_platform.metadata, "qa")
    items = [line.item for line in view.menu]
    assert "work_orders_by_type_status" in items and "designer" not in items
    # qa plays recordings (granted main.recordings): the telephony group shows just that item
    at = items.index("telephony")
    below = []
    for line in view.menu[at + 1:]:
        if line.depth <= view.menu[at].depth:
            break
        below.append(line.item)
    assert below == ["recordings"]
    assert "quality" in items and "qa_evaluate" in items  # the Quality group (qa.evaluate)
    assert "customers_by_tier" in [n for n, _ in view.queries]  # granted by the "queries" group
    assert "supervisor" not in view.pages and "home" in view.pages
    customer = next(e for e in view.entities if e.entity == "customer")
    assert customer.actions == ["read"] and customer.masks["phone"] == "phone" and customer.scopes is None
    agent = next(e for e in role_view(ui_platform.metadata, "agent").entities if e.entity == "customer")
    assert agent.scopes == ["record.city in user.regions or record.county in user.regions"]


def test_grant_helpers_keep_the_file_shape() -> None:
    data: dict[str, Any] = {"entities": {"a": "cru", "b": {"read": True, "scope": "x"}}}
    assert role_designer.grant_of(data, "a") == {"create": True, "read": True, "update": True, "delete": False}
    grant = role_designer.grant_of(data, "a")
    grant["delete"] = True
    role_designer.put_grant(data, "a", grant)
    assert data["entities"]["a"] == "crud"
    grant = role_designer.grant_of(data, "b")
    grant["scope"] = None
    role_designer.put_grant(data, "b", grant)
    assert data["entities"]["b"] == "r"
    role_designer.put_grant(data, "b", {"read": False, "masks": {"phone": "phone"}})
    assert data["entities"]["b"] == {"masks": {"phone": "phone"}}
    role_designer.put_grant(data, "b", {"read": False})
    assert "b" not in data["entities"]
    data["permissions"] = ["zzz", "export"]
    role_designer.set_permission(data, "designer", True)
    assert data["permissions"] == ["designer", "export", "zzz"]
    role_designer.set_permission(data, "zzz", False)
    assert data["permissions"] == ["designer", "export"]
    data["menus"] = ["main.b", "old.x"]
    role_designer.set_menu_ref(data, "main.a", True, ["main", "main.a", "main.b"])
    role_designer.set_menu_ref(data, "*", True, ["main", "main.a", "main.b"])
    assert data["menus"] == ["*", "main.a", "main.b", "old.x"]
    assert role_designer.permission_group("agent.future_thing") == "agent"
    assert role_designer.permission_group("reports.view") == "other"
