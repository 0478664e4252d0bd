"""Major faults and emergencies (重大故障及应急, 000 Part 4, §3.5.4): the call-spike alert and declaring an
emergency.

- :func:`spikes` compares each region's calls in the last ``window`` minutes (``hl_call`` by the caller's
  city) with its usual level — its calls in the ``baseline`` hours before, per window-length — and names the
  regions at ``factor`` times their usual level with at least ``min_calls`` calls.
- :func:`check_spikes` is the ``call_spike`` job of the one scheduler (``helpline/cli/common.py``): it tells
  every user holding the ``supervisor`` permission by a notice (kind ``call_spike``), once per region and window.
- :func:`declare` is what a supervisor does about a major fault, in one transaction: the outage record the IVR
  announces to the region's callers, a must-read bulletin to the agents (``helpline/services/bulletins.py``),
  and an emergency dispatch work order, which the ``emergency`` process (``metadata/workflows/emergency.yaml``)
  takes through the workflow engine. Its permissions are those of its parts (``bulletins.publish``, creating
  outages and work orders).

The thresholds are settings (``HELPLINE_SPIKE_*``, :class:`helpline.config.Settings`; docs/operations.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from peewee import fn

from helpline.data.base import utcnow
from helpline.data.calls import Call
from helpline.data.database import session, write_transaction
from helpline.data.entities import column
from helpline.data.notices import Notice
from helpline.data.system import User, UserRole
from helpline.security.actor import Actor
from helpline.security.audit import audit

from .notices import notify

if TYPE_CHECKING:
    from helpline.config import Settings

    from .platform import Platform

KIND = "call_spike"


@dataclass(frozen=True)
class SpikeRule:
    """When a region's calls are a spike (the ``HELPLINE_SPIKE_*`` settings)."""

    window_min: int = 15
    baseline_h: int = 24
    factor: float = 3.0
    min_calls: int = 20

    def __post_init__(self) -> None:
        if self.window_min <= 0 or self.baseline_h * 60 <= self.window_min:
            raise ValueError(f"call spikes: the window ({self.window_min} min) must be positive and shorter than "
                             f"the baseline ({self.baseline_h} h)")
        if self.factor <= 1 or self.min_calls < 1:
            raise ValueError(f"call spikes: the factor ({self.factor}) must be over 1 and the minimum calls "
                             f"({self.min_calls}) at least 1")

    @classmethod
    def from_settings(cls, settings: Settings) -> SpikeRule:
        try:
            return cls(settings.spike_window_min, settings.spike_baseline_h, settings.spike_factor,
                       settings.spike_min_calls)
        except ValueError as exc:
            raise ValueError(f"HELPLINE_SPIKE_*: {exc}") from exc


@dataclass(frozen=True)
class Spike:
    region: str
    calls: int
    """Calls from the region in the window."""
    usual: float
    """The region's usual calls per window-length (over the baseline hours)."""

    @property
    def factor(self) -> float:
        return self.calls / self.usual if self.usual else float("inf")


def _counts(since: datetime, until: datetime) -> dict[str, int]:
    rows: Any = (Call.select(Call.city, fn.COUNT(Call.id))
            .where((Call.started_at >= since) & (Call.started_at < until) & Call.city.is_null(False))
            .group_by(Call.city).tuples())
    return {str(city): int(count) for city, count in rows}


def spikes(rule: SpikeRule, now: datetime | None = None) -> list[Spike]:
    """The regions whose calls spike now, the strongest first."""
    now = now or utcnow()
    start = now - timedelta(minutes=rule.window_min)
    with session():
        recent = _counts(start, now)
        before = _counts(now - timedelta(hours=rule.baseline_h), start)
    windows = (rule.baseline_h * 60 - rule.window_min) / rule.window_min
    found = []
    for region, calls in recent.items():
        usual = before.get(region, 0) / windows
        if calls >= rule.min_calls and calls >= rule.factor * usual:
            found.append(Spike(region, calls, round(usual, 1)))
    return sorted(found, key=lambda s: (-s.factor, -s.calls, s.region))


