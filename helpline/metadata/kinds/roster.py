"""The ``roster`` kind: the shift patterns and rules a team's roster is made from (docs/staff.md).

A roster object names the queues whose forecast it covers, the routing whose tier targets it meets, the business
calendar whose holidays the forecast leaves out, the mean handle time, the shift patterns (start, length, a
break in the middle that does not cover) and the hard rules every agent keeps (rest between shifts, shifts per
week, consecutive working days). The solver (OR-Tools CP-SAT, :mod:`telephony.workforce.roster`) finds the
roster with the least under- and over-staffing; an infeasible rule set is reported with the rules that bind.

```yaml
kind: roster
name: demo_centre
queues: [general, vip, consult]
routing: main
calendar: prc
handle_time: 4m
patterns:
  - {name: early, start: '08:00', length: 8h, break: 1h}
rules: {min_rest: 11h, max_shifts_week: 5, max_consecutive_days: 6}
```
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from .common import Label, MetaObject, Name, Strict
from .sla import Duration, duration_seconds

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([03]0)$")


def _clock(text: str) -> str:
    if not _CLOCK.match(str(text)):
        raise ValueError(f"'{text}' is not a start on the half hour like '08:00' or '13:30'")
    return text


Clock = Annotated[str, AfterValidator(_clock)]


class ShiftPatternSpec(Strict):
    name: Name
    label: Label | None = None
    start: Clock
    """Local start on the half hour (``08:00``)."""
    length: Duration
    """Whole half hours (``8h``, ``7h30m``), at most 12 hours."""
    break_: Duration | None = Field(default=None, alias="break")
    """Taken in the middle of the shift; does not cover."""

    @model_validator(mode="after")
    def _whole_half_hours(self) -> ShiftPatternSpec:
        self.minutes()
        return self

    def minutes(self) -> tuple[int, int, int]:
        """Start, length and break in minutes."""
        h, m = self.start.split(":")
        length = duration_seconds(self.length) // 60
        brk = duration_seconds(self.break_) // 60 if self.break_ else 0
        if length % 30 or length > 720 or brk % 30 or brk >= length:
            raise ValueError(f"shift '{self.name}': length and break are whole half hours, the break shorter")
        return int(h) * 60 + int(m), length, brk


class RosterRules(Strict):
    min_rest: Duration = "11h"
    """Rest from the end of one shift to the start of the next."""
    max_shifts_week: int = Field(default=5, ge=0, le=7)
    min_shifts_week: int = Field(default=0, ge=0, le=7)
    max_consecutive_days: int = Field(default=6, ge=1, le=14)


class Roster(MetaObject):
    kind: Literal["roster"]
    queues: list[Name] = Field(min_length=1)
    """The queues whose forecast calls the roster covers (``HL-E303``)."""
    routing: Name | None = None
    """The routing whose tier targets are met; unset: the first routing."""
    calendar: Name | None = None
    """The business calendar whose holidays the forecast leaves out (``HL-E412``)."""
    handle_time: Duration = "4m"
    """Mean handle time of a call (talk and wrap-up)."""
    patience: Duration | None = "2m"
    """Callers' mean patience for Erlang A; unset: Erlang C only."""
    patterns: list[ShiftPatternSpec] = Field(min_length=1)
    rules: RosterRules = RosterRules()
