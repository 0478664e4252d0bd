"""The menu designer at /designer/menu/<name>: add an item opening a query, grant it to the agent role,
see who sees it, a bad value shows its check id beside the field, publish, agent1 sees the item in the
drawer without a restart, roll back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from designer_helpers import actor, confirmed, found, retype, set_value, until
from nicegui import ui
from nicegui.testing import User
from ui_helpers import log_in, see

import helpline.ui.views.designer.menu_designer as menu_designer  # registers the designer
from helpline.services.designer.drafts import DraftService
from helpline.services.platform import Platform


def text_of(user: User, marker: str) -> str:
    return " ".join(str(getattr(e, "text", "")) for e in found(user, marker))


async def saved(user: User, snippet: str) -> int:
    """Wait until the new item's YAML (the saved draft) has ``snippet``; the item's start in the text."""
    yaml = user.find(marker="designer-yaml").elements.pop()

    def start() -> int | None:
        text = str(yaml.value)  # type: ignore[attr-defined]
        at = text.find("name: new_item")  # a new item is written in its siblings' flow style
        return at if at >= 0 and snippet in text[at:] else None

    return int(await until(lambda: start() is not None and (start() or 0) + 1, f"{snippet!r} saved")) - 1


async def edit_yaml(user: User, old: str, new: str) -> None:
    """Change the new item's lines in the YAML tab (once the last edit is saved) and apply them."""
    yaml = user.find(marker="designer-yaml").elements.pop()
    start = await saved(user, old)
    text = str(yaml.value)  # type: ignore[attr-defined]
    assert user.client
    with user.client:
        yaml.value = text[:start] + text[start:].replace(old, new, 1)  # type: ignore[attr-defined]
    user.find(marker="designer-yaml-apply").click()


def frame() -> Any:
    frames = list(menu_designer._STATE.keys())
    assert frames, "no menu designer open"
    return frames[-1]


async def open_menu(user: User) -> None:
    await log_in(user, "admin", path="/designer/menu/main")
    await user.should_see(marker="menu-tree", retries=150)


