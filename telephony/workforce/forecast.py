"""Forecast offered calls per half hour per queue from the history of ``hl_call``.

For a target day, each queue's forecast for half hour *s* is the mean of the calls offered in slot *s* on the
same weekday over the last ``weeks`` weeks (default 4), leaving out the days the business calendar lists as
public holidays (a holiday's traffic is not a Tuesday's). A target day that is itself a public holiday takes
the **Sunday** profile. Times are the calendar's local time (``Asia/Shanghai`` for ``prc``).

**No history** (no call of the queue on that weekday in the window): the forecast falls back to
:data:`DEFAULT_PROFILE` — ``DEFAULT_PER_SLOT`` (10) calls per half hour from 08:00 to 20:00 and none at night —
and says so: ``Forecast.fallback`` is true and ``Forecast.note`` names the queue and the window.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from helpline.data.calls import Call
from helpline.data.database import session
from helpline.metadata.kinds.calendar import Calendar

SLOTS = 48
"""Half hours of a day."""
DEFAULT_PER_SLOT = 10.0
DEFAULT_PROFILE: tuple[float, ...] = tuple(DEFAULT_PER_SLOT if 16 <= s < 40 else 0.0 for s in range(SLOTS))
"""The documented default without history: 10 calls per half hour 08:00-20:00, none at night."""


@dataclass
class Forecast:
    queue: str
    day: date
    calls: list[float]
    """Offered calls per half hour (48 values, local time)."""
    fallback: bool = False
    note: str = ""
    history_days: list[date] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(self.calls)


def holidays_of(calendar: Calendar | None) -> set[date]:
    return {d for h in (calendar.holidays if calendar else []) for d in h.days()}


def forecast_day(day: date, queues: list[str], *, calendar: Calendar | None = None, weeks: int = 4,
                 timezone: str | None = None) -> dict[str, Forecast]:
    """Forecasts of ``queues`` for ``day`` (see the module docstring)."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    zone = ZoneInfo(timezone or (calendar.timezone if calendar else "Asia/Shanghai"))
    holidays = holidays_of(calendar)
    weekday = 6 if day in holidays else day.weekday()
    history = [d for d in (day - timedelta(days=k) for k in range(1, 7 * weeks + 8))
               if d.weekday() == weekday and d not in holidays and d < day][:weeks]
    counts: dict[str, list[float]] = {q: [0.0] * SLOTS for q in queues}
    seen: dict[str, set[date]] = defaultdict(set)
    if history:
        start_local = datetime.combine(min(history), datetime.min.time(), zone)
        stop_local = datetime.combine(max(history) + timedelta(days=1), datetime.min.time(), zone)
        start = start_local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        stop = stop_local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        wanted = set(history)
        with session():
            rows: Any = (Call.select(Call.queue, Call.started_at)
                    .where((Call.started_at >= start) & (Call.started_at < stop) & Call.queue.in_(queues))
                    .tuples())
            for queue, started in rows:
                local = started.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
                if local.date() in wanted:
                    counts[queue][local.hour * 2 + local.minute // 30] += 1
                    seen[queue].add(local.date())
    out: dict[str, Forecast] = {}
    for q in queues:
        if not seen[q]:
            window = f"{min(history)} .. {max(history)}" if history else "none"
            out[q] = Forecast(q, day, list(DEFAULT_PROFILE), fallback=True,
                              note=f"no history for queue '{q}' on {day:%A}s (window {window}): the default profile "
                                   f"of {DEFAULT_PER_SLOT:g} calls per half hour 08:00-20:00 was used")
            continue
        n = len(history)
        out[q] = Forecast(q, day, [round(c / n, 2) for c in counts[q]], history_days=sorted(history))
    return out
