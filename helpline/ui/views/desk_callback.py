"""The desktop's call-back panel: the call-back task the router offers the agent (an ``Offer`` whose call id is
negative), taken, the customer called, the outcome recorded — over ``telephony.desk.callbacks`` (which checks
``agent.callback`` and the agent's state on the server). Shown only while the agent has a task offered or in
hand; the voice message plays from ``/callbacks/<task id>/message``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import run, ui

from helpline.security.actor import PermissionDenied
from telephony.desk.callbacks import callback_desk
from telephony.desk.service import DeskError, DeskService
from telephony.router.callbacks import is_callback
from telephony.router.events import RouterEvent

from .base import ViewContext
from .process_panel import local_time, user_zone

Act = Callable[[Callable[[], Any]], Awaitable[None]]


def about_callback(event: RouterEvent) -> bool:
    """Whether a router event concerns a call-back task (their call ids are negative)."""
    call_id = getattr(event, "call_id", None)
    return isinstance(call_id, int) and is_callback(call_id)


class CallbackPanel:
    """The panel (see the module docstring); :meth:`refresh` reads the agent's task again."""

    def __init__(self, ctx: ViewContext, desk: DeskService, t: Callable[..., str], act: Act) -> None:
        self.ctx, self.desk, self.t, self.act = ctx, desk, t, act
        self.task: dict[str, Any] | None = None
        self.zone = user_zone(ctx)
        self.card = ui.card().classes("w-full q-pa-sm gap-1 bg-amber-1").props("flat bordered") \
            .mark("desk-callback")
        self.card.visible = False

    async def refresh(self) -> None:
        try:
            task = await run.io_bound(callback_desk(self.desk).current, self.ctx.actor)
        except (DeskError, PermissionDenied):
            task = None
        self.show(task)

    def when(self, value: Any) -> str:
        """A stored UTC time in the agent's time zone, as the work order's deadlines are shown."""
        return local_time(value, self.zone) or "—"

    def tier(self, code: str | None) -> str:
        """The customer's tier in the agent's words (``value_tier``'s label), else its code."""
        tree = self.ctx.platform.metadata.categories.get("value_tier")
        node = tree.node(code) if tree is not None and code else None
        return node.label.get(self.ctx.language) if node is not None else str(code or "—")

    def show(self, task: dict[str, Any] | None) -> None:
        before = self.task
        if task is not None and task["state"] == "offered" and (
                before is None or (before["id"], before["state"]) != (task["id"], "offered")):
            with self.card:  # the panel may be below the fold (1366x768): say so, as a call's offer does
                ui.notify(self.t("callbacks.desk.offered", number=task["number"]), type="info")
        self.task = task
        self.card.clear()
        self.card.visible = task is not None
        if task is None:
            return
        t = self.t
        with self.card:
            with ui.row().classes("items-center gap-2"):
                ui.icon("phone_callback", color="amber-9")
                ui.label(t("callbacks.desk.title")).classes("text-subtitle1 text-weight-medium")
                ui.label(task["number"]).classes("text-h6").mark("desk-callback-number")
                if task["overdue"]:
                    ui.badge(t("callbacks.overdue"), color="negative")
            ui.label(t("callbacks.desk.customer", name=task["customer_name"] or "—", tier=self.tier(task["tier"]),
                       due=self.when(task["due_at"]))).classes("text-grey-8")
            ui.label(t("callbacks.desk.attempts", n=task["attempts"] + 1, max=task["max_attempts"]))
            for a in task.get("history") or []:
                if a["outcome"]:
                    ui.label(f"{self.when(a['started_at'])} · {a['agent']} · {t('callbacks.outcome.' + a['outcome'])}"
                             + (f" · {a['note']}" if a["note"] else "")).classes("text-caption text-grey-7")
            if task["recording"]:
                with ui.row().classes("items-center gap-2"):
                    ui.label(t("callbacks.desk.message"))
                    ui.audio(f"/callbacks/{task['id']}/message").mark("desk-callback-message")
            if task["state"] == "offered":
                with ui.row().classes("gap-2"):
                    ui.button(t("callbacks.desk.take"), icon="check",
                              on_click=lambda: self.run(callback_desk(self.desk).take)).props("dense no-caps") \
                        .mark("desk-callback-take")
                    ui.button(t("callbacks.desk.decline"), icon="close", color="grey",
                              on_click=lambda: self.run(callback_desk(self.desk).decline)).props("dense no-caps") \
                        .mark("desk-callback-decline")
                return
            ui.button(t("callbacks.desk.call"), icon="call",
                      on_click=lambda: self.run(callback_desk(self.desk).call)).props("dense no-caps") \
                .mark("desk-callback-call")
            note = ui.input(t("callbacks.desk.note")).classes("w-full").props("dense").mark("desk-callback-note")
            with ui.row().classes("gap-2"):
                for outcome, color in (("reached", "positive"), ("no_answer", "warning"), ("wrong_number", "negative")):
                    ui.button(t(f"callbacks.desk.{outcome}"), color=color,
                              on_click=lambda o=outcome: self.finish(o, note.value or "")).props("dense no-caps") \
                        .mark(f"desk-callback-{outcome}")

    async def run(self, function: Callable[[Any], Any]) -> None:
        await self.act(lambda: function(self.ctx.actor))
        await self.refresh()

    async def finish(self, outcome: str, note: str) -> None:
        done: dict[str, Any] = {}

        def record() -> None:
            done.update(callback_desk(self.desk).finish(self.ctx.actor, outcome, note))

        await self.act(record)
        if done:
            if done["status"] == "open":
                ui.notify(self.t("callbacks.desk.retry", when=self.when(done["next_attempt_at"])), type="info")
            else:
                ui.notify(self.t("callbacks.desk.done", outcome=self.t(f"callbacks.outcome.{done['outcome']}")),
                          type="positive")
        await self.refresh()
