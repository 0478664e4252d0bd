"""The query designer's result section (columns or a 2-D layout, sort, page size, chart) and its "run":
the draft of the query run with the designer's own permissions, before it is published.

"Run" takes the metadata with the author's drafts applied (:meth:`DesignerFrame.preview`), builds the
query screen exactly as agents will see it (:class:`~helpline.ui.views.query_view.QueryView`) and runs it
through :func:`~helpline.services.designer.query_ops.run_query_object`: the record service applies the
author's row scope, field masks and audit, as for any query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import run, ui

from helpline.metadata.kinds import Query
from helpline.security.actor import PermissionDenied
from helpline.services.designer.query_ops import (
    CHARTS,
    GROUPABLE,
    MEASURES,
    NUMBERS,
    DraftQueryError,
    draft_query_of,
    field_choices,
    run_query_object,
)

from ...i18n import t
from ..base import ViewContext
from ..query_view import QueryView

if TYPE_CHECKING:
    from .query_designer import QueryEditor


# ------------------------------------------------------------------------------------ result layout
def result_section(editor: QueryEditor) -> None:
    """Table of records (columns, sort, page size) or 2-D table (rows, columns, measure), and the chart."""
    data = editor.data
    shape = "pivot" if data.get("pivot") is not None else "table"

    async def set_shape(e: Any) -> None:
        if e.value == shape:
            return
        entity = editor.entity
        if e.value == "pivot":
            groupable = list(field_choices(entity, GROUPABLE))
            data.pop("columns", None)
            data.pop("sort", None)
            data.pop("page_size", None)
            data["pivot"] = {"rows": groupable[0] if groupable else "",
                             "columns": groupable[1] if len(groupable) > 1 else ""}
        else:
            data.pop("pivot", None)
            title = entity.title_field if entity is not None else None
            data["columns"] = [title or next(iter(field_choices(entity)), "id")]
        await editor.changed(rerender=True)

    ui.radio({"table": t("designer.query.shape.table"), "pivot": t("designer.query.shape.pivot")}, value=shape,
             on_change=set_shape).props("inline dense").mark("designer-query-shape")
    if shape == "pivot":
        pivot_section(editor)
    else:
        table_section(editor)
    chart_section(editor)
    editor.frame.error_slot("columns", exact=True)


def table_section(editor: QueryEditor) -> None:
    data, language = editor.data, editor.language
    columns = [str(c) for c in data.get("columns") or []]
    options = field_choices(editor.entity, language=language)
    for c in columns:
        options.setdefault(c, c)

    async def set_columns(e: Any) -> None:
        data["columns"] = list(e.value or [])
        await editor.changed()

    ui.select(options, label=t("designer.query.columns"), value=columns, multiple=True, with_input=True,
              on_change=set_columns).props("dense use-chips").classes("w-full").mark("designer-query-columns")
    editor.frame.error_slot("columns")
    sort_options: dict[str, str] = {}
    for name, caption in field_choices(editor.entity, language=language).items():
        sort_options[name] = f"{caption} ↑"
        sort_options[f"-{name}"] = f"{caption} ↓"
    sort = [str(s) for s in data.get("sort") or []]
    for s in sort:
        sort_options.setdefault(s, s)

    async def set_sort(e: Any) -> None:
        value = list(e.value or [])
        if value:
            data["sort"] = value
        else:
            data.pop("sort", None)
        await editor.changed()

    async def set_page_size(e: Any) -> None:
        value = int(e.value) if e.value not in (None, "") else None
        if value is None or value == 50:
            data.pop("page_size", None)
        else:
            data["page_size"] = value
        await editor.changed()

    with ui.row().classes("w-full items-start gap-3"):
        with ui.column().classes("grow gap-0"):
            ui.select(sort_options, label=t("designer.query.sort"), value=sort, multiple=True, clearable=True,
                      on_change=set_sort).props("dense use-chips").classes("w-full").mark("designer-query-sort")
            editor.frame.error_slot("sort")
        with ui.column().classes("gap-0"):
            ui.number(t("designer.query.page_size"), value=data.get("page_size", 50), min=1, max=500, step=1,
                      on_change=set_page_size).props("dense debounce=500").classes("w-32") \
                .mark("designer-query-page-size")
            editor.frame.error_slot("page_size")


def pivot_section(editor: QueryEditor) -> None:
    pivot: dict[str, Any] = editor.data["pivot"] if isinstance(editor.data.get("pivot"), dict) else {}
    editor.data["pivot"] = pivot
    language = editor.language

    def pick(key: str, types: tuple[str, ...], *, clearable: bool = False) -> None:
        async def set_value(e: Any) -> None:
            if e.value in (None, ""):
                pivot.pop(key, None)
            else:
                pivot[key] = e.value
            await editor.changed(rerender=key == "measure")

        with ui.column().classes("gap-0"):
            options = field_choices(editor.entity, types, language=language, keep=pivot.get(key))
            ui.select(options, label=t(f"designer.query.pivot.{key}"), value=pivot.get(key) or None,
                      clearable=clearable, with_input=True, on_change=set_value).props("dense").classes("w-56") \
                .mark(f"designer-query-pivot-{key}")
            editor.frame.error_slot("pivot", key)

    with ui.row().classes("w-full items-start gap-3"):
        pick("rows", GROUPABLE)
        pick("columns", GROUPABLE)
        with ui.column().classes("gap-0"):
            async def set_measure(e: Any) -> None:
                if e.value == "count":
                    pivot.pop("measure", None)
                    pivot.pop("of", None)
                else:
                    pivot["measure"] = e.value
                await editor.changed(rerender=True)

            ui.select({m: t(f"designer.query.measure.{m}") for m in MEASURES}, label=t("designer.query.pivot.measure"),
                      value=pivot.get("measure", "count"), on_change=set_measure).props("dense").classes("w-36") \
                .mark("designer-query-pivot-measure")
            editor.frame.error_slot("pivot", "measure")
        if pivot.get("measure", "count") != "count":
            pick("of", NUMBERS)
    editor.frame.error_slot("pivot", exact=True)


def chart_section(editor: QueryEditor) -> None:
    data = editor.data
    chart = data.get("chart") if isinstance(data.get("chart"), dict) else None

    async def toggle(e: Any) -> None:
        if e.value:
            data["chart"] = {"type": "bar"}
        else:
            data.pop("chart", None)
        await editor.changed(rerender=True)

    async def set_type(e: Any) -> None:
        data["chart"] = {"type": e.value or "bar"}
        await editor.changed()

    with ui.row().classes("items-center gap-3"):
        ui.checkbox(t("designer.query.chart"), value=chart is not None, on_change=toggle) \
            .mark("designer-query-chart")
        if chart is not None:
            ui.select({c: t(f"designer.query.chart.{c}") for c in CHARTS}, value=chart.get("type", "bar"),
                      on_change=set_type).props("dense").classes("w-32").mark("designer-query-chart-type")
        ui.label(t("designer.query.chart_help")).classes("text-caption text-grey-7")
    editor.frame.error_slot("chart")


# ------------------------------------------------------------------------------------ run the draft
class DraftQueryView(QueryView):
    """The query screen of a draft query: the same inputs and results, run from the draft definition."""

    async def fetch(self) -> Any:
        return await run.io_bound(run_query_object, self.ctx.platform, self.ctx.actor, self.query, self.values(),
                                  page=self.page_no)


class PreviewPanel:
    """"Run" of the draft: the query screen as drafted, in place, with the author's permissions."""

    def __init__(self, editor: QueryEditor) -> None:
        self.editor = editor
        ui.label(t("designer.query.run_help")).classes("text-caption text-grey-8")
        ui.button(t("designer.query.run"), icon="play_arrow", on_click=self.open).props("outline") \
            .mark("designer-query-run")
        self.area = ui.column().classes("w-full").mark("designer-query-preview")

    async def open(self) -> None:
        frame = self.editor.frame
        self.area.clear()
        try:
            preview = await run.io_bound(frame.preview)
            if preview is None:  # the app is shutting down
                return
            query: Query = draft_query_of(frame.ctx.platform, preview[0], preview[1], frame.name)
        except DraftQueryError as exc:
            with self.area:
                ui.label(t(exc.key, **exc.params)).classes("text-negative").mark("designer-query-run-refused")
            return
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        ctx = frame.ctx
        view_ctx = ViewContext(platform=ctx.platform, actor=ctx.actor, open=ctx.open, language=ctx.language)
        with self.area:
            DraftQueryView(view_ctx, query)
