"""The knowledge base list: its pager counts the rows it shows, and its range filter reads naturally."""

from __future__ import annotations

import asyncio

from nicegui import ui
from nicegui.testing import User
from ui_helpers import loaded_table, log_in

from helpline.security.actor import Actor
from helpline.services.platform import Platform


async def test_the_pager_counts_the_rows_shown(user: User, ui_platform: Platform) -> None:
    for i in range(6):
        ui_platform.records.create(Actor.system(), "knowledge_article",
                                   {"title": f"Article {i}", "category": "tariffs", "body": "text"})
    await log_in(user, "admin", path="/screen/knowledge_article_list")
    table = await loaded_table(user, "title")
    assert len(table.rows) == 6 and table.pagination["rowsNumber"] == 6
    # Quasar, once mounted, reports the pagination it was built with (no count yet): the count stays
    user.find(ui.table).trigger("update:pagination", {"sortBy": "category", "descending": False, "page": 1,
                                                      "rowsPerPage": 50, "rowsNumber": 0})
    await asyncio.sleep(0.1)
    assert table.pagination["rowsNumber"] == 6
    assert table.pagination["rowsPerPage"] == 50


async def test_the_expires_filter_is_captioned_once(user: User) -> None:
    await log_in(user, "admin", path="/screen/knowledge_article_list")
    await user.should_see("Expires", retries=50)
    await user.should_not_see("Expires From")
    await user.should_see("From")


async def test_a_yes_no_filter_is_wide_enough_for_its_caption(user: User) -> None:
    # (the knowledge list's 'Published' filter was this example; publishing is now the article's workflow state)
    await log_in(user, "admin", path="/screen/blacklist_list")
    await user.should_see("Active", retries=50)
    active = [s for s in user.find(ui.select).elements if s.props.get("label") == "Active"]
    assert active and "min-w-[8rem]" in active[0].classes  # it was squeezed to its arrow, caption hidden
