"""A campaign's dialling rules as pure functions: which numbers are valid, when a number may be dialled (call
windows per region and day) and when it is tried again after each outcome.

Times in and out are naive UTC (how the tables store them); windows are read in the campaign's time zone.

```python
dial_number("+86 138-0013-8000")        # '13800138000'; None for an invalid number
window_at(campaign, "north", now)       # Open(key='2026-12-07/1', ends=...) or None: outside every window
next_window_start(campaign, "north", now)
after_outcome(campaign, attempts=1, outcome="busy", now=now)   # ('ready', now + 10 min)
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from helpline.metadata.kinds.campaign import DAYS, OUTCOMES, Campaign, Window
from helpline.metadata.kinds.sla import duration_seconds

__all__ = ["Open", "after_outcome", "dial_number", "next_window_start", "relative_date", "window_at", "windows_for"]

_SEPARATORS = re.compile(r"[\s\-().]")
_RELATIVE = re.compile(r"^-(\d{1,3})d$")


def dial_number(raw: object) -> str | None:
    """The digits to dial for ``raw`` (spaces, dashes and brackets dropped, a +86/0086 country prefix removed),
    or None when it is not a telephone number (letters, fewer than 7 or more than 15 digits)."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = _SEPARATORS.sub("", str(raw))
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        return None
    for prefix in ("0086", "86"):
        if (plus or prefix == "0086") and digits.startswith(prefix) and len(digits) - len(prefix) >= 7:
            return digits[len(prefix):]
    return digits


def relative_date(value: object, today: date) -> object:
    """``today``, ``yesterday`` or ``-<n>d`` as an ISO date; any other value as it is (lists element-wise)."""
    if isinstance(value, list | tuple):
        return [relative_date(v, today) for v in value]
    if value == "today":
        return today.isoformat()
    if value == "yesterday":
        return (today - timedelta(days=1)).isoformat()
    m = _RELATIVE.match(str(value)) if isinstance(value, str) else None
    return (today - timedelta(days=int(m.group(1)))).isoformat() if m else value


@dataclass(frozen=True)
class Open:
    """A call window open now: its key (``<local date>/<index>``) and when it closes (naive UTC)."""

    key: str
    ends: datetime


def windows_for(campaign: Campaign, region: str | None) -> list[tuple[int, Window]]:
    """The windows of ``region``: those naming it, else those for every region."""
    own = [(i, w) for i, w in enumerate(campaign.windows) if region and region in w.regions]
    return own or [(i, w) for i, w in enumerate(campaign.windows) if not w.regions]


def _local(campaign: Campaign, utc: datetime) -> datetime:
    return utc.replace(tzinfo=UTC).astimezone(ZoneInfo(campaign.timezone))


def _utc(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def _span(campaign: Campaign, day: date, w: Window) -> tuple[datetime, datetime]:
    zone = ZoneInfo(campaign.timezone)
    start = datetime.combine(day, time.fromisoformat(w.from_), zone)
    end = datetime.combine(day, time.fromisoformat(w.to), zone)
    return start, end


def window_at(campaign: Campaign, region: str | None, now: datetime) -> Open | None:
    """The window of ``region`` open at ``now`` (naive UTC), or None: dialling now is refused."""
    local = _local(campaign, now)
    day = local.date()
    for i, w in windows_for(campaign, region):
        if DAYS[day.weekday()] not in w.days:
            continue
        start, end = _span(campaign, day, w)
        if start <= local < end:
            return Open(f"{day.isoformat()}/{i}", _utc(end))
    return None


def next_window_start(campaign: Campaign, region: str | None, after: datetime) -> datetime | None:
    """The first moment after ``after`` (naive UTC) when a window of ``region`` opens; None if it has none.
    A window open at ``after`` does not count: this is where a number goes that may not be dialled again in the
    current window."""
    local = _local(campaign, after)
    best: datetime | None = None
    for offset in range(0, 8):
        day = local.date() + timedelta(days=offset)
        for _, w in windows_for(campaign, region):
            if DAYS[day.weekday()] not in w.days:
                continue
            start, _ = _span(campaign, day, w)
            if start > local and (best is None or start < best):
                best = start
        if best is not None:
            return _utc(best)
    return None


def after_outcome(campaign: Campaign, attempts: int, outcome: str, now: datetime) -> tuple[str, datetime | None]:
    """The number's next state after an attempt (``attempts`` counts it): ``done`` when answered, ``gave_up``
    when the attempts are used, else ``ready`` with the earliest next try (the outcome's retry interval)."""
    if outcome == "answered":
        return "done", None
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome '{outcome}' (one of answered, {', '.join(OUTCOMES)})")
    if attempts >= campaign.max_attempts:
        return "gave_up", None
    return "ready", now + timedelta(seconds=duration_seconds(getattr(campaign.retry, outcome)))
