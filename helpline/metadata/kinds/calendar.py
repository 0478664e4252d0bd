"""The ``calendar`` kind: when service-level clocks count (working hours, public holidays, make-up days).

A calendar names its time zone (default ``Asia/Shanghai``), the working hours of each weekday (several ranges a
day: ``["08:30-12:00", "13:30-17:30"]``; ``"00:00-24:00"`` is the whole day), the public holidays (days off
whatever their weekday) and the make-up working days (调休: a Saturday or Sunday worked instead of a day of a
holiday), which work ``workday_hours`` (default: Monday's hours). A calendar with no working hours on any
weekday is refused by the checker (``HL-E410``): a deadline on it would never come.

```yaml
kind: calendar
name: prc
label: {en: PRC working days, zh_CN: 国家法定工作日}
timezone: Asia/Shanghai
hours:
  mon: ["08:30-12:00", "13:30-17:30"]
  fri: ["08:30-12:00", "13:30-17:30"]
holidays:
  - {date: 2026-10-01, to: 2026-10-07, label: {en: National Day, zh_CN: 国庆节}}
workdays:
  - {date: 2026-10-10, label: {en: Make-up day for National Day, zh_CN: 国庆节调休上班}}
```
"""

from __future__ import annotations

import datetime as dt
import re
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator, model_validator

from .common import Label, MetaObject, Strict

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys of ``hours``, Monday first (index = ``date.weekday()``)."""

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$")


def parse_range(text: str) -> tuple[int, int]:
    """``"08:30-12:00"`` → seconds of the day (30600, 43200); ValueError naming the mistake."""
    m = _RANGE.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' is not a range of hours like '08:30-12:00' (24-hour clock, '24:00' ends a day)")
    start = int(m.group(1)) * 3600 + int(m.group(2)) * 60
    end = 86400 if m.group(3) == "24:00" else int(m.group(4)) * 3600 + int(m.group(5)) * 60
    if end <= start:
        raise ValueError(f"'{text}' ends before it starts")
    return start, end


def parse_ranges(ranges: list[str]) -> list[tuple[int, int]]:
    """Ranges of one day, sorted; ValueError when two overlap."""
    parsed = sorted(parse_range(r) for r in ranges)
    for (_, end), (start, _) in pairwise(parsed):
        if start < end:
            raise ValueError(f"the ranges {', '.join(ranges)} overlap")
    return parsed


class Holiday(Strict):
    """A public holiday: one day, or ``date`` to ``to`` inclusive."""

    date: dt.date
    to: dt.date | None = None
    label: Label | None = None

    @model_validator(mode="after")
    def _order(self) -> Holiday:
        if self.to is not None and self.to < self.date:
            raise ValueError(f"'to' ({self.to}) is before 'date' ({self.date})")
        return self

    def days(self) -> list[dt.date]:
        last = self.to or self.date
        return [self.date + dt.timedelta(days=i) for i in range((last - self.date).days + 1)]


class Workday(Strict):
    """A make-up working day (调休上班): worked whatever its weekday."""

    date: dt.date
    label: Label | None = None
    hours: list[str] | None = None
    """This day's hours; default: the calendar's ``workday_hours``."""

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            parse_ranges(value)
        return value


class Calendar(MetaObject):
    kind: Literal["calendar"]
    timezone: str = "Asia/Shanghai"
    hours: dict[Weekday, list[str]] = {}
    """Weekday → working-hour ranges; a weekday not listed is not worked."""
    holidays: list[Holiday] = []
    workdays: list[Workday] = []
    workday_hours: list[str] | None = None
    """The hours of a make-up working day; default: Monday's (else the first worked weekday's)."""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone (use an IANA name like 'Asia/Shanghai')") from None
        return value

    @field_validator("hours")
    @classmethod
    def _week(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for ranges in value.values():
            parse_ranges(ranges)
        return value

    @field_validator("workday_hours")
    @classmethod
    def _workday_hours(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            parse_ranges(value)
        return value

    def weekly(self) -> list[list[tuple[int, int]]]:
        """Seconds-of-day ranges of each weekday, Monday first."""
        return [parse_ranges(self.hours.get(day, [])) for day in WEEKDAYS]  # type: ignore[call-overload]

    def makeup_hours(self) -> list[tuple[int, int]]:
        if self.workday_hours is not None:
            return parse_ranges(self.workday_hours)
        return next((r for r in self.weekly() if r), [])

    def has_hours(self) -> bool:
        return any(self.weekly())
