"""Business-time arithmetic: counted seconds on a working calendar, pure and fast.

A :class:`BusinessCalendar` knows, for each local day, the working intervals (the weekday's hours, none on a
public holiday, the make-up hours on a make-up working day), converted once to UTC epoch seconds in the
calendar's time zone. The intervals of whole years are laid out in flat sorted arrays with the running total
of working seconds at the start of each interval, so

- :meth:`BusinessCalendar.between` (working seconds between two instants) is two bisections, and
- :meth:`BusinessCalendar.add` (the instant ``n`` working seconds after another) is two bisections too,

whatever the distance (nights, weekends, a nine-day Spring Festival). Years are added as instants reach them: a
wider layout is built and swapped in whole, so threads may share a calendar.
Instants in and out are naive UTC datetimes, like every timestamp Helpline stores. Adjacent intervals are merged,
so a round-the-clock calendar is one long interval and equals wall-clock time.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from helpline.metadata.kinds.calendar import Calendar, parse_ranges

Ranges = Sequence[tuple[int, int]]

_EPOCH = datetime(1970, 1, 1)


def to_epoch(instant: datetime) -> float:
    """Seconds since 1970 of a naive UTC datetime (an aware one is converted)."""
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC).replace(tzinfo=None)
    return (instant - _EPOCH).total_seconds()


def from_epoch(seconds: float) -> datetime:
    """The naive UTC datetime of epoch seconds (to the microsecond)."""
    return _EPOCH + timedelta(microseconds=round(seconds * 1_000_000))


@dataclass(frozen=True)
class _Layout:
    """The working intervals of the years ``first``..``last`` in UTC epoch seconds, with running totals."""

    first: int
    last: int
    lo: float
    """Instants from ``lo`` (1 January of ``first + 1``) to ``hi`` (1 January of ``last``) need no wider layout."""
    hi: float
    starts: list[float]
    ends: list[float]
    cum: list[float]
    """Counted seconds before each interval."""
    cum_end: list[float]
    """Counted seconds at each interval's end."""


class NoWorkingHours(ValueError):
    """The calendar has no working time at all: no deadline on it would ever come."""


class BusinessCalendar:
    """Working time of one calendar: weekly hours, holidays and make-up days in a time zone."""

    def __init__(self, timezone: str, weekly: Sequence[Ranges], holidays: Iterable[date] = (),
                 workdays: Mapping[date, Ranges] | None = None) -> None:
        if len(weekly) != 7:
            raise ValueError("weekly needs the ranges of 7 weekdays, Monday first")
        self.zone = ZoneInfo(timezone)
        self.weekly = [tuple(sorted(r)) for r in weekly]
        self.holidays = frozenset(holidays)
        self.workdays = {d: tuple(sorted(r)) for d, r in (workdays or {}).items()}
        if not any(self.weekly):
            raise NoWorkingHours("the calendar has no working hours on any weekday")
        self._layout = _Layout(0, 0, 0.0, 0.0, [], [], [], [])
        self._lock = threading.Lock()

    @classmethod
    def of(cls, cal: Calendar) -> BusinessCalendar:
        """The arithmetic of a ``calendar`` metadata object."""
        makeup = cal.makeup_hours()
        workdays: dict[date, Ranges] = {}
        for w in cal.workdays:
            workdays[w.date] = parse_ranges(w.hours) if w.hours is not None else makeup
        holidays = [d for h in cal.holidays for d in h.days()]
        return cls(cal.timezone, cal.weekly(), holidays, workdays)

    # -- layout --------------------------------------------------------------------------------------------
    def day_ranges(self, day: date) -> Ranges:
        """The working ranges (seconds of the local day) of one day."""
        if day in self.workdays:
            return self.workdays[day]
        if day in self.holidays:
            return ()
        return self.weekly[day.weekday()]

    def _intervals(self, first: int, last: int) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        day, end_day = date(first, 1, 1), date(last, 12, 31)
        one = timedelta(days=1)
        while day <= end_day:
            for start, end in self.day_ranges(day):
                a = self._instant(day, start)
                b = self._instant(day, end)
                if b <= a:
                    continue
                if out and a <= out[-1][1]:
                    out[-1] = (out[-1][0], max(out[-1][1], b))
                else:
                    out.append((a, b))
            day += one
        return out

    def _instant(self, day: date, second: int) -> float:
        if second >= 86400:
            day, second = day + timedelta(days=1), second - 86400
        local = datetime.combine(day, time(second // 3600, second // 60 % 60, second % 60), tzinfo=self.zone)
        return local.timestamp()

    def _cover(self, seconds: float) -> _Layout:
        """A layout holding the years around ``seconds`` (one before, one after): the current one, or a wider
        one built and swapped in whole (threads share a calendar; each call works on one layout)."""
        layout = self._layout
        if layout.lo <= seconds < layout.hi:
            return layout
        with self._lock:
            layout = self._layout
            if layout.lo <= seconds < layout.hi:
                return layout
            year = from_epoch(seconds).year
            first = min(year - 1, layout.first) if layout.starts else year - 1
            last = max(year + 1, layout.last) if layout.starts else year + 1
            intervals = self._intervals(first, last)
            total = 0.0
            cum, cum_end = [], []
            for a, b in intervals:
                cum.append(total)
                total += b - a
                cum_end.append(total)
            layout = _Layout(first, last, to_epoch(datetime(first + 1, 1, 1)), to_epoch(datetime(last, 1, 1)),
                             [a for a, _ in intervals], [b for _, b in intervals], cum, cum_end)
            self._layout = layout
            return layout

    # -- arithmetic ----------------------------------------------------------------------------------------
    @staticmethod
    def _counted(layout: _Layout, seconds: float) -> float:
        i = bisect_right(layout.starts, seconds) - 1
        if i < 0:
            return 0.0
        return layout.cum[i] + min(seconds, layout.ends[i]) - layout.starts[i]

    def between_epoch(self, a: float, b: float) -> float:
        """Working seconds from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
        layout = self._cover(a)
        if not layout.lo <= b < layout.hi:
            layout = self._cover(b)  # wider: still holds a
        return self._counted(layout, b) - self._counted(layout, a)

    def add_epoch(self, start: float, seconds: float) -> float:
        """The earliest instant at which ``seconds`` working seconds have passed since ``start``."""
        if seconds <= 0:
            return start
        layout = self._cover(start)
        target = self._counted(layout, start) + seconds
        while target > layout.cum_end[-1]:  # beyond the laid-out years: lay out more
            layout = self._cover(layout.ends[-1] + 366 * 86400)
            target = self._counted(layout, start) + seconds
        j = bisect_left(layout.cum_end, target)
        return layout.starts[j] + (target - layout.cum[j])

    def between(self, a: datetime, b: datetime) -> float:
        """Working seconds between two naive UTC instants."""
        return self.between_epoch(to_epoch(a), to_epoch(b))

    def add(self, start: datetime, seconds: float) -> datetime:
        """The naive UTC instant ``seconds`` working seconds after ``start``."""
        return from_epoch(self.add_epoch(to_epoch(start), seconds))

    def is_working(self, instant: datetime) -> bool:
        t = to_epoch(instant)
        layout = self._cover(t)
        i = bisect_right(layout.starts, t) - 1
        return i >= 0 and t < layout.ends[i]
