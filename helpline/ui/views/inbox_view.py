"""The inbox pages (my work, my department's work, overdue, waiting on me): a page of the records in the box,
newest first (overdue: most overdue first), with the state, the assignment and the time left; a row opens the
record's form. The rows come from :mod:`helpline.services.workflow.inbox` (row scope and masks applied)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import run, ui

from helpline.data.base import utcnow
from helpline.metadata.workflow_checks import workflows_of
from helpline.services.workflow import InboxPage, inboxes

from ..i18n import label, t
from .base import ViewContext
from .list_view import format_rows
from .process_panel import local_time, time_left, user_zone

PAGE_SIZE = 25
DEFAULT_COLUMNS = ("order_no", "title", "type", "priority", "city")


def _columns(ctx: ViewContext, entity: str) -> list[str]:
    """The entity's list columns (its first list screen), else the work order's usual ones."""
    metadata = ctx.platform.metadata
    ent = metadata.entities[entity]
    screen = next((s for s in metadata.screens.values() if s.view == "list" and s.entity == entity), None)
    cols = [c.field for c in screen.column_refs()] if screen is not None else []
    if not cols:
        cols = [c for c in DEFAULT_COLUMNS if ent.any_field(c) is not None]
    flows = {w.state_field for w in workflows_of(metadata).values() if w.entity == entity}
    skip = flows | {"department"}  # shown from the process's assignment
    return [c for c in cols if c not in skip][:5]


def inbox_view(box: str) -> Callable[[ViewContext], None]:
    def view(ctx: ViewContext) -> None:
        InboxView(ctx, box)
    return view


class InboxView:
    def __init__(self, ctx: ViewContext, box: str, entity: str = "work_order") -> None:
        self.ctx, self.box, self.entity_name = ctx, box, entity
        self.entity = ctx.platform.metadata.entities[entity]
        self.page = 1
        self.zone = user_zone(ctx)
        self.cols = _columns(ctx, entity)
        with ui.row().classes("w-full items-center"):
            ui.label(t(f"page.inbox_{box}")).classes("text-h6")
            ui.space()
            self.info = ui.label("").classes("text-grey-8").mark("inbox-info")
            self.prev = ui.button(icon="chevron_left", on_click=lambda: self.go(-1)).props("flat dense") \
                .tooltip(t("inbox.previous"))
            self.next = ui.button(icon="chevron_right", on_click=lambda: self.go(1)).props("flat dense") \
                .tooltip(t("inbox.next"))
            ui.button(t("inbox.refresh"), icon="refresh", on_click=self.load).props("flat dense no-caps") \
                .mark("inbox-refresh")
        columns = [{"name": c, "field": c, "align": "left",
                    "label": label(f.label if (f := self.entity.any_field(c)) else None, c)} for c in self.cols]
        columns += [{"name": k, "field": k, "align": "left", "label": t(f"inbox.col.{k}")}
                    for k in ("state", "department", "assignee", "due", "left")]
        for column in columns:  # codes, cities and times on one line; titles and names wrap
            if column["name"] in ("order_no", "city", "due", "left"):
                column["classes"] = column["headerClasses"] = "text-no-wrap"
        self.table = ui.table(columns=columns, rows=[], row_key="id").classes("w-full") \
            .props(f'flat dense bordered wrap-cells no-data-label="{t("inbox.empty")}"').mark(f"inbox-{box}")
        self.table.add_slot("body-cell-left", '''
            <q-td :props="props"><span :class="props.row.overdue ? 'text-negative text-weight-medium' : ''">
            {{ props.value }}</span></q-td>''')
        form = next((s.name for s in ctx.platform.metadata.screens.values()
                     if s.view == "form" and s.entity == entity), None)
        if form:
            self.table.on("row-click", lambda e: ctx.open(
                "record", form, record_id=int((e.args[1] if isinstance(e.args, list) else e.args)["id"])))
        ui.timer(0, self.load, once=True)

    async def go(self, delta: int) -> None:
        self.page = max(1, self.page + delta)
        await self.load()

    def fetch(self) -> tuple[InboxPage, list[dict[str, Any]]]:
        page = inboxes(self.ctx.platform).page(self.ctx.actor, self.box, self.entity_name, self.page, PAGE_SIZE)
        return page, format_rows(self.ctx, self.entity, self.cols, page.rows)

    async def load(self) -> None:
        fetched = await run.io_bound(self.fetch)
        if fetched is None:
            return
        page, shown = fetched
        now = utcnow()
        metadata = self.ctx.platform.metadata
        flows = workflows_of(metadata)
        tree = metadata.categories.get("department")
        for raw, row in zip(page.rows, shown, strict=True):
            flow = flows.get(raw["wf_workflow"])
            st = flow.state(raw["wf_state"]) if flow is not None else None
            row["state"] = label(st.label, raw["wf_state"]) if st is not None else raw["wf_state"]
            node = tree.node(raw["wf_department"]) if tree is not None and raw["wf_department"] else None
            row["department"] = label(node.label, raw["wf_department"]) if node else (raw["wf_department"] or "")
            row["assignee"] = raw["wf_assignee"] or ""
            due = raw["wf_resolution_due"]
            row["due"] = local_time(due, self.zone)
            row["left"] = time_left((due - now).total_seconds()) if due is not None else ""
            row["overdue"] = due is not None and due < now
        self.table.rows = shown
        self.table.update()
        pages = max(1, -(-page.total // page.page_size))
        self.info.text = t("inbox.page_capped" if page.capped else "inbox.page", page=page.page, pages=pages,
                           total=page.total)
        self.prev.set_enabled(page.page > 1)
        self.next.set_enabled(page.capped or page.page < pages)
