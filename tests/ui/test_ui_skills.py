"""The skills page: an administrator changes agent1's skill levels (the router's skills, stored on the agent
profile, audited); an unknown skill is refused by name; agents cannot open the page. The employee entity keeps
the personnel record beside it."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import ui
from nicegui.events import GenericEventArguments, handle_event
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.agents import AgentRecord
from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.security.audit import search_audit
from helpline.services import skills
from helpline.services.agents import ProfileError, ensure_demo_agents
from helpline.services.platform import Platform


async def test_admin_edits_agent1_skills(user: User, ui_platform: Platform) -> None:
    ensure_demo_agents()
    await log_in(user, "admin")
    user.find("Agent skills").click()
    await user.should_see(marker="skills-table", retries=100)
    table = user.find(marker="skills-table").elements.pop()
    assert isinstance(table, ui.table)
    for _ in range(100):
        if table.rows:
            break
        await asyncio.sleep(0.05)
    row = next(r for r in table.rows if r["number"] == "1001")
    assert "general:1" in row["skills"]
    for listener in table._event_listeners.values():
        if listener.type == "rowClick":
            handle_event(listener.handler, GenericEventArguments(sender=table, client=table.client,
                                                                 args=[{}, row, 0]))
    await user.should_see(marker="skill-vip", retries=50)
    user.find(marker="skill-vip").elements.pop().value = 2
    user.find(marker="skill-broadband").elements.pop().value = 0
    user.find(marker="skills-save").click()
    await see(user, "Skills of 1001 saved")
    with session():
        got = AgentRecord.get(AgentRecord.number == "1001").skills
        changes = search_audit(actor="admin", action="agent.profile")
    assert got["vip"] == 2 and "broadband" not in got and got["general"] == 1
    assert changes and changes[0]["record_id"] == "1001"


async def test_unknown_skills_and_employees(user: User, ui_platform: Platform) -> None:
    ensure_demo_agents()
    admin = Actor("admin", roles=("administrator",)).bind(ui_platform.metadata)
    with pytest.raises(ProfileError, match="unknown skills: billing"):
        skills.save_skills(admin, ui_platform.metadata, "1001", {"billing": 1})
    assert "general" in skills.known_skills(ui_platform.metadata)
    record = ui_platform.records.create(admin, "employee", {"employee_no": "E1001", "name": "座席一号",
                                                           "username": "agent1", "agent_no": "1001",
                                                           "certificates": "普通话二甲"})
    assert record.values["active"] is True
    await log_in(user, "agent1", path="/page/skills")
    await see(user, "Not allowed")
