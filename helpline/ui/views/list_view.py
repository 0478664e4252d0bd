"""A generated list of an entity's records: server-side paging and sorting, quick search, per-column
filters, a capped count, row click to open the form, and export of the current result to Excel.

Only the shown page ever reaches the browser; every fetch goes through the record service (scope, masks,
audit) on a worker thread.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from nicegui import run, ui

from helpline.data.conditions import TRUE, Cmp, Cond, all_of
from helpline.data.query import MAX_SEARCH_LENGTH, ListQuery, Page, QueryError, sort_keys
from helpline.metadata.kinds import Entity, EntityField, Screen
from helpline.security.actor import PermissionDenied
from helpline.services.excel import workbook_bytes
from helpline.services.queries import typed_range

from ..i18n import label, t
from .base import ViewContext
from .display import category_options, show
from .widgets import link_select

log = logging.getLogger(__name__)

def filter_condition(field: EntityField, value: Any) -> Cond:
    """The condition a per-column filter's value means for its field."""
    if value in (None, "", []):
        return TRUE
    if field.type in ("text", "long_text", "phone", "email"):
        return Cmp(field.name, "contains", str(value).strip())
    if field.type in ("date", "datetime", "int", "decimal") and isinstance(value, dict):
        low, high = value.get("from") or None, value.get("to") or None
        if field.type == "datetime":  # the centre's days and times
            with contextlib.suppress(ValueError):  # not a time: the list's query names the error
                low, high = typed_range(field, low, high)
        return TRUE if low is None and high is None else Cmp(field.name, "between", (low, high))
    if field.type == "bool":
        return Cmp(field.name, "eq", value in (True, "true", "yes"))
    return Cmp(field.name, "eq", value)


def format_rows(ctx: ViewContext, entity: Entity, columns: list[str], rows: list[dict[str, Any]]
                ) -> list[dict[str, Any]]:
    """Rows as the table shows them: labels for codes, titles for links."""
    metadata = ctx.platform.metadata
    titles: dict[str, dict[Any, str]] = {}
    for name in columns:
        f = entity.any_field(name)
        if f is not None and f.type == "link" and f.link:
            keys = [r.get(name) for r in rows]
            titles[name] = ctx.platform.records.titles(ctx.actor, f.link, f.link_key or "id", keys)
    out = []
    for r in rows:
        shown = {"id": r["id"]}
        for name in columns:
            shown[name] = show(entity.any_field(name), r.get(name), metadata, titles.get(name), ctx.language)
        out.append(shown)
    return out


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_workbook(ctx: ViewContext, entity: Entity, columns: list[str], query: ListQuery) -> bytes:
    """Every row of ``query`` as an .xlsx, formatted as on screen (links' titles looked up per chunk)."""

    def formatted(chunk: list[dict[str, Any]]) -> Iterator[list[Any]]:
        for r in format_rows(ctx, entity, columns, chunk):
            yield [r[c] for c in columns]

    def rows() -> Iterator[list[Any]]:
        chunk: list[dict[str, Any]] = []
        for row in ctx.platform.records.rows_for_export(ctx.actor, query):
            chunk.append(row)
            if len(chunk) == 500:
                yield from formatted(chunk)
                chunk = []
        yield from formatted(chunk)

    # a worker thread: the language is the one the page captured, never the default
    headers = [f.label.get(ctx.language) if (f := entity.any_field(c)) is not None and f.label else c
               for c in columns]
    return workbook_bytes(entity.name, headers, rows())


