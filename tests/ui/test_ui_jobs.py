"""The scheduled-jobs page: jobs with their next run and last result, run now (audited), agents refused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from nicegui.testing import User
from ui_helpers import log_in, see

from helpline.data.database import session
from helpline.security.audit import search_audit
from helpline.services.platform import Platform
from helpline.services.scheduler import JobSpec, Scheduler


@pytest.fixture
def scheduler(ui_platform: Platform) -> Iterator[Scheduler]:
    runs: list[str] = []
    s = Scheduler()
    s.add(JobSpec("recording_purge", "0 3 * * *", lambda: runs.append("x") or {"files": len(runs)},
                  "delete call recordings past their queue's retention"))
    ui_platform.scheduler = s
    yield s
    ui_platform.scheduler = None


async def test_admin_sees_jobs_and_runs_one_now(user: User, scheduler: Scheduler) -> None:
    await log_in(user, "admin", path="/page/jobs")
    await user.should_see(marker="jobs-table", retries=100)
    table = user.find(marker="jobs-table").elements.pop()
    for _ in range(100):
        if table.rows:
            break
        await asyncio.sleep(0.05)
    row = table.rows[0]
    assert row["name"] == "recording_purge" and row["cron"] == "0 3 * * *"
    assert row["next"].endswith("03:00:00 UTC") and row["status"] == "never run"
    table.selected = [row]
    user.find(marker="jobs-run-now").click()
    await see(user, "Job recording_purge: succeeded.")
    for _ in range(100):
        if table.rows[0]["status"] == "succeeded":
            break
        await asyncio.sleep(0.05)
    assert table.rows[0]["status"] == "succeeded" and '"files": 1' in table.rows[0]["result"]
    with session():
        assert search_audit(actor="admin", action="run_job")[0]["record_id"] == "recording_purge"


async def test_without_a_scheduler_the_page_says_so(user: User) -> None:
    await log_in(user, "admin", path="/page/jobs")
    await user.should_see(marker="jobs-not-running", retries=100)


async def test_agents_cannot_open_the_jobs_page(user: User, scheduler: Scheduler) -> None:
    await log_in(user, "agent1", path="/page/jobs", expect_shell=False)
    await user.should_not_see(marker="jobs-table")
