"""``DeskService``: every agent function of the soft-phone toolbar, checked and recorded on the server.

The agent desktop and the supervisor console call only this (plus :mod:`telephony.desk.screenpop`).
Each function checks, in this order: the user has an agent profile, the permission (``desktop`` and the
function's own, e.g. ``agent.transfer``), and the agent's current status/state (``hold`` only while
talking, ``answer`` only while ringing ...) — both from the one table of :mod:`telephony.desk.actions`,
which the UI's buttons read too; a refusal raises :class:`DeskError` (or ``PermissionDenied``)
with a message for the agent, and nothing changes. Status and state changes are journaled by the router
(``hl_agent_event``); call-control actions and supervisor actions are written to the audit log.

```python
desk = DeskService(platform, router_service, SimulatedCallControl())
desk.sign_in(actor); desk.ready(actor)            # … a call is offered, the phone rings
desk.answer(actor); desk.hold(actor); desk.unhold(actor); desk.release(actor); desk.end_wrap_up(actor)
unsubscribe = desk.subscribe("1001", on_event)    # router events concerning agent 1001
```
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.security.audit import audit
from helpline.services import agents as agent_service
from helpline.services.platform import Platform
from telephony.control.base import CallControl, ControlError, SpyMode, Target
from telephony.desk.actions import AGENT_ACTIONS, SUPERVISOR_ACTIONS, Rule
from telephony.router.core import Router, RouterError
from telephony.router.events import AgentAlert, AgentChanged, CallDecision, CallLeft, Offer, RouterEvent
from telephony.router.model import ON_CALL, Agent
from telephony.router.service import RouterService

__all__ = ["AgentRef", "DeskError", "DeskService"]

log = logging.getLogger(__name__)

RESERVED_REASONS = frozenset({"no_answer", "disconnected", "restored", "sign_in"})
"""Not-ready reasons the router sets; an agent cannot pick them."""


class DeskError(Exception):
    """A desk function refused in the agent's current situation (the message says why)."""


class MustReadFirst(DeskError):
    """A must-read bulletin sent to the agent is not acknowledged yet: no ready until it is."""

    def __init__(self, bulletin_id: int, title: str) -> None:
        super().__init__(f"acknowledge the must-read bulletin '{title}' first")
        self.bulletin_id, self.title = bulletin_id, title


class NoAgentProfile(DeskError):
    """The user has no (active) agent profile: the desktop cannot start."""


@dataclass(frozen=True)
class AgentRef:
    number: str
    endpoint: str
    username: str


