"""What every view gets: the platform, the acting user, and a way to open other views as tabs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from helpline.security.actor import Actor
from helpline.services.platform import Platform

Opener = Callable[..., Any]


@dataclass
class ViewContext:
    platform: Platform
    actor: Actor
    open: Opener = field(default=lambda *a, **k: None)
    """``open(kind, name, **params)``: open (or focus) a view in a tab of the work area."""
    close: Callable[[], None] = field(default=lambda: None)
    """Close the tab this view is in."""
    retitle: Callable[[str], None] = field(default=lambda title: None)
    language: str = "zh_CN"
    """The user's language, captured in the page (worker threads cannot see the browser session)."""
    params: dict[str, Any] = field(default_factory=dict)
    """What the URL or the opener passed to the view (e.g. the designer's kind and object)."""
