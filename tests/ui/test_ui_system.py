"""The system page: this instance's figures, the router's queues, the scheduled jobs and the error log's tail
for an administrator (``system.monitor``); refused to an agent."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nicegui.testing import User
from ui_helpers import log_in

from helpline.services import error_log
from helpline.services.leader import LeaderElection
from helpline.services.platform import Platform
from telephony.monitoring import SOURCES, register_leader


async def _rows(user: User, marker: str) -> list[dict[str, Any]]:
    await user.should_see(marker=marker, retries=100)
    table = user.find(marker=marker).elements.pop()
    for _ in range(200):
        if table.rows:
            break
        await asyncio.sleep(0.05)
    return list(table.rows)


async def test_admin_sees_the_instance_the_router_and_the_error_log(user: User, desk: Any,
                                                                     ui_platform: Platform) -> None:
    # handed to the handler directly: NiceGUI's user fixture fails a test that logs an ERROR
    error_log.install(50).handle(logging.makeLogRecord({"name": "helpline.test", "levelno": logging.ERROR,
                                                        "levelname": "ERROR",
                                                        "msg": "the disk is on fire (system page test)"}))
    await log_in(user, "admin", path="/page/system")
    queues = await _rows(user, "system-queues")
    assert {q["queue"] for q in queues} == set(desk.router.router.settings.queues)
    assert all(q["waiting"] == 0 for q in queues)
    errors = await _rows(user, "system-errors")
    assert errors[0]["message"] == "the disk is on fire (system page test)" and errors[0]["logger"] == "helpline.test"
    await user.should_see("Event-loop lag", retries=100)
    await user.should_see("Pool connections in use / open (max)")
    await user.should_see("Agents per status")
    await user.should_see("sqlite")
    await user.should_see("Not running in this process", marker="system-cluster-line")  # no election here yet


async def test_the_system_page_shows_this_instances_role_and_the_leader(user: User, ui_platform: Platform) -> None:
    previous = SOURCES.leader
    election = LeaderElection("sqlite://", instance="ui-test-instance").start()
    register_leader(election)
    try:
        await log_in(user, "admin", path="/page/system")
        await user.should_see("ui-test-instance · leader (runs the scheduled jobs)", retries=100)
        await user.should_see(f"ui-test-instance · {election.host} · pid {election.pid} · since")
    finally:
        register_leader(previous)
        election.stop()


async def test_agents_cannot_open_the_system_page(user: User) -> None:
    await log_in(user, "agent1", path="/page/system", expect_shell=False)
    await user.should_not_see(marker="system-host")
