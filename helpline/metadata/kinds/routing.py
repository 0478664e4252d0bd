"""The ``routing`` kind: the queues (skill groups) calls are transferred to and how the router serves them.

An IVR ``transfer`` node names a queue; the router (``telephony.router``) offers the call to a ready
agent of the queue's skill. ``strategy`` is the tier strategy in the rule language (place of use
``tier``): per customer tier a service-level target, a base priority, when skill levels 2, 3, ... open,
a starvation limit, and rules that adjust priority from caller data. The other settings are the
router's times: offer (ring) timeout, wrap-up, region steps, not-ready limits per reason.

```yaml
kind: routing
name: main
label: {en: Main routing, zh_CN: 主路由}
offer_timeout_s: 15
wrap_up_s: 10
region_steps: {county_s: 15, city_s: 30}
not_ready_limits: {meal: 30m, rest: 10m}
strategy: |
  tier platinum: target 90% within 20s, priority 30, open level 2 after 5s
  tier ordinary: target 70% within 20s, priority 10, open level 2 after 30s
queues:
  - {name: general, label: {en: General service, zh_CN: 综合服务}, skill: general, max_wait_s: 300}
```

Only one routing is in charge of the router's times: ``main`` (else the first by name); queues of every
routing are served.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import Label, MetaObject, Name, Strict
from .ivr import Duration


class Queue(Strict):
    name: Name
    label: Label
    skill: Name
    """The skill group whose agents answer this queue."""
    max_wait_s: int = Field(default=300, ge=1, le=86400)
    """Longest wait before the call overflows (to ``overflow``, else Asterisk's own queue)."""
    overflow: Name | None = None
    """Another queue that takes the call after ``max_wait_s``."""
    region_routing: bool = False
    """Offer the call first to agents of the caller's county, then city, then anyone (``region_steps``)."""
    join_empty: bool = False
    """Let callers join while no agent of the skill is signed in (else the transfer's ``empty`` branch)."""
    leave_when_empty: bool = True
    """Waiting callers leave (``empty`` branch) when the last agent of the skill signs out."""
    group: Name | None = None
    """Only agents of this agent group (e.g. ``vip_team``) answer the queue."""
    record: bool = False
    """Record the conversations of this queue (MixMonitor from the answer on)."""
    manual_wrap_up: bool = False
    """Wrap-up after a call of this queue lasts until the agent ends it (agents with the ``agent.wrapup``
    permission; others get the timed ``wrap_up_s``)."""
    survey: Name | None = None
    """The IVR flow (a post-call survey) the caller goes to when the agent releases; None: the call ends."""


class RegionStepsSpec(Strict):
    county_s: Duration = 15.0
    """Seconds the call waits for agents of the caller's county only."""
    city_s: Duration = 30.0
    """Seconds (from joining the queue) until agents of the whole province may answer."""


class CallbacksSpec(Strict):
    """How call-back tasks are worked (``telephony.callbacks``): how often, how soon."""

    attempts: int = Field(default=3, ge=1, le=20)
    """Tries before a task is given up (each "no answer" uses one)."""
    retry_after_s: Duration = Field(default=1800.0, ge=1)
    """After "no answer" the task is offered again this much later."""
    due: dict[Name, Duration] = {}
    """Customer tier → how soon the customer must be called back (e.g. ``{platinum: 30m}``)."""
    due_default_s: Duration = Field(default=14400.0, ge=1)
    """How soon for a tier not listed in ``due``."""
    queue: Name | None = None
    """The queue a task waits in when its source names none (a work order's reply); default the first."""


class Routing(MetaObject):
    kind: Literal["routing"]
    label: Label
    queues: list[Queue] = []
    strategy: str | None = None
    """A tier strategy in the rule language (``tier gold: target 80% within 20s, priority 20``)."""
    offer_timeout_s: Duration = Field(default=15.0, ge=3, le=120)
    """How long an agent's phone rings before the call goes back to the head of the queue."""
    wrap_up_s: Duration = Field(default=10.0, le=3600)
    """Wrap-up after a call (the agent may end it sooner); an agent's profile may override it."""
    no_answer_reason: Name = "no_answer"
    """The not-ready reason of an agent who let an offered call ring out."""
    not_ready_limits: dict[Name, Duration] = {}
    """Not-ready reason → time limit; beyond it the supervisor is alerted."""
    region_steps: RegionStepsSpec = RegionStepsSpec()
    service_window_s: Duration = Field(default=900.0, ge=60)
    """The sliding window of the service level the strategy reads (``tier.service_level``)."""
    catch_up: float = Field(default=2.0, ge=1.0, le=10.0)
    """While a tier is behind its target, its levels open this many times sooner."""
    browser_grace_s: Duration = 30.0
    """An agent whose desktop disappeared is set not ready after this long."""
    recording_retention_days: int = Field(default=93, ge=90, le=3650)
    """Days call recordings are kept (the requirements ask for at least three months)."""
    record_outbound: bool = False
    """Record the conversations of agents' outbound calls (click-to-dial, call-backs, campaigns), so the QA desk
    samples and evaluates them as it does the recorded queues' calls."""
    hold_music: str = Field(default="default", pattern=r"^[A-Za-z0-9_-]+$")
    """The music-on-hold class queued callers hear."""
    callbacks: CallbacksSpec = CallbacksSpec()
    """Call-back tasks: attempts, retry interval, due time per tier."""

    def queue(self, name: str) -> Queue | None:
        return next((q for q in self.queues if q.name == name), None)