class DeskService:
    """Agent and supervisor functions (see the module docstring)."""

    def __init__(self, platform: Platform, router: RouterService, control: CallControl) -> None:
        self.platform = platform
        self.router = router
        self.control = control
        self.consulting: dict[str, str] = {}
        """Agent number → the agent number it is consulting."""
        self.muted: set[str] = set()

    # ------------------------------------------------------------------------------------ helpers
    def agent_of(self, actor: Actor) -> AgentRef:
        """The actor's agent profile (``DeskError`` if the user is no agent)."""
        actor.require_permission("desktop")
        for agent in self.router.do(lambda r: list(r.agents.values())):
            if agent.profile.user == actor.username:
                return AgentRef(agent.id, agent.profile.endpoint, actor.username)
        row = agent_service.profile_of_user(actor.username)
        if row is None or not row.get("active", True):
            raise NoAgentProfile(f"user '{actor.username}' has no agent profile; an administrator creates one")
        from telephony.router.service import profile_from_row

        profile = profile_from_row(row)
        self.router.call("add_agent", profile)
        return AgentRef(profile.id, profile.endpoint, actor.username)

    def _agent(self, number: str) -> Agent:
        agent = self.router.router.agents.get(number)
        if agent is None:
            raise DeskError(f"unknown agent {number}")
        return agent

    def _do(self, operation: Callable[[Router], Any]) -> Any:
        try:
            return self.router.do(operation)
        except RouterError as exc:
            raise DeskError(str(exc)) from exc

    def _write(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """The router write operation ``name`` (``RouterService.call``); a refusal is a ``DeskError``."""
        try:
            return self.router.call(name, *args, **kwargs)
        except RouterError as exc:
            raise DeskError(str(exc)) from exc

    def check(self, actor: Actor, number: str, action: str, *, supervisor: bool = False) -> Agent:
        """Agent ``number`` if ``action`` (of :data:`AGENT_ACTIONS`, or :data:`SUPERVISOR_ACTIONS` on another
        agent) is granted to ``actor`` and possible in the agent's status and state; else ``PermissionDenied``
        or ``DeskError`` saying why."""
        rule: Rule = (SUPERVISOR_ACTIONS if supervisor else AGENT_ACTIONS)[action]
        if rule.permission:
            actor.require_permission(rule.permission)
        agent = self._agent(number)
        why = rule.refusal(action, agent.status, agent.state, number in self.consulting)
        if why:
            raise DeskError(why)
        if rule.bulletins_first and not supervisor:
            pending = self.platform.bulletins.pending_must_read(actor)
            if pending:
                raise MustReadFirst(pending[0].id, pending[0].title)
        return agent

    def _call(self, actor: Actor, number: str, action: str, *, supervisor: bool = False) -> tuple[Agent, int]:
        agent = self.check(actor, number, action, supervisor=supervisor)
        if agent.call_id is None:
            raise DeskError(f"{action.replace('_', ' ')}: there is no call")
        return agent, agent.call_id

    def _control(self, action: Callable[[], None]) -> None:
        try:
            action()
        except ControlError as exc:
            raise DeskError(f"the switch refused: {exc}") from exc

    @staticmethod
    def _audit(actor: Actor, action: str, call_id: int | None, **detail: Any) -> None:
        with session():
            audit(actor, action, entity="hl_call", record_id=call_id, detail=detail or None)

    # ----------------------------------------------------------------------------- status functions
    def sign_in(self, actor: Actor, *, shift: bool = False) -> AgentRef:
        """Sign in to the telephony, not ready (``shift``: shift sign-in after a shift sign-out)."""
        ref = self.agent_of(actor)
        self.check(actor, ref.number, "shift_in" if shift else "sign_in")
        self._write("sign_in", ref.number, ready=False, reason="sign_in", by=actor.username)
        self._write("allow_manual_wrap_up", ref.number, actor.has("agent.wrapup"))
        self._write("agent_connected", ref.number)
        if shift:
            self._audit(actor, "desk.shift_in", None, agent=ref.number)
        return ref

    def sign_out(self, actor: Actor, *, shift: bool = False) -> None:
        """Sign out of the telephony (``shift``: shift sign-out; the web session stays)."""
        ref = self.agent_of(actor)
        self.check(actor, ref.number, "shift_out" if shift else "sign_out")
        self._write("sign_out", ref.number, by=actor.username)
        if shift:
            self._audit(actor, "desk.shift_out", None, agent=ref.number)

    def ready(self, actor: Actor) -> None:
        ref = self.agent_of(actor)
        self.check(actor, ref.number, "ready")
        self._write("set_ready", ref.number, by=actor.username)

    def not_ready(self, actor: Actor, reason: str) -> None:
        ref = self.agent_of(actor)
        self.check(actor, ref.number, "not_ready")
        tree = self.platform.metadata.categories.get("not_ready_reason")
        if tree is None or reason not in tree.codes(include_retired=False) or reason in RESERVED_REASONS:
            raise DeskError(f"'{reason}' is not a not-ready reason an agent can choose")
        if reason == "adjust":
            actor.require_permission("agent.adjust")
        self._write("set_not_ready", ref.number, reason, by=actor.username)

    def study(self, actor: Actor) -> None:
        ref = self.agent_of(actor)
        self.check(actor, ref.number, "study")
        self._write("set_study", ref.number, by=actor.username)

    def set_auto_answer(self, actor: Actor, on: bool) -> None:
        if on:
            actor.require_permission("agent.auto_answer")
        ref = self.agent_of(actor)
        agent_service.set_auto_answer(ref.number, on)
        agent = self._agent(ref.number)
        from dataclasses import replace

        profile = replace(agent.profile, auto_answer=on)
        self._write("add_agent", profile)
        self._control(lambda: self.control.set_auto_answer(ref.endpoint, on))
        self._audit(actor, "desk.auto_answer", None, agent=ref.number, on=on)

    # ------------------------------------------------------------------------------- call functions
    def answer(self, actor: Actor) -> int:
        ref = self.agent_of(actor)
        _, call_id = self._call(actor, ref.number, "answer")
        self._control(lambda: self.control.answer(call_id, ref.endpoint))
        return call_id

    def release(self, actor: Actor) -> None:
        ref = self.agent_of(actor)
        _, call_id = self._call(actor, ref.number, "release")
        self._control(lambda: self.control.hang_up(call_id, ref.endpoint))
        self._audit(actor, "desk.release", call_id, agent=ref.number)

    def hold(self, actor: Actor) -> None:
        ref = self.agent_of(actor)
        _, call_id = self._call(actor, ref.number, "hold")
        self._control(lambda: self.control.hold(call_id, ref.endpoint))
        self._write("hold", ref.number)
        self._audit(actor, "desk.hold", call_id, agent=ref.number)

    def unhold(self, actor: Actor) -> None:
        ref = self.agent_of(actor)
        _, call_id = self._call(actor, ref.number, "unhold")
        self._control(lambda: self.control.unhold(call_id, ref.endpoint))
        self._write("unhold", ref.number)
        self._audit(actor, "desk.unhold", call_id, agent=ref.number)

    def mute(self, actor: Actor, on: bool) -> None:
        ref = self.agent_of(actor)
        _, call_id = self._call(actor, ref.number, "mute")
        self._control(lambda: self.control.mute(call_id, ref.endpoint, on))
        (self.muted.add if on else self.muted.discard)(ref.number)
        self._audit(actor, "desk.mute" if on else "desk.unmute", call_id, agent=ref.number)

    def transfer(self, actor: Actor, target: str) -> None:
        """Transfer to ``agent:1002``, ``queue:billing``, ``ivr:main`` or ``external:13800000000``."""
        ref = self.agent_of(actor)
        _, call_id = self._call(actor, ref.number, "transfer")
        try:
            parsed = Target.parse(target)
        except ValueError as exc:
            raise DeskError(str(exc)) from exc
        if parsed.kind == "external":
            actor.require_permission("agent.transfer_out")
            if not parsed.value.isdigit() or not 3 <= len(parsed.value) <= 20:
                raise DeskError(f"'{parsed.value}' is not a phone number")
        self._check_target(parsed)
        self._control(lambda: self.control.transfer(call_id, ref.endpoint, parsed))
        self._audit(actor, "desk.transfer", call_id, agent=ref.number, target=str(parsed))

    def _check_target(self, target: Target) -> None:
        if target.kind == "agent" and target.value not in self.router.router.agents:
            raise DeskError(f"there is no agent {target.value}")
        if target.kind == "queue" and target.value not in self.router.router.settings.queues:
            raise DeskError(f"there is no queue {target.value}")
        if target.kind == "ivr" and target.value not in self.platform.metadata.objects.get("ivr", {}):
            raise DeskError(f"there is no IVR flow {target.value}")

    def consult(self, actor: Actor, other: str) -> None:
        """Internal help: the caller is held while this agent calls agent ``other`` (only while talking)."""
        ref = self.agent_of(actor)
        _, call_id = self._call(actor, ref.number, "consult")
        target = self._agent(other)
        if other == ref.number or not target.signed_in or target.state in ON_CALL:
            raise DeskError(f"agent {other} cannot be consulted now ({target.status}, {target.state})")
        self._control(lambda: self.control.consult(call_id, ref.endpoint, target.profile.endpoint))
        self._write("hold", ref.number)
        self.consulting[ref.number] = other
        self._audit(actor, "desk.consult", call_id, agent=ref.number, consulted=other)

    def _consulting(self, actor: Actor, action: str) -> tuple[AgentRef, int, str]:
        ref = self.agent_of(actor)
        _, call_id = self._call(actor, ref.number, action)
        return ref, call_id, self.consulting[ref.number]

    def cancel_consult(self, actor: Actor) -> None:
        ref, call_id, other = self._consulting(actor, "cancel_consult")
        self._control(lambda: self.control.cancel_consult(call_id, ref.endpoint))
        self.consulting.pop(ref.number, None)
        self._write("unhold", ref.number)
        self._audit(actor, "desk.cancel_consult", call_id, agent=ref.number, consulted=other)

    def complete_transfer(self, actor: Actor) -> None:
        ref, call_id, other = self._consulting(actor, "complete_transfer")
        self._control(lambda: self.control.complete_transfer(call_id, ref.endpoint))
        self.consulting.pop(ref.number, None)
        self._audit(actor, "desk.complete_transfer", call_id, agent=ref.number, to=other)

    def conference(self, actor: Actor) -> None:
        ref, call_id, other = self._consulting(actor, "conference")
        self._control(lambda: self.control.conference(call_id, ref.endpoint))
        self.consulting.pop(ref.number, None)
        self._write("unhold", ref.number)
        self._audit(actor, "desk.conference", call_id, agent=ref.number, with_agent=other)

    def end_wrap_up(self, actor: Actor) -> None:
        ref = self.agent_of(actor)
        self.check(actor, ref.number, "end_wrap_up")
        self._write("end_wrap_up", ref.number, by=actor.username)

    # --------------------------------------------------------------------------------- views
    def view(self, number: str) -> dict[str, Any]:
        """The agent's live situation: status, state, times, call, counters, its queues."""
        def read(r: Router) -> dict[str, Any]:
            agent = r.agents.get(number)
            if agent is None:
                raise DeskError(f"unknown agent {number}")
            now = r.now()
            data = agent.as_dict(now)
            call = r.waiting.get(agent.call_id) if agent.call_id else None
            call = call or (r.active.get(agent.call_id) if agent.call_id else None)
            data["current_talk_s"] = round(now - call.answered_at, 1) if call and call.answered_at else 0.0
            data["call"] = {"call_id": call.call_id, "queue": call.queue, "tier": call.tier,
                            "caller_number": call.request.caller_number, "wait_s": round(call.wait(now), 1)} \
                if call else None
            data["wrap_up_s"] = round(agent.wrap_s, 1)
            data["average_talk_s"] = round(agent.talk_s / agent.calls_answered, 1) if agent.calls_answered else 0.0
            skills = set(agent.profile.skills)
            data["queues"] = {
                name: {"waiting": r.waiting_in(name), "ready_agents": r.agent_index.count_available(q.skill)}
                for name, q in r.settings.queues.items() if q.skill in skills}
            data["muted"] = number in self.muted
            data["consulting"] = self.consulting.get(number)
            data["auto_answer"] = agent.profile.auto_answer
            return data
        result: dict[str, Any] = self.router.do(read)
        if result["call"] is None and result.get("state") in ("talking", "hold"):  # an outbound call: from its answer
            from telephony.desk.dialout import outbound_talk_s

            result["current_talk_s"] = outbound_talk_s(self, number)
        return result

    def subscribe(self, number: str, callback: Callable[[RouterEvent], None]) -> Callable[[], None]:
        """Router events concerning agent ``number`` (its changes, offers, alerts, its calls' decisions);
        called on the router's thread: the callback must hand over and return."""
        calls: set[int] = set()

        def relay(event: RouterEvent) -> None:
            if isinstance(event, Offer) and event.agent_id == number:
                calls.add(event.call_id)
                callback(event)
            elif ((isinstance(event, AgentChanged | AgentAlert) and event.agent_id == number)
                  or (isinstance(event, CallDecision | CallLeft) and event.call_id in calls)):
                callback(event)

        return self.router.subscribe(relay)

    # ------------------------------------------------------------------------------ supervisors
    def force(self, actor: Actor, number: str, what: str, reason: str | None = None) -> None:
        """``ready``, ``not_ready`` (with ``reason``) or ``sign_out`` an agent (``supervisor.force_state``)."""
        if what not in ("ready", "not_ready", "sign_out"):
            raise DeskError(f"unknown forced change '{what}'")
        agent = self.check(actor, number, what, supervisor=True)
        by = f"supervisor {actor.username}"
        if what == "ready":
            self._write("set_ready" if agent.signed_in else "sign_in", number, by=by)
        elif what == "not_ready":
            self._write("set_not_ready", number, reason or "adjust", by=by)
        else:
            self._write("sign_out", number, by=by)
        self._audit(actor, f"supervisor.force_{what}", agent.call_id, agent=number, reason=reason)

    def spy(self, actor: Actor, number: str, mode: SpyMode) -> None:
        """Listen to, whisper to or barge in on agent ``number``'s call."""
        agent, call_id = self._call(actor, number, mode, supervisor=True)
        supervisor = self.agent_of(actor)
        self._control(lambda: self.control.spy(call_id, agent.profile.endpoint, supervisor.endpoint, mode))
        self._audit(actor, f"supervisor.{mode}", call_id, agent=number)

    def intercept(self, actor: Actor, number: str) -> None:
        agent, call_id = self._call(actor, number, "intercept", supervisor=True)
        supervisor = self.agent_of(actor)
        self._control(lambda: self.control.intercept(call_id, agent.profile.endpoint, supervisor.endpoint))
        self._audit(actor, "supervisor.intercept", call_id, agent=number)

    def wallboard(self, actor: Actor) -> dict[str, Any]:
        actor.require_permission("supervisor")
        return self.router.snapshot()

