"""The base of every system table (``hl_*``), the clock they stamp rows with, and the centre's day.

Timestamps are stored in UTC. A day — today's shifts, yesterday's report, an article valid until a date, the
recordings' day folder — is the contact centre's, in its time zone (``HELPLINE_TIME_ZONE``, default
``Asia/Shanghai``), whatever the zone of the server the process runs on.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peewee import Model

from .database import db


def utcnow() -> datetime:
    """Now in UTC, naive (how every timestamp column stores time)."""
    return datetime.now(UTC).replace(tzinfo=None)


DEFAULT_TIME_ZONE = "Asia/Shanghai"


def centre_zone() -> tzinfo:
    """The contact centre's time zone (``HELPLINE_TIME_ZONE``, an IANA name; read each time, so a test or an
    operator can change it without a restart). An unknown name is refused with the setting named."""
    name = os.environ.get("HELPLINE_TIME_ZONE") or DEFAULT_TIME_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"HELPLINE_TIME_ZONE '{name}' is not a time zone (an IANA name like Asia/Shanghai)") \
            from exc


def centre_today() -> date:
    """Today in the contact centre's time zone (not the server's: a server on UTC is a day behind Beijing
    until 08:00)."""
    return datetime.now(centre_zone()).date()


def centre_day_of(at: datetime) -> date:
    """The centre's date of a stored (naive UTC) time: a call at 17:00 UTC is the next day's in Beijing."""
    return at.replace(tzinfo=UTC).astimezone(centre_zone()).date()


def to_centre(at: datetime) -> datetime:
    """A stored (naive UTC) time as the centre's wall-clock time (naive), for showing it."""
    return at.replace(tzinfo=UTC).astimezone(centre_zone()).replace(tzinfo=None)


def from_centre(local: datetime) -> datetime:
    """The centre's wall-clock time (naive, as a user types it) as a stored (naive UTC) time."""
    return local.replace(tzinfo=centre_zone()).astimezone(UTC).replace(tzinfo=None)


def centre_midnight(day: date) -> datetime:
    """The stored (naive UTC) time the centre's ``day`` starts at: Beijing's 2026-12-07 at 2026-12-06 16:00."""
    return datetime.combine(day, time.min, centre_zone()).astimezone(UTC).replace(tzinfo=None)


def centre_offsets(lo: datetime, hi: datetime) -> list[tuple[datetime, int]]:
    """The centre's offset from UTC in minutes over the stored times ``[lo, hi)``: ``[(from, minutes)]``, the
    first from ``lo``, one more at each change (daylight saving; none in Asia/Shanghai). Walked a day at a time,
    a change found to its 15 minutes (every zone changes at a quarter hour)."""
    zone = centre_zone()

    def minutes(at: datetime) -> int:
        offset = at.replace(tzinfo=UTC).astimezone(zone).utcoffset()
        return int(offset.total_seconds() // 60) if offset is not None else 0

    out = [(lo, minutes(lo))]
    day, quarter = timedelta(days=1), timedelta(minutes=15)
    at = lo
    while at < hi:
        step = min(at + day, hi)
        if minutes(step) != out[-1][1]:
            probe = at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
            while probe < step:
                probe += quarter
                if probe < hi and minutes(probe) != out[-1][1]:
                    out.append((probe, minutes(probe)))
        at = step
    return out


class SystemModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
