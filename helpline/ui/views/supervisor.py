"""The supervisor console (班长台) at ``/supervisor`` and the menu page ``supervisor`` (permission
``supervisor``, checked on the server like every page): the live wallboard with the supervisor's actions
(:mod:`.supervisor_wallboard`, :mod:`.supervisor_actions`) and, for users with ``routing.edit``, the
routing rules editor with "what if" simulation (:mod:`.routing_editor`).

"Wall mode" hides the shell (header, menu, tabs) and enlarges the numbers, for a wall screen.
"""

from __future__ import annotations

from nicegui import ui

from helpline.services.routing_revisions import PERMISSION as ROUTING_EDIT

from ..i18n import t
from .base import ViewContext
from .routing_editor import RoutingEditor
from .supervisor_wallboard import Wallboard

WALL_CLASS = "hl-wall"
CSS = f"""
body.{WALL_CLASS} .q-header, body.{WALL_CLASS} .q-drawer, body.{WALL_CLASS} .q-drawer-container,
body.{WALL_CLASS} .hl-sv-actions, body.{WALL_CLASS} .hl-sv-tabs,
body.{WALL_CLASS} .q-tabs:not(.hl-sv-tabs) {{ display: none !important; }}
body.{WALL_CLASS} .q-page-container {{ padding: 0 !important; }}
body.{WALL_CLASS} .hl-kpi-value {{ font-size: 4.5rem !important; line-height: 1.1; }}
body.{WALL_CLASS} .hl-sv-agent {{ font-size: 1.4rem; }}
.hl-rule-error-line {{ background: rgba(193, 0, 21, 0.07); }}
.hl-rule-warning-line {{ background: rgba(242, 192, 55, 0.12); }}
.hl-rule-error-mark {{ text-decoration: underline wavy #c10015; }}
.hl-rule-warning-mark {{ text-decoration: underline wavy #f2c037; }}
.hl-rule-error-note, .hl-rule-warning-note {{ display: block; padding-left: 2em; font-size: 0.85em;
  font-style: italic; }}
.hl-rule-error-note {{ color: #c10015; }}
.hl-rule-warning-note {{ color: #a07800; }}
"""


def set_wall_mode(on: bool, panels: ui.tab_panels) -> None:
    """Hide the shell and enlarge the numbers (the wallboard is shown: wall mode has no tabs)."""
    if on:
        panels.value = "wallboard"
        ui.query("body").classes(add=WALL_CLASS)
    else:
        ui.query("body").classes(remove=WALL_CLASS)


def supervisor_view(ctx: ViewContext) -> None:
    ui.add_css(CSS)
    telephony = ctx.platform.desk is not None and ctx.platform.router is not None
    with ui.row().classes("w-full items-center"):
        ui.label(t("supervisor.title")).classes("text-h5")
        ui.space()
        wall = ui.switch(t("supervisor.wall_mode")).mark("wall-mode")
    with ui.tabs().classes("w-full hl-sv-tabs").props("align=left dense") as tabs:
        board_tab = ui.tab("wallboard", label=t("supervisor.wallboard"), icon="monitor_heart")
        routing_tab = ui.tab("routing", label=t("supervisor.routing"), icon="alt_route") \
            if ctx.actor.has(ROUTING_EDIT) else None
    with ui.tab_panels(tabs, value=board_tab).classes("w-full").props("keep-alive") as panels:
        with ui.tab_panel(board_tab).classes("q-pa-none"):
            if telephony:
                Wallboard(ctx)
            else:
                ui.label(t("errors.telephony")).classes("text-warning").mark("sv-no-telephony")
        if routing_tab is not None:
            with ui.tab_panel(routing_tab).classes("q-pa-none"):
                RoutingEditor(ctx)
    wall.on_value_change(lambda e: set_wall_mode(bool(e.value), panels))
