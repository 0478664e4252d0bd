"""Shared fixtures of the rule-language tests."""

from __future__ import annotations

import pytest

from helpline.rules import IVR, Use

CODES = {
    "value_tier": ["platinum", "diamond", "gold", "silver", "ordinary"],
    "lifecycle": ["new", "active", "dormant"],
}
REFS = {"queue": ["billing", "vip", "general"], "node": ["menu_main", "menu_en"]}


@pytest.fixture
def ivr() -> Use:
    """The IVR use that knows category codes and queue/node names."""
    return IVR.with_codes(codes=CODES.get, refs=REFS.get)
