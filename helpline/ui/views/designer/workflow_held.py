"""What the designer shows when publishing is refused because a workflow draft drops states records are
still in (:class:`~helpline.services.workflow.engine.StatesStillHeld`): each process, state and number of
records, a choice of the state they should go to, and one button that writes those ``state_map``
entries into the author's drafts of the processes (publish again to move the records, each with a
``migrate`` step on its timeline).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import run, ui

from helpline.services.designer import workflow_ops as ops
from helpline.services.workflow.engine import StatesStillHeld

from ...i18n import t

if TYPE_CHECKING:
    from .frame import DesignerFrame


def _add_maps(frame: DesignerFrame, chosen: dict[str, dict[str, str]]) -> int:
    """Write the chosen ``state_map`` entries into the author's drafts; returns how many were written."""
    written = 0
    for workflow, mapping in chosen.items():
        mapping = {old: new for old, new in mapping.items() if new}
        if not mapping:
            continue
        opened = frame.service.open(frame.ctx.actor, "workflow", workflow)
        if opened.data is None:
            continue
        data = dict(opened.data)
        ops.map_states(data, mapping)
        frame.service.save(frame.ctx.actor, "workflow", workflow, data, opened.base_revision)
        written += len(mapping)
    return written


async def show_held(frame: DesignerFrame, exc: StatesStillHeld) -> None:
    """The refusal as a dialog with the numbers and the ``state_map`` choices (see the module docstring)."""
    preview = await run.io_bound(frame.preview)
    mset = preview[0] if preview is not None else frame.ctx.platform.metadata
    targets: dict[tuple[str, str], ui.select] = {}
    with ui.dialog() as dialog, ui.card().classes("min-w-[36rem]").mark("designer-held"):
        ui.label(t("designer.workflow.held.refused")).classes("text-h6 text-negative")
        ui.label(t("designer.workflow.held.help")).classes("text-caption")
        for workflow, state, count in exc.held:
            flow = mset.objects.get("workflow", {}).get(workflow)
            states = [s.name for s in getattr(flow, "states", [])]
            with ui.row().classes("w-full items-end gap-2 no-wrap"):
                ui.label(t("designer.workflow.held.row_of", workflow=workflow, state=state, count=count)) \
                    .classes("grow").mark(f"designer-held-{workflow}-{state}")
                targets[(workflow, state)] = ui.select(states, label=t("designer.workflow.held.to")) \
                    .props("dense").classes("w-44").mark(f"designer-held-{workflow}-{state}-to")

        async def apply() -> None:
            chosen: dict[str, dict[str, str]] = {}
            for (workflow, state), select in targets.items():
                chosen.setdefault(workflow, {})[state] = str(select.value or "")
            written = await run.io_bound(_add_maps, frame, chosen) or 0
            dialog.close()
            ui.notify(t("designer.workflow.held.mapped", count=written), type="info")
            await frame.reload()

        with ui.row().classes("gap-2"):
            ui.button(t("designer.workflow.held.map"), icon="merge", on_click=apply).mark("designer-held-map")
            ui.button(t("app.close"), on_click=dialog.close).props("flat")
    dialog.open()
