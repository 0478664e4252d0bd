"""The ``performance`` kind: the monthly agent scorecard — which indicators count, with which weight and target.

Each indicator scores 0-100: ``handled`` calls and ``adherence`` (per cent) and the mean ``qa`` evaluation score
as a share of their target (capped at 100), the average handle time ``aht`` as the target over the actual (a
shorter time than the target scores 100). The agent's score is the weighted mean; the weights add up to 100
(``HL-E430``). Computed by :mod:`telephony.workforce.performance` (docs/staff.md).

```yaml
kind: performance
name: monthly_agent
weights: {handled: 30, aht: 20, adherence: 20, qa: 30}
targets: {handled: 1200, aht: 5m, adherence: 95, qa: 90}
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import MetaObject, Strict
from .sla import Duration


class PerformanceWeights(Strict):
    handled: float = Field(default=25, ge=0)
    aht: float = Field(default=25, ge=0)
    adherence: float = Field(default=25, ge=0)
    qa: float = Field(default=25, ge=0)


class PerformanceTargets(Strict):
    handled: int = Field(default=1000, ge=1)
    """Calls answered in the month."""
    aht: Duration = "5m"
    """Average handle time (talk) at or below which the indicator scores 100."""
    adherence: float = Field(default=95, gt=0, le=100)
    """Per cent of scheduled time signed in."""
    qa: float = Field(default=90, gt=0, le=100)
    """Mean QA evaluation total."""


class Performance(MetaObject):
    kind: Literal["performance"]
    weights: PerformanceWeights = PerformanceWeights()
    targets: PerformanceTargets = PerformanceTargets()
