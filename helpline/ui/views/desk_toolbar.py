"""The soft-phone toolbar of the agent desktop: every agent function of ``DeskService`` as a button, each
enabled only in the states where it makes sense and only with its permission (:func:`available`, read from
the server's own table :data:`telephony.desk.actions.AGENT_ACTIONS`; the server checks again and its refusal
is shown as a notification), the not-ready reasons with their time
limits, auto answer, the transfer and consultation dialogs, and keyboard shortcuts (:data:`SHORTCUTS`).

A shortcut always asks the server, even for a button that is disabled: the agent then reads why not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui
from nicegui.events import KeyEventArguments

from helpline.security.actor import Actor
from telephony.desk.actions import AGENT_ACTIONS, enabled
from telephony.desk.service import RESERVED_REASONS, DeskService

from .base import ViewContext
from .desk_dialpad import DialPad
from .desk_status import Words, clock, queue_labels

Act = Callable[[Callable[[], Any]], Awaitable[None]]
"""Runs one blocking desk function off the event loop, shows a refusal, refreshes the desktop."""

SHORTCUTS = {"F2": "ready", "F3": "not_ready", "F4": "answer", "F5": "hold", "F6": "release", "F7": "end_wrap_up",
             "F8": "notes"}
PREVENT_DEFAULTS = ("if (!window.helplineDeskKeys) { window.helplineDeskKeys = true; document.addEventListener("
                    "'keydown', (e) => { if (['F2','F3','F4','F5','F6','F7','F8'].includes(e.key)) "
                    "e.preventDefault(); }, true); }")
"""Keeps the browser's own meaning of the shortcut keys (F5 reloads, F3 finds ...) off the desktop page."""


SHOWN = ("status", "state", "consulting", "muted", "auto_answer")
"""What of the agent's view the toolbar shows (with the actor's permissions, fixed for the page)."""


def available(view: dict[str, Any], actor: Actor) -> dict[str, bool]:
    """Which toolbar functions the server would accept now (status, state, consultation) from ``actor``;
    the hold button holds or unholds (:meth:`Toolbar.hold_or_unhold`)."""
    status, state = str(view.get("status", "logged_out")), str(view.get("state", "idle"))
    consulting = bool(view.get("consulting"))
    found = {name: enabled(AGENT_ACTIONS, name, status, state, consulting=consulting, has=actor.has)
             for name in AGENT_ACTIONS}
    found["hold"] = found["unhold" if state == "hold" else "hold"]
    del found["unhold"]
    return found


