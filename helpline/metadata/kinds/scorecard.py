"""The ``scorecard`` kind: how the quality desk judges one call (seed 000 Part 3 ch.4, seed 004's QA desk).

A scorecard has sections, each with a ``weight`` (per cent of the whole; the sections' weights add up to 100,
``HL-E430``), and items inside a section with their own ``weight`` (per cent of the section; they add up to 100
too). An item is scored from 0 to ``max`` (or passed/failed with ``max: 1``); ``fatal`` items fail the whole
evaluation when they score 0 (a major service error); ``na`` allows "not applicable" (the item's weight is shared
among the others of its section); ``comment`` requires a comment under a score below full marks. ``errors`` is
the category tree of error classes an evaluator records (seed 004: service error, work error, major service
error), ``pass_mark`` the per cent an evaluation needs to pass.

```yaml
kind: scorecard
name: call_quality
label: {en: Call quality, zh_CN: 通话质量}
errors: qa_error_class
pass_mark: 80
sections:
  - name: greeting
    weight: 20
    items:
      - {name: standard_greeting, weight: 60, max: 5}
      - {name: verified_identity, weight: 40, max: 1, fatal: true}
sampling: {per_agent_week: 5, complaints: true, longer_than: 10m, unsatisfied: true}
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import Label, MetaObject, Name, Strict
from .sla import Duration, duration_seconds


class ScoreItem(Strict):
    """One thing an evaluator scores."""

    name: Name
    label: Label | None = None
    weight: float = Field(gt=0)
    """Per cent of its section (the items of a section add up to 100: ``HL-E430``)."""
    max: int = Field(default=5, ge=1, le=100)
    """The best score; ``1``: passed or failed."""
    fatal: bool = False
    """A score of 0 fails the whole evaluation (its total becomes 0)."""
    na: bool = False
    """"Not applicable" is allowed; its weight is shared among the section's other items."""
    comment: bool = False
    """A comment is required under a score below ``max``."""


class ScoreSection(Strict):
    """A group of items with its share of the whole."""

    name: Name
    label: Label | None = None
    weight: float = Field(gt=0)
    """Per cent of the scorecard (the sections add up to 100: ``HL-E430``)."""
    items: list[ScoreItem] = Field(min_length=1)


class Sampling(Strict):
    """Which calls the weekly ``qa_sampling`` job puts on the evaluation queue (docs/quality.md)."""

    per_agent_week: int = Field(default=5, ge=0, le=1000)
    """Random answered calls per agent per week."""
    complaints: bool = True
    """Every call whose contact record has a complaint type."""
    longer_than: Duration | None = "10m"
    """Every call whose conversation lasted longer than this; unset: none by length."""
    unsatisfied: bool = True
    """Every call whose customer rated the service ``dissatisfied``."""

    @property
    def longer_than_s(self) -> int | None:
        return duration_seconds(self.longer_than) if self.longer_than else None


class Scorecard(MetaObject):
    kind: Literal["scorecard"]
    errors: Name | None = None
    """The category tree of error classes an evaluator may record (``qa_error_class``; ``HL-E204``)."""
    pass_mark: float = Field(default=80, ge=0, le=100)
    """The total (per cent) an evaluation needs to pass."""
    sections: list[ScoreSection] = Field(min_length=1)
    sampling: Sampling | None = None
    """The sampling rules of the calls this card evaluates; unset: calls are picked by hand only."""

    def items(self) -> list[tuple[ScoreSection, ScoreItem]]:
        return [(s, i) for s in self.sections for i in s.items]

    def item(self, section: str, name: str) -> ScoreItem | None:
        for s, i in self.items():
            if s.name == section and i.name == name:
                return i
        return None
