"""Imports every kind's designer so it registers itself in :data:`.editor.EDITORS`."""

from __future__ import annotations

from .editor import EDITORS

__all__ = ["EDITORS"]
