"""Dialling out from the UI: click-to-dial on phone fields and the dial pad of the desktop toolbar.

Both only call the desk service (``telephony.desk.dialout``), which checks the permission (``agent.outbound``,
``agent.internal_call``) and the agent's state again and records the call; a refusal is shown as a
notification. :func:`dial_button` puts a call button into a phone field of any form (the customer form, the
contact record, lists opened from the desktop ...) for users who may dial out when telephony runs; the
:class:`DialPad` opens from the toolbar: a number and a keypad to dial it, the same keys send digits during
a call (second dialling; keys pressed in quick succession are sent one after another, in the order pressed), an
outside number to consult, or another agent to call. Its button is enabled
when any of these is possible (``available()`` of the toolbar, the server's one table).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from nicegui import run, ui

from helpline.security.actor import PermissionDenied
from telephony.desk.dialout import outbound

from ..i18n import t
from .base import ViewContext

__all__ = ["DIAL_ACTIONS", "DialPad", "dial_button", "dial_number"]

DIAL_ACTIONS = ("dial", "internal_call", "dtmf", "consult_out")
"""The toolbar actions (``telephony.desk.actions``) the dial pad offers."""
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")


async def _desk_call(ctx: ViewContext, function: Callable[[], Any], done: str | None = None) -> bool:
    """Run one blocking desk function off the event loop; notify its refusal (or ``done``)."""
    from telephony.desk.service import DeskError

    try:
        await run.io_bound(function)
    except PermissionDenied:
        ui.notify(t("errors.forbidden"), type="negative")
        return False
    except DeskError as exc:
        ui.notify(t("desk.refused", message=str(exc)), type="warning")
        return False
    if done:
        ui.notify(done, type="info")
    return True


async def dial_number(ctx: ViewContext, number: str) -> bool:
    """Click-to-dial: the actor's phone rings, then ``number`` (the customer is found by the number); the call's
    contact record opens in a tab."""
    desk = ctx.platform.desk
    if desk is None:
        ui.notify(t("desk.no_telephony"), type="warning")
        return False
    text = (number or "").strip()
    if not text:
        ui.notify(t("dial.no_number"), type="warning")
        return False
    placed: list[int] = []
    if not await _desk_call(ctx, lambda: placed.append(outbound(desk).dial(ctx.actor, text)),
                            t("dial.dialling", number=text)):
        return False
    call = outbound(desk).get(placed[0]) if placed else None
    if call is not None and call.contact_record is not None:  # the agent notes the call as for an inbound one
        ctx.open("record", "contact_record_form", record_id=call.contact_record)
    return True


def dial_button(ctx: ViewContext, element: Any, name: str = "") -> None:
    """A call button in a phone field (``element``, an input; ``name``: the field's, for its marker
    ``click-to-dial-<name>``) when the user may dial out and telephony runs."""
    if ctx.platform.desk is None or not ctx.actor.has("agent.outbound") or not ctx.actor.has("desktop"):
        return
    with element.add_slot("append"):
        button = ui.button(icon="call", on_click=lambda: dial_number(ctx, str(element.value or ""))) \
            .props("flat dense round size=sm color=positive").mark(f"click-to-dial click-to-dial-{name}")
        button.props["title"] = t("dial.call")


class DialPad:
    """The toolbar's dial pad (see the module docstring)."""

    def __init__(self, ctx: ViewContext, view: Callable[[], dict[str, Any]]) -> None:
        self.ctx, self.view = ctx, view
        self.opener: Callable[..., Any] | None = None
        """Where the dialled call's contact record opens (the desktop's work area; default: the page's tabs)."""
        self.allowed: dict[str, bool] = {}
        self.button = ui.button(t("dial.pad"), icon="dialpad", on_click=self.open) \
            .props("dense no-caps unelevated").classes("desk-dialpad").mark("desk-dialpad")
        self.button.props["title"] = t("dial.pad")

    def update(self, allowed: dict[str, bool]) -> None:
        self.allowed = {name: allowed.get(name, False) for name in DIAL_ACTIONS}
        self.button.set_enabled(any(self.allowed.values()))

    async def open(self) -> None:
        desk = self.ctx.platform.desk
        if desk is None:
            ui.notify(t("desk.no_telephony"), type="warning")
            return
        dialling = outbound(desk)
        actor = self.ctx.actor
        with ui.dialog() as dialog, ui.card().classes("w-80"):
            ui.label(t("dial.pad")).classes("text-h6")
            number = ui.input(t("dial.number")).props("type=tel clearable autofocus").classes("w-full") \
                .mark("dialpad-number")

            pressing = asyncio.Lock()  # first come, first served: the keys go out in the order pressed

            async def key(digit: str) -> None:
                async with pressing:  # (each send runs on a worker thread: two at once could swap their digits)
                    if self.allowed.get("dtmf"):  # during a call the keys are second dialling
                        await _desk_call(self.ctx, lambda: dialling.send_dtmf(actor, digit))
                    number.value = f"{number.value or ''}{digit}"

            with ui.grid(columns=3).classes("w-full gap-1"):
                for digit in KEYS:
                    ui.button(digit, on_click=lambda d=digit: key(d)).props("outline dense").classes("text-h6") \
                        .mark(f"dialpad-key-{'star' if digit == '*' else 'hash' if digit == '#' else digit}")

            async def go(action: str) -> None:
                text = str(number.value or "").strip()
                if action == "dial":
                    ctx = replace(self.ctx, open=self.opener) if self.opener is not None else self.ctx
                    ok = await dial_number(ctx, text)
                elif action == "consult_out":
                    ok = await _desk_call(self.ctx, lambda: dialling.consult_out(actor, text))
                else:
                    ok = await _desk_call(self.ctx, lambda: dialling.call_agent(actor, str(other.value or "")))
                if ok:
                    dialog.submit(action)

            with ui.row().classes("w-full justify-end gap-1"):
                ui.button(t("dial.call"), icon="call", color="positive", on_click=lambda: go("dial")) \
                    .props("dense no-caps").mark("dialpad-call").set_enabled(self.allowed.get("dial", False))
                ui.button(t("dial.consult_out"), icon="support_agent", on_click=lambda: go("consult_out")) \
                    .props("dense no-caps").mark("dialpad-consult").set_enabled(self.allowed.get("consult_out", False))
            me = self.view().get("id")
            agents = desk.router.do(lambda r: [(a.id, a.profile.name) for a in r.agents.values()
                                               if a.signed_in and a.id != me])
            with ui.row().classes("w-full items-center no-wrap gap-1"):
                other = ui.select({n: f"{n} {name}".strip() for n, name in agents}, label=t("dial.agent")) \
                    .classes("col").mark("dialpad-agent")
                ui.button(t("dial.call_agent"), icon="headset_mic", on_click=lambda: go("internal_call")) \
                    .props("dense no-caps").mark("dialpad-call-agent") \
                    .set_enabled(self.allowed.get("internal_call", False))
            ui.button(t("app.close"), on_click=lambda: dialog.submit(None)).props("flat").classes("self-end")
        await dialog
        dialog.delete()
