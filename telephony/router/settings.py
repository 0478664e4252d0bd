"""The router's settings: queues and their limits, offer/wrap-up times, region steps, not-ready limits.

Built from the ``routing`` metadata (:func:`settings_from_routings`) for live calls, or directly by the
simulator and tests. Immutable: a new metadata revision builds new settings and the router swaps them
in between two events (calls in progress keep their place).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from helpline.metadata.kinds.routing import Routing


@dataclass(frozen=True)
class RegionSteps:
    """Region routing: only agents of the caller's county for ``county_s`` seconds, then of the caller's
    city until ``city_s``, then anyone (the province). A step with no agent signed in is skipped."""

    county_s: float = 15.0
    city_s: float = 30.0


@dataclass(frozen=True)
class QueueSettings:
    name: str
    skill: str
    max_wait_s: float = 300.0
    """Longest wait in this queue: then the call overflows, or goes back to the IVR (``timeout``)."""
    overflow: str | None = None
    join_empty: bool = False
    """Join even when no agent of the skill is signed in (app_queue's joinempty); default no."""
    leave_when_empty: bool = True
    """Waiting callers leave when the last agent of the skill signs out (app_queue's leavewhenempty)."""
    region_routing: bool = False
    group: str | None = None
    """Only agents of this agent group answer the queue."""
    record: bool = False
    """Record the conversations of this queue."""
    manual_wrap_up: bool = False
    """Wrap-up lasts until the agent ends it, for agents allowed manual wrap-up (else ``wrap_up_s``)."""
    survey: str | None = None
    """The IVR flow the caller goes to when the agent releases (the post-call survey), or None."""


@dataclass(frozen=True)
class RouterSettings:
    queues: dict[str, QueueSettings] = field(default_factory=dict)
    offer_timeout_s: float = 15.0
    wrap_up_s: float = 10.0
    no_answer_reason: str = "no_answer"
    not_ready_limits: dict[str, float] = field(default_factory=dict)
    """Reason → seconds; an agent not ready longer raises an alert (reasons without a limit never do)."""
    region_steps: RegionSteps = RegionSteps()
    service_window_s: float = 900.0
    """The sliding window of the service level the strategy reads (``tier.service_level``)."""
    windows: tuple[float, ...] = (900.0, 3600.0)
    """Windows kept for the wallboard (15 and 60 minutes)."""
    browser_grace_s: float = 30.0
    """An agent whose desktop disappeared goes not ready after this long."""
    hold_music: str = "default"
    recording_retention_days: int = 93
    record_outbound: bool = False
    """Record agents' outbound conversations (see the routing kind)."""
    external_endpoint: str = "Local/{number}@helpline-outbound"
    """What the switch dials for a transfer to an external number (the dialplan's outbound context)."""
    catch_up: float = 2.0
    """While a tier is behind its target, its levels open this many times sooner."""

    def skill_queues(self, skill: str) -> list[QueueSettings]:
        return [q for q in self.queues.values() if q.skill == skill]


def settings_from_routings(routings: Iterable[Routing]) -> RouterSettings:
    """Merge the routing objects: every queue of every routing; the other settings from ``main`` (or the
    first routing by name)."""
    ordered = sorted(routings, key=lambda r: (r.name != "main", r.name))
    if not ordered:
        return RouterSettings()
    main = ordered[0]
    queues = {
        q.name: QueueSettings(name=q.name, skill=q.skill, max_wait_s=float(q.max_wait_s), overflow=q.overflow,
                              join_empty=q.join_empty, leave_when_empty=q.leave_when_empty,
                              region_routing=q.region_routing, group=q.group, record=q.record,
                              manual_wrap_up=q.manual_wrap_up, survey=q.survey)
        for r in ordered for q in r.queues
    }
    return RouterSettings(
        queues=queues, offer_timeout_s=main.offer_timeout_s, wrap_up_s=main.wrap_up_s,
        no_answer_reason=main.no_answer_reason, not_ready_limits=dict(main.not_ready_limits),
        region_steps=RegionSteps(main.region_steps.county_s, main.region_steps.city_s),
        service_window_s=main.service_window_s, browser_grace_s=main.browser_grace_s,
        hold_music=main.hold_music, catch_up=main.catch_up,
        recording_retention_days=main.recording_retention_days, record_outbound=main.record_outbound,
    )
