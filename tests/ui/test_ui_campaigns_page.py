"""The campaigns page (NiceGUI user fixture): a supervisor sees a run's monitor (progress, contact rate, agents,
outcomes), the questionnaire's results as charts, exports the answers to Excel and pauses the run; an agent cannot
open the page."""

from __future__ import annotations

import io
from pathlib import Path

from nicegui import ui
from nicegui.testing import User
from openpyxl import load_workbook
from ui_helpers import log_in, see

from helpline.security.actor import Actor
from helpline.services.campaigns import CampaignService, save_result
from helpline.services.platform import Platform

SURVEY = """\
# A survey on a CSV list, open all day.
kind: campaign
name: page_survey
label: {en: Page survey, zh_CN: 页面回访}
list: {import: campaign_numbers, phone: phone, name: name}
queue: general
windows:
  - {days: [mon, tue, wed, thu, fri, sat, sun], from: '00:00', to: '23:59'}
questions:
  - {name: solved, type: yes_no, required: true, label: {en: Solved?, zh_CN: 解决了吗}}
  - {name: score, type: rating, label: {en: Score, zh_CN: 评分}}
"""


async def test_the_monitor_the_charts_and_the_excel_export(user: User, ui_platform: Platform, tmp_path: Path) -> None:
    ui_platform.publish("campaign", "page_survey", SURVEY, actor=Actor.system())
    service = CampaignService(ui_platform)
    listed = tmp_path / "list.csv"
    listed.write_text("电话,姓名\n13800000601,A\n13800000602,B\n13800000603,C\nabc,D\n", encoding="utf-8")
    run_id, _ = service.start(Actor("supervisor1", roles=("supervisor",)).bind(ui_platform.metadata), "page_survey",
                              listed)
    agent1 = Actor("agent1", roles=("agent",)).bind(ui_platform.metadata)
    first, second = service.claim(run_id, 2, agent="agent1")
    service.record_outcome(first.attempt_id, "answered", agent="agent1")
    save_result(ui_platform, agent1, first.number_id, {"solved": True, "score": 4})
    service.record_outcome(second.attempt_id, "busy", agent="agent1")
    await log_in(user, "supervisor1", path="/page/campaigns")
    await user.should_see(marker="campaigns-runs", retries=100)
    await see(user, "33 % of 3 numbers closed · contact rate 50 % · abandoned 0 · agents: agent1")
    await see(user, "answered 1 · busy 1")
    await user.should_see(marker="campaigns-chart-solved", retries=50)
    chart = user.find(marker="campaigns-chart-solved").elements.pop()
    assert isinstance(chart, ui.echart)
    assert chart.options["series"][0]["data"] == [1, 0] and chart.options["xAxis"]["data"] == ["Yes", "No"]
    score = user.find(marker="campaigns-chart-score").elements.pop()
    assert score.options["series"][0]["data"] == [0, 0, 0, 1, 0]
    user.find(marker="campaigns-excel").click()
    response = await user.download.next()
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows == [["phone", "name", "agent", "attempts", "Solved?", "Score"],
                    ["13800000601", "A", "agent1", 1, True, 4]]
    user.find(content="Pause").click()
    await see(user, f"Run {run_id}: Page survey, paused")
    assert service.status(run_id) == "paused"


async def test_agents_cannot_open_the_campaigns_page(user: User) -> None:
    await log_in(user, "agent1", path="/page/campaigns", expect_shell=False)
    await user.should_not_see(marker="campaigns-runs")