class ListView:
    def __init__(self, ctx: ViewContext, screen: Screen):
        self.ctx = ctx
        self.screen = screen
        self.entity = ctx.platform.metadata.entities[screen.entity]
        self.columns = [c.field for c in screen.column_refs()]
        self.filters: dict[str, Any] = {}
        self.search = ""
        self.sort = sort_keys(screen.sort or ["-id"])
        self.page_no = 1
        self.count: int | None = None
        """The rows' count as last fetched (None before the first fetch)."""
        self.build()

    def build(self) -> None:
        ctx, entity, screen = self.ctx, self.entity, self.screen
        with ui.row().classes("w-full items-center gap-2"):
            ui.label(label(screen.title, screen.name)).classes("text-h6")
            ui.space()
            self.search_box = ui.input(t("list.search"), placeholder=t("list.search_placeholder")) \
                .props(f"dense clearable debounce=400 maxlength={MAX_SEARCH_LENGTH}").mark("quick-search") \
                .classes("quick-search")
            self.search_box.on_value_change(lambda: self.reload(first=True))
            ui.button(icon="refresh", on_click=lambda: self.reload()).props("flat dense").tooltip(t("list.refresh"))
            if "create" in screen.actions and ctx.actor.can(entity.name, "create") and screen.form:
                ui.button(t("list.new"), icon="add",
                          on_click=lambda: ctx.open("record", screen.form, record_id=None)).props("dense").mark("new") \
                    .classes("new-record")
            if "export" in screen.actions and ctx.actor.has("export"):
                ui.button(t("list.export"), icon="download", on_click=self.export).props("dense outline") \
                    .mark("export")
        masked = ctx.platform.records.hidden(ctx.actor, entity.name)  # not filtered or sorted by
        if screen.filters:
            with ui.row().classes("w-full items-end gap-2"):
                for name in screen.filters:
                    f = entity.any_field(name)
                    if f is not None and name not in masked:
                        self._filter_widget(f)
                ui.button(t("list.clear_filters"), on_click=self.clear_filters).props("flat dense")
        cols = []
        for c in screen.column_refs():
            f = entity.any_field(c.field)
            cols.append({"name": c.field, "field": c.field, "align": "left",
                         "label": label(c.label) if c.label else label(f.label if f else None, c.field),
                         "sortable": c.sortable and c.field not in masked})
        sort_by, descending = (self.sort[0] if self.sort else (None, False))
        self.table = ui.table(columns=cols, rows=[], row_key="id", pagination={
            "page": 1, "rowsPerPage": screen.page_size, "rowsNumber": 0, "sortBy": sort_by,
            "descending": descending}).classes("w-full").props("flat bordered dense binary-state-sort")
        self.table.props(f'no-data-label="{t("list.no_rows")}" :rows-per-page-options="[10,25,50,100]"')
        self.table.on("request", self.on_request)
        self.table.on_pagination_change(self.keep_count)
        if screen.form:
            self.table.on("row-click", self.on_row_click)
            self.table.classes("cursor-pointer")
        self.count_label = ui.label("").classes("text-caption")
        self.error_label = ui.label("").classes("text-negative").mark("list-error")
        self.error_label.set_visibility(False)
        ui.timer(0, self.reload, once=True)

    def _filter_widget(self, f: EntityField) -> None:
        caption = label(f.label, f.name)
        w: Any
        if f.type == "category":
            tree = self.ctx.platform.metadata.categories.get(f.category or "")
            w = ui.select(category_options(tree, language=self.ctx.language), label=caption, clearable=True,
                          with_input=True).props("dense")
            w.on_value_change(lambda e, n=f.name: self.set_filter(n, e.value))
        elif f.type == "bool":
            w = ui.select({"yes": t("app.yes"), "no": t("app.no")}, label=caption, clearable=True).props("dense") \
                .classes("min-w-[8rem]")  # wide enough to show its caption
            w.on_value_change(lambda e, n=f.name: self.set_filter(n, e.value))
        elif f.type in ("date", "datetime", "int", "decimal"):
            kind = "date" if f.type in ("date", "datetime") else "number"
            with ui.column().classes("gap-0 hl-range-filter"):
                ui.label(caption).classes("text-caption text-grey-8")
                with ui.row().classes("gap-1 items-end no-wrap"):
                    lo = ui.input(t("query.from")).props(f"dense type={kind} stack-label")
                    hi = ui.input(t("query.to")).props(f"dense type={kind} stack-label")
            for w in (lo, hi):
                w.on("change", lambda _=None, n=f.name, a=lo, b=hi:
                     self.set_filter(n, {"from": a.value, "to": b.value}))
        elif f.type == "link":
            w = link_select(self.ctx, f, caption).props("dense")
            w.on_value_change(lambda e, n=f.name: self.set_filter(n, e.value))
        else:
            w = ui.input(caption).props("dense clearable debounce=400")
            w.on("update:model-value", lambda e, n=f.name: self.set_filter(n, e.args))

    async def set_filter(self, name: str, value: Any) -> None:
        if value == "yes" or value == "no":
            value = value == "yes"
        self.filters[name] = value
        await self.reload(first=True)

    async def clear_filters(self) -> None:
        self.filters.clear()
        await self.reload(first=True)

    def query(self, page: int | None = None) -> ListQuery:
        where = all_of(*[filter_condition(f, v) for n, v in self.filters.items()
                         if (f := self.entity.any_field(n)) is not None])
        return ListQuery(entity=self.entity.name, where=where, search=self.search_box.value or None,
                         sort=self.sort, page=page or self.page_no, page_size=self.table.pagination["rowsPerPage"],
                         count_cap=10_000)

    def fetch(self, query: ListQuery) -> tuple[Page, list[dict[str, Any]]]:
        page = self.ctx.platform.records.list_page(self.ctx.actor, query)
        return page, format_rows(self.ctx, self.entity, self.columns, page.rows)

    async def reload(self, first: bool = False) -> None:
        if first:
            self.page_no = 1
        try:
            fetched = await run.io_bound(self.fetch, self.query())
        except Exception as exc:  # never keep showing the previous result as if it answered this request
            if not isinstance(exc, (QueryError, PermissionDenied)):
                log.exception("list %s could not be loaded", self.screen.name)
            self.failed(str(exc))
            return
        if fetched is None:
            return
        self.error_label.set_visibility(False)
        page, rows = fetched
        self.count = page.total
        self.table.rows = rows
        self.table.pagination = {**self.table.pagination, "page": page.page, "rowsNumber": page.total}
        self.count_label.text = (t("list.rows_capped", count=page.total) if page.capped
                                 else t("list.rows", count=page.total))
        self.table.update()

    def failed(self, message: str) -> None:
        """Show why the list could not be loaded, and no rows."""
        self.count = 0
        self.table.rows = []
        self.table.pagination = {**self.table.pagination, "page": 1, "rowsNumber": 0}
        self.count_label.text = ""
        self.error_label.text = t("list.load_failed", message=message)
        self.error_label.set_visibility(True)
        ui.notify(self.error_label.text, type="negative")
        self.table.update()

    def keep_count(self, e: Any) -> None:
        """Quasar reports its pagination once mounted, with the row count it was built with (0): the
        server's count stays (else the pager reads "1-0 of 0" under a full page of rows)."""
        total = self.count
        if total is not None and e.value.get("rowsNumber") != total:
            self.table.pagination = {**e.value, "rowsNumber": total}

    async def on_request(self, e: Any) -> None:
        p = e.args["pagination"]
        self.page_no = int(p.get("page") or 1)
        self.table.pagination["rowsPerPage"] = int(p.get("rowsPerPage") or self.screen.page_size)
        if p.get("sortBy"):
            self.sort = [(str(p["sortBy"]), bool(p.get("descending")))]
            self.table.pagination["sortBy"], self.table.pagination["descending"] = p["sortBy"], p.get("descending")
        await self.reload()

    def on_row_click(self, e: Any) -> None:
        row = e.args[1] if isinstance(e.args, list) and len(e.args) > 1 else e.args
        if self.screen.form and isinstance(row, dict):
            self.ctx.open("record", self.screen.form, record_id=int(row["id"]))

    async def export(self) -> None:
        query = self.query(page=1)
        entity = self.entity

        data = await run.io_bound(export_workbook, self.ctx, entity, self.columns, query)
        if data is not None:
            ui.download.content(data, f"{entity.name}.xlsx", media_type=XLSX)