class Toolbar:
    def __init__(self, ctx: ViewContext, desk: DeskService, act: Act) -> None:
        self.ctx, self.desk, self.act = ctx, desk, act
        self.t = Words(ctx.language)
        self.view: dict[str, Any] = {}
        self.shown: tuple[Any, ...] | None = None
        """The view's :data:`SHOWN` values the buttons show now."""
        self.buttons: dict[str, ui.button] = {}
        actor = ctx.actor
        self.actions: dict[str, Callable[[], Any]] = {
            "sign_in": lambda: desk.sign_in(actor), "shift_in": lambda: desk.sign_in(actor, shift=True),
            "sign_out": lambda: desk.sign_out(actor), "shift_out": lambda: desk.sign_out(actor, shift=True),
            "ready": lambda: desk.ready(actor), "not_ready": lambda: desk.not_ready(actor, self.reason.value or ""),
            "study": lambda: desk.study(actor), "answer": lambda: desk.answer(actor),
            "release": lambda: desk.release(actor), "hold": self.hold_or_unhold,
            "mute": lambda: desk.mute(actor, not self.view.get("muted")),
            "complete_transfer": lambda: desk.complete_transfer(actor), "conference": lambda: desk.conference(actor),
            "cancel_consult": lambda: desk.cancel_consult(actor), "end_wrap_up": lambda: desk.end_wrap_up(actor),
        }
        self.dialogs: dict[str, Callable[[], Awaitable[None]]] = {"transfer": self.transfer, "consult": self.consult,
                                                                  "notes": self.notes}
        with ui.row().classes("w-full items-center gap-1 desk-toolbar"):
            for name, key, icon in (("sign_in", "desktop.sign_in", "login"),
                                    ("shift_in", "desktop.shift_sign_in", "how_to_reg"),
                                    ("sign_out", "desktop.sign_out", "logout"),
                                    ("shift_out", "desktop.shift_sign_out", "published_with_changes")):
                self.button(name, key, icon, color="grey-8")
            self.button("ready", "desktop.ready", "check_circle", color="positive")
            self.buttons["ready"].classes("desk-sep")  # a group's rule: a border (DESK_STYLE)
            self.reason = ui.select(self.reasons(), label=self.t("desktop.not_ready_reason")).props("dense outlined") \
                .classes("w-44").mark("desk-reason")
            self.reason.value = next(iter(self.reason.options), None)
            self.button("not_ready", "desktop.not_ready", "do_not_disturb_on", color="negative")
            self.button("study", "desktop.study", "menu_book", color="info")
            self.button("answer", "desktop.answer", "call", color="positive")
            self.buttons["answer"].classes("desk-sep")  # a group's rule: a border (DESK_STYLE)
            self.auto = ui.switch(self.t("desktop.auto_answer")).mark("desk-auto-answer")
            self.auto_state = False
            """What the desk was last asked or last said about auto-answer (the view the toolbar holds can be a
            refresh behind: comparing with it dropped a quick second toggle)."""
            self.auto.on_value_change(self.auto_answer)
            self.button("hold", "desktop.hold", "pause_circle")
            self.button("mute", "desktop.mute", "mic_off")
            self.button("release", "desktop.release", "call_end", color="negative")
            self.button("transfer", "desktop.transfer", "phone_forwarded")
            self.button("consult", "desktop.internal_help", "support_agent")
            self.button("complete_transfer", "desktop.transfer_consult", "call_made")
            self.button("conference", "desktop.conference", "groups")
            self.button("cancel_consult", "desk.cancel_consult", "undo")
            self.button("end_wrap_up", "desktop.end_wrapup", "task_alt", color="secondary")
            self.buttons["end_wrap_up"].classes("desk-sep")  # a group's rule: a border (DESK_STYLE)
            self.dialpad = DialPad(ctx, lambda: self.view)  # dial out, second dialling, internal calls
            self.dialpad.button.classes("desk-sep")
            notes = ui.button(self.t("notes.title"), icon="sticky_note_2", on_click=lambda: self.run("notes")) \
                .props("dense no-caps flat").classes("desk-sep").mark("desk-notes")
            notes.props["title"] = f"{self.t('notes.title')} (F8)"  # not an agent action: never disabled
        self.keyboard = ui.keyboard(self.on_key, ignore=[]).mark("desk-keyboard")

    def button(self, name: str, key: str, icon: str, *, color: str = "primary") -> None:
        shortcut = next((k for k, v in SHORTCUTS.items() if v == name), None)
        tip = self.t(key) + (f" ({shortcut})" if shortcut else "")
        button = ui.button(self.t(key), icon=icon, color=color, on_click=lambda n=name: self.run(n)) \
            .props("dense no-caps unelevated").classes(f"desk-{name.replace('_', '-')}") \
            .mark(f"desk-{name.replace('_', '-')}")
        button.props["title"] = tip  # the browser's own tooltip: no ui.tooltip element (≈ 40 objects) per button
        self.buttons[name] = button

    def reasons(self) -> dict[str, str]:
        """The not-ready reasons an agent may pick (not the router's own), with their time limits."""
        tree = self.ctx.platform.metadata.categories.get("not_ready_reason")
        limits = self.desk.router.router.settings.not_ready_limits
        options: dict[str, str] = {}
        for node in tree.nodes if tree is not None else []:
            if node.retired or node.code in RESERVED_REASONS:
                continue
            if node.code == "adjust" and not self.ctx.actor.has("agent.adjust"):
                continue
            limit = limits.get(node.code)
            options[node.code] = self.t.label(node.label, node.code) + (f" ({clock(limit)})" if limit else "")
        return options

    # ------------------------------------------------------------------------------------- actions
    async def run(self, name: str) -> None:
        if name in self.dialogs:
            await self.dialogs[name]()
        elif name in self.actions:
            await self.act(self.actions[name])

    async def on_key(self, e: KeyEventArguments) -> None:
        name = SHORTCUTS.get(str(e.key.name))
        if name and e.action.keydown and not e.action.repeat:
            await self.run(name)

    async def notes(self) -> None:
        """The agent's notes in a dialog (button or F8)."""
        from .notes_view import notes_dialog

        notes_dialog(self.ctx)

    def hold_or_unhold(self) -> None:
        if self.view.get("state") == "hold":
            self.desk.unhold(self.ctx.actor)
        else:
            self.desk.hold(self.ctx.actor)

    async def auto_answer(self) -> None:
        wanted = bool(self.auto.value)
        if wanted != self.auto_state:  # the agent toggled it (not the refresh below following the desk)
            self.auto_state = wanted
            await self.act(lambda: self.desk.set_auto_answer(self.ctx.actor, wanted))

    # ------------------------------------------------------------------------------------- dialogs
    def agents(self) -> dict[str, str]:
        """The other signed-in agents (number → "number name")."""
        me = self.view.get("id")
        found = self.desk.router.do(lambda r: [(a.id, a.profile.name) for a in r.agents.values() if a.signed_in])
        return {number: f"{number} {name}".strip() for number, name in found if number != me}

    def targets(self, kind: str) -> dict[str, str]:
        metadata = self.ctx.platform.metadata
        if kind == "agent":
            return self.agents()
        if kind == "queue":
            return queue_labels(metadata, self.t)
        if kind == "ivr":
            return {n: self.t.label(getattr(f, "label", None), n) for n, f in metadata.objects.get("ivr", {}).items()}
        return {}

    async def transfer(self) -> None:
        kinds = {k: self.t(f"desk.target.{k}") for k in ("agent", "queue", "ivr")}
        if self.ctx.actor.has("agent.transfer_out"):
            kinds["external"] = self.t("desk.target.external")
        with ui.dialog() as dialog, ui.card().classes("w-96"):
            ui.label(self.t("desktop.transfer")).classes("text-h6")
            kind = ui.radio(kinds, value="queue").props("inline").mark("transfer-kind")
            target = ui.select({}, label=self.t("desk.transfer.target"), with_input=True).classes("w-full") \
                .mark("transfer-target")
            number = ui.input(self.t("desk.transfer.number")).classes("w-full").mark("transfer-number")

            def offer() -> None:
                target.set_options(self.targets(str(kind.value)), value=None)
                target.set_visibility(kind.value != "external")
                number.set_visibility(kind.value == "external")

            kind.on_value_change(offer)
            offer()
            with ui.row().classes("w-full justify-end"):
                ui.button(self.t("app.cancel"), on_click=lambda: dialog.submit(None)).props("flat")
                ui.button(self.t("desktop.transfer"), icon="phone_forwarded", on_click=lambda: dialog.submit(
                    f"{kind.value}:{(number.value or '').strip() if kind.value == 'external' else target.value or ''}"
                )).mark("transfer-go")
        chosen = await dialog
        dialog.delete()
        if chosen:
            await self.act(lambda: self.desk.transfer(self.ctx.actor, str(chosen)))

    async def consult(self) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96"):
            ui.label(self.t("desktop.internal_help")).classes("text-h6")
            other = ui.select(self.agents(), label=self.t("desk.target.agent")).classes("w-full").mark("consult-agent")
            with ui.row().classes("w-full justify-end"):
                ui.button(self.t("app.cancel"), on_click=lambda: dialog.submit(None)).props("flat")
                ui.button(self.t("desktop.internal_help"), icon="support_agent",
                          on_click=lambda: dialog.submit(other.value)).mark("consult-go")
        chosen = await dialog
        dialog.delete()
        if chosen:
            await self.act(lambda: self.desk.consult(self.ctx.actor, str(chosen)))

    # -------------------------------------------------------------------------------------- update
    def update(self, view: dict[str, Any]) -> None:
        """Enable what makes sense in the agent's new situation; show sign-in or sign-out, hold or unhold. Nothing
        to do when none of what the toolbar shows changed (:data:`SHOWN`): the desktop's refresh every few seconds
        mostly brings other agents' queue figures (≈ 4 % of a busy desktop server's event loop at 500 desktops)."""
        self.view = view
        if bool(view.get("auto_answer")) != self.auto_state:
            self.auto_state = bool(view.get("auto_answer"))
        if bool(self.auto.value) != self.auto_state:  # a switch the server refused goes back
            self.auto.value = self.auto_state
        shown = tuple(view.get(key) for key in SHOWN)
        if shown == self.shown:
            return
        self.shown = shown
        allowed = available(view, self.ctx.actor)
        self.dialpad.update(allowed)
        for name, button in self.buttons.items():
            button.set_enabled(allowed.get(name, False))
        signed_in = view.get("status", "logged_out") != "logged_out"
        for name in ("sign_in", "shift_in"):
            self.buttons[name].set_visibility(not signed_in)
        for name in ("sign_out", "shift_out"):
            self.buttons[name].set_visibility(signed_in)
        consulting = bool(view.get("consulting"))
        for name in ("complete_transfer", "conference", "cancel_consult"):
            self.buttons[name].set_visibility(consulting)
        held = view.get("state") == "hold"
        self.buttons["hold"].set_text(self.t("desktop.unhold" if held else "desktop.hold"))
        self.buttons["hold"].props(f"icon={'play_circle' if held else 'pause_circle'}")
        self.buttons["mute"].set_text(self.t("desktop.unmute" if view.get("muted") else "desktop.mute"))
        self.auto.set_enabled(bool(view.get("auto_answer")) or self.ctx.actor.has("agent.auto_answer"))
