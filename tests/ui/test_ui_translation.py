"""Texts that leaked from one language into the other: Excel headers written on a worker thread, a 2-D
query's linked rows shown as codes, the what-if's load and the supervisor's alerts worded by the simulator
and the router."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

from nicegui.testing import User
from openpyxl import load_workbook
from ui_helpers import loaded_table, log_in, tables_with

from helpline.data.database import session
from helpline.data.system import User as UserRow
from helpline.security.actor import Actor
from helpline.services.platform import Platform
from helpline.ui.i18n import speaking
from helpline.ui.views.routing_editor import load_caption
from helpline.ui.views.supervisor_wallboard import alert_of
from telephony.router.events import AgentAlert
from telephony.simulate.scenario import LoadSpec

CJK = re.compile(r"[\u3400-\u9fff]")


async def test_excel_headers_are_in_the_users_language(user: User) -> None:
    await log_in(user, "admin")
    user.find("Customers").click()
    await loaded_table(user, "customer_no")
    user.find(marker="export").click()
    response = await user.download.next()
    headers = [c.value for c in next(load_workbook(io.BytesIO(response.content)).active.iter_rows())]
    assert "Customer no." in headers and not any(CJK.search(str(h)) for h in headers)


async def test_excel_headers_in_chinese_for_a_chinese_user(user: User) -> None:
    with session():
        UserRow.update(language="zh_CN").where(UserRow.username == "admin").execute()
    await log_in(user, "admin")
    user.find("客户资料").click()
    await loaded_table(user, "customer_no")
    user.find(marker="export").click()
    response = await user.download.next()
    headers = [c.value for c in next(load_workbook(io.BytesIO(response.content)).active.iter_rows())]
    assert "客户编号" in headers


async def test_a_two_dimensional_query_by_a_linked_region_shows_its_names(user: User, ui_platform: Platform) -> None:
    system = Actor.system()
    for i, (city, tier) in enumerate([("changsha", "gold"), ("changsha", "gold"), ("yueyang", "platinum")]):
        ui_platform.records.create(system, "customer", {"customer_no": f"PV{i}", "name": f"PV{i}", "city": city,
                                                        "value_tier": tier})
    query = {"kind": "query", "name": "customers_by_city", "entity": "customer",
             "title": {"en": "Customers by city", "zh_CN": "各市州客户"},
             "inputs": [{"name": "tier", "field": "value_tier", "op": "in", "widget": "category"}],
             "pivot": {"rows": "city", "columns": "value_tier", "measure": "count"}}
    admin = Actor("admin", roles=("administrator",)).bind(ui_platform.metadata)
    ui_platform.publish("query", "customers_by_city", query, actor=admin, comment="a 2-D query by a link")
    await log_in(user, "admin", path="/query/customers_by_city")
    await user.should_see(marker="run-query", retries=50)
    user.find(marker="input-tier").elements.pop().value = ["gold", "platinum"]
    user.find(marker="run-query").click()
    for _ in range(100):
        pivots = tables_with(user, "_row")
        if pivots:
            break
        await asyncio.sleep(0.05)
    shown = [r["_row"] for r in pivots[-1].rows]
    assert "长沙市" in shown and "岳阳市" in shown and "changsha" not in shown
    user.find(marker="query-export").click()
    response = await user.download.next()
    first_column = [r[0].value for r in load_workbook(io.BytesIO(response.content)).active.iter_rows()]
    assert "长沙市" in first_column and "changsha" not in first_column and "Total" in first_column


def test_what_if_loads_and_alerts_speak_the_users_language() -> None:
    with speaking("zh_CN"):
        assert load_caption(LoadSpec(occupancy=0.85)) == "座席占用率 85%"
        assert load_caption(LoadSpec(calls_per_hour=300)) == "每小时 300 个来话"
    with speaking("en"):
        assert load_caption(LoadSpec(occupancy=0.85)) == "85% occupancy"
    alert = alert_of(AgentAlert(0.0, "1001", "no_answer", "agent 1001 did not answer (call 7)", 7))
    assert alert is not None and alert.detail == "#7"  # the router's English log line is not shown
    alert = alert_of(AgentAlert(0.0, "1001", "not_ready_over_limit", "agent 1001 not ready (rest) for 600 s"))
    assert alert is not None and alert.detail == ""



async def test_the_wallboard_words_the_routers_own_not_ready_reasons(user: User, desk: Any) -> None:
    desk.router.do(lambda r: r.sign_in("1001", ready=False))  # the router's reason: just signed in
    await log_in(user, "supervisor1", path="/supervisor")
    await user.should_see(marker="agent-row-1001", retries=100)
    for _ in range(100):
        shown = " ".join(str(getattr(e, "text", "")) for e in user.find(marker="agent-status-1001").elements)
        if "Not ready" in shown:
            break
        await asyncio.sleep(0.05)
    assert shown == "Not ready · Just signed in"


def test_ivr_trail_outcomes_are_worded_in_the_users_language() -> None:
    from helpline.ui.i18n import catalogue
    from helpline.ui.views.display import OUTCOMES, node_type_label, trail_outcome

    assert trail_outcome("to queue general", "zh_CN") == "转入队列 general"
    assert trail_outcome("accepted on attempt 2", "zh_CN") == "第 2 次输入有效"
    assert trail_outcome("transferred to 1001 (answered)", "zh_CN") == "已转至 1001（answered）"
    assert trail_outcome("to queue general", "en") == "to queue general"
    assert trail_outcome("something new", "zh_CN") == "something new"  # unknown wording stays
    assert node_type_label("menu", "zh_CN") == "菜单" and node_type_label("menu", "en") == "Menu"
    for _, key in OUTCOMES:
        assert f"ivr.outcome.{key}" in catalogue("en") and f"ivr.outcome.{key}" in catalogue("zh_CN"), key
