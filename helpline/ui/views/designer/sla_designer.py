"""Simple designers of the service-level kinds: ``sla`` policies and business ``calendar`` objects.

A policy's form: its label, the process it covers (and which of its new records: ``applies``, ``order``), the
calendar, the response and resolution targets (durations such as ``10m``, ``1h30m``, ``2d``), the warning per
cent, what counts as the response (actions of the process, or states reached) and which states meet the
resolution, and its escalation steps (at a warning or breach of the response or resolution, after a delay,
notify people and/or reassign to a department). A calendar's form: label, time zone, the working hours of
each weekday (ranges separated by commas), the hours of make-up days, the public holidays (a day or a span)
and the make-up working days. Problems (``HL-E410``–``HL-E415`` and the rule ids) show beside the values; the
frame gives drafts, live checks, publish, history and rollback as for every kind.
"""

from __future__ import annotations

from typing import Any, ClassVar

from nicegui import events, ui

from helpline.metadata.kinds.calendar import WEEKDAYS
from helpline.services.designer import workflow_ops as ops

from ...i18n import label, t
from .editor import Editor, register
from .widgets import label_inputs
from .workflow_designer import FormHelpers


def _text_list(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class _Simple(Editor, FormHelpers):
    """Shared: commit rebuilds the form after structural edits."""

    async def commit(self, *, structural: bool = False, open_item: str | None = None) -> None:
        await self.frame.changed()
        if structural:
            self.frame.rerender()

    def number(self, holder: dict[str, Any], key: str, caption: str, marker: str, *, precision: int = 0) -> None:
        async def changed(e: events.ValueChangeEventArguments[Any]) -> None:
            value = None if e.value is None else (int(e.value) if precision == 0 else float(e.value))
            await self.put(holder, key, value)

        with ui.column().classes("gap-0"):
            ui.number(caption, value=holder.get(key), precision=precision, on_change=changed).props("dense") \
                .classes("w-32").mark(marker)
            self.frame.error_slot(key)

    def listed(self, holder: dict[str, Any], key: str, path: tuple[str | int, ...], caption: str, marker: str,
               *, hint: str = "") -> None:
        """A list of short texts typed as one comma-separated input."""
        widget = ui.input(caption, value=_text_list(holder.get(key))).props("dense").classes("min-w-[16rem]") \
            .mark(marker)
        if hint:
            widget.props(f'hint="{hint}"')

        async def blur(_: Any = None) -> None:
            await self.put(holder, key, _split(widget.value or ""))

        widget.on("blur", blur)
        self.frame.error_slot(*path)


@register
class SlaDesigner(_Simple):
    kind: ClassVar[str] = "sla"
    icon: ClassVar[str] = "timer"

    @classmethod
    def template(cls, name: str) -> dict[str, Any]:
        return {"kind": "sla", "name": name, "label": {"en": name}, "workflow": "fault",
                "calendar": "round_the_clock", "response": "10m", "resolution": "60m", "warning": 80}

    def render(self) -> None:
        mset = self.frame.ctx.platform.metadata
        flows = mset.objects.get("workflow", {})
        flow = flows.get(str(self.data.get("workflow") or ""))
        states = [s.name for s in getattr(flow, "states", [])]
        actions = [tr.name for tr in getattr(flow, "transitions", [])]
        label_inputs(self.frame, self.data, (), "label", marker="sla-label")
        with ui.row().classes("w-full gap-2"):
            with ui.column().classes("gap-0"):
                self.choice(self.data, "workflow", ("workflow",), t("designer.sla.workflow"), sorted(flows),
                            marker="sla-workflow", clearable=False, on_change=self.change_workflow)
            with ui.column().classes("gap-0"):
                self.choice(self.data, "calendar", ("calendar",), t("designer.sla.calendar"),
                            sorted(mset.objects.get("calendar", {})), marker="sla-calendar", clearable=False)
            self.number(self.data, "order", t("designer.workflow.order"), "sla-order")
        self.text(self.data, "applies", ("applies",), t("designer.sla.applies"), marker="sla-applies", area=True)
        with ui.row().classes("w-full gap-2"):
            for key in ("response", "resolution"):
                with ui.column().classes("gap-0"):
                    self.text(self.data, key, (key,), t(f"designer.sla.{key}"), marker=f"sla-{key}")
            self.number(self.data, "warning", t("designer.sla.warning"), "sla-warning", precision=1)
        ui.label(t("designer.sla.duration_help")).classes("text-caption text-grey-8")
        with ui.row().classes("w-full gap-2"):
            for key, options in (("responded_by", actions), ("responded_in", states), ("resolved_in", states)):
                with ui.column().classes("gap-0"):
                    self.choice(self.data, key, (key,), t(f"designer.sla.{key}"), options, marker=f"sla-{key}",
                                multiple=True, on_change=self.list_setter(self.data, key))
        self.render_escalation()

    async def change_workflow(self, value: Any) -> None:
        if value and value != self.data.get("workflow"):
            self.data["workflow"] = value
            await self.commit(structural=True)

    def list_setter(self, holder: dict[str, Any], key: str) -> Any:
        async def setter(value: Any) -> None:
            await self.put(holder, key, [str(v) for v in value or []])
        return setter

    def render_escalation(self) -> None:
        ui.label(t("designer.sla.escalation")).classes("text-subtitle1 q-mt-md")
        departments = self.frame.ctx.platform.metadata.categories.get("department")
        codes = {n.code: f"{label(n.label, n.code)} ({n.code})" for n in departments.nodes} if departments else {}
        recipients = {r: t(f"designer.workflow.recipient.{r}") for r in ops.RECIPIENTS if r != "actor"}
        recipients.update({f"role:{r}": f"{t('designer.workflow.recipient.role')} {r}"
                           for r in sorted(self.frame.ctx.platform.metadata.roles)})
        steps = self.data.get("escalation") if isinstance(self.data.get("escalation"), list) else []
        for i, step in enumerate(steps or []):
            if not isinstance(step, dict):
                continue
            path = ("escalation", i)
            with ui.card().classes("w-full q-pa-sm").props("flat bordered").mark(f"sla-step-{i}"):
                with ui.row().classes("w-full items-end gap-2"):
                    with ui.column().classes("gap-0"):
                        self.choice(step, "at", (*path, "at"), t("designer.sla.at"),
                                    {k: t(f"designer.sla.at.{k}") for k in ("warning", "breach")},
                                    marker=f"sla-step-{i}-at", clearable=False)
                    with ui.column().classes("gap-0"):
                        self.choice(step, "of", (*path, "of"), t("designer.sla.of"),
                                    {k: t(f"designer.sla.{k}") for k in ("response", "resolution")},
                                    marker=f"sla-step-{i}-of")
                    with ui.column().classes("gap-0"):
                        self.text(step, "after", (*path, "after"), t("designer.sla.after"),
                                  marker=f"sla-step-{i}-after")
                    ui.button(icon="delete", on_click=lambda i=i: self.drop_step(i)) \
                        .props("flat dense color=negative").mark(f"sla-step-{i}-remove")
                with ui.row().classes("w-full items-end gap-2"):
                    with ui.column().classes("grow gap-0"):
                        self.choice(step, "notify", (*path, "notify"), t("designer.workflow.effect.notify"),
                                    recipients, marker=f"sla-step-{i}-notify", multiple=True, free=True,
                                    on_change=self.list_setter(step, "notify"))
                    with ui.column().classes("gap-0"):
                        self.choice(step, "reassign", (*path, "reassign"), t("designer.sla.reassign"), codes,
                                    marker=f"sla-step-{i}-reassign")
                self.frame.error_slot(*path, exact=True)
        ui.button(t("designer.sla.add_step"), icon="add", on_click=self.add_step).props("outline dense") \
            .mark("sla-add-step")

    async def add_step(self) -> None:
        self.data.setdefault("escalation", []).append({"at": "breach", "notify": ["role:supervisor"]})
        await self.commit(structural=True)

    async def drop_step(self, i: int) -> None:
        steps = self.data.get("escalation") or []
        if 0 <= i < len(steps):
            steps.pop(i)
        if not steps:
            self.data.pop("escalation", None)
        await self.commit(structural=True)


@register
class CalendarDesigner(_Simple):
    kind: ClassVar[str] = "calendar"
    icon: ClassVar[str] = "calendar_month"

    @classmethod
    def template(cls, name: str) -> dict[str, Any]:
        return {"kind": "calendar", "name": name, "label": {"en": name}, "timezone": "Asia/Shanghai",
                "hours": {day: ["09:00-18:00"] for day in WEEKDAYS[:5]}}

    def render(self) -> None:
        label_inputs(self.frame, self.data, (), "label", marker="calendar-label")
        with ui.row().classes("w-full gap-2"):
            with ui.column().classes("gap-0"):
                self.text(self.data, "timezone", ("timezone",), t("designer.calendar.timezone"),
                          marker="calendar-timezone")
            with ui.column().classes("gap-0"):
                self.listed(self.data, "workday_hours", ("workday_hours",), t("designer.calendar.workday_hours"),
                            "calendar-workday_hours")
        ui.label(t("designer.calendar.hours")).classes("text-subtitle1 q-mt-sm")
        ui.label(t("designer.calendar.hours_help")).classes("text-caption text-grey-8")
        self.frame.error_slot("hours", exact=True)
        hours = self.data.get("hours") if isinstance(self.data.get("hours"), dict) else None
        if hours is None:
            hours = {}
        for day in WEEKDAYS:
            with ui.row().classes("w-full items-end gap-2 no-wrap"):
                ui.label(t(f"designer.calendar.day.{day}")).classes("w-24")
                with ui.column().classes("grow gap-0"):
                    self.day_hours(hours, day)
        self.render_days("holidays", with_to=True)
        self.render_days("workdays", with_to=False)

    def day_hours(self, hours: dict[str, Any], day: str) -> None:
        widget = ui.input(t("designer.calendar.ranges"), value=_text_list(hours.get(day))).props("dense") \
            .classes("w-full").mark(f"calendar-hours-{day}")

        async def blur(_: Any = None) -> None:
            ranges = _split(widget.value or "")
            if ranges == (hours.get(day) or []):
                return
            if ranges:
                hours[day] = ranges
            else:
                hours.pop(day, None)
            self.data["hours"] = hours
            await self.commit()

        widget.on("blur", blur)
        self.frame.error_slot("hours", day)

    def render_days(self, key: str, *, with_to: bool) -> None:
        ui.label(t(f"designer.calendar.{key}")).classes("text-subtitle1 q-mt-md")
        days = self.data.get(key) if isinstance(self.data.get(key), list) else []
        for i, day in enumerate(days or []):
            if not isinstance(day, dict):
                continue
            path = (key, i)
            with ui.row().classes("w-full items-end gap-2 no-wrap").mark(f"calendar-{key}-{i}"):
                for prop in ("date", "to") if with_to else ("date",):
                    with ui.column().classes("gap-0"):
                        self.date_input(day, prop, path, f"calendar-{key}-{i}-{prop}")
                with ui.column().classes("grow gap-0"):
                    label_inputs(self.frame, day, path, "label", marker=f"calendar-{key}-{i}-label")
                ui.button(icon="delete", on_click=lambda i=i: self.drop_day(key, i)) \
                    .props("flat dense color=negative").mark(f"calendar-{key}-{i}-remove")
            self.frame.error_slot(*path, exact=True)
        with ui.row().classes("items-end gap-2"):
            new = ui.input(t("designer.calendar.date")).props('dense hint="2027-10-01"').classes("w-36") \
                .mark(f"calendar-new-{key}")
            ui.button(t(f"designer.calendar.add_{key}"), icon="add",
                      on_click=lambda: self.add_day(key, (new.value or "").strip())).props("outline dense") \
                .mark(f"calendar-add-{key}")

    def date_input(self, day: dict[str, Any], prop: str, path: tuple[str | int, ...], marker: str) -> None:
        value = day.get(prop)
        widget = ui.input(t(f"designer.calendar.{prop}"), value="" if value is None else str(value)) \
            .props("dense").classes("w-36").mark(marker)

        async def blur(_: Any = None) -> None:
            await self.put(day, prop, (widget.value or "").strip() or None)

        widget.on("blur", blur)
        self.frame.error_slot(*path, prop)

    async def add_day(self, key: str, date: str) -> None:
        if not date:
            ui.notify(t("designer.calendar.date_needed"), type="warning")
            return
        self.data.setdefault(key, []).append({"date": date, "label": {"en": date}})
        await self.commit(structural=True)

    async def drop_day(self, key: str, i: int) -> None:
        days = self.data.get(key) or []
        if 0 <= i < len(days):
            days.pop(i)
        if not days:
            self.data.pop(key, None)
        await self.commit(structural=True)
