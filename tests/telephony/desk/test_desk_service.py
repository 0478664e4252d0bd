"""The agent functions of the desk service on the simulated phones: each allowed only in its states and
with its permission, each recorded; transfers (queue, agent, IVR, external), consultation, supervisors."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from helpline.data.database import session
from helpline.security.actor import Actor, PermissionDenied
from helpline.security.audit import search_audit
from helpline.services import agents as agent_service
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.control.simulated import SimulatedCallControl
from telephony.desk.service import DeskError, DeskService
from telephony.ivr import IvrEngine
from telephony.ivr.engine import CallOutcome
from telephony.router import AgentState, AgentStatus
from telephony.router.events import Offer
from telephony.router.service import RouterService
from telephony.switch.phones import SimulatedPhones
from telephony.switch.simulated import SimulatedSwitch


@pytest.fixture
def desk(ivr_platform: Platform) -> Iterator[DeskService]:
    with session():
        from helpline.data.agents import AgentEvent, AgentRecord

        AgentRecord.delete().execute()
        AgentEvent.delete().execute()
    agent_service.ensure_demo_agents()
    router = RouterService.from_platform(ivr_platform, restore=False).start()
    router.do(lambda r: r.reconfigure(replace(r.settings, wrap_up_s=30.0, offer_timeout_s=5.0), r.policy))
    service = DeskService(ivr_platform, router, SimulatedCallControl(SimulatedPhones()))
    yield service
    router.stop()


def actor(platform: Platform, name: str, role: str) -> Actor:
    return Actor(name, roles=(role,)).bind(platform.metadata)


class Caller:
    def __init__(self, platform: Platform, desk: DeskService, keys: str = "0") -> None:
        assert isinstance(desk.control, SimulatedCallControl)
        self.switch = SimulatedSwitch(keys, interactive=True, language="en", phones=desk.control.phones)
        self.outcome: CallOutcome | None = None
        engine = IvrEngine(platform, router=desk.router)
        self.thread = threading.Thread(target=self._run, args=(engine,), daemon=True)
        self.thread.start()

    def _run(self, engine: IvrEngine) -> None:
        self.outcome = engine.run_call(self.switch, caller_number="13800000002", dnid="96266", flow_name="main")

    def done(self, timeout: float = 10.0) -> CallOutcome:
        self.thread.join(timeout)
        assert self.outcome is not None
        return self.outcome


def until(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("not reached")


def talking(platform: Platform, desk: DeskService, who: Actor) -> Caller:
    """agent1 (1001) signs in, goes ready, a caller arrives, agent1 answers from the desktop."""
    desk.sign_in(who)
    desk.ready(who)
    caller = Caller(platform, desk)
    until(lambda: desk.view("1001")["state"] == AgentState.RINGING)
    desk.answer(who)
    until(lambda: desk.view("1001")["state"] == AgentState.TALKING)
    return caller


def test_status_functions_and_their_checks(ivr_platform: Platform, desk: DeskService) -> None:
    agent1 = actor(ivr_platform, "agent1", "agent")
    with pytest.raises(DeskError, match="sign in first"):
        desk.ready(agent1)
    ref = desk.sign_in(agent1)
    assert ref.number == "1001" and desk.view("1001")["status"] == AgentStatus.NOT_READY
    desk.ready(agent1)
    assert desk.view("1001")["status"] == AgentStatus.READY
    desk.not_ready(agent1, "meal")
    assert (desk.view("1001")["status"], desk.view("1001")["reason"]) == (AgentStatus.NOT_READY, "meal")
    with pytest.raises(DeskError, match="not a not-ready reason"):
        desk.not_ready(agent1, "no_answer")  # set by the router only
    with pytest.raises(DeskError, match="not a not-ready reason"):
        desk.not_ready(agent1, "holiday")
    desk.study(agent1)
    assert desk.view("1001")["status"] == AgentStatus.STUDY
    for refused in (desk.hold, desk.unhold, desk.release, desk.answer, desk.end_wrap_up):
        with pytest.raises(DeskError, match="possible while"):
            refused(agent1)
    desk.sign_out(agent1, shift=True)
    assert desk.view("1001")["status"] == AgentStatus.LOGGED_OUT
    qa = actor(ivr_platform, "qa1", "qa")
    with pytest.raises(PermissionDenied):
        desk.sign_in(qa)
    admin = actor(ivr_platform, "admin", "administrator")
    with pytest.raises((DeskError, PermissionDenied)):
        desk.sign_in(admin)


def test_answer_hold_mute_release_wrap_up(ivr_platform: Platform, desk: DeskService) -> None:
    agent1 = actor(ivr_platform, "agent1", "agent")
    events: list[Any] = []
    unsubscribe = desk.subscribe("1001", events.append)
    caller = talking(ivr_platform, desk, agent1)
    assert any(isinstance(e, Offer) and e.agent_id == "1001" for e in events)
    assert all(getattr(e, "agent_id", "1001") == "1001" for e in events)
    phone = desk.control.phones.phone("PJSIP/1001")  # type: ignore[attr-defined]
    desk.hold(agent1)
    assert phone.held and desk.view("1001")["state"] == AgentState.HOLD
    with pytest.raises(DeskError, match="possible while talking"):
        desk.hold(agent1)
    desk.unhold(agent1)
    assert not phone.held and desk.view("1001")["state"] == AgentState.TALKING
    desk.mute(agent1, True)
    assert phone.muted and desk.view("1001")["muted"]
    desk.release(agent1)
    outcome = caller.done()
    assert outcome.result == "connected"
    until(lambda: desk.view("1001")["state"] == AgentState.WRAP_UP)
    desk.end_wrap_up(agent1)
    view = desk.view("1001")
    assert view["state"] == AgentState.IDLE and view["calls_answered"] == 1 and view["wrap_up_s"] >= 0
    unsubscribe()
    with session():
        actions = [e["action"] for e in search_audit(actor="agent1")]
    assert {"desk.hold", "desk.unhold", "desk.mute", "desk.release"} <= set(actions)


@pytest.mark.parametrize(("target", "check"), [
    ("queue:complaint", "queue"), ("agent:1002", "agent"), ("ivr:broadband", "ivr"),
    ("external:075512345678", "external"),
])
def test_transfers(ivr_platform: Platform, desk: DeskService, target: str, check: str) -> None:
    agent1, agent2 = actor(ivr_platform, "agent1", "agent"), actor(ivr_platform, "agent2", "agent")
    phones = desk.control.phones  # type: ignore[attr-defined]
    desk.sign_in(agent2)
    if check in ("queue", "agent"):
        desk.ready(agent2)  # 1002 has skill complaint at level 1
    caller = talking(ivr_platform, desk, agent1)
    if check == "external":
        with pytest.raises(PermissionDenied):  # agents may not transfer out
            desk.transfer(agent1, target)
        outbound = phones.phone("Local/075512345678@helpline-outbound")
        outbound.auto_answer, outbound.talk_s = True, 0.05
        agent1 = actor(ivr_platform, "agent1", "administrator")  # holds agent.transfer_out
        desk.transfer(agent1, target)
    else:
        desk.transfer(agent1, target)
    if check in ("queue", "agent"):
        other = phones.phone("PJSIP/1002")
        assert other.wait_for("ringing", 5)
        other.answer()
        until(lambda: desk.view("1002")["state"] == AgentState.TALKING)
        other.hang_up()
    if check == "ivr":  # the caller is in the broadband flow's menu now: hang up there
        until(lambda: any("broadband service line" in line for line in caller.switch.transcript()))
        caller.switch.hang_up()
    outcome = caller.done()
    until(lambda: desk.view("1001")["state"] == AgentState.WRAP_UP)  # the transferring agent wraps up
    transfer_step = next(s for s in outcome.trail if s.get("transfers"))
    assert transfer_step["transfers"] == [target]
    record = CallService().get(outcome.call_id)
    assert record is not None
    if check in ("queue", "agent"):
        assert outcome.result == "connected" and record["agent"] == "1002"
    elif check == "ivr":
        assert outcome.flow == "broadband" and outcome.result == "hangup"
    else:
        assert outcome.result == "connected"


def test_consult_then_conference_or_transfer(ivr_platform: Platform, desk: DeskService) -> None:
    agent1, agent2 = actor(ivr_platform, "agent1", "agent"), actor(ivr_platform, "agent2", "agent")
    phones = desk.control.phones  # type: ignore[attr-defined]
    desk.sign_in(agent2)
    caller = talking(ivr_platform, desk, agent1)
    with pytest.raises(DeskError, match="needs a consultation"):
        desk.conference(agent1)
    desk.consult(agent1, "1002")
    phone = phones.phone("PJSIP/1001")
    assert phone.held and phone.consulting == "PJSIP/1002"
    desk.conference(agent1)
    assert phone.conference == {"PJSIP/1002"} and not phone.held
    desk.consult(agent1, "1002")
    desk.cancel_consult(agent1)
    assert phone.consulting is None and not phone.held
    desk.consult(agent1, "1002")
    consulted = phones.phone("PJSIP/1002")
    consulted.auto_answer, consulted.talk_s = True, 0.05
    desk.complete_transfer(agent1)
    outcome = caller.done()
    assert outcome.result == "connected"
    assert next(s for s in outcome.trail if s.get("transfers"))["transfers"] == ["endpoint:PJSIP/1002"]


def test_supervisor_functions(ivr_platform: Platform, desk: DeskService) -> None:
    agent1 = actor(ivr_platform, "agent1", "agent")
    boss = actor(ivr_platform, "supervisor1", "supervisor")
    phones = desk.control.phones  # type: ignore[attr-defined]
    with pytest.raises(PermissionDenied):
        desk.force(agent1, "1001", "ready")
    desk.force(boss, "1001", "ready")  # signs the agent in, ready
    assert desk.view("1001")["status"] == AgentStatus.READY
    desk.force(boss, "1001", "not_ready", "meeting")
    assert desk.view("1001")["reason"] == "meeting"
    desk.force(boss, "1001", "sign_out")
    assert desk.view("1001")["status"] == AgentStatus.LOGGED_OUT
    caller = talking(ivr_platform, desk, agent1)
    with pytest.raises(PermissionDenied):
        desk.spy(agent1, "1001", "listen")
    for mode in ("listen", "whisper", "barge"):
        desk.spy(boss, "1001", mode)  # type: ignore[arg-type]
        assert phones.phone("PJSIP/1001").spies["PJSIP/1009"] == mode
    boss_phone = phones.phone("PJSIP/1009")
    boss_phone.auto_answer, boss_phone.talk_s = True, 0.05
    desk.intercept(boss, "1001")
    outcome = caller.done()
    assert outcome.result == "connected" and boss_phone.answered_calls == 1
    with session():
        actions = {e["action"] for e in search_audit(actor="supervisor1")}
    assert {"supervisor.force_ready", "supervisor.listen", "supervisor.intercept"} <= actions
    board = desk.wallboard(boss)
    assert {"agents", "queues", "tiers"} <= set(board)
    with pytest.raises(PermissionDenied):
        desk.wallboard(agent1)


def test_auto_answer_is_permission_bound_and_answers_at_once(ivr_platform: Platform, desk: DeskService) -> None:
    qa_like = Actor("agent1", roles=("qa",)).bind(ivr_platform.metadata)
    with pytest.raises(PermissionDenied):
        desk.set_auto_answer(qa_like, True)
    agent1 = actor(ivr_platform, "agent1", "agent")
    desk.set_auto_answer(agent1, True)
    assert desk.view("1001")["auto_answer"] and agent_service.profile_of_user("agent1")["auto_answer"]  # type: ignore[index]
    assert desk.control.phones.phone("PJSIP/1001").auto_answer  # type: ignore[attr-defined]
    desk.sign_in(agent1)
    desk.ready(agent1)
    caller = Caller(ivr_platform, desk)
    until(lambda: desk.view("1001")["state"] == AgentState.TALKING)  # nobody pressed answer
    desk.release(agent1)
    assert caller.done().result == "connected"


def test_a_manual_wrap_up_queue_keeps_a_permitted_agent_in_wrap_up(ivr_platform: Platform,
                                                                  desk: DeskService) -> None:
    manual = {name: replace(q, manual_wrap_up=True) for name, q in desk.router.router.settings.queues.items()}
    desk.router.do(lambda r: r.reconfigure(replace(r.settings, queues=manual, wrap_up_s=0.2), r.policy))
    agent1 = actor(ivr_platform, "agent1", "agent")  # the agent role holds agent.wrapup
    caller = talking(ivr_platform, desk, agent1)
    desk.release(agent1)
    caller.done()
    until(lambda: desk.view("1001")["state"] == AgentState.WRAP_UP)
    time.sleep(0.6)  # three times wrap_up_s: still wrapping up
    assert desk.view("1001")["state"] == AgentState.WRAP_UP
    desk.end_wrap_up(agent1)
    assert desk.view("1001")["state"] == AgentState.IDLE
    # an agent without the permission gets the timed wrap-up
    desk.sign_out(agent1)
    limited = actor(ivr_platform, "agent1", "agent")
    limited._role_objs = [r.model_copy(update={"permissions": [p for p in r.permissions if p != "agent.wrapup"]})
                          for r in limited._role_objs]
    desk.sign_in(limited)
    assert desk.router.do(lambda r: r.agents["1001"].manual_wrap_up) is False
