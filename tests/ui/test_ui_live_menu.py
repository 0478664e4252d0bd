"""An open page follows a published menu change: the agent's drawer shows a renamed or new item and
drops a revoked one without a reload, and the tabs already open stay."""

from __future__ import annotations

import copy
import threading

from nicegui.testing import User
from ui_helpers import log_in

from helpline.security.actor import Actor
from helpline.services.designer.drafts import DraftService
from helpline.services.platform import Platform


def publish_menu(p: Platform, change: object) -> None:
    """Publish from a thread of its own, as a designer's worker thread does (no request to ask)."""
    thread = threading.Thread(target=_publish_menu, args=(p, change))
    thread.start()
    thread.join(30)


def _publish_menu(p: Platform, change: object) -> None:
    service = DraftService(p)
    admin = Actor("admin", roles=("administrator",)).bind(p.metadata)
    opened = service.open(admin, "menu", "main")
    assert opened.data is not None
    data = copy.deepcopy(opened.data)
    change(data)  # type: ignore[operator]
    assert service.save(admin, "menu", "main", data, opened.base_revision) == []
    service.publish(admin, "menu change")


async def test_open_drawer_follows_published_menu(user: User, ui_platform: Platform) -> None:
    await log_in(user, "agent1")
    await user.should_see("Customers")
    user.find("Customers").click()  # a tab that must survive the change
    await user.should_see(marker="shell-menu")

    def rename(data: dict) -> None:  # type: ignore[type-arg]
        item = next(i for i in data["items"] if i["name"] == "customers")
        item["label"]["en"] = "Subscribers"
    publish_menu(ui_platform, rename)
    await user.should_see("Subscribers", retries=100)  # in the agent's language (English), not the default
    await user.should_see("Main menu")

    def revoke(data: dict) -> None:  # type: ignore[type-arg]
        item = next(i for i in data["items"] if i["name"] == "knowledge")
        item["permission"] = "designer"
    await user.should_see("Knowledge base")
    publish_menu(ui_platform, revoke)
    await user.should_not_see("Knowledge base", retries=100)
    await user.should_see("Subscribers")
