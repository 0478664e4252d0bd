"""The base of every system table (``hl_*``), the clock they stamp rows with, and the centre's day.

Timestamps are stored in UTC. A day — today's shifts, yesterday's report, an article valid until a date, the
recordings' day folder — is the contact centre's, in its time zone (``HELPLINE_TIME_ZONE``, default
``Asia/Shanghai``), whatever the zone of the server the process runs on.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, tzinfo
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


class SystemModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
