"""The performance page: supervisor1 sees the month's scorecard with ranks and downloads it as Excel; agents
cannot open it."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime

from nicegui import ui
from nicegui.testing import User
from openpyxl import load_workbook
from ui_helpers import log_in, see

from helpline.data.calls import Call
from helpline.data.database import session
from helpline.services.agents import ensure_demo_agents
from helpline.services.platform import Platform


async def test_supervisor_sees_the_scorecard_and_exports_it(user: User, ui_platform: Platform) -> None:
    ensure_demo_agents()
    with session():
        for i in range(3):
            Call.insert(uniqueid="p", agent="1002", routed="answered", talk_s=200.0,
                        started_at=datetime.now().replace(day=1, hour=9, minute=i)).execute()
    await log_in(user, "supervisor1")
    user.find("Performance").click()
    await user.should_see(marker="perf-table", retries=100)
    table = user.find(marker="perf-table").elements.pop()
    assert isinstance(table, ui.table)
    for _ in range(100):
        if table.rows:
            break
        await asyncio.sleep(0.05)
    top = table.rows[0]
    assert top["username"] == "agent2" and top["handled"] == 3 and top["rank"] == 1
    user.find(marker="perf-export").click()
    response = await user.download.next(timeout=5)
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "rank" and rows[1][3] == "agent2"


async def test_agents_cannot_open_the_performance_page(user: User) -> None:
    await log_in(user, "agent1", path="/page/performance")
    await see(user, "Not allowed")
