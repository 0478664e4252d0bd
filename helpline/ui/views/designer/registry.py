"""Imports every kind's designer so it registers itself in :data:`.editor.EDITORS`."""

from __future__ import annotations

from . import (  # noqa: F401 - each registers itself
    category_designer,
    entity_designer,
    ivr_designer,
    menu_designer,
    query_designer,
    role_designer,
    screen_designer,
    sla_designer,
    workflow_designer,
)
from .editor import EDITORS

__all__ = ["EDITORS"]
