"""The IVR flow designer at ``/designer/ivr/<flow>``: a menu node's prompt, key and timeout changed in the
form, published and heard in the IVR console of another session; a reference to a missing node (HL-E301)
and an unreachable node (HL-E307) shown beside the node and coloured in the graph; the test call runs
the draft while live callers get the live flow; roll back from the History tab."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from designer_helpers import admin, confirmed, one, until
from nicegui import run, ui
from nicegui.testing import User
from ui_helpers import log_in, see

import helpline.ui.views.designer.ivr_designer  # noqa: F401 - registers the designer
from helpline.services.designer.drafts import DraftService
from helpline.services.platform import Platform
from helpline.ui.views.ivr_console import engine_for
from telephony.switch.simulated import SimulatedSwitch

OLD_MENU = "For consultation press 1"
NEW_MENU = "Press 7 for the password service"


def draft_of(p: Platform) -> dict[str, Any]:
    opened = DraftService(p).open(admin(p), "ivr", "main")
    return opened.data if opened.is_draft and opened.data is not None else {}


async def open_main(user: User) -> None:
    await log_in(user, "admin", path="/designer/ivr/main")
    await user.should_see(marker="ivr-node-main_menu", retries=150)
    await user.should_see(marker="designer-ok", retries=150)


def open_node(user: User, name: str) -> None:
    """Open a node in the list (its properties are built when it is first opened)."""
    one(user, f"ivr-node-{name}").open()


async def type_and_leave(user: User, marker: str, text: str) -> None:
    element = one(user, marker)
    element.value = text
    user.find(marker=marker).trigger("blur")


def inside(user: User, container_marker: str, marker: str) -> bool:
    """Whether an element marked ``marker`` is inside the one marked ``container_marker``."""
    try:
        container = one(user, container_marker)
    except (AssertionError, StopIteration):
        return False
    return any(marker in e._markers for e in container.descendants())


def console_log(user: User) -> str:
    try:
        log = one(user, "ivr-log")
    except (AssertionError, StopIteration):
        return ""
    return " ".join(e.text for e in log.descendants() if isinstance(e, ui.label))


def graph(user: User) -> str:
    return str(one(user, "ivr-graph").content)


def graph_line(user: User, node: str) -> str:
    return next(line for line in graph(user).splitlines() if f'"{node}<br/>' in line)


async def test_menu_change_is_published_and_heard_then_rolled_back(user: User, create_user: Callable[[], User],
                                                                   ui_platform: Platform) -> None:
    await open_main(user)
    await type_and_leave(user, "ivr-prompt-main_menu-text-en", f"{NEW_MENU}, an agent 0.")
    await until(lambda: NEW_MENU in str(draft_of(ui_platform).get("prompts", {}).get("main_menu")), "prompt")
    open_node(user, "main_menu")
    await type_and_leave(user, "ivr-node-main_menu-timeout", "3s")
    await until(lambda: draft_of(ui_platform)["nodes"]["main_menu"].get("timeout") == "3s", "timeout")
    one(user, "ivr-choice-main_menu-5-key").value = "7"  # the password service moves from 5 to 7
    await until(lambda: "7" in draft_of(ui_platform)["nodes"]["main_menu"]["choices"], "key")
    await user.should_see(marker="designer-ok", retries=150)
    live = ui_platform.metadata.objects["ivr"]["main"]
    assert live.nodes["main_menu"].timeout == 5.0 and "5" in live.nodes["main_menu"].choices  # still live
    user.find(marker="designer-comment").type("password service on 7, shorter timeout")
    user.find(marker="designer-publish").click()
    await see(user, "Published as revision")
    menu = await until(lambda: ui_platform.metadata.objects["ivr"]["main"].nodes["main_menu"], "published")
    await until(lambda: ui_platform.metadata.objects["ivr"]["main"].nodes["main_menu"].timeout == 3.0, "live")
    menu = ui_platform.metadata.objects["ivr"]["main"].nodes["main_menu"]
    assert menu.choices["7"] == "to_business" and "5" not in menu.choices

    caller = create_user()  # another session, no restart: the IVR console takes the new flow
    await log_in(caller, "admin", path="/ivr/console")
    await caller.should_see(marker="ivr-call", retries=100)
    one(caller, "ivr-flow").value = "main"
    caller.find(marker="ivr-call").click()
    await until(lambda: NEW_MENU in console_log(caller), "the new prompt in the console")
    caller.find(marker="key-7").click()
    await see(caller, "Result: transfer")
    await see(caller, "business")

    # roll back from the History tab: the old menu is live again
    user.find(marker="designer-tab-history").click()
    history = one(user, "designer-history")
    await until(lambda: len(history.rows) >= 2, "history")
    history.selected = [history.rows[1]]
    user.find(marker="designer-rollback").click()
    await confirmed(user, "designer-rollback-ok")
    await see(user, "is live again")
    await until(lambda: ui_platform.metadata.objects["ivr"]["main"].nodes["main_menu"].timeout == 5.0, "rolled back")
    switch = SimulatedSwitch("", language="en")
    await run.io_bound(engine_for(ui_platform).run_call, switch, caller_number="13999999999", flow_name="main")
    assert any(OLD_MENU in line for line in switch.transcript())


async def test_missing_and_unreachable_nodes_are_flagged(user: User, ui_platform: Platform) -> None:
    await open_main(user)
    assert ":::" not in graph_line(user, "main_menu")
    open_node(user, "main_menu")
    one(user, "ivr-choice-main_menu-1").value = "nowhere"
    await see(user, "HL-E301")
    await until(lambda: inside(user, "ivr-node-main_menu", "designer-error-HL-E301"), "HL-E301 beside the node")
    await until(lambda: graph_line(user, "main_menu").endswith(":::dangling"), "graph marks main_menu")
    assert '["? nowhere"]:::missing' in graph(user) and "linkStyle" in graph(user)
    # the consultation branch can no longer be reached
    await until(lambda: inside(user, "ivr-node-consult_menu", "designer-error-HL-E307"), "HL-E307 consult_menu")
    assert graph_line(user, "consult_menu").endswith(":::unreachable")

    one(user, "ivr-new-node-name").value = "orphan"
    one(user, "ivr-new-node-type").value = "hangup"
    user.find(marker="ivr-add-node").click()
    await user.should_see(marker="ivr-node-orphan", retries=150)
    await until(lambda: inside(user, "ivr-node-orphan", "designer-error-HL-E307"), "HL-E307 beside orphan")
    await until(lambda: graph_line(user, "orphan").endswith(":::unreachable"), "graph marks orphan")
    assert draft_of(ui_platform)["nodes"]["orphan"] == {"type": "hangup"}

    # a broken flow is not published; the live flow is untouched
    user.find(marker="designer-comment").type("broken")
    user.find(marker="designer-publish").click()
    await see(user, "HL-E307")
    assert "orphan" not in ui_platform.metadata.objects["ivr"]["main"].nodes

    # pointing the key back and removing the orphan clears every flag
    await until(lambda: inside(user, "ivr-node-main_menu", "ivr-choice-main_menu-1"), "main_menu stays open")

    def point_back() -> bool:  # set again on each look: after the refused publish the editor may be rebuilt,
        one(user, "ivr-choice-main_menu-1").value = "consult_menu"  # leaving a set value on the old element
        return not graph_line(user, "main_menu").endswith(":::dangling")

    await until(point_back, "graph clear")
    user.find(marker="ivr-node-orphan-remove").click()
    await user.should_see(marker="designer-ok", retries=150)
    assert "orphan" not in draft_of(ui_platform)["nodes"] and ":::missing" not in graph(user)


async def test_test_call_runs_the_draft_while_live_callers_get_the_live_flow(user: User,
                                                                           ui_platform: Platform) -> None:
    await open_main(user)
    await type_and_leave(user, "ivr-prompt-main_menu-text-en", f"{NEW_MENU} (draft).")
    await until(lambda: NEW_MENU in str(draft_of(ui_platform).get("prompts", {}).get("main_menu")), "draft")
    revisions = len(ui_platform.store.history("ivr", "main") or [])
    user.find(marker="ivr-test-call").click()
    await user.should_see(marker="ivr-draft-banner", retries=150)
    assert one(user, "ivr-flow").value == "main"
    user.find(marker="ivr-call").click()
    await until(lambda: NEW_MENU in console_log(user), "the draft prompt in the test call")
    # meanwhile a live caller hears the live menu
    live = SimulatedSwitch("", language="en")
    await run.io_bound(engine_for(ui_platform).run_call, live, caller_number="13911112222", flow_name="main")
    assert any(OLD_MENU in line for line in live.transcript())
    assert not any(NEW_MENU in line for line in live.transcript())
    user.find(marker="key-0").click()
    await see(user, "Result: transfer")
    assert len(ui_platform.store.history("ivr", "main") or []) == revisions  # nothing was published
    assert draft_of(ui_platform)  # the draft is still there


async def test_render_speaks_the_edited_prompt_into_the_sounds_folder(user: User, ui_platform: Platform,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from helpline.services.prompts import render

    monkeypatch.setenv("HELPLINE_SOUNDS", str(tmp_path / "sounds"))
    await open_main(user)
    edited = f"{NEW_MENU} (to render)."
    await type_and_leave(user, "ivr-prompt-main_menu-text-en", edited)
    await until(lambda: edited in str(draft_of(ui_platform).get("prompts", {}).get("main_menu")), "draft")
    user.find(marker="ivr-prompt-main_menu-render").click()
    target = tmp_path / "sounds/en/helpline/main-menu.wav"
    await see(user, "2 sound file(s) written")
    assert (tmp_path / "sounds/zh_CN/helpline/main-menu.wav").is_file()
    expected = render(edited, "en", tmp_path / "expected.wav").read_bytes()
    assert target.read_bytes() == expected, "the edited text, not the live one"
