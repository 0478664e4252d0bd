"""One transition in the workflow designer: an expandable row whose header names the action, its
from-states and to-state and the problems inside it, and whose body edits every property — label, from
(several), to, roles (several, from the live roles), the guard (a rule checked as the draft is saved:
problems with their ``HL-R…`` ids right under it), the guard's message, the required fields (from the
entity's fields), whether a comment is required, the assignment on entry, the effects and the
confirmation question. Renaming and removing it are here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import events, ui

from helpline.services.designer import workflow_ops as ops

from ...i18n import label, t
from .widgets import label_inputs
from .workflow_graph import shown

if TYPE_CHECKING:
    from .workflow_designer import WorkflowDesigner

Path = tuple[str | int, ...]


class TransitionForm:
    def __init__(self, designer: WorkflowDesigner, index: int, tr: dict[str, Any]) -> None:
        self.d, self.i, self.tr = designer, index, tr
        self.name = str(tr.get("name") or "")
        self.path: Path = ("transitions", index)
        self.mark = f"wf-transition-{self.name}"

    def render(self) -> None:
        tr, d = self.tr, self.d
        with ui.expansion().classes("w-full border rounded").props("dense").mark(self.mark) as expansion:
            d.expansions[f"transition:{self.name}"] = expansion
            with expansion.add_slot("header"), ui.column().classes("w-full gap-0"):
                with ui.row().classes("items-baseline gap-2"):
                    ui.label(shown(tr.get("label"), self.name)).classes("text-weight-bold")
                    ui.label(self.name).classes("font-mono text-caption")
                    ui.label(f"{', '.join(ops.sources(tr))} → {tr.get('to') or '?'}").classes(
                        "text-caption text-grey-8")
                d.frame.error_slot(*self.path)
            with ui.column().classes("w-full gap-1"):
                self.body()

    def body(self) -> None:
        tr, d, path, mark = self.tr, self.d, self.path, self.mark
        states = ops.state_names(d.data)
        with ui.row().classes("w-full items-end gap-2"):
            rename = ui.input(t("designer.workflow.rename"), value=self.name).props("dense").classes("w-40") \
                .mark(f"{mark}-name")
            ui.button(icon="drive_file_rename_outline", on_click=lambda: self.rename((rename.value or "").strip())) \
                .props("flat dense").mark(f"{mark}-rename").tooltip(t("designer.workflow.rename"))
            ui.button(icon="delete", on_click=self.remove).props("flat dense color=negative") \
                .mark(f"{mark}-remove").tooltip(t("designer.workflow.remove"))
        d.frame.error_slot(*path, "name", exact=True)
        label_inputs(d.frame, tr, path, "label", marker=f"{mark}-label")
        with ui.row().classes("w-full gap-2"):
            with ui.column().classes("gap-0"):
                d.choice(tr, "from", (*path, "from"), t("designer.workflow.from"), states, marker=f"{mark}-from",
                         multiple=True, free=True, on_change=self.structural("from", listed=True))
            with ui.column().classes("gap-0"):
                d.choice(tr, "to", (*path, "to"), t("designer.workflow.to"), states, marker=f"{mark}-to",
                         free=True, clearable=False, on_change=self.structural("to"))
        with ui.column().classes("w-full gap-0"):
            d.choice(tr, "roles", (*path, "roles"), t("designer.workflow.roles"), d.roles, marker=f"{mark}-roles",
                     multiple=True, on_change=self.plain("roles", listed=True))
        d.text(tr, "guard", (*path, "guard"), t("designer.workflow.guard"), marker=f"{mark}-guard", area=True)
        ui.label(t("designer.workflow.guard_help")).classes("text-caption text-grey-8")
        ui.label(t("designer.workflow.guard_message")).classes("text-caption q-mt-xs")
        label_inputs(d.frame, tr, path, "guard_message", marker=f"{mark}-guard_message")
        with ui.row().classes("w-full gap-2 items-end"):
            with ui.column().classes("grow gap-0"):
                d.choice(tr, "require", (*path, "require"), t("designer.workflow.require"), d.fields,
                         marker=f"{mark}-require", multiple=True)

            async def comment(e: events.ValueChangeEventArguments[Any]) -> None:
                await d.put(tr, "comment", "required" if e.value else None)
            ui.checkbox(t("designer.workflow.comment_required"), value=tr.get("comment") == "required",
                        on_change=comment).mark(f"{mark}-comment")
        ui.label(t("designer.workflow.confirm")).classes("text-caption q-mt-xs")
        label_inputs(d.frame, tr, path, "confirm", marker=f"{mark}-confirm")
        self.assignment()
        self.effects()

    # ---------------------------------------------------------------------------------- helpers
    def structural(self, key: str, *, listed: bool = False) -> Any:
        """A setter that rebuilds the form (the header shows from → to, the graph's arrows move)."""
        async def setter(value: Any) -> None:
            value = [str(v) for v in value or []] if listed else value
            if self.tr.get(key) == value:
                return
            self.tr[key] = value
            await self.d.commit(structural=True, open_item=f"transition:{self.name}")
        return setter

    def plain(self, key: str, *, listed: bool = False) -> Any:
        async def setter(value: Any) -> None:
            await self.d.put(self.tr, key, [str(v) for v in value or []] if listed else value, keep_empty=listed)
        return setter

    async def rename(self, new: str) -> None:
        if new == self.name:
            return
        why = ops.check_name([str(tr.get("name")) for tr in ops.transitions_of(self.d.data)], new)
        if why is not None:
            ui.notify(t(f"designer.workflow.name_{why}", name=new), type="warning")
            return
        ops.rename_transition(self.d.data, self.name, new)
        await self.d.commit(structural=True, open_item=f"transition:{new}")

    async def remove(self) -> None:
        ops.remove_transition(self.d.data, self.name)
        await self.d.commit(structural=True)

    # ---------------------------------------------------------------------------------- assignment
    def assignment(self) -> None:
        tr, d, path, mark = self.tr, self.d, (*self.path, "assign"), f"{self.mark}-assign"
        assign = tr.get("assign") if isinstance(tr.get("assign"), dict) else None
        ui.label(t("designer.workflow.assign")).classes("text-caption q-mt-xs")
        options = {"": t("designer.workflow.assign_to.none"),
                   **{k: t(f"designer.workflow.assign_to.{k}") for k in ops.ASSIGN_TO}}

        async def kind(e: events.ValueChangeEventArguments[Any]) -> None:
            if not e.value:
                tr.pop("assign", None)
            else:
                tr["assign"] = {"to": e.value}
            await d.commit(structural=True, open_item=f"transition:{self.name}")

        with ui.row().classes("w-full gap-2 items-end"):
            ui.select(options, value=str(assign.get("to") or "") if assign else "", on_change=kind,
                      label=t("designer.workflow.assign_kind")).props("dense").classes("w-52").mark(mark)
            if assign is None:
                return
            to = assign.get("to")
            departments = d.frame.ctx.platform.metadata.categories.get("department")
            codes = {n.code: f"{label(n.label, n.code)} ({n.code})" for n in departments.nodes} if departments else {}
            with ui.column().classes("gap-0"):
                if to == "department":
                    d.choice(assign, "department", (*path, "department"), t("designer.workflow.assign_department"),
                             codes, marker=f"{mark}-department")
            with ui.column().classes("gap-0"):
                if to == "department":
                    d.choice(assign, "field", (*path, "field"), t("designer.workflow.assign_field"), d.fields,
                             marker=f"{mark}-field")
                elif to == "role":
                    d.choice(assign, "role", (*path, "role"), t("designer.workflow.assign_role"), d.roles,
                             marker=f"{mark}-role")
            if to == "role":
                with ui.column().classes("gap-0"):
                    d.choice(assign, "region_field", (*path, "region_field"), t("designer.workflow.region_field"),
                             d.fields, marker=f"{mark}-region_field")
        d.frame.error_slot(*path, exact=True)
        if assign.get("to") == "rule":
            d.text(assign, "rule", (*path, "rule"), t("designer.workflow.assign_rule"), marker=f"{mark}-rule",
                   area=True)
            ui.label(t("designer.workflow.assign_rule_help")).classes("text-caption text-grey-8")

    # ---------------------------------------------------------------------------------- effects
    def effects(self) -> None:
        tr, d, mark = self.tr, self.d, f"{self.mark}-effect"
        raw = tr.get("effects")
        effects: list[Any] = raw if isinstance(raw, list) else []
        ui.label(t("designer.workflow.effects")).classes("text-caption q-mt-xs")
        recipients = {r: t(f"designer.workflow.recipient.{r}") for r in ops.RECIPIENTS}
        recipients.update({f"role:{r}": f"{t('designer.workflow.recipient.role')} {text}"
                           for r, text in d.roles.items()})
        for k, effect in enumerate(effects):
            path = (*self.path, "effects", k)
            if not isinstance(effect, dict):
                continue
            with ui.row().classes("w-full items-end gap-2 no-wrap border-l-4 q-pl-sm"):
                with ui.column().classes("grow gap-0"):
                    if isinstance(effect.get("set"), dict):
                        self.set_effect(effect["set"], path, f"{mark}-{k}")
                    elif "notify" in effect:
                        d.choice(effect, "notify", (*path, "notify"), t("designer.workflow.effect.notify"),
                                 recipients, marker=f"{mark}-{k}-notify", multiple=True, free=True,
                                 on_change=self.notify_setter(effect))
                    else:
                        ui.label(t("designer.workflow.effect.callback")).mark(f"{mark}-{k}-callback")
                        d.frame.error_slot(*path)
                ui.button(icon="close", on_click=lambda k=k: self.drop_effect(k)).props("flat dense") \
                    .mark(f"{mark}-{k}-remove")
        with ui.row().classes("items-end gap-2"):
            kinds = {k: t(f"designer.workflow.effect.{k}") for k in ("set", "notify", "callback")}
            pick = ui.select(kinds, value="set", label=t("designer.workflow.effect.kind")).props("dense") \
                .classes("w-56").mark(f"{mark}-new")
            ui.button(icon="add", on_click=lambda: self.add_effect(str(pick.value))).props("flat dense") \
                .mark(f"{mark}-add").tooltip(t("designer.workflow.effect.add"))

    def set_effect(self, values: dict[str, Any], path: Path, mark: str) -> None:
        d = self.d
        for field, value in list(values.items()):
            with ui.row().classes("items-end gap-2 no-wrap"):
                ui.label(d.fields.get(str(field), str(field))).classes("w-44")
                widget = ui.input(t("designer.workflow.effect.value"),
                                  value="null" if value is None else str(value)).props("dense").classes("w-40") \
                    .mark(f"{mark}-{field}")

                async def blur(_: Any = None, f: str = str(field), w: ui.input = widget) -> None:
                    text = (w.value or "").strip()
                    new = None if text in ("", "null") else text
                    if values.get(f) != new:
                        values[f] = new
                        await d.commit()
                widget.on("blur", blur)
                ui.button(icon="close", on_click=lambda f=field: self.drop_set(values, f)).props("flat dense") \
                    .mark(f"{mark}-{field}-remove")
            d.frame.error_slot(*path, "set", str(field))
        with ui.row().classes("items-end gap-2"):
            free = {f: text for f, text in d.fields.items() if f not in values}
            pick = ui.select(free, label=t("designer.workflow.effect.field")).props("dense").classes("w-44") \
                .mark(f"{mark}-new-field")
            ui.button(icon="add", on_click=lambda: self.add_set(values, pick.value)).props("flat dense") \
                .mark(f"{mark}-add-field")
        ui.label(t("designer.workflow.effect.value_help")).classes("text-caption text-grey-8")

    async def add_set(self, values: dict[str, Any], field: Any) -> None:
        if field and field not in values:
            values[str(field)] = "now"
            await self.d.commit(structural=True, open_item=f"transition:{self.name}")

    async def drop_set(self, values: dict[str, Any], field: str) -> None:
        values.pop(field, None)
        await self.d.commit(structural=True, open_item=f"transition:{self.name}")

    def notify_setter(self, effect: dict[str, Any]) -> Any:
        async def setter(value: Any) -> None:
            effect["notify"] = [str(v) for v in value or []]
            await self.d.commit()
        return setter

    async def add_effect(self, kind: str) -> None:
        effect: dict[str, Any] = {"set": {}} if kind == "set" else {"notify": ["assignee"]} if kind == "notify" \
            else {"callback": True}
        self.tr.setdefault("effects", []).append(effect)
        await self.d.commit(structural=True, open_item=f"transition:{self.name}")

    async def drop_effect(self, k: int) -> None:
        effects = self.tr.get("effects") or []
        if 0 <= k < len(effects):
            effects.pop(k)
        if not effects:
            self.tr.pop("effects", None)
        await self.d.commit(structural=True, open_item=f"transition:{self.name}")
