"""An agent works call-back tasks on the desk (``telephony/desk/callbacks.py``) over the simulated switch and its
simulated outside world: offered, taken, the customer dialled through the desk's dial-out, the outcome recorded;
no answer held for the retry; a declined task goes to the next agent; permissions and states checked."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from helpline.data.callbacks import CallbackAttempt, CallbackTask
from helpline.data.database import session
from helpline.security.actor import Actor, PermissionDenied
from helpline.services import agents as agent_service
from helpline.services import callbacks as service
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from telephony.callbacks import CallbackQueue
from telephony.control.outbound import SimulatedOutside
from telephony.control.simulated import SimulatedCallControl
from telephony.desk.callbacks import callback_desk
from telephony.desk.dialout import outbound
from telephony.desk.service import DeskError, DeskService
from telephony.router.service import RouterService
from telephony.switch.phones import SimulatedPhones


@pytest.fixture
def desk(ivr_platform: Platform) -> Iterator[DeskService]:
    with session():
        from helpline.data.agents import AgentEvent, AgentRecord

        AgentRecord.delete().execute()
        AgentEvent.delete().execute()
        CallbackTask.delete().execute()
        CallbackAttempt.delete().execute()
    agent_service.ensure_demo_agents()
    router = RouterService.from_platform(ivr_platform, restore=False).start()
    router.do(lambda r: r.reconfigure(replace(r.settings, wrap_up_s=30.0), r.policy))
    service_ = DeskService(ivr_platform, router, SimulatedCallControl(SimulatedPhones(), SimulatedOutside()))
    outbound(service_).timeout_s = 0.3
    yield service_
    outbound(service_).close()
    router.stop()


def actor(platform: Platform, name: str, withheld: tuple[str, ...] = ()) -> Actor:
    bound = Actor(name, roles=("agent",)).bind(platform.metadata)
    bound._role_objs = [r.model_copy(update={"permissions": [p for p in r.permissions if p not in withheld]})
                        for r in bound._role_objs]
    return bound


def until(check: Callable[[], Any], timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.005)
    raise AssertionError("not reached")


def outside(desk: DeskService) -> SimulatedOutside:
    assert isinstance(desk.control, SimulatedCallControl) and desk.control.outside is not None
    return desk.control.outside


def new_task(platform: Platform, desk: DeskService, number: str, tier: str = "ordinary") -> int:
    task = CallbackQueue(platform, desk.router).from_call(
        call_id=0, number=number, queue="general", tier=tier, recording=None, customer_id=None, customer_name=None,
        region=None, city=None)
    assert task is not None
    return int(task["id"])


def ready(desk: DeskService, who: Actor) -> str:
    ref = desk.sign_in(who)
    assert isinstance(desk.control, SimulatedCallControl)
    desk.control.phones.phone(ref.endpoint).auto_answer = True
    desk.ready(who)
    return ref.number


def test_an_agent_takes_calls_and_reaches_the_customer(ivr_platform: Platform, desk: DeskService) -> None:
    who = actor(ivr_platform, "agent1")
    number = ready(desk, who)
    task_id = new_task(ivr_platform, desk, "13800000201", tier="gold")
    cb = callback_desk(desk)
    offered = cb.current(who)
    assert offered is not None and (offered["id"], offered["state"]) == (task_id, "offered")
    with pytest.raises(DeskError, match="not working a call-back"):
        cb.call(who)
    taken = cb.take(who)
    assert taken["state"] == "working" and [a["agent"] for a in taken["history"]] == [number]
    assert desk.view(number)["state"] == "wrap_up"
    outside(desk).behave("13800000201", ring_s=0.02)
    call_id = cb.call(who)
    call = outbound(desk).get(call_id)
    assert call is not None
    until(lambda: call.answered_at is not None)
    with pytest.raises(DeskError, match="end the call first"):
        cb.finish(who, "reached")
    assert outside(desk).hang_up(call_id) and call.done.wait(2)
    done = cb.finish(who, "reached", "explained the bill")
    assert (done["status"], done["outcome"], done["attempts"]) == ("closed", "reached", 1)
    [attempt] = service.attempts(task_id)
    assert (attempt["outcome"], attempt["call_id"], attempt["dial_result"], attempt["note"]) == (
        "reached", call_id, "answered", "explained the bill")
    record = CallService().get(call_id)
    assert record is not None and record["direction"] == "outbound" and record["dnid"] == "13800000201"
    assert not desk.router.do(lambda r: r.holds(-task_id)) and cb.current(who) is None


def test_no_answer_is_held_for_the_retry_and_the_agent_is_free(ivr_platform: Platform, desk: DeskService) -> None:
    who = actor(ivr_platform, "agent1")
    number = ready(desk, who)
    task_id = new_task(ivr_platform, desk, "13800000202")
    cb = callback_desk(desk)
    cb.take(who)
    outside(desk).behave("13800000202", result="noanswer", ring_s=0.01)
    call = outbound(desk).get(cb.call(who))
    assert call is not None and call.done.wait(2)
    assert desk.view(number)["state"] == "idle"
    new_task(ivr_platform, desk, "13800000203")              # another task: not offered while this one is open
    assert cb.current(who)["id"] == task_id                  # type: ignore[index]
    after = cb.finish(who, "no_answer", "rang out")
    assert (after["status"], after["attempts"]) == ("open", 1)
    held = desk.router.do(lambda r: -task_id in r.deferred)
    assert held and desk.router.do(lambda r: r.next_timer_at()) is not None
    until(lambda: (cb.current(who) or {}).get("state") == "offered")   # now the other task
    assert cb.current(who)["number"] == "13800000203"        # type: ignore[index]


def test_declined_goes_to_the_next_agent_and_permissions(ivr_platform: Platform, desk: DeskService) -> None:
    first, second = actor(ivr_platform, "agent1"), actor(ivr_platform, "agent2")
    without = actor(ivr_platform, "agent1", withheld=("agent.callback",))
    ready(desk, first)
    task_id = new_task(ivr_platform, desk, "13800000204")
    cb = callback_desk(desk)
    with pytest.raises(PermissionDenied):
        cb.take(without)
    with pytest.raises(PermissionDenied):
        cb.current(without)
    n2 = ready(desk, second)
    assert cb.current(second) is None                        # offered to one agent at a time
    cb.decline(first)
    assert desk.view(desk.agent_of(first).number)["status"] == "not_ready"
    assert (cb.current(second) or {}).get("id") == task_id
    with pytest.raises(DeskError, match="possible while reserved, ringing, not while idle"):
        cb.take(first)
    cb.take(second)
    with pytest.raises(DeskError, match="unknown outcome"):
        cb.finish(second, "maybe")
    assert cb.finish(second, "wrong_number", "a fax machine")["outcome"] == "wrong_number"
    assert desk.view(n2)["state"] == "idle"


def test_a_task_left_by_an_agent_who_signed_out_goes_to_another(ivr_platform: Platform, desk: DeskService) -> None:
    first, second = actor(ivr_platform, "agent1"), actor(ivr_platform, "agent2")
    ready(desk, first)
    task_id = new_task(ivr_platform, desk, "13800000205")
    cb = callback_desk(desk)
    cb.take(first)
    desk.sign_out(first)                                     # gone without an outcome
    ready(desk, second)
    assert cb.current(second) is None                        # still held as worked by agent1
    CallbackQueue(ivr_platform, desk.router).sync()
    assert (cb.current(second) or {}).get("id") == task_id
    cb.take(second)
    assert [a["outcome"] for a in service.attempts(task_id)] == ["interrupted", None]
