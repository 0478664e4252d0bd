"""The router's decision core: agents and waiting calls in memory, one method per event.

Single writer: every method runs to its end before the next one starts (the service serialises them;
the simulator calls them from one loop). Nothing here blocks, sleeps or touches a database; what
happened goes out as events (``telephony.router.events``) to the sinks, in order.

Decisions:

* a call arrives or its situation changes (a level opens, a region step ends): among available
  agents of the queue's skill up to the call's ``max_level`` (and region step, agent group), the lowest
  level, then the longest ready;
* an agent becomes available: among the waiting calls of its skills that may reach its level (and
  its region, its groups), the best by the policy's sort key (tier priority, service-level gap, wait);
* the agent is reserved by compare-and-set (``_reserve``): a reserved agent never gets a second call.

Both look-ups read the heads of a few index buckets (``telephony.router.indexes``), never every waiting
call. A tier's recorded service level moving by a point or crossing its target has the tier's waiting
calls evaluated again by a sweep spread over router timers, a few calls per run
(``telephony.router.sweep``: no stall, bounded staleness). The scans of all waiting calls are: the last
agent of a queue signing out (leave when empty), a reconfiguration, and ``snapshot``.

Timers (:meth:`advance`): a waiting call's next change, offer timeout, wrap-up end, not-ready limit,
grace period of a disconnected desktop. A change due at the current time that did not happen (a
policy's ``next_at`` in the past) is retried a microsecond later, so ``advance`` never spins.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable

from .agents import AgentOps
from .callbacks import CallbackOps
from .clock import Clock
from .events import CallDecision, CallLeft, Offer, RouterEvent, TierAlert
from .indexes import AgentIndex, CallIndex
from .model import (
    Agent,
    AgentProfile,
    AgentState,
    AgentStatus,
    CallRequest,
    QueueResult,
    RegionScope,
    WaitingCall,
)
from .outbound import OutboundOps
from .policy import Policy
from .settings import QueueSettings, RouterSettings
from .stats import Outcome, ServiceLevelStats
from .sweep import SLICE_CALLS, TICK_S, TierSweeps
from .timers import TimerKey, Timers

__all__ = ["Router", "RouterError"]

log = logging.getLogger(__name__)

Sink = Callable[[RouterEvent], None]
OFFER_GRACE_S = 5.0
"""The router's own offer timer runs this much longer than the switch's ring timeout, so the switch
reports first; the timer only frees an agent whose switch never reported."""


class RouterError(Exception):
    """An event that makes no sense in the current state (unknown agent, sign-out during a call...)."""


class Router(AgentOps, CallbackOps, OutboundOps):
    """The ACD (see the module docstring)."""

    def __init__(self, settings: RouterSettings, policy: Policy, *, clock: Clock,
                 sinks: Iterable[Sink] = (), sweep_slice: int = SLICE_CALLS, sweep_tick_s: float = TICK_S) -> None:
        self.settings = settings
        self.policy = policy
        self.clock = clock
        self.sinks: list[Sink] = list(sinks)
        self.agents: dict[str, Agent] = {}
        self.waiting: dict[int, WaitingCall] = {}
        """Calls queued or offered (not yet answered)."""
        self.active: dict[int, WaitingCall] = {}
        """Answered calls until they end (the agent's current call)."""
        self.stats = ServiceLevelStats(tuple(sorted({settings.service_window_s, *settings.windows})))
        self.timers = Timers()
        self.agent_index = AgentIndex()
        self.call_index = CallIndex()
        self.targeted: dict[str, list[WaitingCall]] = {}
        """Agent → calls waiting for that agent only (transfers to an agent), oldest first."""
        self.callback_index = CallIndex()
        """Call-back tasks waiting (``telephony.router.callbacks``): offered when no caller waits."""
        self.deferred: dict[int, CallRequest] = {}
        """Call-back tasks held until their time (timer ``later``)."""
        self.outbound: dict[int, tuple[str, ...]] = {}
        """Outbound and internal calls → their agents (``telephony.router.outbound``)."""
        self._queue_counts: Counter[str] = Counter()
        self._behind: dict[str, bool] = {}
        self._sl_seen: dict[str, float] = {}
        self.sweeps = TierSweeps(self, slice_calls=sweep_slice, tick_s=sweep_tick_s)
        """Tiers whose waiting calls are being evaluated again (``sweep_slice=0``: all at once)."""

    # ----------------------------------------------------------------------------------- plumbing
    def now(self) -> float:
        return self.clock.now()

    def emit(self, event: RouterEvent) -> None:
        for sink in self.sinks:
            try:
                sink(event)
            except Exception:
                log.exception("a router sink failed on %s", type(event).__name__)

    def _decide(self, call: WaitingCall, kind: str, reason: str, agent_id: str | None = None) -> None:
        self.emit(CallDecision(self.now(), call.call_id, kind, reason, agent_id, call.queue))

    # RouterView for the policy
    def service_level(self, tier: str) -> float | None:
        """The tier's service level over ``service_window_s``, abandons left out (``tier.service_level``)."""
        return self.stats.service_level(tier, self.settings.service_window_s, self.now())

    def waiting_in(self, queue: str) -> int:
        return self._queue_counts[queue]

    # ------------------------------------------------------------------------------- configuration
    def reconfigure(self, settings: RouterSettings, policy: Policy) -> None:
        """New routing metadata: waiting calls keep their place and are evaluated again at once, and again
        at the next :meth:`advance` (same time) under the new max wait, levels and skill, offered if they
        can be. A call whose queue is gone leaves with ``timeout`` (one being offered, if the offer is not
        answered)."""
        self.settings, self.policy = settings, policy
        self.stats.ensure_windows({settings.service_window_s, *settings.windows})
        now = self.now()
        for call in list(self.waiting.values()):
            queue = settings.queues.get(call.queue)
            if queue is None:
                if call.agent_id is None:
                    self._leave(call, "timeout", f"queue {call.queue} no longer exists")
                continue
            call.skill = queue.skill
            if call.agent_id is None:
                self._reevaluate(call)
                self.timers.set(("call", call.call_id), now)

    # ------------------------------------------------------------------------------------ calls
    def queue_call(self, request: CallRequest) -> QueueResult:
        """A call asks for an agent of ``request.queue``."""
        if request.call_id in self.waiting or request.call_id in self.active or request.call_id in self.deferred:
            return "duplicate"
        queue = self.settings.queues.get(request.queue)
        if queue is None:
            return "unknown_queue"
        now = self.now()
        call = WaitingCall(request, queue.name, queue.skill, now, now)
        if request.agent is not None:
            target = self.agents.get(request.agent)
            if target is None or not target.signed_in:
                self._decide(call, "empty", f"agent {request.agent} is not signed in")
                return "empty"
        elif not queue.join_empty and not request.callback and not self._staffed(queue):
            who = f"skill {queue.skill}" + (f", group {queue.group}" if queue.group else "")
            self._decide(call, "empty", f"no agent of {who} is signed in")
            return "empty"
        self.waiting[call.call_id] = call
        self._enter(call, queue)
        self._decide(call, "queued", f"queue {queue.name} (skill {queue.skill}), {call.reason}")
        self._try_offer(call)
        return "queued"

    def abandon(self, call_id: int) -> bool:
        """The caller hung up: removed at once, wherever the call was. False if unknown."""
        call = self.waiting.get(call_id)
        if call is None:
            if call_id in self.active:
                self.call_ended(call_id)
                return True
            return False
        agent = self.agents.get(call.agent_id) if call.agent_id else None
        self.timers.cancel(("offer", call_id))
        self._leave(call, "abandoned", "caller hung up" + (f" while agent {agent.id} was ringing" if agent else ""))
        if agent is not None and agent.call_id == call_id:  # ringing: the agent is free again
            agent.call_id = None
            self._set_state(agent, AgentState.IDLE, call_id)
        return True

    def ringing(self, call_id: int) -> None:
        """The switch reports the agent's phone is ringing."""
        call = self.waiting.get(call_id)
        agent = self.agents.get(call.agent_id) if call and call.agent_id else None
        if agent is not None and agent.state is AgentState.RESERVED:
            self._set_state(agent, AgentState.RINGING, call_id)

    def answered(self, call_id: int) -> bool:
        """The offered agent answered: the call leaves the queue, the agent talks."""
        call = self.waiting.get(call_id)
        if call is None or call.agent_id is None:
            return False
        agent = self.agents[call.agent_id]
        now = self.now()
        self.timers.cancel(("offer", call_id))
        del self.waiting[call_id]
        self._queue_counts[self._count_key(call)] -= 1
        call.answered_at = now
        self.active[call_id] = call
        agent.calls_answered += 1
        self._set_state(agent, AgentState.TALKING, call_id)
        wait = now - call.enqueued_at
        self._record(call, "answered", wait)
        self.emit(CallLeft(now, call_id, call.queue, call.tier, "answered", wait, f"agent {agent.id}"))
        self._decide(call, "answered", f"agent {agent.id} answered after {wait:.0f} s", agent.id)
        return True

    def no_answer(self, call_id: int, why: str = "did not answer") -> bool:
        """The offer was not answered (ring timeout, busy, unreachable): the call goes back to the head of
        its queue and the agent becomes not ready with the no-answer reason (the supervisor is alerted)."""
        call = self.waiting.get(call_id)
        if call is None or call.agent_id is None:
            return False
        agent = self.agents[call.agent_id]
        self.timers.cancel(("offer", call_id))
        call.agent_id, call.offered_at = None, None
        call.requeued += 1
        self._set_status(agent, AgentStatus.NOT_READY, self.settings.no_answer_reason, by="router")  # with the call
        agent.call_id = None
        self._set_state(agent, AgentState.IDLE, call_id)
        self._alert(agent, "no_answer", f"agent {agent.id} {why} (call {call_id})", call_id)
        if call.queue not in self.settings.queues:  # reconfigured away while ringing
            self._leave(call, "timeout", f"agent {agent.id} {why}; queue {call.queue} no longer exists")
            return True
        self._refresh(call)
        self._decide(call, "no_answer", f"agent {agent.id} {why}; back to the head of the queue", agent.id)
        self._try_offer(call)
        return True

    def call_ended(self, call_id: int) -> bool:
        """The talk is over: the agent goes to wrap-up (ended by timer or by the agent)."""
        call = self.active.pop(call_id, None)
        if call is None:
            return False
        agent = self.agents.get(call.agent_id or "")
        self._decide(call, "ended", "call ended", call.agent_id)
        if agent is None:
            return True
        now = self.now()
        agent.talk_s += now - (call.answered_at or now)
        agent.call_id = None
        wrap = agent.profile.wrap_up_s if agent.profile.wrap_up_s is not None else self.settings.wrap_up_s
        queue = self.settings.queues.get(call.queue)
        if queue is not None and queue.manual_wrap_up and agent.manual_wrap_up:
            self._decide(call, "wrap_up", f"agent {agent.id}: manual wrap-up (until the agent ends it)", agent.id)
            self._set_state(agent, AgentState.WRAP_UP, call_id)
        elif wrap <= 0:
            self._set_state(agent, AgentState.IDLE, call_id)
        else:
            self._set_state(agent, AgentState.WRAP_UP, call_id)
            self.timers.set(("wrap_up", agent.id), now + wrap)
        return True

    # ------------------------------------------------------------------------------------ timers
    def next_timer_at(self) -> float | None:
        return self.timers.next_at()

    def advance(self) -> int:
        """Run every timer due at the clock's time; returns how many ran."""
        ran = 0
        now = self.now()
        while (key := self.timers.pop_due(now)) is not None:
            ran += 1
            self._fire(key)
        return ran

    def _fire(self, key: TimerKey) -> None:
        kind, what = key
        if kind == "call":
            call = self.waiting.get(what)  # type: ignore[call-overload]
            if call is not None and call.agent_id is None:
                self._call_timer(call)
        elif kind == "sweep":
            self.sweeps.run()
        elif kind == "later":
            self._fire_later(what)  # type: ignore[arg-type]
        elif kind == "offer":
            call = self.waiting.get(what)  # type: ignore[call-overload]
            if call is not None and call.agent_id is not None:
                self.no_answer(call.call_id, f"did not answer in {self.settings.offer_timeout_s:g} s")
        else:
            self._agent_timer(kind, str(what))

    def _call_timer(self, call: WaitingCall) -> None:
        now = self.now()
        queue = self.settings.queues[call.queue]
        if not call.request.callback and now - call.queue_since >= queue.max_wait_s - 1e-9:
            self.call_index.remove(call)
            target = self.settings.queues.get(queue.overflow) if queue.overflow else None
            if target is not None and target.name != queue.name and (target.join_empty or self._staffed(target)):
                self._queue_counts[call.queue] -= 1
                old = call.queue
                call.queue_since = now
                self._enter(call, target)
                self._decide(call, "overflow", f"waited {queue.max_wait_s:g} s in {old}; overflow to {target.name}")
                self._try_offer(call)
                return
            self._leave(call, "timeout", f"waited the maximum {queue.max_wait_s:g} s in {queue.name}")
            return
        self._reevaluate(call)
        self._try_offer(call)

    def _reevaluate(self, call: WaitingCall) -> None:
        """Evaluate a waiting call again and say so when a level opened or its region step changed."""
        old_level, old_scope = call.max_level, call.region_scope
        self._refresh(call)
        changes = []
        if call.max_level > old_level:
            changes.append(f"level {call.max_level} opens")
        if call.region_scope != old_scope:
            changes.append(f"region step {call.region_scope}")
        if changes:
            self._decide(call, "level" if call.max_level > old_level else "region",
                         f"{', '.join(changes)} after {self.now() - call.enqueued_at:.0f} s ({call.reason})")

    # ----------------------------------------------------------------------------- internals: calls
    def _staffed(self, queue: QueueSettings) -> bool:
        """Some agent who could answer the queue (its skill, its group) is signed in."""
        return self.agent_index.signed_in(queue.skill, group=queue.group or "") > 0

    def _enter(self, call: WaitingCall, queue: QueueSettings) -> None:
        """Put a call (new or overflowing) into ``queue``: region step, evaluation, index."""
        call.queue, call.skill = queue.name, queue.skill
        self._queue_counts[self._count_key(call)] += 1
        self._refresh(call)

    def _region_scope(self, call: WaitingCall, queue: QueueSettings, since: float) -> RegionScope:
        if not queue.region_routing:
            return "province"
        steps = self.settings.region_steps
        waited = self.now() - since + 1e-9  # a step ends at its time exactly, whatever the float rounding
        req = call.request
        group = queue.group or ""
        county = req.region if req.region and req.region != req.city else None
        if county and waited < steps.county_s and self.agent_index.signed_in(queue.skill, "county", county, group):
            return "county"
        if req.city and waited < steps.city_s and self.agent_index.signed_in(queue.skill, "city", req.city, group):
            return "city"
        return "province"

    def _refresh(self, call: WaitingCall) -> None:
        """Evaluate a waiting (not offered) call again, (re)index it, and set its next timer."""
        self._unindex(call)
        now = self.now()
        queue = self.settings.queues[call.queue]
        call.region_scope = self._region_scope(call, queue, call.queue_since)
        ev = self.policy.evaluate(call, now, self)
        call.priority, call.max_level, call.sort_key = ev.priority, ev.max_level, ev.sort_key
        call.gap, call.starving, call.reason, call.reserve = ev.gap, ev.starving, ev.reason, ev.reserve
        call.evaluated_at = now
        if call.request.agent is not None:
            waiting = self.targeted.setdefault(call.request.agent, [])
            if call not in waiting:
                waiting.append(call)
            call.reason = f"for agent {call.request.agent} only; {call.reason}"
        elif call.request.callback:  # due first; the tier's levels and region steps as for callers
            due = call.request.due_at if call.request.due_at is not None else call.enqueued_at
            call.sort_key, call.starving = (due, call.enqueued_at), False
            call.reason = f"call-back, due in {due - now:.0f} s; {call.reason}"
            self.callback_index.add(call, queue.group)
        else:
            self.call_index.add(call, queue.group)
        changes = []
        if ev.next_at is not None:
            changes.append(ev.next_at)
        if call.region_scope != "province":
            steps = self.settings.region_steps
            changes.append(call.queue_since + (steps.county_s if call.region_scope == "county" else steps.city_s))
        # a change "due" now that did not happen must not fire again at once (advance would spin)
        times = [*([] if call.request.callback else [max(call.queue_since + queue.max_wait_s, now)]),
                 *(max(t, now + 1e-6) for t in changes)]
        call.next_refresh = min(times) if times else None
        if call.next_refresh is None:
            self.timers.cancel(("call", call.call_id))
        else:
            self.timers.set(("call", call.call_id), call.next_refresh)

    def _find_agent(self, call: WaitingCall) -> Agent | None:
        """Lowest level first, then longest ready (within the call's region step and the queue's group)."""
        if call.request.agent is not None:
            target = self.agents.get(call.request.agent)
            return target if target is not None and target.available else None
        queue = self.settings.queues[call.queue]
        if call.reserve and self.agent_index.idle(call.skill, call.max_level) <= call.reserve:  # reservation
            return None
        _, _, scope, code, group, _ = CallIndex.bucket(call, queue.group)
        for level in range(1, call.max_level + 1):
            for agent in self.agent_index.available(call.skill, level, scope, code, group):
                return agent
        return None

    def _find_call(self, agent: Agent) -> WaitingCall | None:
        """The best waiting call the agent may take (see ``CallIndex.best_for``)."""
        targeted = self.targeted.get(agent.id)
        if targeted:
            return targeted[0]
        own = 0 if self.agent_index.is_available(agent.id) else 1  # not yet indexed when it becomes available
        idle = lambda skill, max_level: self.agent_index.idle(skill, max_level) + own  # noqa: E731
        return self.call_index.best_for(agent, idle) or self.callback_index.best_for(agent, idle)

    def _untarget(self, call: WaitingCall) -> None:
        if call.request.agent is not None:
            waiting = self.targeted.get(call.request.agent)
            if waiting and call in waiting:
                waiting.remove(call)

    def _try_offer(self, call: WaitingCall) -> None:
        agent = self._find_agent(call)
        if agent is not None:
            self._offer(call, agent)

    def _offer(self, call: WaitingCall, agent: Agent) -> None:
        if not self._reserve(agent, call):
            return
        now = self.now()
        self._unindex(call)
        self._untarget(call)
        self.timers.cancel(("call", call.call_id))
        call.agent_id, call.offered_at = agent.id, now
        level = agent.profile.skills.get(call.skill, 0)
        reason = (f"agent {agent.id}: skill {call.skill} level {level}, ready {now - agent.ready_since:.0f} s; "
                  f"{call.reason}")
        self.emit(Offer(now, call.call_id, agent.id, agent.profile.endpoint, call.queue, call.tier,
                        now - call.enqueued_at, reason, agent.profile.auto_answer))
        self._decide(call, "offered", reason, agent.id)
        self.timers.set(("offer", call.call_id), now + self.settings.offer_timeout_s + OFFER_GRACE_S)

    def _reserve(self, agent: Agent, call: WaitingCall) -> bool:
        """Compare-and-set: only an available agent becomes reserved, and only once."""
        if not agent.available or agent.call_id is not None:
            return False
        agent.call_id = call.call_id
        self._set_state(agent, AgentState.RESERVED, call.call_id)
        return True

    def _leave(self, call: WaitingCall, how: str, reason: str) -> None:
        now = self.now()
        self._unindex(call)
        self._untarget(call)
        self.timers.cancel(("call", call.call_id))
        self.waiting.pop(call.call_id, None)
        self._queue_counts[self._count_key(call)] -= 1
        wait = now - call.enqueued_at
        if how in ("abandoned", "timeout"):
            self._record(call, how, wait)  # type: ignore[arg-type]
        self.emit(CallLeft(now, call.call_id, call.queue, call.tier, how, wait, reason))  # type: ignore[arg-type]
        self._decide(call, str(how), reason)

    def _record(self, call: WaitingCall, outcome: Outcome, wait: float) -> None:
        if call.request.callback:  # a task is no caller waiting: no service level
            return
        now = self.now()
        target, within = self.policy.target(call.tier)
        self.stats.record(now, tier=call.tier, queue=call.queue, outcome=outcome, wait_s=wait, within_s=within)
        level = self.service_level(call.tier)
        if level is None:
            return
        behind = level < target
        flipped = self._behind.get(call.tier, False) != behind
        if flipped:  # fell behind, or caught up after being behind (not "caught up" at the first outcome)
            self._behind[call.tier] = behind
            self.emit(TierAlert(now, call.tier, behind, level, target))
        if flipped or abs(level - self._sl_seen.get(call.tier, -1.0)) >= 0.01:
            # the tier's calls are evaluated again (gap, levels opening sooner) by a sweep, a few calls per
            # timer run from this same time on: a level that opens is then announced and offered like any other
            self._sl_seen[call.tier] = level
            self.sweeps.request(call.tier)
            for lower in self.policy.dependents(call.tier):  # their rules read this tier (tier.higher_lead)
                self.sweeps.request(lower)

    # ----------------------------------------------------------------------------------- agents
    def add_agent(self, profile: AgentProfile) -> Agent:
        """Make an agent known (logged out); a known agent gets the new profile."""
        agent = self.agents.get(profile.id)
        if agent is None:
            now = self.now()
            agent = self.agents[profile.id] = Agent(profile, status_since=now, state_since=now)
            return agent
        was_available, was_signed = self.agent_index.is_available(agent.id), agent.signed_in
        self.agent_index.remove_available(agent)
        self.agent_index.sign_out(agent)
        agent.profile = profile
        if was_signed:
            self.agent_index.sign_in(agent)
        if was_available:
            self._became_available(agent)
        return agent

    def snapshot(self) -> dict[str, object]:
        """Agents, queues and tiers as plain data (for the wallboard and the API)."""
        now = self.now()
        queues = {}
        for name, q in self.settings.queues.items():
            calls = [c for c in self.waiting.values() if c.queue == name and not c.request.callback]
            queues[name] = {
                "skill": q.skill, "waiting": len(calls),
                "longest_wait_s": round(max((now - c.enqueued_at for c in calls), default=0.0), 1),
                "ready_agents": self.agent_index.count_available(q.skill),
                "signed_in": self.agent_index.signed_in(q.skill),
            }
        tiers = {}
        for tier in sorted(set(self.policy.tiers()) | set(self.stats.names("tier"))):
            target, within = self.policy.target(tier)
            tiers[tier] = {"target": target, "within_s": within, **{
                f"{int(w // 60)}m": self.stats.figures("tier", tier, w, now).as_dict() for w in self.stats.windows}}
        return {"agents": [a.as_dict(now) for a in self.agents.values()], "queues": queues, "tiers": tiers}
