"""The ``menu`` kind: a tree of items that open screens, queries, pages or URLs, bound to permissions.

Items are a flat list with ``parent`` references, in display order. An item with no target is a group.
A role grants menus (``main``) or single items (``main.customers``); an item may also require a function
permission (``designer``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from .common import Label, MetaObject, Name, Strict

PAGES: dict[str, str | None] = {
    "home": None,
    "profile": None,
    "categories": None,
    "audit": "audit.read",
    "users": "users.manage",
    "jobs": "jobs.manage",
    "system": "system.monitor",
    "imports": "import",
    "designer": "designer",
    "desktop": "desktop",
    "supervisor": "supervisor",
    "ivr_console": "ivr.console",
    "recordings": "supervisor.recordings",
    "callbacks": "supervisor.callbacks",
    "reminders": "campaigns.manage",
    "campaigns": "campaigns.manage",
    "reports": "supervisor",
    "departments": "departments.manage",
    "inbox_mine": None,
    "inbox_department": None,
    "inbox_overdue": None,
    "inbox_waiting": None,
    "notices": None,
    "qa_evaluate": "qa.evaluate",
    "roster": "users.manage",
    "skills": "users.manage",
    "performance": "supervisor",
    "exams": None,
    "knowledge": None,
    "knowledge_stats": "knowledge.stats",
    "bulletins": None,
    "notes": None,
}
"""The built-in pages a menu item can open, each with the function permission that opens it (None: any
signed-in user). The one table of pages: the checks (HL-E217), the server's access decision
(``helpline.services.access``) and the web runtime (``helpline.ui.shell.PAGE_VIEWS`` must have a view for
each, checked at import) all read it. A new page is a line here and a view there."""


class MenuItem(Strict):
    name: Name
    label: Label
    parent: Name | None = None
    icon: str | None = None
    screen: Name | None = None
    query: Name | None = None
    page: Name | None = None
    url: str | None = None
    permission: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> MenuItem:
        targets = [t for t in (self.screen, self.query, self.page, self.url) if t]
        if len(targets) > 1:
            raise ValueError(f"menu item '{self.name}' opens more than one thing; choose one of screen/query/page/url")
        return self

    @property
    def target(self) -> tuple[Literal["screen", "query", "page", "url", "group"], str]:
        if self.screen:
            return "screen", self.screen
        if self.query:
            return "query", self.query
        if self.page:
            return "page", self.page
        if self.url:
            return "url", self.url
        return "group", ""


class Menu(MetaObject):
    kind: Literal["menu"]
    label: Label
    items: list[MenuItem] = []
    order: int = 100

    def item(self, name: str) -> MenuItem | None:
        return next((i for i in self.items if i.name == name), None)

    def children(self, parent: str | None) -> list[MenuItem]:
        return [i for i in self.items if i.parent == parent]
