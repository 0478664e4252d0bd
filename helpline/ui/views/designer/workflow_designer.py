"""The workflow designer (``/designer/workflow/<name>``): a process's settings, its states and transitions
as forms, and the process drawn as a graph.

Each state is an expandable row (its label, name, kind and the problems inside it with the ids ``run.py
check`` prints); opened it edits the label per language, the kind (open, waiting, closed), whether the
service-level clock runs, and — optionally — which fields each role may edit while a record is in it.
States can be added, renamed (the transitions, the initial state and ``state_map`` follow:
:mod:`helpline.services.designer.workflow_ops`) and removed. Transitions are edited in
:mod:`.workflow_transition`. The graph (:mod:`.workflow_graph`) is redrawn after every change; clicking a
state opens it. When the draft drops states records of the live process are still in, a panel says how
many and offers ``state_map`` entries (publishing would be refused otherwise; the frame shows that
refusal too, :mod:`.workflow_held`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from nicegui import events, run, ui

from helpline.metadata.kinds import Entity
from helpline.services.designer import workflow_ops as ops

from ...i18n import label, t
from .editor import Editor, register
from .widgets import label_inputs
from .workflow_graph import flags, mermaid, shown
from .workflow_transition import TransitionForm

Path = tuple[str | int, ...]


class FormHelpers:
    """Widgets that write one property of a mapping and save the draft (shared with the transition form)."""

    frame: Any

    async def commit(self, *, structural: bool = False, open_item: str | None = None) -> None:
        raise NotImplementedError

    async def put(self, holder: dict[str, Any], key: str, value: Any, *, keep_empty: bool = False) -> None:
        if value in (None, "", []) and not keep_empty:
            if key not in holder:
                return
            holder.pop(key)
        elif holder.get(key) == value:
            return
        else:
            holder[key] = value
        await self.commit()

    def choice(self, holder: dict[str, Any], key: str, path: Path, caption: str, options: dict[str, str] | list[str],
               *, marker: str, multiple: bool = False, free: bool = False, clearable: bool = True,
               on_change: Callable[[Any], Any] | None = None) -> ui.select:
        value = holder.get(key)
        opts = dict(options) if isinstance(options, dict) else {o: o for o in options}
        if multiple:
            values = [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value else [])
            for v in values:
                opts.setdefault(v, v)
        else:
            values = None  # type: ignore[assignment]
            if value not in (None, ""):
                opts.setdefault(str(value), str(value))

        async def changed(e: events.ValueChangeEventArguments[Any]) -> None:
            if on_change is not None:
                await on_change(e.value)
                return
            await self.put(holder, key, list(e.value or []) if multiple else e.value)

        select = ui.select(opts, label=caption, value=values if multiple else (str(value) if value not in
                                                                                (None, "") else None),
                           multiple=multiple, clearable=clearable, on_change=changed,
                           new_value_mode="add-unique" if free else None) \
            .props("dense use-chips" if multiple else "dense").classes("min-w-[12rem]").mark(marker)
        self.frame.error_slot(*path)
        return select

    def text(self, holder: dict[str, Any], key: str, path: Path, caption: str, *, marker: str,
             area: bool = False) -> None:
        value = str(holder.get(key) or "")
        widget: ui.input | ui.textarea
        if area:
            widget = ui.textarea(caption, value=value).props("dense outlined autogrow") \
                .classes("w-full font-mono")
        else:
            widget = ui.input(caption, value=value).props("dense").classes("min-w-[12rem]")
        widget.mark(marker)

        async def blur(_: Any = None) -> None:
            await self.put(holder, key, (widget.value or "").strip())

        widget.on("blur", blur)
        self.frame.error_slot(*path)


@register
class WorkflowDesigner(Editor, FormHelpers):
    kind: ClassVar[str] = "workflow"
    icon: ClassVar[str] = "alt_route"

    @classmethod
    def template(cls, name: str) -> dict[str, Any]:
        return {"kind": "workflow", "name": name, "label": {"en": name}, "entity": "work_order",
                "state_field": "status", "applies": "record.type == suggestion", "initial": "new",
                "states": [{"name": "new", "label": {"en": "New", "zh_CN": "新建"}},
                           {"name": "closed", "label": {"en": "Closed", "zh_CN": "已闭环"}, "kind": "closed"}],
                "transitions": [{"name": "close", "label": {"en": "Close", "zh_CN": "闭环"}, "from": ["new"],
                                 "to": "closed", "roles": ["supervisor"]}]}

    # ----------------------------------------------------------------------------------- layout
    def render(self) -> None:
        mset = self.frame.ctx.platform.metadata
        self.roles = {n: f"{label(r.label, n)} ({n})" if r.label else n for n, r in sorted(mset.roles.items())}
        self.entity: Entity | None = mset.entities.get(str(self.data.get("entity") or ""))
        self.fields = ({f.name: f"{label(f.label, f.name)} ({f.name})" for f in self.entity.fields if not f.retired}
                       if self.entity else {})
        self.expansions: dict[str, ui.expansion] = {}
        # the graph first: beside the forms on a wide screen, above them when they do not fit side by side
        with ui.row().classes("w-full gap-3 items-start"):
            with ui.column().classes("grow basis-0 min-w-[24rem] gap-1"):
                ui.label(t("designer.workflow.graph")).classes("text-subtitle1")
                ui.label(t("designer.workflow.graph_help")).classes("text-caption text-grey-8")
                self.graph = ui.mermaid(self.graph_text(), on_node_click=self.graph_click) \
                    .classes("w-full border rounded").mark("wf-graph")
                self.graph.on("error", self.redraw)
                self.redraws = 0
            with ui.column().classes("grow basis-0 min-w-[26rem] gap-1"):
                with ui.expansion(t("designer.workflow.settings"), icon="settings").classes("w-full") \
                        .props("dense").mark("wf-settings"):
                    self.render_settings()
                self.held = ui.column().classes("w-full gap-1").mark("wf-held")
                ui.label(t("designer.workflow.states")).classes("text-subtitle1")
                for i, state in enumerate(self.data.get("states") or []):
                    if isinstance(state, dict):
                        self.render_state(i, state)
                self.render_add_state()
                ui.label(t("designer.workflow.transitions")).classes("text-subtitle1 q-mt-md")
                for i, tr in enumerate(self.data.get("transitions") or []):
                    if isinstance(tr, dict):
                        TransitionForm(self, i, tr).render()
                self.render_add_transition()
        ui.timer(0, self.show_held, once=True)

    def render_settings(self) -> None:
        mset = self.frame.ctx.platform.metadata
        label_inputs(self.frame, self.data, (), "label", marker="wf-label")
        with ui.row().classes("w-full gap-2"):
            with ui.column().classes("gap-0"):
                self.choice(self.data, "entity", ("entity",), t("designer.workflow.entity"),
                            sorted(mset.entities), marker="wf-entity", clearable=False,
                            on_change=self.change_entity)
            with ui.column().classes("gap-0"):
                self.choice(self.data, "state_field", ("state_field",), t("designer.workflow.state_field"),
                            self.fields, marker="wf-state_field", clearable=False)
            with ui.column().classes("gap-0"):
                self.choice(self.data, "initial", ("initial",), t("designer.workflow.initial"),
                            ops.state_names(self.data), marker="wf-initial", clearable=False)
            with ui.column().classes("gap-0"):
                async def order(e: events.ValueChangeEventArguments[Any]) -> None:
                    await self.put(self.data, "order", None if e.value is None else int(e.value))
                ui.number(t("designer.workflow.order"), value=self.data.get("order"), precision=0,
                          on_change=order).props("dense").classes("w-28").mark("wf-order")
                self.frame.error_slot("order")
        self.text(self.data, "applies", ("applies",), t("designer.workflow.applies"), marker="wf-applies",
                  area=True)
        ui.label(t("designer.workflow.applies_help")).classes("text-caption text-grey-8")

    async def change_entity(self, value: Any) -> None:
        if value and value != self.data.get("entity"):
            self.data["entity"] = value
            await self.commit(structural=True)

    # ----------------------------------------------------------------------------------- states
    def render_state(self, i: int, state: dict[str, Any]) -> None:
        name = str(state.get("name") or "")
        kind = str(state.get("kind") or "open")
        with ui.expansion().classes("w-full border rounded").props("dense").mark(f"wf-state-{name}") as expansion:
            self.expansions[f"state:{name}"] = expansion
            with expansion.add_slot("header"), ui.column().classes("w-full gap-0"):
                with ui.row().classes("items-baseline gap-2"):
                    ui.label(shown(state.get("label"), name)).classes("text-weight-bold")
                    ui.label(name).classes("font-mono text-caption")
                    ui.badge(t(f"designer.workflow.kind.{kind}") if kind in ops.STATE_KINDS else kind,
                             color={"waiting": "amber-8", "closed": "green-8"}.get(kind, "blue-8")).props("outline")
                    if name == self.data.get("initial"):
                        ui.badge(t("designer.workflow.initial_badge")).props("outline color=grey-8")
                self.frame.error_slot("states", i)
            with ui.column().classes("w-full gap-1"):
                self.render_state_body(i, state)

    def render_state_body(self, i: int, state: dict[str, Any]) -> None:
        name = str(state.get("name") or "")
        path: Path = ("states", i)
        with ui.row().classes("w-full items-end gap-2"):
            rename = ui.input(t("designer.workflow.rename"), value=name).props("dense").classes("w-40") \
                .mark(f"wf-state-{name}-name")
            ui.button(icon="drive_file_rename_outline",
                      on_click=lambda w=rename: self.rename_state(name, (w.value or "").strip())) \
                .props("flat dense").mark(f"wf-state-{name}-rename").tooltip(t("designer.workflow.rename"))
            ui.button(icon="delete", on_click=lambda: self.remove_state(name)).props("flat dense color=negative") \
                .mark(f"wf-state-{name}-remove").tooltip(t("designer.workflow.remove"))
        self.frame.error_slot(*path, "name", exact=True)
        label_inputs(self.frame, state, path, "label", marker=f"wf-state-{name}-label")
        with ui.row().classes("w-full gap-2"):
            with ui.column().classes("gap-0"):
                self.choice(state, "kind", (*path, "kind"), t("designer.workflow.state_kind"),
                            {k: t(f"designer.workflow.kind.{k}") for k in ops.STATE_KINDS},
                            marker=f"wf-state-{name}-kind", clearable=False,
                            on_change=lambda v: self.set_kind(state, v))
            with ui.column().classes("gap-0"):
                clock = state.get("clock")
                options = {"default": t("designer.workflow.clock.default"), "yes": t("designer.workflow.clock.yes"),
                           "no": t("designer.workflow.clock.no")}

                async def set_clock(e: events.ValueChangeEventArguments[Any]) -> None:
                    value = {"yes": True, "no": False}.get(str(e.value))
                    await self.put(state, "clock", value)
                    self.refresh_graph()
                ui.select(options, label=t("designer.workflow.clock"), on_change=set_clock,
                          value="default" if clock is None else ("yes" if clock else "no")) \
                    .props("dense").classes("min-w-[14rem]").mark(f"wf-state-{name}-clock")
                self.frame.error_slot(*path, "clock")
        self.render_edit_rights(i, state)

    async def set_kind(self, state: dict[str, Any], value: Any) -> None:
        if value == "open":
            state.pop("kind", None)
        else:
            state["kind"] = value
        await self.commit(structural=True, open_item=f"state:{state.get('name')}")

    def render_edit_rights(self, i: int, state: dict[str, Any]) -> None:
        name = str(state.get("name") or "")
        edit = state.get("edit")

        async def limit(e: events.ValueChangeEventArguments[Any]) -> None:
            if e.value and not isinstance(state.get("edit"), dict):
                state["edit"] = {}
            elif not e.value:
                state.pop("edit", None)
            await self.commit(structural=True, open_item=f"state:{name}")

        ui.checkbox(t("designer.workflow.edit_limited"), value=isinstance(edit, dict), on_change=limit) \
            .mark(f"wf-state-{name}-edit-limited")
        if not isinstance(edit, dict):
            ui.label(t("designer.workflow.edit_unlimited")).classes("text-caption text-grey-8")
            return
        ui.label(t("designer.workflow.edit_help")).classes("text-caption text-grey-8")
        fields = {"*": t("designer.workflow.every_field"), **self.fields}
        for role in list(edit):
            with ui.row().classes("w-full items-end gap-2 no-wrap"):
                ui.label(self.roles.get(str(role), str(role))).classes("w-40")
                with ui.column().classes("grow gap-0"):
                    self.choice(edit, str(role), ("states", i, "edit", str(role)), t("designer.workflow.fields"),
                                fields, marker=f"wf-state-{name}-edit-{role}", multiple=True,
                                on_change=self.edit_setter(edit, str(role)))
                ui.button(icon="close", on_click=lambda r=role: self.drop_edit(name, edit, r)) \
                    .props("flat dense").mark(f"wf-state-{name}-edit-{role}-remove")
        free = {r: text for r, text in self.roles.items() if r not in edit}
        if free:
            with ui.row().classes("items-end gap-2"):
                pick = ui.select(free, label=t("designer.workflow.add_role")).props("dense").classes("w-48") \
                    .mark(f"wf-state-{name}-edit-new")
                ui.button(icon="add", on_click=lambda: self.add_edit(name, edit, pick.value)).props("flat dense") \
                    .mark(f"wf-state-{name}-edit-add")

    def edit_setter(self, edit: dict[str, Any], role: str) -> Callable[[Any], Any]:
        async def setter(value: Any) -> None:
            edit[role] = list(value or [])
            await self.commit()
        return setter

    async def drop_edit(self, name: str, edit: dict[str, Any], role: str) -> None:
        edit.pop(role, None)
        await self.commit(structural=True, open_item=f"state:{name}")

    async def add_edit(self, name: str, edit: dict[str, Any], role: Any) -> None:
        if role and role not in edit:
            edit[str(role)] = []
            await self.commit(structural=True, open_item=f"state:{name}")

    def render_add_state(self) -> None:
        with ui.row().classes("w-full items-end gap-2 q-mt-sm"):
            name = ui.input(t("designer.workflow.new_state")).props("dense").classes("w-44").mark("wf-new-state-name")
            kind = ui.select({k: t(f"designer.workflow.kind.{k}") for k in ops.STATE_KINDS}, value="open",
                             label=t("designer.workflow.state_kind")).props("dense").classes("w-36") \
                .mark("wf-new-state-kind")
            ui.button(t("designer.workflow.add_state"), icon="add",
                      on_click=lambda: self.add_state((name.value or "").strip(), str(kind.value))) \
                .props("outline dense").mark("wf-add-state")

    async def add_state(self, name: str, kind: str) -> None:
        why = ops.check_name(ops.state_names(self.data), name)
        if why is not None:
            ui.notify(t(f"designer.workflow.name_{why}", name=name), type="warning")
            return
        ops.add_state(self.data, name, kind)
        await self.commit(structural=True, open_item=f"state:{name}")

    async def rename_state(self, old: str, new: str) -> None:
        if new == old:
            return
        why = ops.check_name(ops.state_names(self.data), new)
        if why is not None:
            ui.notify(t(f"designer.workflow.name_{why}", name=new), type="warning")
            return
        count = ops.rename_state(self.data, old, new)
        ui.notify(t("designer.workflow.renamed", old=old, new=new, count=count), type="info")
        await self.commit(structural=True, open_item=f"state:{new}")

    async def remove_state(self, name: str) -> None:
        left = ops.remove_state(self.data, name)
        if left:
            ui.notify(t("designer.workflow.removed_dangling", name=name, transitions=", ".join(left)),
                      type="warning")
        await self.commit(structural=True)

    # ----------------------------------------------------------------------------------- transitions
    def render_add_transition(self) -> None:
        states = ops.state_names(self.data)
        with ui.row().classes("w-full items-end gap-2 q-mt-sm"):
            name = ui.input(t("designer.workflow.new_transition")).props("dense").classes("w-40") \
                .mark("wf-new-transition-name")
            source = ui.select(states, label=t("designer.workflow.from")).props("dense").classes("w-36") \
                .mark("wf-new-transition-from")
            target = ui.select(states, label=t("designer.workflow.to")).props("dense").classes("w-36") \
                .mark("wf-new-transition-to")
            ui.button(t("designer.workflow.add_transition"), icon="add",
                      on_click=lambda: self.add_transition((name.value or "").strip(), source.value, target.value)) \
                .props("outline dense").mark("wf-add-transition")

    async def add_transition(self, name: str, source: Any, target: Any) -> None:
        existing = [str(tr.get("name")) for tr in ops.transitions_of(self.data)]
        why = ops.check_name(existing, name)
        if why is not None:
            ui.notify(t(f"designer.workflow.name_{why}", name=name), type="warning")
            return
        roles = ["supervisor"] if "supervisor" in self.roles else list(self.roles)[:1]
        ops.add_transition(self.data, name, str(source or ""), str(target or ""), roles)
        await self.commit(structural=True, open_item=f"transition:{name}")

    # ----------------------------------------------------------------------------------- graph
    def graph_text(self) -> str:
        ids: dict[str, list[str]] = {}
        for i, state in enumerate(ops.states_of(self.data)):
            found = self.frame.problems.at("states", i)
            if found:
                ids[str(state.get("name"))] = [p.id for p in found]
        return mermaid(self.data, flags(self.data, ids))

    def refresh_graph(self) -> None:
        if not self.graph.is_deleted:
            self.graph.set_content(self.graph_text())

    def redraw(self) -> None:
        """Draw again after the browser failed to lay the graph out (it happens on a busy page load)."""
        if self.redraws < 2 and not self.graph.is_deleted:
            self.redraws += 1
            self.graph.set_content(f"{self.graph_text()}%% {self.redraws}\n")

    def graph_click(self, e: events.MermaidNodeClickEventArguments) -> None:
        names = [str(s.get("name")) for s in ops.states_of(self.data)]
        if e.node_id.startswith("s") and e.node_id[1:].isdigit() and int(e.node_id[1:]) < len(names):
            expansion = self.expansions.get(f"state:{names[int(e.node_id[1:])]}")
            if expansion is not None:
                expansion.open()

    # ----------------------------------------------------------------------------------- held states
    async def show_held(self) -> None:
        """The states records of the live process are in that this draft drops, with where they go."""
        held = await run.io_bound(ops.held_states, self.frame.name, dict(self.data))
        if held is None or self.held.is_deleted:  # None: the server is shutting down
            return
        self.held.clear()
        if not held:
            return
        states = ops.state_names(self.data)
        with self.held, ui.card().classes("w-full bg-orange-1").props("flat bordered"):
            ui.label(t("designer.workflow.held.title")).classes("text-subtitle2 text-negative")
            ui.label(t("designer.workflow.held.help")).classes("text-caption")
            targets: dict[str, ui.select] = {}
            for state, count in held:
                with ui.row().classes("w-full items-end gap-2 no-wrap"):
                    ui.label(t("designer.workflow.held.row", state=state, count=count)).classes("grow") \
                        .mark(f"wf-held-{state}")
                    targets[state] = ui.select(states, label=t("designer.workflow.held.to")).props("dense") \
                        .classes("w-44").mark(f"wf-held-{state}-to")

            async def apply() -> None:
                ops.map_states(self.data, {s: str(w.value or "") for s, w in targets.items()})
                await self.commit(structural=True)

            ui.button(t("designer.workflow.held.map"), icon="merge", on_click=apply).props("outline dense") \
                .mark("wf-held-map")

    # ----------------------------------------------------------------------------------- changes
    async def commit(self, *, structural: bool = False, open_item: str | None = None) -> None:
        """Save the draft and check it, then redraw the graph (and the form after a structural change,
        keeping the open states and transitions open, and ``open_item`` too)."""
        await self.frame.changed()
        if not structural:
            self.refresh_graph()
            await self.show_held()
            return
        opened = {n for n, e in self.expansions.items() if e.value} | ({open_item} if open_item else set())
        self.frame.rerender()
        editor = self.frame.editor
        if isinstance(editor, WorkflowDesigner):
            for key in opened:
                if key in editor.expansions:
                    editor.expansions[key].open()