def supervisors(platform: Platform) -> list[str]:
    """The active users holding the ``supervisor`` permission (through any of their roles)."""
    md = platform.metadata
    roles = [r.name for r in md.roles.values() if Actor("x", roles=(r.name,)).bind(md).has("supervisor")]
    with session():
        names = {u.username for u in UserRole.select(UserRole.username).where(UserRole.role.in_(roles or [""]))}
        return [u.username for u in User.select(User.username)
                .where(User.username.in_(sorted(names) or [""]) & (User.active == True))  # noqa: E712
                .order_by(User.username)]


def _region_label(platform: Platform, code: str) -> Any:
    if "region" not in platform.models:
        return code
    model = platform.models["region"]
    with session():
        row: Any = (model.select(column(model, "name"), column(model, "name_en"))
                    .where(column(model, "code") == code).tuples().first())
    return {"zh_CN": row[0], "en": row[1] or row[0]} if row else code


def check_spikes(platform: Platform, rule: SpikeRule, now: datetime | None = None) -> dict[str, Any]:
    """The ``call_spike`` job: alert the supervisors of each spiking region not alerted within the window."""
    now = now or utcnow()
    found = spikes(rule, now)
    if not found:
        return {"spikes": 0, "alerted": []}
    with session():
        recent = Notice.select(Notice.params).where(
            (Notice.kind == KIND) & (Notice.created_at >= now - timedelta(minutes=rule.window_min)))
        done = {str((n.params or {}).get("code")) for n in recent}
    told = supervisors(platform)
    alerted = []
    for spike in found:
        if spike.region in done or not told:
            continue
        params = {"code": spike.region, "region": _region_label(platform, spike.region), "calls": spike.calls,
                  "usual": spike.usual, "minutes": rule.window_min,
                  "factor": f"{spike.factor:.1f}" if spike.usual else "∞"}
        notify(told, "emergency.spike.title", "emergency.spike.body", kind=KIND, params=params)
        alerted.append(spike.region)
    return {"spikes": len(found), "alerted": alerted, "told": len(told) if alerted else 0}


@dataclass(frozen=True)
class Emergency:
    outage_id: int
    bulletin_id: int
    work_order_id: int


def declare(platform: Platform, actor: Actor, region: str, title: str, notice: str, *,
            ends_at: datetime | None = None, agent_roles: tuple[str, ...] = ("agent",)) -> Emergency:
    """A major fault in ``region``: the IVR's outage notice, a must-read bulletin to the agents and an emergency
    dispatch work order (its process starts), all or nothing (permissions ``supervisor`` and
    ``bulletins.publish``; audited ``emergency.declare``). The work order is the centre's (created by the
    system: a supervisor reads work orders but does not file them); the outage is the actor's."""
    actor.require_permission("supervisor")
    actor.require_permission("bulletins.publish")
    with session(), write_transaction():
        outage = platform.records.create(actor, "outage", {"title": title, "region": region, "notice": notice,
                                                           "ends_at": ends_at, "active": True})
        bulletin = platform.bulletins.publish(actor, title, notice, roles=list(agent_roles), must_read=True,
                                              ends_at=ends_at)
        city = region if _region_level(platform, region) == "city" else None
        order = platform.records.create(Actor.system(), "work_order", {
            "type": "emergency", "title": title, "priority": "urgent", "description": notice, "city": city,
            "agent": actor.username})
        audit(actor, "emergency.declare", entity="work_order", record_id=order.id,
              detail={"region": region, "outage": outage.id, "bulletin": bulletin})
    return Emergency(outage.id, bulletin, order.id)


def _region_level(platform: Platform, code: str) -> str | None:
    model = platform.models["region"]
    row: Any = model.select(column(model, "level")).where(column(model, "code") == code).tuples().first()
    return str(row[0]) if row else None
