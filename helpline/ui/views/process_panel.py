"""A governed record's process on its form: the state, the actions this user may take now (a disabled one
shows its reason), the dialog an action needs (its required fields with the entity's widgets, a comment, a
confirmation), the service-level deadlines in the user's time zone, and the timeline of steps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from nicegui import run, ui

from helpline.data.base import centre_zone
from helpline.metadata.kinds.common import Label
from helpline.security.actor import PermissionDenied
from helpline.services.records import RecordNotFound, ValidationFailed
from helpline.services.workflow import ActionState, TransitionRefused
from helpline.services.workflow.process_view import ProcessView

from ..i18n import label, t, translate
from .base import ViewContext
from .widgets import FieldWidget, make_widget

_t = t

def user_zone(ctx: ViewContext) -> tzinfo:
    """The user's time zone (``time_zone`` of the context's parameters, else the centre's)."""
    try:
        return ZoneInfo(str(ctx.params["time_zone"])) if ctx.params.get("time_zone") else centre_zone()
    except (KeyError, ValueError):
        return centre_zone()


def local_time(value: datetime | None, zone: tzinfo) -> str:
    """A stored UTC time in ``zone`` (``YYYY-MM-DD HH:MM``)."""
    if value is None:
        return ""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def duration(seconds: float | None, language: str | None = None) -> str:
    """A span in the user's words: ``2 d 3 h``, ``1 h 5 min``, ``4 min`` (in ``language``, default the page's)."""
    if seconds is None:
        return ""
    t = partial(translate, language) if language else _t
    s = int(abs(seconds))
    days, hours, minutes = s // 86400, s % 86400 // 3600, s % 3600 // 60
    if days:
        return t("workflow.span.days", days=days, hours=hours)
    if hours:
        return t("workflow.span.hours", hours=hours, minutes=minutes)
    return t("workflow.span.minutes", minutes=max(minutes, 0 if s < 60 else 1))


def time_left(seconds: float, language: str | None = None) -> str:
    key = "workflow.overdue_by" if seconds < 0 else "workflow.left"
    span = duration(seconds, language)
    return translate(language, key, span=span) if language else _t(key, span=span)


def refusal_text(ctx: ViewContext, exc: TransitionRefused, state_label: Callable[[str], str]) -> str:
    """A refused transition in the user's language."""
    entity_fields = exc.params.get("fields") or []
    params = dict(exc.params)
    if entity_fields:
        params["fields"] = ", ".join(entity_fields)
    if "state" in params:
        params["state"] = state_label(str(params["state"]))
    text = t(exc.reason, **params)
    return text if text != exc.reason else str(exc)


