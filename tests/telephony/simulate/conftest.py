"""Shared by the simulator tests: a small two-skill, two-tier scenario (``small_scenario.yaml``) as YAML text and
as a file."""

from __future__ import annotations

from pathlib import Path

import pytest

SMALL = (Path(__file__).with_name("small_scenario.yaml")).read_text(encoding="utf-8")
"""The small scenario (``small_scenario.yaml``; the tests name its lines: keep them where they are). The
reports' browser test runs it overloaded from 09:00 (tests/ui/test_browser_reports.py)."""


@pytest.fixture
def small() -> str:
    """The small scenario's YAML text."""
    return SMALL


@pytest.fixture
def small_scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path