async def test_add_item_grant_publish_agent_sees_it_and_roll_back(user: User, create_user: Callable[[], User],
                                                                  ui_platform: Platform) -> None:
    store = ui_platform.store
    menu_before = store.current("menu", "main")
    agent_before = store.current("role", "agent")
    assert menu_before is not None and agent_before is not None
    await open_menu(user)

    user.find(marker="menu-add").click()
    await user.should_see(marker="menu-item-name", retries=150)
    await until(lambda: "new_item" in [i["name"] for i in frame().data["items"]], "item added to the draft")
    set_value(user, "menu-item-kind", "query")
    await saved(user, "query: ''")
    await until(lambda: any("customers_by_tier" in getattr(e, "options", {}) for e in found(user, "menu-item-target")),
                "the query choice")
    set_value(user, "menu-item-target", "customers_by_tier")
    await saved(user, "query: customers_by_tier")
    retype(user, "menu-item-label-en", "Tier report")
    await until(lambda: "Tier report" in text_of(user, "menu-item-new_item"), "the tree shows the new label")
    item = next(i for i in frame().data["items"] if i["name"] == "new_item")
    assert item["query"] == "customers_by_tier" and item["label"]["en"] == "Tier report"

    # only roles granting every menu see it so far; grant it to the agent role from "who sees it"
    await until(lambda: "administrator" in text_of(user, "menu-who-sees"), "who sees it")
    assert "agent" not in text_of(user, "menu-who-sees")
    await user.should_see(marker="menu-grant-agent", retries=150)
    user.find(marker="menu-grant-agent").click()
    await until(lambda: "agent" in text_of(user, "menu-who-sees").replace("administrator", ""), "agent sees it")
    drafts = {(d.kind, d.name): d for d in DraftService(ui_platform).drafts(actor("admin", ui_platform))}
    assert "main.new_item" in drafts[("role", "agent")].data["menus"]  # type: ignore[index]

    # a permission not in the catalogue, written in the YAML tab, shows its id beside the permission field
    await edit_yaml(user, "query: customers_by_tier", "query: customers_by_tier, permission: agent.teleport")
    await until(lambda: found(user, "designer-error-HL-E209"), "HL-E209 shown")
    index = [i["name"] for i in frame().data["items"]].index("new_item")
    beside = [path for path, _, slot in frame()._slots if not slot.is_deleted
              and any(e in slot.descendants() for e in found(user, "designer-error-HL-E209"))]
    assert ("items", index, "permission") in beside
    # an unknown screen too: HL-E205 beside the target
    set_value(user, "menu-item-kind", "screen")
    await until(lambda: "screen" in next(i for i in frame().data["items"] if i["name"] == "new_item"), "screen")
    await edit_yaml(user, "screen: ''", "screen: no_such_screen")
    await until(lambda: found(user, "designer-error-HL-E205"), "HL-E205 shown")
    # fix both: back to the query, no permission
    set_value(user, "menu-item-kind", "query")
    await saved(user, "query: ''")
    await until(lambda: any("customers_by_tier" in getattr(e, "options", {}) for e in found(user, "menu-item-target")),
                "the query choice")
    set_value(user, "menu-item-target", "customers_by_tier")
    await saved(user, "query: customers_by_tier")
    set_value(user, "menu-item-permission", "")
    await until(lambda: not found(user, "designer-error-HL-E209") and not found(user, "designer-error-HL-E205"),
                "errors gone")
    await until(lambda: found(user, "designer-ok"), "no problems")

    # publish: both drafts (menu and role) become revisions
    user.find(marker="designer-comment").type("Tier report for agents")
    user.find(marker="designer-publish").click()
    await see(user, "Published as revision")
    assert ui_platform.metadata.menus["main"].item("new_item") is not None
    assert "main.new_item" in ui_platform.metadata.roles["agent"].menus

    agent = create_user()
    await log_in(agent, "agent1")
    await agent.should_see(content="Tier report", retries=150)
    agent.find(content="Tier report").click()
    await until(lambda: any(t.props.get("name") == "query:customers_by_tier" for t in agent.find(ui.tab).elements),
                "the query opened in a tab")

    # roll back the menu from its History tab: the role still grants the item, so the confirmation names it
    # and rolls both back together
    table = user.find(marker="designer-history").elements.pop()
    await until(lambda: len(table.rows) >= 2, "history loaded")  # type: ignore[attr-defined]
    user.find(marker="designer-tab-history").click()
    row = next(r for r in table.rows if r["id"] == int(menu_before.id))  # type: ignore[attr-defined]
    table.selected = [row]  # type: ignore[attr-defined]
    user.find(marker="designer-rollback").click()
    await until(lambda: found(user, "designer-rollback-referrer"), "the objects still referring to the item")
    await user.should_see(content=f"Roles · agent: rolled back with it to revision {agent_before.id}")
    await user.should_see(content="HL-E207 unknown menu 'main.new_item'")
    await user.should_see(content="Roll back all 2 together")
    await confirmed(user, "designer-rollback-ok")
    await see(user, f"Revision {menu_before.id} is live again")
    assert ui_platform.metadata.menus["main"].item("new_item") is None
    assert "main.new_item" not in ui_platform.metadata.roles["agent"].menus
    again = create_user()
    await log_in(again, "agent1")
    await again.should_see(content="Customers", retries=150)
    await again.should_not_see(content="Tier report")


async def test_tree_operations_in_the_designer(user: User, ui_platform: Platform) -> None:
    await open_menu(user)
    names = lambda: [i["name"] for i in frame().data["items"]]  # noqa: E731
    top = lambda: [i["name"] for i in frame().data["items"] if "parent" not in i]  # noqa: E731
    assert top()[:2] == ["home", "notices"]  # two leaves
    user.find(marker="menu-down-home").click()
    await until(lambda: top()[:2] == ["notices", "home"], "home moved below notices")
    before = top()
    assert before[before.index("notes") + 1] == "work"  # a leaf, then a group below it
    user.find(marker="menu-down-notes").click()
    await until(lambda: top()[top().index("work") + 1] == "notes", "notes moved below the work group")
    work_items = [i["name"] for i in frame().data["items"] if i.get("parent") == "work"]
    assert work_items and names().index("notes") == names().index(work_items[-1]) + 1  # after the work block
    user.find(marker="menu-indent-notes").click()
    await until(lambda: next(i for i in frame().data["items"] if i["name"] == "notes").get("parent") == "work",
                "notes into the work group")
    user.find(marker="menu-outdent-notes").click()
    await until(lambda: "parent" not in next(i for i in frame().data["items"] if i["name"] == "notes"), "outdent")
    user.find(marker="menu-remove-telephony").click()
    await until(lambda: "desktop" not in names(), "telephony removed with its items")
    assert "telephony" not in names()
    yaml = user.find(marker="designer-yaml").elements.pop()  # the saved draft: discard only after the save
    await until(lambda: "name: telephony" not in str(yaml.value), "the removal saved")  # type: ignore[attr-defined]
    # the roles' direct grants of the removed items went too (in the author's drafts): no dangling grants
    await until(lambda: found(user, "designer-ok"), "no problems after the removal")
    user.find(marker="designer-discard").click()
    await confirmed(user, "designer-discard-ok")
    await until(lambda: "telephony" in names(), "discarded")