class ProcessPanel:
    """Built by the form (``FormView``) for a record its process governs."""

    def __init__(self, ctx: ViewContext, entity: Any, record_id: int, view: ProcessView,
                 reload: Callable[[], Awaitable[None]], values: dict[str, Any]):
        self.ctx, self.entity, self.record_id, self.view = ctx, entity, record_id, view
        self.reload, self.values = reload, values
        self.zone = user_zone(ctx)

    def field_label(self, name: str) -> str:
        f = self.entity.any_field(name)
        return label(f.label, name) if f is not None else name

    def state_label(self, name: str) -> str:
        if name == self.view.state:
            return _lbl(self.view.state_label, name)
        for step in self.view.steps:
            for key in ("from", "to"):
                if step[f"{key}_state"] == name:
                    return _lbl(step[f"{key}_label"], name)
        return name

    # -- the bar under the title ------------------------------------------------------------------------
    def bar(self) -> None:
        view = self.view
        with ui.card().classes("w-full").props("flat bordered").mark("process-bar"):
            with ui.row().classes("w-full items-center gap-2"):
                ui.label(t("workflow.state")).classes("text-grey-8")
                color = {"closed": "grey-7", "waiting": "orange-8"}.get(view.state_kind, "primary")
                ui.badge(_lbl(view.state_label, view.state), color=color).classes("text-body2 q-px-sm") \
                    .mark("process-state")
                if view.department or view.assignee:
                    ui.label(self.assigned_text()).classes("text-grey-8 text-caption").mark("process-assigned")
                ui.space()
                for action in view.actions:
                    self.action_button(action)
                if not view.actions and view.state_kind != "closed":
                    ui.label(t("workflow.no_actions")).classes("text-grey-7 text-caption")
            if view.deadlines:
                with ui.row().classes("w-full items-center gap-4").mark("process-deadlines"):
                    for d in view.deadlines:
                        text = t(f"workflow.due.{d.target}", time=local_time(d.due, self.zone))
                        if d.met_at is not None:
                            state = t("workflow.met", time=local_time(d.met_at, self.zone))
                        else:
                            state = time_left(d.seconds_left)
                        ui.label(f"{text} · {state}").classes(
                            "text-negative text-weight-medium" if d.overdue else "text-grey-8") \
                            .mark(f"deadline-{d.target}" + ("-overdue" if d.overdue else ""))

    def assigned_text(self) -> str:
        view = self.view
        parts = []
        if view.department:
            tree = self.ctx.platform.metadata.categories.get("department")
            node = tree.node(view.department) if tree is not None else None
            parts.append(label(node.label, view.department) if node is not None else view.department)
        if view.assignee:
            who = view.assignee
            if who.startswith("role:"):
                role, _, region = who[5:].partition("@")
                r = self.ctx.platform.metadata.roles.get(role)
                who = label(r.label, role) if r is not None else role
                if region:
                    who = f"{who} @ {region}"
            parts.append(who)
        return t("workflow.assigned", to=" · ".join(parts))

    def action_button(self, action: ActionState) -> None:
        button = ui.button(label(action.label, action.name), on_click=lambda a=action: self.start(a)) \
            .props("dense no-caps" + ("" if action.enabled else " outline")).mark(f"action-{action.name}")
        if not action.enabled:
            button.disable()
            with ui.element("span").classes("text-caption text-grey-7").mark(f"action-reason-{action.name}"):
                ui.label(action.reason)
            button.tooltip(action.reason)

    # -- taking an action ----------------------------------------------------------------------------------
    async def start(self, action: ActionState) -> None:
        if action.require or action.comment_required or action.confirm is not None:
            await self.ask(action)
        else:
            await self.take(action, {}, "")

    async def ask(self, action: ActionState) -> None:
        widgets: dict[str, FieldWidget] = {}
        with ui.dialog() as dialog, ui.card().classes("w-[32rem] max-w-full").mark(f"dialog-{action.name}"):
            ui.label(label(action.label, action.name)).classes("text-h6")
            if action.confirm is not None:
                ui.label(label(action.confirm)).classes("text-body1").mark("action-confirm")
            for name in action.require:
                f = self.entity.field(name)
                if f is None:
                    continue
                widget = make_widget(self.ctx, f.model_copy(update={"required": True}))
                if self.values.get(name) is not None:
                    if f.type == "link":  # a link picker holds no options until opened: offer the record's value
                        self.offer_link(widget, f, self.values[name])
                    widget.set_value(self.values[name])
                widget.element.classes("w-full").mark(f"action-field-{name}")
                widgets[name] = widget
            caption = "workflow.comment_label_required" if action.comment_required else "workflow.comment_label"
            comment = ui.textarea(t(caption)).classes("w-full").props("autogrow").mark("action-comment")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("app.cancel"), on_click=lambda: dialog.submit(None)).props("flat")

                def submit() -> None:
                    ok = all([w.valid() for w in widgets.values()])
                    if action.comment_required and not (comment.value or "").strip():
                        comment.props(f'error error-message="{t("workflow.comment_needed")}"')
                        ok = False
                    if ok:
                        dialog.submit({n: w.value for n, w in widgets.items()})
                ui.button(label(action.label, action.name), on_click=submit).props("no-caps").mark("action-submit")
        values = await dialog
        if values is not None:
            await self.take(action, values, comment.value or "", widgets)

    def offer_link(self, widget: FieldWidget, field: Any, value: Any) -> None:
        """Make the record's linked value an option of ``widget`` (titled), so that the dialog shows it chosen
        (a select drops a value that is not among its options: the required field then looked empty)."""
        options = widget.element.options or {}
        if value in options:
            return
        titles = self.ctx.platform.records.titles(self.ctx.actor, field.link or "", field.link_key or "id", [value])
        widget.element.set_options({value: titles.get(value, str(value))}, value=value)

    async def take(self, action: ActionState, values: dict[str, Any], comment: str,
                   widgets: dict[str, FieldWidget] | None = None) -> None:
        try:
            written = await run.io_bound(self.ctx.platform.workflows.take, self.ctx.actor, self.entity.name,
                                         self.record_id, action.name, values, comment, self.view.version)
        except TransitionRefused as exc:
            moved = exc.reason == "workflow.wrong_state" and exc.params.get("state") != self.view.state
            if exc.reason == "workflow.stale" or moved:  # someone moved the record on since the form was read
                await self.stale()
                return
            ui.notify(refusal_text(self.ctx, exc, self.state_label), type="negative", multi_line=True)
            return
        except ValidationFailed as exc:
            from .form_view import error_text
            text = "; ".join(f"{self.field_label(n)}: {error_text(e)}" for n, e in exc.errors.items())
            ui.notify(text, type="negative", multi_line=True)
            return
        except (PermissionDenied, RecordNotFound):
            ui.notify(t("errors.forbidden"), type="negative")
            return
        if written is None:  # the app is shutting down
            return
        ui.notify(t("workflow.taken", action=label(action.label, action.name)), type="positive")
        await self.reload()

    async def stale(self) -> None:
        with ui.dialog() as dialog, ui.card().mark("stale-prompt"):
            ui.label(t("workflow.stale_prompt"))
            with ui.row().classes("w-full justify-end"):
                ui.button(t("app.cancel"), on_click=lambda: dialog.submit(False)).props("flat")
                ui.button(t("workflow.reload"), on_click=lambda: dialog.submit(True)).mark("stale-reload")
        if await dialog:
            await self.reload()

    # -- the timeline under the form -------------------------------------------------------------------------
    def timeline(self) -> None:
        with ui.card().classes("w-full").props("flat bordered").mark("process-timeline"):
            ui.label(t("workflow.timeline")).classes("text-subtitle1 text-primary")
            with ui.timeline(side="right").props("dense layout=dense").classes("w-full"):
                for step in reversed(self.view.steps):
                    title = self.step_title(step)
                    subtitle = f"{local_time(step['at'], self.zone)} · {step['actor']}"
                    with ui.timeline_entry(subtitle=subtitle, title=title).mark(f"step-{step['action']}"):
                        if step.get("seconds_in_state") is not None and step["from_state"]:
                            ui.label(t("workflow.spent", state=_lbl(step["from_label"], step["from_state"]),
                                       span=duration(step["seconds_in_state"]))).classes("text-caption text-grey-7")
                        if step.get("comment"):
                            ui.label(step["comment"]).classes("text-body2").style("white-space: pre-wrap")

    def step_title(self, step: dict[str, Any]) -> str:
        to = _lbl(step["to_label"], step["to_state"])
        if step["action"] == "create":
            return t("workflow.step.create", to=to)
        action = self.action_label(step["action"])
        if step["from_state"] and step["from_state"] != step["to_state"]:
            return t("workflow.step.move", action=action, frm=_lbl(step["from_label"], step["from_state"]), to=to)
        return action

    def action_label(self, name: str) -> str:
        from helpline.metadata.workflow_checks import workflows_of
        flow = workflows_of(self.ctx.platform.metadata).get(self.view.workflow)
        tr = flow.transition(name) if flow is not None else None
        if tr is not None:
            return label(tr.label, name)
        text = t(f"workflow.action.{name}")
        return name if text == f"workflow.action.{name}" else text


def _lbl(value: Any, fallback: Any) -> str:
    """A state's label (a metadata label, or the bare name of a state the process no longer has)."""
    return label(value, str(fallback)) if isinstance(value, Label) else str(value or fallback or "")
