"""Helpers for the router tests (imported by name: tests/telephony/router is on sys.path in pytest's
prepend mode): a router on a manual clock whose events go to a list, and small event filters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from helpline.rules import compile_tier_strategy
from telephony.router import (
    AgentAlert,
    AgentChanged,
    AgentProfile,
    AppQueuePolicy,
    CallDecision,
    CallLeft,
    CallRequest,
    HelplinePolicy,
    ManualClock,
    Offer,
    Policy,
    QueueSettings,
    Router,
    RouterEvent,
    RouterSettings,
    TierAlert,
)

E = TypeVar("E")

STRATEGY = """\
tier gold: target 90% within 20s, priority 30, open level 2 after 10s, open level 3 after 40s, starve after 120s
tier ordinary: target 70% within 20s, priority 10, open level 2 after 30s, starve after 60s
when customer.tier == gold and caller.region == "0731" then priority +5
"""


def helpline(text: str = STRATEGY, catch_up: float = 2.0) -> HelplinePolicy:
    return HelplinePolicy(compile_tier_strategy(text), catch_up=catch_up)


def queue(name: str = "billing", skill: str | None = None, **kw: Any) -> QueueSettings:
    return QueueSettings(name=name, skill=skill or name, **kw)


def settings(*queues: QueueSettings, **kw: Any) -> RouterSettings:
    qs = queues or (queue(),)
    return RouterSettings(queues={q.name: q for q in qs}, **kw)


def profile(agent_id: str, skills: dict[str, int] | None = None, **kw: Any) -> AgentProfile:
    return AgentProfile(id=agent_id, endpoint=f"PJSIP/{agent_id}", skills=skills or {"billing": 1}, **kw)


def request(call_id: int, queue_name: str = "billing", tier: str = "ordinary", **kw: Any) -> CallRequest:
    return CallRequest(call_id=call_id, queue=queue_name, tier=tier, **kw)


class Harness:
    """A router on a manual clock; ``events`` is everything it emitted, in order. The default policy is
    app_queue with every level open at once (no level timers, no ``level`` decisions)."""

    def __init__(self, router_settings: RouterSettings | None = None, policy: Policy | None = None,
                 start: float = 0.0) -> None:
        self.clock = ManualClock(start)
        self.events: list[RouterEvent] = []
        self.router = Router(router_settings or settings(), policy or AppQueuePolicy(level_step_s=0),
                             clock=self.clock, sinks=[self.events.append])

    # -- setting up ------------------------------------------------------------------------------
    def agent(self, agent_id: str, skills: dict[str, int] | None = None, *, ready: bool = True,
              **kw: Any) -> None:
        """Add an agent and sign it in (ready unless told not to: then not ready ``busy``)."""
        self.router.add_agent(profile(agent_id, skills, **kw))
        self.router.sign_in(agent_id, ready=ready, reason=None if ready else "busy")

    def call(self, call_id: int, queue_name: str = "billing", tier: str = "ordinary", **kw: Any) -> str:
        return self.router.queue_call(request(call_id, queue_name, tier, **kw))

    # -- time ------------------------------------------------------------------------------------
    def at(self, t: float) -> int:
        """Move the clock to ``t`` (every timer due on the way runs at its own time)."""
        ran = 0
        while (due := self.router.next_timer_at()) is not None and due <= t:
            self.clock.set(max(due, self.clock.now()))
            ran += self.router.advance()
        self.clock.set(t)
        return ran + self.router.advance()

    def next_timer(self) -> float:
        due = self.router.next_timer_at()
        assert due is not None
        return due

    # -- reading ---------------------------------------------------------------------------------
    def take(self) -> list[RouterEvent]:
        """The events so far (and forget them)."""
        found = list(self.events)
        self.events.clear()
        return found

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    def offers(self) -> list[tuple[int, str]]:
        return [(e.call_id, e.agent_id) for e in self.of(Offer)]

    def decisions(self, call_id: int | None = None) -> list[str]:
        return [e.kind for e in self.of(CallDecision) if call_id is None or e.call_id == call_id]

    def left(self) -> list[tuple[int, str]]:
        return [(e.call_id, e.how) for e in self.of(CallLeft)]

    def changes(self, agent_id: str | None = None) -> list[tuple[str, str, str]]:
        return [(e.what, e.old, e.new) for e in self.of(AgentChanged) if agent_id is None or e.agent_id == agent_id]

    def alerts(self) -> list[tuple[str, str]]:
        return [(e.agent_id, e.kind) for e in self.of(AgentAlert)]

    def tier_alerts(self) -> list[tuple[str, bool]]:
        return [(e.tier, e.behind) for e in self.of(TierAlert)]

    def state(self, agent_id: str) -> tuple[str, str]:
        a = self.router.agents[agent_id]
        return str(a.status), str(a.state)


def brief(events: Iterable[RouterEvent]) -> list[tuple[Any, ...]]:
    """Events as short tuples, to compare exact sequences."""
    out: list[tuple[Any, ...]] = []
    for e in events:
        if isinstance(e, Offer):
            out.append(("offer", e.call_id, e.agent_id))
        elif isinstance(e, CallLeft):
            out.append(("left", e.call_id, e.how))
        elif isinstance(e, CallDecision):
            out.append(("decision", e.call_id, e.kind))
        elif isinstance(e, AgentChanged):
            out.append((e.what, e.agent_id, e.old, e.new))
        elif isinstance(e, AgentAlert):
            out.append(("alert", e.agent_id, e.kind))
        else:
            out.append(("tier", e.tier, e.behind))
    return out
