"""The supervisor's actions on an agent of the wallboard, and call recordings.

Force ready, force not ready (with a reason), force sign-out; listen, whisper, barge in and intercept
(only while the agent is on a call). Each button is shown only to a user with its permission and only in the
agent's statuses and states where the server accepts it (both from the server's table,
:data:`telephony.desk.actions.SUPERVISOR_ACTIONS`), and the desk service checks again and audits the action;
a refusal there is audited too (``denied``) and shown as a notification, like any other error. A call's recording
(``call_recording`` of the call record) is played with an audio player for users with
``supervisor.recordings``; the file comes from ``/recordings/<call id>`` (:mod:`helpline.ui.media`), which
checks the permission again and audits the playback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nicegui import run, ui

from helpline.data.database import session
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import audit
from helpline.services.calls import CallService
from telephony.control.base import SpyMode
from telephony.desk.actions import SUPERVISOR_ACTIONS
from telephony.desk.service import RESERVED_REASONS, DeskError

from ..i18n import label, t
from .base import ViewContext

RECORDINGS = "supervisor.recordings"
RECORDING_FIELD = "call_recording"
"""The call record's field naming the call's recording (served by ``/recordings/<call id>``)."""
LOOKS: dict[str, tuple[str, str]] = {
    # action: (icon, label key)
    "ready": ("play_arrow", "supervisor.force_ready"),
    "not_ready": ("pause", "supervisor.force_not_ready"),
    "sign_out": ("logout", "supervisor.force_sign_out"),
    "listen": ("hearing", "supervisor.listen"),
    "whisper": ("record_voice_over", "supervisor.whisper"),
    "barge": ("call_merge", "supervisor.barge"),
    "intercept": ("phone_forwarded", "supervisor.intercept"),
    "recording": ("play_circle", "supervisor.playback"),
}
ACTIONS: dict[str, tuple[str, str, str]] = {
    # action: (permission, icon, label key); the desk's actions with the server's permission
    action: (str(SUPERVISOR_ACTIONS[action].permission) if action in SUPERVISOR_ACTIONS else RECORDINGS, *look)
    for action, look in LOOKS.items()
}

SPY_MODES: dict[str, SpyMode] = {"listen": "listen", "whisper": "whisper", "barge": "barge"}


def visible_actions(status: str, state: str, call_id: int | None) -> set[str]:
    """The actions the server accepts for an agent in this status and state (:data:`SUPERVISOR_ACTIONS`),
    and the call's recording while it has a call."""
    shown = {action for action, rule in SUPERVISOR_ACTIONS.items() if rule.allows(status, state)}
    if call_id is not None:
        shown.add("recording")
    return shown


