"""The IVR flow designer: the flow's settings, its nodes as a list, its prompts, the drawn graph and a test
call on the draft.

Each node is an expandable row whose header names it, its type and the problems inside it (HL-E301
unknown node, HL-E307 unreachable node ... with the ids ``run.py check`` prints); its body has one widget
per property the node type takes (node references and prompts as choices, menu keys as a small table,
rule texts as text areas, durations as ``5s``), each with its problems beside it. Nodes can be added,
renamed (every reference in the flow follows, :mod:`helpline.services.designer.ivr_ops`), retyped and
removed. The graph (:mod:`.ivr_graph`) is redrawn after every change, with unreachable nodes and dangling
references coloured; clicking a node opens it in the list. "Test call" opens the IVR console on the
author's drafts (:class:`~helpline.ui.views.ivr_console.IvrConsole` with the draft metadata set): nothing
is published and live callers keep the live flow.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from nicegui import events, run, ui
from pydantic.fields import FieldInfo

from helpline.metadata.ivr_checks import ivrs_of, queue_names
from helpline.metadata.kinds.ivr import DTMF_KEYS, NODE_MODELS
from helpline.services import prompts as prompt_files
from helpline.services.designer import ivr_ops as ops

from ...i18n import t
from ..ivr_console import IvrConsole
from .editor import Editor, register
from .ivr_graph import flags, mermaid
from .widgets import label_inputs

Save = Callable[[Any], Awaitable[None]]
LANGUAGES = ("zh_CN", "en")
_SKIPPED = {"type", "params"}


def _parts(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without ``None``, whether ``None`` was allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), len(args) < len(typing.get_args(annotation))
    return annotation, False


@register
class IvrDesigner(Editor):
    kind: ClassVar[str] = "ivr"
    icon: ClassVar[str] = "account_tree"

    @classmethod
    def template(cls, name: str) -> dict[str, Any]:
        return {
            "kind": "ivr", "name": name, "label": {"en": name}, "start": "answer",
            "prompts": {"welcome": {"file": "helpline/welcome", "text": {"en": "Welcome."}}},
            "nodes": {"answer": {"type": "answer", "next": "greeting"},
                      "greeting": {"type": "play", "prompts": ["welcome"], "next": "goodbye"},
                      "goodbye": {"type": "hangup"}},
        }

    # ----------------------------------------------------------------------------------- layout
    def render(self) -> None:
        self.queues = sorted(queue_names(self.frame.ctx.platform.metadata))
        self.expansions: dict[str, ui.expansion] = {}
        self.bodies: dict[str, ui.column] = {}
        with ui.row().classes("w-full items-center gap-2"):
            ui.button(t("designer.ivr.test_call"), icon="call", on_click=self.test_call) \
                .props("outline").mark("ivr-test-call")
            ui.label(t("designer.ivr.test_call_help")).classes("text-caption text-grey-8")
        with ui.expansion(t("designer.ivr.settings"), icon="settings").classes("w-full").props("dense"):
            self.render_settings()
        with ui.row().classes("w-full no-wrap gap-3 items-start"):
            with ui.column().classes("w-5/12 min-w-0 gap-1"):
                ui.label(t("designer.ivr.nodes")).classes("text-subtitle1")
                for name, node in ops.nodes_of(self.data).items():
                    self.render_node(name, node)
                self.render_add_node()
                ui.label(t("designer.ivr.prompts")).classes("text-subtitle1 q-mt-md")
                self.render_prompts()
            with ui.column().classes("w-7/12 min-w-0 gap-1"):
                ui.label(t("designer.ivr.graph")).classes("text-subtitle1")
                ui.label(t("designer.ivr.graph_help")).classes("text-caption text-grey-8")
                self.graph = ui.mermaid(self.graph_text(), on_node_click=self.graph_click) \
                    .classes("w-full border rounded").mark("ivr-graph")
                self.graph.on("error", self.redraw)
                self.redraws = 0

    def render_settings(self) -> None:
        label_inputs(self.frame, self.data, (), "label", marker="ivr-label")
        with ui.row().classes("w-full gap-2"):
            for key in ops.FLOW_ENTRIES:
                with ui.column().classes("gap-0"):
                    self.node_select(self.data, key, (key,), required=key == "start",
                                     label=t(f"designer.ivr.flow.{key}"), marker=f"ivr-flow-{key}")
        with ui.row().classes("w-full gap-2"):
            numbers = ", ".join(str(n) for n in self.data.get("access_numbers") or [])
            with ui.column().classes("gap-0"):
                self.text_input(self.data, "access_numbers", ("access_numbers",), t("designer.ivr.flow.access_numbers"),
                                numbers, convert=lambda s: [n.strip() for n in s.split(",") if n.strip()],
                                marker="ivr-flow-access_numbers")
            with ui.column().classes("gap-0"):
                self.choice(self.data, "language", ("language",), t("designer.ivr.flow.language"),
                            list(LANGUAGES), required=False)
            with ui.column().classes("gap-0"):
                self.text_input(self.data, "business_line", ("business_line",),
                                t("designer.ivr.flow.business_line"), str(self.data.get("business_line") or ""))
            with ui.column().classes("gap-0"):
                self.number(self.data, "max_steps", ("max_steps",), t("designer.ivr.flow.max_steps"))

    def render_node(self, name: str, node: dict[str, Any]) -> None:
        node_type = str(node.get("type") or "")
        with ui.expansion().classes("w-full border rounded").props("dense") \
                .mark(f"ivr-node-{name}") as expansion:
            self.expansions[name] = expansion
            with expansion.add_slot("header"), ui.column().classes("w-full gap-0"):
                with ui.row().classes("items-baseline gap-2"):
                    ui.label(name).classes("font-mono text-weight-bold")
                    ui.label(t(f"designer.ivr.type.{node_type}") if node_type in NODE_MODELS else node_type) \
                        .classes("text-caption text-grey-8")
                self.frame.error_slot("nodes", name)
            body = ui.column().classes("w-full gap-1")
        self.bodies[name] = body

        def fill(e: events.ValueChangeEventArguments[Any]) -> None:
            if e.value and not body.default_slot.children:
                with body:
                    self.render_node_body(name, node)

        expansion.on_value_change(fill)

    def render_node_body(self, name: str, node: dict[str, Any]) -> None:
        """The node's properties (built when the node is first opened: a flow has dozens of nodes)."""
        node_type = str(node.get("type") or "")
        with ui.row().classes("w-full items-end gap-2"):
            ui.select({k: t(f"designer.ivr.type.{k}") for k in NODE_MODELS}, label=t("designer.ivr.node_type"),
                      value=node_type if node_type in NODE_MODELS else None,
                      on_change=lambda e, n=name: self.retype(n, str(e.value))) \
                .props("dense").classes("w-40").mark(f"ivr-node-{name}-type")
            rename = ui.input(t("designer.ivr.rename"), value=name).props("dense").classes("w-40") \
                .mark(f"ivr-node-{name}-name")
            ui.button(icon="drive_file_rename_outline", on_click=lambda n=name, w=rename: self.rename(n, w.value)) \
                .props("flat dense").mark(f"ivr-node-{name}-rename").tooltip(t("designer.ivr.rename"))
            ui.button(icon="delete", on_click=lambda n=name: self.remove(n)).props("flat dense color=negative") \
                .mark(f"ivr-node-{name}-remove").tooltip(t("designer.ivr.remove"))
        model = NODE_MODELS.get(node_type)
        if model is None:
            return
        for key, info in model.model_fields.items():
            if key not in _SKIPPED:
                with ui.column().classes("w-full gap-0"):
                    self.field(name, node, key, info)
        if "params" in model.model_fields:
            ui.label(t("designer.ivr.params_in_yaml")).classes("text-caption text-grey-7")
            self.frame.error_slot("nodes", name, "params")

    def field(self, name: str, node: dict[str, Any], key: str, info: FieldInfo) -> None:
        path = ("nodes", name, key)
        annotation, optional = _parts(info.annotation)
        required = info.is_required()
        caption = t("designer.ivr.field.timeout_node" if key == "timeout" and node.get("type") == "transfer"
                    else f"designer.ivr.field.{key}")
        marker = f"ivr-node-{name}-{key}"
        if ops.is_node_key(node, key):
            self.node_select(node, key, path, required=required, label=caption, marker=marker)
        elif key in ops.PROMPT_KEYS:
            self.choice(node, key, path, caption, ops.prompt_names(self.data), required=required, marker=marker)
        elif key == "prompts":
            self.choice(node, key, path, caption, ops.prompt_names(self.data), required=True, marker=marker,
                        multiple=True)
        elif key == "choices":
            self.render_choices(name, node)
        elif key == "values":
            self.render_values(name, node)
        elif key in ("rules", "rule", "value"):
            self.text_input(node, key, path, caption, str(node.get(key) or ""), required=required, marker=marker,
                            area=key == "rules")
        elif typing.get_origin(annotation) is typing.Literal:
            self.choice(node, key, path, caption, [str(a) for a in typing.get_args(annotation)],
                        required=required and not optional, marker=marker)
        elif annotation is bool:
            async def toggle(e: events.ValueChangeEventArguments[Any], k: str = key) -> None:
                node[k] = bool(e.value)
                await self.commit()
            ui.checkbox(caption, value=bool(node.get(key, info.default)), on_change=toggle).mark(marker)
            self.frame.error_slot(*path)
        elif annotation is int:
            self.number(node, key, path, caption, marker=marker)
        else:
            self.text_input(node, key, path, caption, str(node.get(key) if node.get(key) is not None else ""),
                            required=required, marker=marker,
                            autocomplete=self.queues if key == "queue" else None,
                            hint=t("designer.ivr.duration_hint") if annotation is float else "")

    # ------------------------------------------------------------------------------------ widgets
    async def put(self, holder: dict[str, Any], key: str, value: Any, *, required: bool) -> None:
        if value in (None, "", []) and not required:
            if key not in holder:
                return
            holder.pop(key)
        elif holder.get(key) == value:
            return
        else:
            holder[key] = value
        await self.commit()

    def node_select(self, holder: dict[str, Any], key: str, path: tuple[str | int, ...], *, required: bool,
                    label: str, marker: str = "") -> None:
        names = list(ops.nodes_of(self.data))
        self.choice(holder, key, path, label, names, required=required, marker=marker, free=True)

    def choice(self, holder: dict[str, Any], key: str, path: tuple[str | int, ...], label: str,
               options: list[str], *, required: bool, marker: str = "", multiple: bool = False,
               free: bool = False) -> None:
        value = holder.get(key)
        values = [str(v) for v in value] if multiple and isinstance(value, list) else []
        current = None if multiple else (str(value) if value not in (None, "") else None)
        shown = list(dict.fromkeys([*options, *values, *([current] if current else [])]))

        async def changed(e: events.ValueChangeEventArguments[Any]) -> None:
            await self.put(holder, key, list(e.value or []) if multiple else e.value, required=required)

        select = ui.select(shown, label=label, value=values if multiple else current, multiple=multiple,
                           clearable=not required, on_change=changed,
                           new_value_mode="add-unique" if free else None).props("dense").classes("min-w-[10rem]")
        if marker:
            select.mark(marker)
        self.frame.error_slot(*path)

    def text_input(self, holder: dict[str, Any], key: str, path: tuple[str | int, ...], label: str, value: str, *,
                   required: bool = False, marker: str = "", area: bool = False,
                   convert: Callable[[str], Any] | None = None, autocomplete: list[str] | None = None,
                   hint: str = "") -> None:
        widget: ui.input | ui.textarea
        if area:
            widget = ui.textarea(label, value=value).props("dense outlined autogrow").classes("w-full font-mono")
        else:
            widget = ui.input(label, value=value, autocomplete=autocomplete).props("dense").classes("min-w-[10rem]")
        if hint:
            widget.props(f'hint="{hint}"')
        if marker:
            widget.mark(marker)

        async def blur(_: Any = None) -> None:
            text = (widget.value or "").strip() if not area else (widget.value or "")
            await self.put(holder, key, convert(text) if convert else text, required=required)

        widget.on("blur", blur)
        self.frame.error_slot(*path)

    def number(self, holder: dict[str, Any], key: str, path: tuple[str | int, ...], label: str, *,
               marker: str = "") -> None:
        async def changed(e: events.ValueChangeEventArguments[Any]) -> None:
            await self.put(holder, key, None if e.value is None else int(e.value), required=False)

        widget = ui.number(label, value=holder.get(key), precision=0, on_change=changed).props("dense") \
            .classes("w-28")
        if marker:
            widget.mark(marker)
        self.frame.error_slot(*path)

    def render_choices(self, name: str, node: dict[str, Any]) -> None:
        ui.label(t("designer.ivr.field.choices")).classes("text-caption q-mt-sm")
        raw = node.get("choices")
        choices: dict[Any, Any] = raw if isinstance(raw, dict) else {}
        for digit in list(choices):
            with ui.row().classes("items-end gap-2 no-wrap"):
                ui.select(list(DTMF_KEYS), label=t("designer.ivr.key"), value=str(digit) if str(digit) in DTMF_KEYS
                          else None, on_change=lambda e, d=digit: self.change_key(name, d, str(e.value))) \
                    .props("dense").classes("w-20").mark(f"ivr-choice-{name}-{digit}-key")
                with ui.column().classes("gap-0"):
                    self.node_select(choices, digit, ("nodes", name, "choices", digit), required=True,
                                     label=t("designer.ivr.goes_to"), marker=f"ivr-choice-{name}-{digit}")
                ui.button(icon="close", on_click=lambda d=digit: self.remove_key(name, d)) \
                    .props("flat dense").mark(f"ivr-choice-{name}-{digit}-remove")
        ui.button(t("designer.ivr.add_key"), icon="add", on_click=lambda: self.add_key(name)) \
            .props("flat dense no-caps").mark(f"ivr-choice-{name}-add")
        self.frame.error_slot("nodes", name, "choices", exact=True)

    def render_values(self, name: str, node: dict[str, Any]) -> None:
        ui.label(t("designer.ivr.field.values")).classes("text-caption q-mt-sm")
        raw = node.get("values")
        values: dict[str, Any] = raw if isinstance(raw, dict) else {}
        for var in list(values):
            with ui.row().classes("items-end gap-2 no-wrap"):
                ui.label(f"var.{var} =").classes("font-mono")
                with ui.column().classes("grow gap-0"):
                    self.text_input(values, var, ("nodes", name, "values", var), t("designer.ivr.expression"),
                                    str(values[var]), required=True, marker=f"ivr-value-{name}-{var}")
        with ui.row().classes("items-end gap-2"):
            new = ui.input(t("designer.ivr.variable")).props("dense").classes("w-40")

            async def add() -> None:
                var = (new.value or "").strip()
                if ops.NAME_PATTERN.match(var) and var not in values:
                    node["values"] = {**values, var: "true"}
                    await self.commit(structural=True, open_node=name)
            ui.button(icon="add", on_click=add).props("flat dense")

    def render_add_node(self) -> None:
        with ui.row().classes("w-full items-end gap-2 q-mt-sm"):
            name = ui.input(t("designer.ivr.new_node")).props("dense").classes("w-44").mark("ivr-new-node-name")
            kind = ui.select({k: t(f"designer.ivr.type.{k}") for k in NODE_MODELS}, value="play",
                             label=t("designer.ivr.node_type")).props("dense").classes("w-40") \
                .mark("ivr-new-node-type")
            ui.button(t("designer.ivr.add_node"), icon="add",
                      on_click=lambda: self.add_node((name.value or "").strip(), str(kind.value))) \
                .props("outline dense").mark("ivr-add-node")

    def render_prompts(self) -> None:
        raw = self.data.get("prompts")
        prompts: dict[str, Any] = raw if isinstance(raw, dict) else {}
        for pname, prompt in list(prompts.items()):
            if not isinstance(prompt, dict):
                continue
            with ui.card().classes("w-full q-pa-sm").props("flat bordered").mark(f"ivr-prompt-{pname}"):
                with ui.row().classes("w-full items-end gap-2 no-wrap"):
                    ui.label(pname).classes("font-mono text-weight-bold")
                    with ui.column().classes("grow gap-0"):
                        self.text_input(prompt, "file", ("prompts", pname, "file"), t("designer.ivr.file"),
                                        str(prompt.get("file") or ""), required=True,
                                        marker=f"ivr-prompt-{pname}-file")
                    ui.button(icon="record_voice_over", on_click=lambda p=pname: self.render_prompt(p)) \
                        .props("flat dense").tooltip(t("designer.ivr.render")).mark(f"ivr-prompt-{pname}-render")
                    ui.button(icon="delete", on_click=lambda p=pname: self.remove_prompt(p)) \
                        .props("flat dense color=negative").mark(f"ivr-prompt-{pname}-remove")
                label_inputs(self.frame, prompt, ("prompts", pname), "text", marker=f"ivr-prompt-{pname}-text")
        with ui.row().classes("items-end gap-2"):
            new = ui.input(t("designer.ivr.new_prompt")).props("dense").classes("w-44").mark("ivr-new-prompt")
            ui.button(t("designer.ivr.add_prompt"), icon="add", on_click=lambda: self.add_prompt(new.value or "")) \
                .props("outline dense").mark("ivr-add-prompt")

    # ------------------------------------------------------------------------------------ graph
    def graph_text(self) -> str:
        ids: dict[str, list[str]] = {}
        for name in ops.nodes_of(self.data):
            found = self.frame.problems.at("nodes", name)
            if found:
                ids[name] = [p.id for p in found]
        self.node_flags = flags(self.data, ids)
        return mermaid(self.data, self.node_flags)

    def refresh_graph(self) -> None:
        if not self.graph.is_deleted:
            self.graph.set_content(self.graph_text())

    def redraw(self) -> None:
        """Draw again after the browser failed to lay the graph out (it happens on a busy page load)."""
        if self.redraws < 2 and not self.graph.is_deleted:
            self.redraws += 1
            self.graph.set_content(f"{self.graph_text()}%% {self.redraws}\n")

    def graph_click(self, e: events.MermaidNodeClickEventArguments) -> None:
        names = list(ops.nodes_of(self.data))
        if e.node_id.startswith("n") and e.node_id[1:].isdigit() and int(e.node_id[1:]) < len(names):
            expansion = self.expansions.get(names[int(e.node_id[1:])])
            if expansion is not None:
                expansion.open()

    # ------------------------------------------------------------------------------------ changes
    async def commit(self, *, structural: bool = False, open_node: str | None = None) -> None:
        """Save the draft and check it, then redraw the graph (and the form after a structural change,
        keeping the nodes that were open open, and ``open_node`` too)."""
        await self.frame.changed()
        if not structural:
            self.refresh_graph()
            return
        opened = {n for n, e in self.expansions.items() if e.value} | ({open_node} if open_node else set())
        self.frame.rerender()
        editor = self.frame.editor
        if isinstance(editor, IvrDesigner):
            for name in opened:
                if name in editor.expansions:
                    editor.expansions[name].open()

    def _defaults(self) -> dict[str, Any]:
        nodes = ops.nodes_of(self.data)
        ending = next((n for n, v in nodes.items() if v.get("type") == "hangup"), None)
        prompts = ops.prompt_names(self.data)
        return {"node": ending or str(self.data.get("start") or next(iter(nodes), "")),
                "prompt": prompts[0] if prompts else None, "queue": self.queues[0] if self.queues else None,
                "flow": str(self.data.get("name") or self.frame.name)}

    async def add_node(self, name: str, node_type: str) -> None:
        why = ops.check_name(self.data, name)
        if why is not None:
            ui.notify(t(f"designer.ivr.name_{why}", name=name), type="warning")
            return
        ops.add_node(self.data, name, ops.node_template(node_type, **self._defaults()))
        await self.commit(structural=True, open_node=name)

    async def remove(self, name: str) -> None:
        left = ops.remove_node(self.data, name)
        if left:
            ui.notify(t("designer.ivr.removed_dangling", name=name, count=len(left)), type="warning")
        await self.commit(structural=True)

    async def rename(self, old: str, new: str) -> None:
        new = (new or "").strip()
        if new == old:
            return
        why = ops.check_name(self.data, new)
        if why is not None:
            ui.notify(t(f"designer.ivr.name_{why}", name=new), type="warning")
            return
        count = ops.rename_node(self.data, old, new)
        ui.notify(t("designer.ivr.renamed", old=old, new=new, count=count), type="info")
        await self.commit(structural=True, open_node=new)

    async def retype(self, name: str, node_type: str) -> None:
        nodes = self.data.get("nodes") or {}
        node = nodes.get(name)
        if not isinstance(node, dict) or node.get("type") == node_type or node_type not in NODE_MODELS:
            return
        nodes[name] = ops.change_type(node, node_type, ops.node_template(node_type, **self._defaults()))
        await self.commit(structural=True, open_node=name)

    async def change_key(self, name: str, old: Any, new: str) -> None:
        node = self.data["nodes"][name]
        choices: dict[Any, Any] = node.get("choices") or {}
        if str(old) == new:
            return
        if new in {str(k) for k in choices}:
            ui.notify(t("designer.ivr.key_taken", digit=new), type="warning")
            self.frame.rerender()
            return
        node["choices"] = {(new if k == old else k): v for k, v in choices.items()}
        await self.commit(structural=True, open_node=name)

    async def remove_key(self, name: str, digit: Any) -> None:
        node = self.data["nodes"][name]
        node.get("choices", {}).pop(digit, None)
        await self.commit(structural=True, open_node=name)

    async def add_key(self, name: str) -> None:
        node = self.data["nodes"][name]
        choices = node.setdefault("choices", {})
        free = next((k for k in DTMF_KEYS if k not in {str(c) for c in choices}), None)
        if free is None:
            return
        choices[free] = self._defaults()["node"]
        await self.commit(structural=True, open_node=name)

    async def add_prompt(self, name: str) -> None:
        name = name.strip()
        prompts = self.data.setdefault("prompts", {})
        if not ops.NAME_PATTERN.match(name) or name in prompts:
            ui.notify(t("designer.ivr.name_bad" if name not in prompts else "designer.ivr.name_exists", name=name),
                      type="warning")
            return
        prompts[name] = {"file": f"helpline/{name.replace('_', '-')}", "text": {"en": name}}
        await self.commit(structural=True)

    async def render_prompt(self, name: str) -> None:
        """Speak the prompt's texts as edited into Asterisk's sounds folder (``helpline.services.prompts``)."""
        prompt = (self.data.get("prompts") or {}).get(name)
        folder = prompt_files.sounds_dir()
        try:
            written = await run.io_bound(prompt_files.render_prompt, dict(prompt or {}), folder)
        except prompt_files.RenderError as exc:
            ui.notify(t("designer.ivr.render_failed", error=str(exc)), type="negative")
            return
        ui.notify(t("designer.ivr.rendered", count=len(written or []), folder=str(folder)), type="positive")

    async def remove_prompt(self, name: str) -> None:
        self.data.get("prompts", {}).pop(name, None)
        await self.commit(structural=True)

    # ------------------------------------------------------------------------------------ test call
    async def test_call(self) -> None:
        """The IVR console on the author's drafts (nothing is published; live callers keep the live flow)."""
        ctx = self.frame.ctx
        if not ctx.actor.has("ivr.console"):
            ui.notify(t("errors.forbidden"), type="negative")
            return
        preview = await run.io_bound(self.frame.preview)
        metadata = preview[0] if preview is not None else None
        if metadata is None or self.frame.name not in ivrs_of(metadata):
            ui.notify(t("designer.ivr.draft_broken"), type="negative")
            return
        with ui.dialog().props("maximized") as dialog, ui.card().classes("w-full").mark("ivr-test-dialog"):
            with ui.row().classes("w-full justify-end"):
                ui.button(icon="close", on_click=dialog.close).props("flat dense").mark("ivr-test-close")
            console = IvrConsole(ctx, metadata=metadata, flow=self.frame.name, draft=True)
        dialog.on("hide", console.hang_up)
        dialog.open()
