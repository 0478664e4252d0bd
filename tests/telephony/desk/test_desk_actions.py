"""One table for which desk action is allowed where: in every agent status, state and consultation, the
desktop toolbar enables exactly the buttons the server accepts, and the supervisor's console shows exactly
the actions the server accepts; a button the UI disables is refused by the real desk function."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from typing import Any

import pytest

from helpline.data.database import session
from helpline.security.actor import Actor, PermissionDenied
from helpline.services import agents as agent_service
from helpline.services.platform import Platform
from helpline.ui.views.desk_toolbar import available
from helpline.ui.views.supervisor_actions import ACTIONS, visible_actions
from telephony.control.simulated import SimulatedCallControl
from telephony.desk.actions import AGENT_ACTIONS, SUPERVISOR_ACTIONS
from telephony.desk.dialout import outbound
from telephony.desk.service import DeskError, DeskService
from telephony.router import AgentState, AgentStatus
from telephony.router.core import Router
from telephony.router.service import RouterService
from telephony.switch.phones import SimulatedPhones

WITHHELD = ("agent.transfer", "agent.consult", "agent.wrapup")


@pytest.fixture
def desk(ivr_platform: Platform) -> Iterator[DeskService]:
    with session():
        from helpline.data.agents import AgentEvent, AgentRecord

        AgentRecord.delete().execute()
        AgentEvent.delete().execute()
    agent_service.ensure_demo_agents()
    router = RouterService.from_platform(ivr_platform, restore=False).start()
    yield DeskService(ivr_platform, router, SimulatedCallControl(SimulatedPhones()))
    router.stop()


def actor(platform: Platform, name: str, role: str, withheld: tuple[str, ...] = ()) -> Actor:
    bound = Actor(name, roles=(role,)).bind(platform.metadata)
    bound._role_objs = [r.model_copy(update={"permissions": [p for p in r.permissions if p not in withheld]})
                        for r in bound._role_objs]
    return bound


def put(desk: DeskService, number: str, status: AgentStatus, state: AgentState, consulting: bool) -> None:
    """Agent ``number`` in this status and state (with a call id while it has a call)."""
    def change(r: Router) -> None:
        agent = r.agents[number]
        agent.status, agent.state = status, state
        agent.call_id = None if state in (AgentState.IDLE, AgentState.WRAP_UP) else 77
    desk.router.do(change)
    if consulting:
        desk.consulting[number] = "1002"
    else:
        desk.consulting.pop(number, None)


def accepted(check: Callable[[], Any]) -> bool:
    try:
        check()
    except (DeskError, PermissionDenied):
        return False
    return True


def functions(desk: DeskService, who: Actor) -> dict[str, Callable[[], Any]]:
    """Each toolbar button's desk function as the toolbar calls it."""
    return {
        "sign_in": lambda: desk.sign_in(who), "shift_in": lambda: desk.sign_in(who, shift=True),
        "sign_out": lambda: desk.sign_out(who), "shift_out": lambda: desk.sign_out(who, shift=True),
        "ready": lambda: desk.ready(who), "not_ready": lambda: desk.not_ready(who, "meal"),
        "study": lambda: desk.study(who), "answer": lambda: desk.answer(who),
        "hold": lambda: desk.hold(who), "unhold": lambda: desk.unhold(who),
        "release": lambda: desk.release(who), "mute": lambda: desk.mute(who, True),
        "transfer": lambda: desk.transfer(who, "queue:general"), "consult": lambda: desk.consult(who, "1002"),
        "complete_transfer": lambda: desk.complete_transfer(who), "conference": lambda: desk.conference(who),
        "cancel_consult": lambda: desk.cancel_consult(who), "end_wrap_up": lambda: desk.end_wrap_up(who),
        "dial": lambda: outbound(desk).dial(who, "13800000001"),
        "internal_call": lambda: outbound(desk).call_agent(who, "1002"),
        "dtmf": lambda: outbound(desk).send_dtmf(who, "1"),
        "consult_out": lambda: outbound(desk).consult_out(who, "13900000000"),
    }


