"""The skill, team, department and category dimensions of the reports (issue 20): the facts carry the queue's
skill and the agent's team and department, the event path and ``stats rebuild`` agree on them, reports group by
them (shown by their labels), drill down by them, and work orders group by their type."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.stats import StatAgent, StatAgentDay, StatCall, StatCallDay, StatCallQueue
from helpline.data.workflow import WorkflowInstance
from helpline.security.actor import Actor
from helpline.services import stats
from helpline.services.agents import RouterJournal
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from helpline.services.reports import dimension_texts, drill_calls, run_report
from helpline.services.stats_teams import forget_teams

DAY = date(2026, 12, 1)
SYSTEM = Actor.system()
PERIOD = {"period": ["2026-12-01", "2026-12-01"]}


def at(hh: int, mm: int) -> datetime:
    return datetime(2026, 12, 1, hh, mm)


def call(started: datetime, uniqueid: str, **close: Any) -> int:
    with session():
        call_id = int(Call.insert(uniqueid=uniqueid, started_at=started, switch="simulated").execute())
    CallService().close(call_id, **close)
    return call_id


def rows(model: Any) -> list[dict[str, Any]]:
    with session():
        found = [{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items() if k != "id"}
                 for r in model.select().dicts()]
    return sorted(found, key=repr)


@pytest.fixture
def centre(platform: Platform) -> Iterator[Platform]:
    """Agent 1001 in the Changsha maintenance team (department maintenance), 1002 in customer service, 1003 in
    no team; calls to the vip and general queues; agent time of 1001 and 1002."""
    stats.configure_from_metadata(platform.metadata)
    stats.configure(queue_skills={**stats.SETTINGS.queue_skills, "vip": "vip_skill"})
    forget_teams()
    employee: Any = platform.models["employee"]
    with session():
        employee.insert(employee_no="E1", name="Li", agent_no="1001", team="maint_changsha").execute()
        employee.insert(employee_no="E2", name="Wang", agent_no="1002", team="customer_service").execute()
    call(at(9, 1), "a", queue="vip", tier="gold", routed="answered", wait_s=5.0, talk_s=60.0, agent="1001")
    call(at(9, 2), "b", queue="general", tier="gold", routed="answered", wait_s=50.0, talk_s=30.0, agent="1002")
    call(at(9, 3), "c", queue="general", tier="gold", routed="answered", wait_s=1.0, talk_s=10.0, agent="1003")
    call(at(9, 4), "d", queue="general", tier="gold", routed="abandoned", wait_s=9.0, result="hangup")
    journal = RouterJournal()
    journal.agent_event(agent="1001", at=at(9, 10), what="state", old="talking", new="idle", duration_s=60.0)
    journal.agent_event(agent="1002", at=at(9, 11), what="state", old="talking", new="idle", duration_s=30.0)
    journal.flush()
    yield platform
    stats.configure({}, queue_skills={}, departments={})
    forget_teams()


def test_the_facts_carry_skill_team_and_department(centre: Platform) -> None:
    assert stats.SETTINGS.departments["maint_changsha"] == "maintenance"
    by_agent = {r["agent"]: (r["skill"], r["team"], r["department"]) for r in rows(StatCall)}
    assert by_agent == {"1001": ("vip_skill", "maint_changsha", "maintenance"),
                        "1002": ("general", "customer_service", "customer_service"),
                        "1003": ("general", "", ""), "": ("general", "", "")}
    assert {r["queue"]: r["skill"] for r in rows(StatCallDay)} == {"vip": "vip_skill", "general": "general"}
    assert {r["queue"]: r["skill"] for r in rows(StatCallQueue)} == {"vip": "vip_skill", "general": "general"}
    assert {r["agent"]: r["department"] for r in rows(StatAgent)} == {"1001": "maintenance",
                                                                      "1002": "customer_service"}


def test_the_event_path_and_a_rebuild_agree(centre: Platform) -> None:
    """Skill (the three call tables), team and department (the 15-minute call facts, the agent facts)."""
    tables = (StatCall, StatCallQueue, StatCallDay, StatAgent, StatAgentDay)
    kept = [rows(model) for model in tables]
    assert all(kept)
    stats.rebuild(DAY, DAY)
    assert [rows(model) for model in tables] == kept


def test_reports_by_skill_team_and_department(centre: Platform) -> None:
    metadata = centre.metadata
    from helpline.metadata.kinds.report import Report

    def report(name: str, source: str, dims: list[str], measures: list[str]) -> None:
        metadata.objects.setdefault("report", {})[name] = Report.model_validate(
            {"kind": "report", "name": name, "title": {"en": name}, "source": source, "dimensions": dims,
             "measures": measures, "inputs": [{"name": "period", "dimension": "day", "op": "between"}]})

    report("by_skill", "calls", ["skill"], ["offered", "answered", "within"])
    report("by_team", "calls", ["team"], ["answered", "talk_s"])
    report("by_department", "calls", ["department"], ["answered"])
    report("agents_by_team", "agents", ["team"], ["talking_s", "calls_handled"])
    skill = {r["skill"]: (r["offered"], r["answered"], r["within"])
             for r in run_report(metadata, SYSTEM, "by_skill", PERIOD).rows}
    assert skill == {"general": (3, 2, 1), "vip_skill": (1, 1, 1)}
    team = {r["team"]: (r["answered"], r["talk_s"]) for r in run_report(metadata, SYSTEM, "by_team", PERIOD).rows}
    assert team == {"": (1, 10.0), "customer_service": (1, 30.0), "maint_changsha": (1, 60.0)}
    dept = {r["department"]: r["answered"] for r in run_report(metadata, SYSTEM, "by_department", PERIOD).rows}
    assert dept == {"": 1, "customer_service": 1, "maintenance": 1}
    agents = {r["team"]: (r["talking_s"], r["calls_handled"])
              for r in run_report(metadata, SYSTEM, "agents_by_team", PERIOD).rows}
    assert agents == {"customer_service": (30.0, 1), "maint_changsha": (60.0, 1)}
    assert dimension_texts(metadata, "team")["maint_changsha"].get("en") == "Changsha maintenance team"
    drilled = drill_calls(metadata, SYSTEM, "by_team", PERIOD, {"team": "maint_changsha"})
    assert [r["agent"] for r in drilled] == ["1001"]
    drilled = drill_calls(metadata, SYSTEM, "by_skill", PERIOD, {"skill": "general"})
    assert sorted(r["agent"] or "" for r in drilled) == ["", "1002", "1003"]


def test_work_orders_by_category(centre: Platform) -> None:
    from helpline.metadata.kinds.report import Report

    order: Any = centre.models["work_order"]
    with session():
        ids = [int(order.insert(order_no=f"W{i}", type=kind).execute())
               for i, kind in enumerate(("fault", "fault", "complaint"))]
        for record_id in ids:
            WorkflowInstance.insert(entity="work_order", record_id=record_id, workflow="work_order", state="new",
                                    opened_at=at(10, 0)).execute()
    centre.metadata.objects.setdefault("report", {})["orders_by_type"] = Report.model_validate(
        {"kind": "report", "name": "orders_by_type", "title": {"en": "t"}, "source": "workorders",
         "dimensions": ["category"], "measures": ["created"],
         "inputs": [{"name": "period", "dimension": "day", "op": "between"},
                    {"name": "type", "dimension": "category", "op": "in"}]})
    found = {r["category"]: r["created"] for r in run_report(centre.metadata, SYSTEM, "orders_by_type", PERIOD).rows}
    assert found == {"complaint": 1, "fault": 2}
    only = run_report(centre.metadata, SYSTEM, "orders_by_type", {**PERIOD, "type": ["complaint"]})
    assert [(r["category"], r["created"]) for r in only.rows] == [("complaint", 1)]
    assert "complaint" in dimension_texts(centre.metadata, "category")


def test_text_with_tabs_and_backslashes_survives_a_rebuild(platform: Platform) -> None:
    """The rebuild writes PostgreSQL's facts with COPY (text format): keys are escaped."""
    call(at(9, 0), "t1", queue="q\\1", tier="gold\tx", city="43\n01", routed="answered", wait_s=2.0, agent="1001")
    kept = [rows(m) for m in (StatCall, StatCallQueue, StatCallDay)]
    assert kept[0][0]["queue"] == "q\\1" and kept[0][0]["tier"] == "gold\tx"
    stats.rebuild(DAY, DAY)
    assert [rows(m) for m in (StatCall, StatCallQueue, StatCallDay)] == kept
