"""The transfer node with the router, on the simulated switch: hold, dial, answer, no answer, hang-ups,
empty and timed-out queues, and what lands on the call record and in the router's journal."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from helpline.services import agents as agent_service
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.ivr import IvrEngine
from telephony.ivr.engine import CallOutcome
from telephony.router import AgentProfile, AgentState, AgentStatus
from telephony.router.service import RouterService
from telephony.switch.phones import SimulatedPhones
from telephony.switch.simulated import SimulatedSwitch

ORDINARY = "13800000001"


@pytest.fixture
def router(ivr_platform: Platform) -> Iterator[RouterService]:
    service = RouterService.from_platform(ivr_platform, restore=False).start()
    # short times so the tests run in a blink
    service.do(lambda r: r.reconfigure(replace(r.settings, offer_timeout_s=0.6, wrap_up_s=0.0), r.policy))
    yield service
    service.stop()


@pytest.fixture
def phones() -> SimulatedPhones:
    return SimulatedPhones()


class Call:
    """A caller on a thread: ``outcome`` once the IVR is done with the call."""

    def __init__(self, engine: IvrEngine, switch: SimulatedSwitch, number: str = ORDINARY) -> None:
        self.switch = switch
        self.outcome: CallOutcome | None = None
        self.thread = threading.Thread(target=self._run, args=(engine, number), daemon=True)
        self.thread.start()

    def _run(self, engine: IvrEngine, number: str) -> None:
        self.outcome = engine.run_call(self.switch, caller_number=number, dnid="96266", flow_name="main")

    def done(self, timeout: float = 10.0) -> CallOutcome:
        self.thread.join(timeout)
        assert self.outcome is not None, "the call did not finish"
        return self.outcome


def place_call(platform: Platform, router: RouterService, phones: SimulatedPhones, keys: str = "0") -> Call:
    """The caller presses 0 (an agent) in the main menu: the flow transfers to queue ``general``."""
    engine = IvrEngine(platform, router=router)
    return Call(engine, SimulatedSwitch(keys, interactive=True, language="en", phones=phones))


def agent(router: RouterService, number: str, *, skills: dict[str, int] | None = None, ready: bool = True) -> None:
    profile = AgentProfile(number, name=f"agent {number}", endpoint=f"PJSIP/{number}",
                           skills=skills or {"general": 1})
    router.do(lambda r: r.add_agent(profile))
    router.do(lambda r: r.sign_in(number, ready=ready, reason=None if ready else "meal"))


def wait_until(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def test_answered_call_reaches_the_agent_and_is_recorded(ivr_platform: Platform, router: RouterService,
                                                         phones: SimulatedPhones) -> None:
    agent(router, "2001")
    call = place_call(ivr_platform, router, phones)
    phone = phones.phone("PJSIP/2001")
    assert phone.wait_for("ringing", 5)
    assert router.agent("2001")["state"] == AgentState.RINGING  # type: ignore[index]
    assert phone.answer()
    wait_until(lambda: router.agent("2001")["state"] == AgentState.TALKING)  # type: ignore[index]
    phone.hang_up()
    outcome = call.done()
    assert outcome.result == "connected" and outcome.queue == "general"
    record = CallService().get(outcome.call_id)
    assert record is not None
    assert record["agent"] == "2001" and record["routed"] == "answered" and record["wait_s"] is not None
    assert record["talk_s"] >= 0
    # wrap-up of 0 s: the agent is ready and idle again
    state = router.agent("2001")
    assert state is not None and state["state"] == AgentState.IDLE and state["status"] == AgentStatus.READY
    assert state["calls_answered"] == 1
    router.journal.flush()  # type: ignore[union-attr]
    kinds = [r["kind"] for r in agent_service.call_route(outcome.call_id)]
    assert kinds == ["queued", "offered", "answered", "ended"]
    offered = agent_service.call_route(outcome.call_id)[1]
    assert offered["agent"] == "2001" and "skill general level 1" in offered["reason"]
    states = [(e["old"], e["new"]) for e in reversed(agent_service.agent_journal("2001")) if e["what"] == "state"]
    assert states == [("idle", "reserved"), ("reserved", "ringing"), ("ringing", "talking"),
                      ("talking", "idle")]
    transcript = " | ".join(call.switch.transcript())
    assert "dial PJSIP/2001" in transcript
    assert "music on hold" not in transcript  # an agent was free: no wait, no music


def test_no_agent_signed_in_takes_the_empty_branch(ivr_platform: Platform, router: RouterService,
                                                  phones: SimulatedPhones) -> None:
    outcome = place_call(ivr_platform, router, phones).done()
    assert outcome.result == "callback"  # busy_callback: "we will call you back"
    record = CallService().get(outcome.call_id)
    assert record is not None and record["routed"] == "empty" and record["agent"] is None
    assert [s["node"] for s in outcome.trail][-2:] == ["busy_callback", "callback_done"]


def test_max_wait_takes_the_timeout_branch(ivr_platform: Platform, router: RouterService,
                                          phones: SimulatedPhones) -> None:
    agent(router, "2002", ready=False)  # signed in, not ready: the caller waits
    router.do(lambda r: r.reconfigure(replace(r.settings, queues={
        **r.settings.queues, "general": replace(r.settings.queues["general"], max_wait_s=0.3)}), r.policy))
    started = time.monotonic()
    call = place_call(ivr_platform, router, phones)
    outcome = call.done()
    assert time.monotonic() - started < 5
    assert outcome.result == "callback"
    assert "music on hold (default)" in " | ".join(call.switch.transcript())
    record = CallService().get(outcome.call_id)
    assert record is not None and record["routed"] == "timeout"
    assert not [c for c in router.router.waiting if c > 0]  # the caller left; its call-back task (< 0) waits


def test_caller_hanging_up_on_hold_leaves_the_queue_at_once(ivr_platform: Platform, router: RouterService,
                                                           phones: SimulatedPhones) -> None:
    agent(router, "2003", ready=False)
    call = place_call(ivr_platform, router, phones)
    wait_until(lambda: router.router.waiting)
    call.switch.hang_up()
    outcome = call.done()
    assert outcome.result == "hangup"
    assert not router.router.waiting and not router.router.active
    record = CallService().get(outcome.call_id)
    assert record is not None and record["routed"] == "abandoned"
    # the agent going ready now gets nothing (no ghost call)
    router.do(lambda r: r.set_ready("2003"))
    assert router.agent("2003")["state"] == AgentState.IDLE  # type: ignore[index]


def test_unanswered_offer_goes_to_the_next_agent_and_sets_the_first_not_ready(
        ivr_platform: Platform, router: RouterService, phones: SimulatedPhones) -> None:
    agent(router, "2004")
    call = place_call(ivr_platform, router, phones)
    first = phones.phone("PJSIP/2004")
    assert first.wait_for("ringing", 5)
    agent(router, "2005")  # a second agent signs in while the first one's phone rings
    second = phones.phone("PJSIP/2005")
    second.auto_answer, second.talk_s = True, 0.05
    outcome = call.done()  # the first phone rings out after 0.6 s
    assert outcome.result == "connected"
    record = CallService().get(outcome.call_id)
    assert record is not None and record["agent"] == "2005"
    first_state = router.agent("2004")
    assert first_state is not None and first_state["status"] == AgentStatus.NOT_READY
    assert first_state["reason"] == "no_answer" and first_state["state"] == AgentState.IDLE
    router.journal.flush()  # type: ignore[union-attr]
    kinds = [r["kind"] for r in agent_service.call_route(outcome.call_id)]
    assert kinds[:4] == ["queued", "offered", "no_answer", "offered"]
    alerts = [e for e in agent_service.agent_journal("2004") if e["what"] == "alert"]
    assert alerts and alerts[0]["new"] == "no_answer"


def test_caller_hanging_up_while_the_agent_rings_frees_the_agent(
        ivr_platform: Platform, router: RouterService, phones: SimulatedPhones) -> None:
    agent(router, "2006")
    call = place_call(ivr_platform, router, phones)
    phone = phones.phone("PJSIP/2006")
    assert phone.wait_for("ringing", 5)
    call.switch.hang_up()
    outcome = call.done()
    assert outcome.result == "hangup"
    wait_until(lambda: router.agent("2006")["state"] == AgentState.IDLE)  # type: ignore[index]
    state = router.agent("2006")
    assert state is not None and state["status"] == AgentStatus.READY
    assert not router.router.waiting and not router.router.active


def test_a_recorded_queue_records_the_conversation(ivr_platform: Platform, router: RouterService,
                                                   phones: SimulatedPhones) -> None:
    router.do(lambda r: r.reconfigure(replace(r.settings, queues={
        **r.settings.queues, "general": replace(r.settings.queues["general"], record=True)}), r.policy))
    agent(router, "2007")
    phone = phones.phone("PJSIP/2007")
    phone.auto_answer, phone.talk_s = True, 0.05
    call = place_call(ivr_platform, router, phones)
    outcome = call.done()
    record = CallService().get(outcome.call_id)
    assert record is not None and record["call_recording"] == call.switch.call_recording
    assert record["call_recording"].startswith("helpline/") and \
        record["call_recording"].endswith(f"/{outcome.call_id}-2007.wav")
