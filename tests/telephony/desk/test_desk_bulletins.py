"""A must-read bulletin blocks the agent's ready on the server (issue 17 item 4): the desk service's ``ready``
is refused, naming the bulletin, until the agent acknowledges it; a supervisor forcing ready is not held up;
the actions table marks ready as the action that waits for the bulletins."""

from __future__ import annotations

import pytest

from helpline.data.bulletins import BulletinRead, BulletinTarget
from helpline.data.database import session
from helpline.data.system import User, UserRole
from helpline.security.actor import Actor
from helpline.services.platform import Platform
from telephony.desk.actions import AGENT_ACTIONS, SUPERVISOR_ACTIONS
from telephony.desk.service import DeskService, MustReadFirst
from telephony.router import AgentStatus
from tests.telephony.desk.test_desk_service import desk  # noqa: F401  (the fixture)

SYSTEM = Actor.system()


def test_ready_refused_until_the_must_read_bulletin_is_acknowledged(ivr_platform: Platform,
                                                                    desk: DeskService) -> None:  # noqa: F811
    p = ivr_platform
    with session():
        BulletinRead.delete().execute()
        BulletinTarget.delete().execute()
        for name, role in (("agent1", "agent"), ("sup1", "supervisor")):  # a bulletin must reach someone
            if not User.select().where(User.username == name).exists():
                User.create(username=name, password_hash="-")
                UserRole.create(username=name, role=role)
    agent1 = Actor("agent1", roles=("agent",)).bind(p.metadata)
    other = p.bulletins.publish(SYSTEM, "Supervisors only", "not for agents", roles=["supervisor"], must_read=True)
    desk.sign_in(agent1)
    desk.ready(agent1)  # a must-read bulletin for someone else holds nobody up
    desk.not_ready(agent1, "rest")
    bid = p.bulletins.publish(SYSTEM, "必读：停机检修", "今晚停机", roles=["agent"], must_read=True)
    assert other != bid
    with pytest.raises(MustReadFirst, match="必读：停机检修") as refused:
        desk.ready(agent1)
    assert refused.value.bulletin_id == bid
    assert desk.view("1001")["status"] == AgentStatus.NOT_READY
    p.bulletins.open(agent1, bid)  # reading it is not acknowledging it
    with pytest.raises(MustReadFirst):
        desk.ready(agent1)
    p.bulletins.acknowledge(agent1, bid)
    desk.ready(agent1)
    assert desk.view("1001")["status"] == AgentStatus.READY
    desk.sign_out(agent1)


def test_the_table_says_which_action_waits_for_bulletins() -> None:
    assert [name for name, rule in AGENT_ACTIONS.items() if rule.bulletins_first] == ["ready"]
    assert not any(rule.bulletins_first for rule in SUPERVISOR_ACTIONS.values())
