"""The agent's published shifts on the desktop: a compact strip of the next fourteen days (this week and the next)
(:func:`telephony.workforce.plan.my_shifts`), in the user's time zone of the roster (local times)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from nicegui import ui

from helpline.data.base import centre_today, to_centre
from telephony.workforce.plan import my_shifts

from .base import ViewContext


def _local(at: datetime) -> str:
    return to_centre(at).strftime("%H:%M")


def shifts_strip(ctx: ViewContext, t: Callable[..., str]) -> None:
    """A row: "My shifts" and one chip per shift (day, start-end); "none published" when there are none."""
    shifts = my_shifts(ctx.actor.username, centre_today(), 14)
    with ui.row().classes("w-full items-center gap-1 desk-shifts").mark("desk-shifts"):
        ui.icon("event", size="sm")
        ui.label(t("desk.my_shifts")).classes("text-caption text-weight-medium")
        if not shifts:
            ui.label(t("desk.no_shifts")).classes("text-caption text-grey-7")
        for s in shifts:
            ui.chip(f"{s['day']:%a %m-%d} {_local(s['starts_at'])}-{_local(s['ends_at'])}").props(
                "dense outline color=primary").mark("desk-shift")
