"""The category designer: a tree of codes (types, customer categories, tiers, not-ready reasons, ...).

Add, rename (labels per language), move (another parent), reorder (up/down among siblings), retire and
restore codes; delete a code only while it exists in the draft alone (a published code may be on records:
retire it instead); change the tree's label and whether only leaves are selectable. The tree can be
exported to Excel and imported back (:mod:`helpline.services.designer.category_excel`): a file with bad
rows is refused with their row numbers and the draft stays as it was. Every change is saved in the
author's draft and checked live by the frame (problems such as ``HL-E213`` show under their code).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from nicegui import events, run, ui

from helpline.metadata.kinds import LANGUAGES
from helpline.services.designer.category_excel import (
    MAX_BYTES,
    XLSX,
    CategoryImportError,
    RowError,
    export_tree,
    read_tree,
)
from helpline.services.imports.report import error_workbook

from ...i18n import t
from .editor import Editor, register
from .widgets import label_inputs, labels_of


def on_commit(widget: ui.element, handler: Callable[[], Awaitable[Any]]) -> None:
    """Run ``handler`` when the user leaves ``widget`` or presses Enter in it."""
    widget.on("blur", handler)
    widget.on("keydown.enter", handler)


def error_text(error: RowError) -> str:
    """One import problem as the designer shows it: "Row 4: ..."."""
    text = t(error.key, **error.params)
    return t("designer.category.excel.row", row=error.row, text=text) if error.row is not None else text


@register
class CategoryEditor(Editor):
    kind = "category"
    icon = "account_tree"

    @classmethod
    def template(cls, name: str) -> dict[str, Any]:
        return {"kind": "category", "name": name, "label": {"en": name}, "nodes": []}

    # ------------------------------------------------------------------------------------ helpers
    @property
    def nodes(self) -> list[dict[str, Any]]:
        found = self.data.get("nodes")
        if not isinstance(found, list):
            found = self.data["nodes"] = []
        return found

    def live_codes(self) -> set[str]:
        """Codes of the published tree: records may hold them, so they can be retired but not deleted."""
        tree = self.frame.ctx.platform.metadata.categories.get(self.frame.name)
        return tree.codes() if tree is not None else set()

    def descendants(self, code: str) -> set[str]:
        found: set[str] = set()
        todo = [code]
        while todo:
            current = todo.pop()
            for n in self.nodes:
                child = str(n.get("code"))
                if n.get("parent") == current and child not in found and child != code:
                    found.add(child)
                    todo.append(child)
        return found

    def ordered(self) -> list[tuple[int, int]]:
        """(index in ``nodes``, depth) in tree order; nodes whose parent is unknown (or in a loop) last."""
        out: list[tuple[int, int]] = []
        placed: set[int] = set()

        def walk(parent: str | None, depth: int) -> None:
            for i, n in enumerate(self.nodes):
                if i not in placed and (n.get("parent") or None) == parent:
                    placed.add(i)
                    out.append((i, depth))
                    if n.get("code"):
                        walk(str(n["code"]), depth + 1)

        walk(None, 0)
        out += [(i, 0) for i in range(len(self.nodes)) if i not in placed]
        return out

    def caption(self, node: dict[str, Any]) -> str:
        return f"{labels_of(node.get('label'), self.frame.ctx.language)} ({node.get('code')})"

    # ------------------------------------------------------------------------------------ form
    def render(self) -> None:
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(t("designer.category.tree")).classes("text-subtitle1")
            label_inputs(self.frame, self.data, (), marker="designer-category-label")

            async def set_selectable(e: Any) -> None:
                if e.value == self.data.get("selectable", "any"):
                    return
                if e.value == "any":
                    self.data.pop("selectable", None)
                else:
                    self.data["selectable"] = e.value
                await self.changed()

            choices = {v: t(f"designer.category.selectable.{v}") for v in ("any", "leaves")}
            ui.select(choices, label=t("designer.category.selectable"), value=self.data.get("selectable", "any"),
                      on_change=set_selectable).props("dense").classes("w-72").mark("designer-category-selectable")
            self.frame.error_slot("selectable")
        with ui.card().classes("w-full").props("flat bordered"):
            with ui.row().classes("w-full items-center gap-2"):
                ui.label(t("designer.category.codes", count=len(self.nodes))).classes("text-subtitle1")
                ui.space()
                self.excel_tools()
            self.import_errors = ui.column().classes("w-full gap-0").mark("designer-category-import-errors")
            live = self.live_codes()
            for i, depth in self.ordered():
                self.render_node(i, depth, live)
            self.frame.error_slot("nodes", exact=True)
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(t("designer.category.add")).classes("text-subtitle1")
            self.render_add()

    def render_node(self, i: int, depth: int, live: set[str]) -> None:
        node = self.nodes[i]
        code = str(node.get("code") or "")
        parent = node.get("parent") or None
        siblings = [j for j, n in enumerate(self.nodes) if (n.get("parent") or None) == parent]
        retired = bool(node.get("retired"))
        classes = "w-full gap-0 q-py-xs" + (" text-grey-6" if retired else "")
        with ui.column().classes(classes).style(f"padding-left: {depth * 1.5}rem") \
                .mark(f"designer-category-node-{code}"):
            with ui.row().classes("w-full no-wrap items-start gap-2"):
                with ui.column().classes("w-36 gap-0"):
                    if code in live:
                        ui.label(code).classes("font-mono text-weight-medium q-pt-sm"
                                               + (" text-strike" if retired else ""))
                    else:
                        self.code_input(node)
                    self.frame.error_slot("nodes", i, "code")
                with ui.column().classes("w-48 gap-0"):
                    self.parent_select(node)
                    self.frame.error_slot("nodes", i, "parent")
                ui.space()
                position = siblings.index(i) if i in siblings else 0
                ui.button(icon="arrow_upward", on_click=lambda: self.reorder(node, -1)).props("flat dense round") \
                    .mark(f"designer-category-{code}-up").set_enabled(position > 0)
                ui.button(icon="arrow_downward", on_click=lambda: self.reorder(node, 1)).props("flat dense round") \
                    .mark(f"designer-category-{code}-down").set_enabled(position < len(siblings) - 1)
                ui.button(icon="restore" if retired else "block", on_click=lambda: self.toggle_retired(node)) \
                    .props("flat dense round").mark(f"designer-category-{code}-retire") \
                    .tooltip(t("designer.category.restore" if retired else "designer.category.retire"))
                if code not in live:
                    ui.button(icon="delete", on_click=lambda: self.delete(node)) \
                        .props("flat dense round color=negative") \
                        .mark(f"designer-category-{code}-delete").tooltip(t("designer.category.delete"))
            label_inputs(self.frame, node, ("nodes", i), marker=f"designer-category-{code}-label")
        self.frame.error_slot("nodes", i, exact=True)

    def code_input(self, node: dict[str, Any]) -> None:
        """A code that is not published yet can still be corrected (its children follow)."""
        old = str(node.get("code") or "")
        widget = ui.input(t("designer.category.code"), value=old).props("dense").classes("w-40") \
            .mark(f"designer-category-{old}-code")

        async def commit() -> None:
            new = (widget.value or "").strip()
            if new == old:
                return
            node["code"] = new
            for n in self.nodes:
                if n.get("parent") == old:
                    n["parent"] = new
            await self.changed(rerender=True)

        on_commit(widget, commit)

    def parent_select(self, node: dict[str, Any]) -> None:
        code = str(node.get("code") or "")
        excluded = self.descendants(code) | {code}
        options: dict[str, str] = {"": t("designer.category.top")}
        options.update({str(n["code"]): self.caption(n) for n in self.nodes
                        if n.get("code") and n["code"] not in excluded})
        current = str(node.get("parent") or "")
        options.setdefault(current, current)

        async def move(e: Any) -> None:
            target = e.value or ""
            if target == str(node.get("parent") or ""):
                return
            if target in excluded:
                ui.notify(t("designer.category.move_loop"), type="warning")
                return
            self.nodes.remove(node)
            if target:
                node["parent"] = target
            else:
                node.pop("parent", None)
            self.nodes.append(node)  # last among its new siblings
            await self.changed(rerender=True)

        ui.select(options, label=t("designer.category.parent"), value=current, with_input=True, on_change=move) \
            .props("dense").classes("w-48").mark(f"designer-category-{code}-parent")

    # ------------------------------------------------------------------------------------ actions
    def position(self, node: dict[str, Any]) -> int | None:
        """Where ``node`` is in the list now (by identity: the widget that asks may be from before an edit)."""
        return next((i for i, n in enumerate(self.nodes) if n is node), None)

    async def reorder(self, node: dict[str, Any], step: int) -> None:
        i = self.position(node)
        if i is None:
            return
        parent = node.get("parent") or None
        siblings = [j for j, n in enumerate(self.nodes) if (n.get("parent") or None) == parent]
        k = siblings.index(i) + step
        if 0 <= k < len(siblings):
            j = siblings[k]
            self.nodes[i], self.nodes[j] = self.nodes[j], self.nodes[i]
            await self.changed(rerender=True)

    async def toggle_retired(self, node: dict[str, Any]) -> None:
        if self.position(node) is None:
            return
        if node.get("retired"):
            node.pop("retired", None)
        else:
            node["retired"] = True
        await self.changed(rerender=True)

    async def delete(self, node: dict[str, Any]) -> None:
        i = self.position(node)
        if i is None:
            return
        code = str(node.get("code") or "")
        if code in self.live_codes():
            ui.notify(t("designer.category.delete_live"), type="warning")
            return
        if code and any(n.get("parent") == code for n in self.nodes):
            ui.notify(t("designer.category.delete_children"), type="warning")
            return
        self.nodes.pop(i)
        await self.changed(rerender=True)

    def render_add(self) -> None:
        with ui.row().classes("w-full items-end gap-2"):
            code = ui.input(t("designer.category.code")).props("dense").classes("w-40") \
                .mark("designer-category-new-code")
            labels = {lang: ui.input(t(f"designer.label.{lang}")).props("dense").classes("w-48")
                      .mark(f"designer-category-new-label-{lang}") for lang in LANGUAGES}
            options = {"": t("designer.category.top")}
            options.update({str(n["code"]): self.caption(n) for n in self.nodes if n.get("code")})
            parent = ui.select(options, label=t("designer.category.parent"), value="", with_input=True) \
                .props("dense").classes("w-56").mark("designer-category-new-parent")

            async def add() -> None:
                new = (code.value or "").strip()
                texts = {lang: (w.value or "").strip() for lang, w in labels.items() if (w.value or "").strip()}
                if not new:
                    ui.notify(t("designer.category.code_needed"), type="warning")
                    return
                if any(n.get("code") == new for n in self.nodes):
                    ui.notify(t("designer.category.code_exists", code=new), type="warning")
                    return
                node: dict[str, Any] = {"code": new, "label": texts or {"en": new}}
                if parent.value:
                    node["parent"] = parent.value
                self.nodes.append(node)
                await self.changed(rerender=True)

            ui.button(t("designer.category.add_code"), icon="add", on_click=add).props("outline dense") \
                .mark("designer-category-add")

    # ------------------------------------------------------------------------------------ Excel
    def excel_tools(self) -> None:
        def download() -> None:
            ui.download.content(export_tree(self.data), f"{self.frame.name}.xlsx", media_type=XLSX)

        ui.button(t("designer.category.export"), icon="download", on_click=download).props("outline dense") \
            .mark("designer-category-export")
        ui.upload(label=t("designer.category.import"), auto_upload=True, max_file_size=MAX_BYTES,
                  on_upload=self.imported, on_rejected=lambda: ui.notify(t("designer.category.excel.too_big",
                                                                           mb=MAX_BYTES // 1_000_000))) \
            .props('dense flat bordered no-thumbnails accept=".xlsx"').classes("w-56").style("max-height: 6rem") \
            .mark("designer-category-import")

    async def imported(self, e: events.UploadEventArguments) -> None:
        content = await e.file.read()
        keep = list(self.nodes)
        tree = self.frame.ctx.platform.metadata.categories.get(self.frame.name)
        if tree is not None:
            keep += [{"code": c} for c in tree.codes()]
        self.import_errors.clear()
        try:
            nodes = await run.io_bound(read_tree, content, keep)
        except CategoryImportError as exc:
            with self.import_errors:
                ui.label(t("designer.category.excel.refused", name=e.file.name)).classes("text-negative")
                for error in exc.errors:
                    ui.label(error_text(error)).classes("text-caption text-negative") \
                        .mark("designer-category-import-error")
                report = exc.report
                if report is not None and report.rejected_rows:  # the import engine's error workbook
                    ui.button(t("imports.errors"), icon="download", on_click=lambda: ui.download.content(
                        error_workbook(report), f"{Path(e.file.name).stem}-rejected.xlsx", media_type=XLSX)) \
                        .props("dense flat").mark("designer-category-import-rejected")
            ui.notify(t("designer.category.excel.refused", name=e.file.name), type="negative")
            return
        if nodes is None:
            return
        self.data["nodes"] = nodes
        ui.notify(t("designer.category.excel.imported", count=len(nodes)), type="positive")
        await self.changed(rerender=True)
