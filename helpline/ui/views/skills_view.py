"""The skills page (``/page/skills``, permission ``users.manage``): every agent profile with its skills and levels
— the router's skills, edited here in one place through :mod:`helpline.services.skills` (audited)."""

from __future__ import annotations

from typing import Any

from nicegui import run, ui

from helpline.security.actor import PermissionDenied
from helpline.services import skills as skill_service
from helpline.services.agents import ProfileError

from ..i18n import t
from .base import ViewContext

LEVELS: dict[int, str] = {0: "—", **{i: str(i) for i in range(1, 10)}}


def skills_view(ctx: ViewContext) -> None:
    ui.label(t("skills.title")).classes("text-h6")
    known = skill_service.known_skills(ctx.platform.metadata)
    columns = [{"name": "number", "field": "number", "label": t("skills.number"), "align": "left"},
               {"name": "username", "field": "username", "label": t("skills.user"), "align": "left"},
               {"name": "name", "field": "name", "label": t("skills.name"), "align": "left"},
               {"name": "skills", "field": "skills", "label": t("skills.skills"), "align": "left"}]
    table = ui.table(columns=columns, rows=[], row_key="number").props("flat dense bordered") \
        .classes("w-full cursor-pointer").mark("skills-table")
    editor = ui.column().classes("w-full").mark("skills-editor")
    profiles: dict[str, dict[str, Any]] = {}

    async def load() -> None:
        try:
            found = await run.io_bound(skill_service.profiles, ctx.actor) or []
        except PermissionDenied:
            ui.notify(t("errors.forbidden"), type="negative")
            return
        profiles.clear()
        profiles.update({p["number"]: p for p in found})
        table.rows = [{"number": p["number"], "username": p.get("username") or "", "name": p.get("name") or "",
                       "skills": ", ".join(f"{s}:{lv}" for s, lv in sorted((p.get("skills") or {}).items(),
                                                                            key=lambda x: (x[1], x[0])))}
                      for p in found]
        table.update()

    def edit(number: str) -> None:
        profile = profiles.get(number)
        if profile is None:
            return
        editor.clear()
        have = profile.get("skills") or {}
        with editor:
            ui.label(t("skills.editing", number=number, name=profile.get("name") or "")).classes("text-subtitle1")
            selects: dict[str, Any] = {}
            with ui.row().classes("gap-2 wrap"):
                for skill in known:
                    selects[skill] = ui.select(LEVELS, value=int(have.get(skill, 0)), label=skill).props("dense") \
                        .classes("w-28").mark(f"skill-{skill}")

            async def save() -> None:
                wanted = {s: (sel.value or None) for s, sel in selects.items()}
                try:
                    await run.io_bound(skill_service.save_skills, ctx.actor, ctx.platform.metadata, number, wanted)
                except (ProfileError, PermissionDenied) as exc:
                    ui.notify(str(exc), type="negative")
                    return
                ui.notify(t("skills.saved", number=number), type="positive")
                await load()

            ui.button(t("form.save"), icon="save", on_click=save).props("color=primary").mark("skills-save")

    table.on("row-click", lambda e: edit(str((e.args[1] if isinstance(e.args, list) else e.args)["number"])))
    ui.timer(0, load, once=True)
