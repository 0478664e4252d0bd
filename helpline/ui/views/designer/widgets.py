"""Small form pieces every designer uses: a label per language, a name input, a choice of category tree."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from helpline.metadata.kinds import LANGUAGES

from ...i18n import t
from .frame import DesignerFrame

Changed = Callable[[], Awaitable[Any]]


def label_inputs(frame: DesignerFrame, holder: dict[str, Any], path: tuple[str | int, ...], key: str = "label",
                 *, marker: str = "") -> None:
    """One input per language for ``holder[key]`` (a label: ``{en: ..., zh_CN: ...}`` or a plain string);
    saves the draft on blur; problems about the label shown under it."""
    value = holder.get(key)
    texts: dict[str, str] = ({"en": value} if isinstance(value, str) else dict(value or {}))

    def setter(language: str) -> Callable[[Any], Awaitable[Any]]:
        async def on_blur(_: Any = None) -> None:
            text = (widgets[language].value or "").strip()
            current = holder.get(key)
            labels = {"en": current} if isinstance(current, str) else dict(current or {})
            if text:
                labels[language] = text
            else:
                labels.pop(language, None)
            if labels == ({"en": current} if isinstance(current, str) else dict(current or {})):
                return
            holder[key] = labels
            await frame.changed()
        return on_blur

    widgets: dict[str, ui.input] = {}
    with ui.row().classes("w-full no-wrap gap-2"):
        for language in LANGUAGES:
            caption = t(f"designer.help.{language}" if key == "help" else f"designer.label.{language}")
            widgets[language] = ui.input(caption, value=texts.get(language, "")) \
                .props("dense").classes("grow").on("blur", setter(language))
            if marker:
                widgets[language].mark(f"{marker}-{language}")
    frame.error_slot(*path, key)


def labels_of(value: Any, language: str) -> str:
    """A label value as shown in ``language`` (falls back to English, then "")."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return str(value.get(language) or value.get("en") or "")
    return ""
