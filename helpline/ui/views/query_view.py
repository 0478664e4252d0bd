"""A query screen: inputs from metadata, the logic between them in the rule language (empty optional
inputs drop out), a paged 1-D result or a 2-D table (rows × columns × count/sum/avg), Excel export and an
optional chart."""

from __future__ import annotations

from typing import Any

from nicegui import run, ui

from helpline.data.query import ListQuery, PivotTable, sort_keys
from helpline.metadata.kinds import EntityField, Query, QueryInput
from helpline.security.actor import PermissionDenied
from helpline.services.excel import workbook_bytes
from helpline.services.queries import QueryInputError, QueryResult, run_query

from ..i18n import label, t, translate
from .base import ViewContext
from .display import category_options, show
from .list_view import XLSX, export_workbook, format_rows
from .widgets import link_select


class QueryView:
    def __init__(self, ctx: ViewContext, query: Query):
        self.ctx = ctx
        self.query = query
        self.entity = ctx.platform.metadata.entities[query.entity]
        self.inputs: dict[str, Any] = {}
        self.page_no = 1
        self.result: QueryResult | None = None
        self.pivot_shown: tuple[list[str], list[str], list[list[Any]]] = ([], [], [])
        """The 2-D result's row labels, column labels and grid, as shown and exported."""
        self.build()

    def input_label(self, inp: QueryInput) -> str:
        if inp.label:
            return label(inp.label)
        f = self.entity.any_field(inp.field)
        return label(f.label if f else None, inp.name)

    def build(self) -> None:
        q = self.query
        ui.label(label(q.title, q.name)).classes("text-h6")
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(t("query.inputs")).classes("text-subtitle2")
            masked = self.ctx.platform.records.hidden(self.ctx.actor, q.entity)  # cannot be searched by
            with ui.row().classes("w-full items-end gap-3"):
                for inp in q.inputs:
                    widget = self.input_widget(inp)
                    for element in (widget if isinstance(widget, tuple) else (widget,)):
                        element.mark(f"input-{inp.name}")
                        if inp.field in masked:
                            element.disable()
                            element.props["hint"] = t("query.masked_input", input=self.input_label(inp))
                    self.inputs[inp.name] = widget
            if q.logic:
                ui.label(q.logic).classes("text-caption text-grey-7 query-logic")
            with ui.row():
                ui.button(t("query.run"), icon="search", on_click=lambda: self.run(first=True)).classes("run-query") \
                    .mark("run-query")
                ui.button(t("query.reset"), on_click=self.reset).props("flat")
                if self.ctx.actor.has("export"):
                    ui.button(t("list.export"), icon="download", on_click=self.export).props("outline") \
                        .mark("query-export")
        self.results = ui.column().classes("w-full")

    def input_widget(self, inp: QueryInput) -> Any:
        f = self.entity.any_field(inp.field)
        caption = self.input_label(inp) + (" *" if inp.required else "")
        widget = inp.widget
        if widget == "auto" and f is not None:
            widget = {"category": "category", "bool": "bool", "int": "number", "decimal": "number",
                      "date": "date_range" if inp.op == "between" else "date",
                      "datetime": "date_range" if inp.op == "between" else "date"}.get(f.type, "text")
            if f.type == "link":
                widget = "select"
        if widget == "date_range" or inp.op == "between":
            kind = "date" if widget in ("date_range", "date") else "number"
            with ui.column().classes("gap-0 hl-range-input"):
                ui.label(caption).classes("text-caption text-grey-8")
                with ui.row().classes("gap-1 items-end no-wrap"):
                    lo = ui.input(t("query.from")).props(f"dense stack-label type={kind}")
                    hi = ui.input(t("query.to")).props(f"dense stack-label type={kind}")
            return (lo, hi)
        if widget == "category" and f is not None:
            tree = self.ctx.platform.metadata.categories.get(f.category or "")
            multiple = inp.op == "in"
            options = category_options(tree, language=self.ctx.language)
            empty: Any = [] if multiple else None
            w = ui.select(options, label=caption, multiple=multiple, clearable=True, with_input=True,
                          value=inp.default if inp.default is not None else empty)
            return w.props("dense use-chips" if multiple else "dense").classes("min-w-[12rem]")
        if widget == "select" and f is not None and f.type == "link":
            return link_select(self.ctx, f, caption, value=inp.default).props("dense").classes("min-w-[12rem]")
        if widget == "bool":
            return ui.select({True: t("app.yes"), False: t("app.no")}, label=caption, clearable=True,
                             value=inp.default).props("dense")
        if widget == "number":
            return ui.number(caption, value=inp.default).props("dense")
        return ui.input(caption, value=inp.default or "").props("dense clearable")

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, w in self.inputs.items():
            out[name] = (w[0].value or None, w[1].value or None) if isinstance(w, tuple) else w.value
        return out

    async def reset(self) -> None:
        for w in self.inputs.values():
            for element in (w if isinstance(w, tuple) else (w,)):
                element.value = [] if isinstance(element.value, list) else None
        self.results.clear()

    async def fetch(self) -> Any:
        """Run the query with the inputs' values on a worker thread (the designer's preview runs a draft)."""
        return await run.io_bound(run_query, self.ctx.platform, self.ctx.actor, self.query.name, self.values(),
                                  page=self.page_no)

    async def run(self, first: bool = False) -> None:
        if first:
            self.page_no = 1
        for w in self.inputs.values():
            if not isinstance(w, tuple) and hasattr(w, "error"):
                w.error = None
        try:
            self.result = await self.fetch()
        except QueryInputError as exc:
            for name, key in exc.errors.items():
                w = self.inputs.get(name)
                inp = self.query.input(name)
                text = t(key, input=self.input_label(inp) if inp else name)
                if w is not None and not isinstance(w, tuple) and hasattr(w, "error"):
                    w.error = text
                else:
                    ui.notify(text, type="negative")
            return
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        if self.result is not None and self.result.pivot is not None:  # linked titles come from the database
            shown = await run.io_bound(self.pivot_cells, self.result.pivot)
            if shown is None:  # the app is shutting down
                return
            self.pivot_shown = shown
        self.show_result()

    def show_result(self) -> None:
        result = self.result
        self.results.clear()
        if result is None:
            return
        with self.results:
            ui.label(t("query.results")).classes("text-subtitle2")
            if result.pivot is not None:
                self.show_pivot(result.pivot)
            elif result.page is not None:
                self.show_page()

    def show_page(self) -> None:
        assert self.result is not None and self.result.page is not None
        page = self.result.page
        columns = self.query.columns
        rows = format_rows(self.ctx, self.entity, columns, page.rows)
        cols = [{"name": c, "field": c, "align": "left",
                 "label": label(f.label if (f := self.entity.any_field(c)) else None, c)} for c in columns]
        table = ui.table(columns=cols, rows=rows, row_key="id").classes("w-full result-table") \
            .props(f'flat bordered dense hide-pagination no-data-label="{t("query.no_results")}"')
        table.pagination = {"rowsPerPage": 0}
        if self.query.form:
            form = self.query.form
            table.on("row-click", lambda e: self.ctx.open(
                "record", form, record_id=int((e.args[1] if isinstance(e.args, list) else e.args)["id"])))
        with ui.row().classes("items-center"):
            ui.button(icon="chevron_left", on_click=lambda: self.goto(self.page_no - 1)) \
                .props("flat dense").set_enabled(self.page_no > 1)
            ui.label(t("list.page", page=page.page, pages=page.pages))
            ui.button(icon="chevron_right", on_click=lambda: self.goto(self.page_no + 1)) \
                .props("flat dense").set_enabled(page.page < page.pages)
            ui.label(t("list.rows_capped", count=page.total) if page.capped else t("list.rows", count=page.total)) \
                .classes("text-caption result-count")

    async def goto(self, page: int) -> None:
        self.page_no = max(1, page)
        await self.run()

    def pivot_cells(self, table: PivotTable) -> tuple[list[str], list[str], list[list[Any]]]:
        """Row labels, column labels and the grid with totals (as the screen and the export show them)."""
        p = self.query.pivot
        assert p is not None
        ctx = self.ctx
        metadata = ctx.platform.metadata
        rf, cf = self.entity.any_field(p.rows), self.entity.any_field(p.columns)

        def titles(f: EntityField | None, keys: list[Any]) -> dict[Any, str] | None:
            """Linked records' titles (a city's name, not its code)."""
            if f is None or f.type != "link" or not f.link:
                return None
            return ctx.platform.records.titles(ctx.actor, f.link, f.link_key or "id", keys)

        row_titles, col_titles = titles(rf, table.row_keys), titles(cf, table.column_keys)
        row_labels = [show(rf, k, metadata, row_titles, ctx.language) or "—" for k in table.row_keys]
        col_labels = [show(cf, k, metadata, col_titles, ctx.language) or "—" for k in table.column_keys]
        grid: list[list[Any]] = []
        for rk in table.row_keys:
            cells = [_num(table.cell(rk, ck)) for ck in table.column_keys]
            grid.append([*cells, _num(table.row_total(rk))] if table.measure != "avg" else cells)
        if table.measure != "avg":
            grid.append([_num(table.column_total(ck)) for ck in table.column_keys] +
                        [_num(sum(table.row_total(rk) for rk in table.row_keys))])
            row_labels = [*row_labels, translate(ctx.language, "query.total")]
            col_labels = [*col_labels, translate(ctx.language, "query.total")]
        return row_labels, col_labels, grid

    def show_pivot(self, table: PivotTable) -> None:
        p = self.query.pivot
        assert p is not None
        row_labels, col_labels, grid = self.pivot_shown
        rf = self.entity.any_field(p.rows)
        cols = [{"name": "_row", "field": "_row", "label": label(rf.label if rf else None, p.rows), "align": "left"}]
        cols += [{"name": f"c{i}", "field": f"c{i}", "label": c, "align": "right"} for i, c in enumerate(col_labels)]
        rows = [{"_row": r, **{f"c{i}": v for i, v in enumerate(cells)}} for r, cells in zip(row_labels, grid,
                                                                                            strict=False)]
        ui.table(columns=cols, rows=rows, row_key="_row").classes("w-full pivot-table") \
            .props(f'flat bordered dense hide-pagination no-data-label="{t("query.no_results")}"') \
            .pagination = {"rowsPerPage": 0}
        if self.query.chart and table.row_keys:
            kind = "line" if self.query.chart.type == "line" else "bar"
            n_rows = len(table.row_keys)
            series = [{"name": col_labels[i], "type": kind, "stack": "total",
                       "data": [grid[r][i] for r in range(n_rows)]} for i in range(len(table.column_keys))]
            ui.echart({"tooltip": {}, "legend": {}, "xAxis": {"type": "category", "data": row_labels[:n_rows]},
                       "yAxis": {"type": "value"}, "series": series}).classes("w-full h-64 query-chart")

    async def export(self) -> None:
        if not self.ctx.actor.has("export"):  # the button is shown only with it; refused on the server anyway
            ui.notify(t("errors.forbidden"), type="negative")
            return
        if self.result is None:
            await self.run(first=True)
        result = self.result
        if result is None:
            return
        data: bytes | None
        if result.pivot is not None:
            row_labels, col_labels, grid = self.pivot_shown
            data = workbook_bytes(self.query.name, ["", *col_labels],
                                  ([r, *cells] for r, cells in zip(row_labels, grid, strict=False)))
        else:
            listing = ListQuery(entity=self.entity.name, where=result.where, sort=sort_keys(self.query.sort or ["-id"]))
            data = await run.io_bound(export_workbook, self.ctx, self.entity, self.query.columns, listing)
        if data is not None:
            ui.download.content(data, f"{self.query.name}.xlsx", media_type=XLSX)


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(float(value), 2)
