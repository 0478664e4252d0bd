"""The contract between the designer frame and one kind's designer form.

The frame (:mod:`.frame`) loads an object (the author's draft, else the live revision) into
``frame.data`` — plain data as in the YAML file — and owns everything common: saving the draft after each
edit, live checking, the problem list, publish / discard, the YAML tab and the history. A kind's designer
is an :class:`Editor` subclass registered in :data:`EDITORS`; it builds its form in :meth:`Editor.render`,
changes ``self.data`` in place and then awaits ``self.frame.changed()`` (which saves the draft and checks
it), calls ``self.frame.error_slot(path...)`` beside each widget to show the problems about that value,
and calls ``self.frame.rerender()`` after structural changes (an item added, moved or removed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .frame import DesignerFrame


class Editor:
    """Base of one kind's designer form (see the module docstring)."""

    kind: ClassVar[str] = ""
    icon: ClassVar[str] = "edit"

    def __init__(self, frame: DesignerFrame) -> None:
        self.frame = frame

    @property
    def data(self) -> dict[str, Any]:
        assert self.frame.data is not None
        return self.frame.data

    def render(self) -> None:
        """Build the form into the current NiceGUI container from ``self.data``."""
        raise NotImplementedError

    async def changed(self, *, rerender: bool = False) -> None:
        """Save and check the draft after an edit of ``self.data``; rebuild the form after structural
        changes (an item added, moved or removed)."""
        await self.frame.changed()
        if rerender:
            self.frame.rerender()

    @classmethod
    def template(cls, name: str) -> dict[str, Any]:
        """The data of a new object of this kind named ``name`` (must pass the schema checks)."""
        return {"kind": cls.kind, "name": name, "label": {"en": name}}


EDITORS: dict[str, type[Editor]] = {}
"""The designer form of each kind; kinds without one are edited in the YAML tab only."""


def register(editor: type[Editor]) -> type[Editor]:
    """Class decorator: make ``editor`` the designer of its kind."""
    EDITORS[editor.kind] = editor
    return editor
