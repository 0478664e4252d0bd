"""The platform the web runtime serves (set once at start-up, shared by every page)."""

from __future__ import annotations

from helpline.services.platform import Platform

_STATE: dict[str, Platform] = {}


def set_platform(p: Platform) -> None:
    _STATE["platform"] = p


def platform() -> Platform:
    p = _STATE.get("platform")
    if p is None:
        raise RuntimeError("the web runtime has no platform; call helpline.ui.app.build() first")
    return p