def test_the_toolbar_enables_what_the_server_accepts_in_every_state(ivr_platform: Platform,
                                                                     desk: DeskService) -> None:
    full, limited = actor(ivr_platform, "agent1", "agent"), actor(ivr_platform, "agent1", "agent", WITHHELD)
    number = desk.agent_of(full).number
    compared = refused = 0
    for who, status, state, consulting in itertools.product(
            (full, limited), AgentStatus, AgentState, (False, True)):
        put(desk, number, status, state, consulting)
        buttons = available(desk.view(number), who)
        assert set(buttons) == set(AGENT_ACTIONS) - {"unhold"}
        calls = functions(desk, who)
        for button, on in buttons.items():
            action = "unhold" if button == "hold" and state == AgentState.HOLD else button
            server = accepted(partial(desk.check, who, number, action))
            assert on == server, (button, status, state, consulting, who.has("agent.transfer"))
            compared += 1
            if not on:  # the real function refuses it, and nothing changes
                assert not accepted(calls[action]), (button, status, state, consulting)
                view = desk.view(number)
                assert (view["status"], view["state"]) == (status, state)
                refused += 1
    assert compared == 2 * 4 * 6 * 2 * (len(AGENT_ACTIONS) - 1) and refused > compared // 2


def test_the_hold_button_holds_while_talking_and_unholds_while_on_hold(ivr_platform: Platform,
                                                                       desk: DeskService) -> None:
    who = actor(ivr_platform, "agent1", "agent")
    number = desk.agent_of(who).number
    for state, other, needs in ((AgentState.TALKING, "unhold", "hold"), (AgentState.HOLD, "hold", "talking")):
        put(desk, number, AgentStatus.READY, state, False)
        assert available(desk.view(number), who)["hold"]
        with pytest.raises(DeskError, match=f"{other} is possible while {needs}, not while {state}"):
            desk.check(who, number, other)
    put(desk, number, AgentStatus.READY, AgentState.HOLD, True)  # the caller is held for a consultation
    assert not available(desk.view(number), who)["hold"]
    with pytest.raises(DeskError, match="not possible during a consultation"):
        desk.unhold(who)


def test_the_supervisor_sees_the_actions_the_server_accepts_in_every_state(ivr_platform: Platform,
                                                                            desk: DeskService) -> None:
    boss = actor(ivr_platform, "supervisor1", "supervisor")
    number = "1001"
    desk.agent_of(actor(ivr_platform, "agent1", "agent"))
    for status, state in itertools.product(AgentStatus, AgentState):
        put(desk, number, status, state, False)
        agent = desk.router.agent(number)
        assert agent is not None
        shown = visible_actions(agent["status"], agent["state"], agent.get("call_id"))
        assert (agent.get("call_id") is not None) == ("recording" in shown)
        for action in SUPERVISOR_ACTIONS:
            server = accepted(partial(desk.check, boss, number, action, supervisor=True))
            assert (action in shown) == server, (action, status, state)
            assert ACTIONS[action][0] == SUPERVISOR_ACTIONS[action].permission
            if not server:
                real = {"ready": partial(desk.force, boss, number, "ready"),
                        "not_ready": partial(desk.force, boss, number, "not_ready", "meal"),
                        "sign_out": partial(desk.force, boss, number, "sign_out"),
                        "intercept": partial(desk.intercept, boss, number)}.get(
                    action, partial(desk.spy, boss, number, action))  # type: ignore[arg-type]
                assert not accepted(real), (action, status, state)
    without = actor(ivr_platform, "supervisor1", "supervisor", ("supervisor.barge",))
    put(desk, number, AgentStatus.READY, AgentState.TALKING, False)
    with pytest.raises(PermissionDenied):
        desk.spy(without, number, "barge")


def test_the_table_names_only_known_permissions(ivr_platform: Platform) -> None:
    from helpline.metadata.permissions import PERMISSIONS

    for rule in (*AGENT_ACTIONS.values(), *SUPERVISOR_ACTIONS.values()):
        assert rule.permission is None or rule.permission in PERMISSIONS
    assert replace(AGENT_ACTIONS["ready"]).refusal("ready", "logged_out", "idle") == "sign in first"