class AgentActions:
    """The action buttons of the wallboard's agent rows and what they do (see the module docstring)."""

    def __init__(self, ctx: ViewContext) -> None:
        self.ctx = ctx
        self.allowed = [a for a, (permission, _, _) in ACTIONS.items() if ctx.actor.has(permission)]
        self.player: ui.column | None = None
        self.call_input: ui.number | None = None

    # ------------------------------------------------------------------------------------ buttons
    def buttons(self, number: str) -> dict[str, ui.button]:
        """The buttons the user may use for agent ``number`` (inside the current container)."""
        made = {}
        for action in self.allowed:
            _, icon, key = ACTIONS[action]
            made[action] = ui.button(icon=icon, on_click=lambda a=action: self.click(number, a)) \
                .props("flat round dense").tooltip(t(key)).mark(f"sv-{action}-{number}")
        return made

    @staticmethod
    def show_for(buttons: dict[str, ui.button], agent: dict[str, Any]) -> None:
        shown = visible_actions(str(agent["status"]), str(agent["state"]), agent.get("call_id"))
        for action, button in buttons.items():
            if button.visible != (action in shown):
                button.set_visibility(action in shown)

    async def click(self, number: str, action: str) -> None:
        agent = self.ctx.platform.router.agent(number) if self.ctx.platform.router else None
        if action == "not_ready":
            reason = await self.ask_reason(number)
            if reason:
                await self.perform(number, action, reason)
        elif action in ("sign_out", "intercept"):
            if await self.confirm(t(ACTIONS[action][2]), number):
                await self.perform(number, action)
        elif action == "recording":
            call_id = agent.get("call_id") if agent else None
            if call_id is not None:
                await self.play(int(call_id))
        else:
            await self.perform(number, action)

    # ----------------------------------------------------------------------------------- actions
    def operation(self, number: str, action: str, reason: str | None) -> Callable[[], None]:
        desk, actor = self.ctx.platform.desk, self.ctx.actor
        if desk is None:
            raise DeskError("telephony does not run in this process")
        if action in ("ready", "not_ready", "sign_out"):
            return lambda: desk.force(actor, number, action, reason)
        if action in SPY_MODES:
            mode = SPY_MODES[action]
            return lambda: desk.spy(actor, number, mode)
        if action == "intercept":
            return lambda: desk.intercept(actor, number)
        raise ValueError(f"unknown supervisor action {action!r}")

    async def perform(self, number: str, action: str, reason: str | None = None) -> bool:
        """Run one action on the server; the result or the error as a notification."""
        what = t(ACTIONS[action][2])
        try:
            await run.io_bound(self.operation(number, action, reason))
        except PermissionDenied:
            await run.io_bound(denied, self.ctx.actor, f"supervisor.{action}", agent=number)
            ui.notify(t("errors.forbidden"), type="negative")
            return False
        except DeskError as exc:
            ui.notify(t("supervisor.action_failed", action=what, agent=number, error=str(exc)), type="negative",
                      multi_line=True)
            return False
        ui.notify(t("supervisor.action_done", action=what, agent=number), type="positive")
        return True

    async def ask_reason(self, number: str) -> str | None:
        tree = self.ctx.platform.metadata.categories.get("not_ready_reason")
        reasons = {n.code: label(n.label, n.code) for n in (tree.nodes if tree else [])
                   if not n.retired and n.code not in RESERVED_REASONS}
        with ui.dialog() as dialog, ui.card().classes("min-w-[20rem]"):
            ui.label(f"{t('supervisor.force_not_ready')} · {number}").classes("text-h6")
            choice = ui.select(reasons, label=t("supervisor.reason"),
                               value="adjust" if "adjust" in reasons else next(iter(reasons), None)) \
                .classes("w-full").mark("sv-reason")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("app.cancel"), on_click=lambda: dialog.submit(None)).props("flat")
                ui.button(t("app.ok"), on_click=lambda: dialog.submit(choice.value)).mark("sv-reason-ok")
        result = await dialog
        dialog.delete()
        return str(result) if result else None

    async def confirm(self, action: str, number: str) -> bool:
        with ui.dialog() as dialog, ui.card():
            ui.label(t("supervisor.confirm_force", action=action, agent=number)).classes("text-subtitle1")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("app.cancel"), on_click=lambda: dialog.submit(False)).props("flat")
                ui.button(t("app.ok"), on_click=lambda: dialog.submit(True)).mark("sv-confirm")
        result = await dialog
        dialog.delete()
        return bool(result)

    # ------------------------------------------------------------------------------------ recordings
    def recording_box(self) -> None:
        """A small card: a call number and its recording's player (only with ``supervisor.recordings``)."""
        if "recording" not in self.allowed:
            return
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(t("supervisor.recording")).classes("text-h6")
            with ui.row().classes("items-end no-wrap gap-2"):
                self.call_input = ui.number(t("supervisor.call_id"), format="%d", min=1).props("dense") \
                    .classes("w-32").mark("sv-recording-call")
                ui.button(t("supervisor.playback"), icon="play_circle",
                          on_click=lambda: self.play(int(self.call_input.value or 0) if self.call_input else 0)) \
                    .props("dense outline").mark("sv-recording-play")
            self.player = ui.column().classes("w-full").mark("sv-player")

    async def play(self, call_id: int) -> None:
        if self.player is None or call_id <= 0:
            return
        if self.call_input is not None:
            self.call_input.value = call_id
        record = await run.io_bound(CallService().get, call_id)
        self.player.clear()
        name = (record or {}).get(RECORDING_FIELD)
        if not name:
            ui.notify(t("supervisor.no_recording", call=call_id), type="warning")
            return
        with self.player:
            ui.label(f"#{call_id} · {Path(str(name)).name}").classes("text-caption")
            ui.audio(f"/recordings/{call_id}").classes("w-full").mark("sv-audio")


def denied(actor: Actor, action: str, **detail: Any) -> None:
    """Audit a refused supervisor action."""
    with session():
        audit(actor, "denied", detail={"action": action, **detail})

