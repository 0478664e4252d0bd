"""Reports over the interval facts: the shipped standard reports, inputs selecting nothing, a range too large,
paging, row scope, drill-down to the calls, the Excel export's number formats, and agreement with the
wallboard's sliding 15- and 60-minute figures (issue 20 items 2, 3, 5)."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from helpline.data.calls import Call
from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services.agents import RouterJournal
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from helpline.services.reports import ReportInputError, drill_calls, report_xlsx, run_report
from telephony.router.stats import ServiceLevelStats

pytestmark = pytest.mark.usefixtures("utc_centre")  # times read as the centre's
SYSTEM = Actor.system()
_ids = itertools.count(1)
DAY = {"period": ["2026-12-01", "2026-12-01"]}


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 12, 1, hh, mm, ss)


def call(started: datetime, **close: Any) -> int:
    with session():
        call_id = int(Call.insert(uniqueid=f"u{next(_ids)}", started_at=started).execute())
    CallService().close(call_id, **close)
    return call_id


@pytest.fixture
def day(platform: Platform) -> Platform:
    """10:00-10:15: gold 3 answered (2 within 20 s), 1 abandoned; ordinary 2 answered within; 10:15: gold 1."""
    for i, wait in enumerate((5.0, 12.0, 35.0)):
        call(at(10, i), queue="general", tier="gold", routed="answered", wait_s=wait, talk_s=100.0,
             agent="1001", city="4301", region="430102", flow="main")
    call(at(10, 5), queue="general", tier="gold", routed="abandoned", wait_s=40.0, city="4302", flow="main",
         result="hangup")
    for i in range(2):
        call(at(10, 6 + i), queue="general", tier="ordinary", routed="answered", wait_s=3.0, talk_s=50.0,
             agent="1002", city="4302", flow="main")
    call(at(10, 20), queue="general", tier="gold", routed="answered", wait_s=1.0, talk_s=10.0, agent="1001",
         city="4301", flow="main")
    call(at(10, 21), result="completed", flow="main", city="4301")
    return platform


def rows_by(result: Any, *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[k] for k in keys): r for r in result.rows}


def test_service_level_per_tier_per_interval_against_the_target(day: Platform) -> None:
    result = run_report(day.metadata, SYSTEM, "service_level", DAY)
    rows = rows_by(result, "interval", "tier")
    gold = rows[("2026-12-01 10:00", "gold")]
    assert (gold["offered"], gold["answered"], gold["within"], gold["abandoned_queue"]) == (4, 3, 2, 1)
    assert gold["service_level"] == round(2 / 3, 4) and gold["target"] == 0.85 and gold["met"] is False
    assert gold["asa_s"] == round((5 + 12 + 35) / 3, 1)
    assert rows[("2026-12-01 10:00", "ordinary")]["met"] is True
    assert rows[("2026-12-01 10:15", "gold")]["service_level"] == 1.0


def test_inputs_and_logic_filter(day: Platform) -> None:
    result = run_report(day.metadata, SYSTEM, "service_level", {**DAY, "tier": ["ordinary"], "queue": []})
    assert {r["tier"] for r in result.rows} == {"ordinary"}


def test_the_daily_summary_reads_the_day_facts_and_agrees_with_the_intervals(day: Platform) -> None:
    daily = run_report(day.metadata, SYSTEM, "daily_summary", DAY).rows
    assert len(daily) == 1 and daily[0]["day"] == "2026-12-01"
    assert (daily[0]["calls"], daily[0]["offered"], daily[0]["answered"]) == (8, 7, 6)
    assert daily[0]["service_level"] == round(5 / 6, 4)
    month = run_report(day.metadata, SYSTEM, "indicators_monthly", {"period": ["2026-12-01", "2026-12-31"]})
    assert sum(r["answered"] for r in month.rows) == 6


def test_ivr_funnel_and_abandons(day: Platform) -> None:
    funnel = run_report(day.metadata, SYSTEM, "ivr_funnel", DAY).rows
    assert [(r["flow"], r["calls"], r["completed"], r["offered"]) for r in funnel] == [("main", 8, 1, 7)]
    abandons = rows_by(run_report(day.metadata, SYSTEM, "abandon_asa", DAY), "interval")
    assert abandons[("2026-12-01 10:00",)]["abandon_rate"] == round(1 / 6, 4)


def test_agent_productivity(platform: Platform) -> None:
    journal = RouterJournal()
    journal.agent_event(agent="1001", at=at(10, 0), what="status", old="logged_out", new="ready", duration_s=9.0)
    journal.agent_event(agent="1001", at=at(10, 40), what="state", old="talking", new="wrap_up", duration_s=900.0)
    journal.agent_event(agent="1001", at=at(11, 0), what="status", old="ready", new="logged_out",
                        duration_s=3600.0)
    journal.flush()
    rows = run_report(platform.metadata, SYSTEM, "agent_productivity", DAY).rows
    assert [(r["agent"], r["signed_in_s"], r["talking_s"], r["calls_handled"], r["occupancy"]) for r in rows] == [
        ("1001", 3600.0, 900.0, 1, 0.25)]


def test_inputs_selecting_nothing(day: Platform) -> None:
    empty = run_report(day.metadata, SYSTEM, "service_level", {"period": ["2025-01-01", "2025-01-02"]})
    assert empty.rows == [] and empty.total_rows == 0 and "reports.nothing" in empty.messages
    none = run_report(day.metadata, SYSTEM, "daily_summary", {**DAY, "tier": ["no_such_tier"]})
    assert none.rows == [] and "reports.nothing" in none.messages


def test_bad_and_too_large_ranges_are_refused(day: Platform) -> None:
    with pytest.raises(ReportInputError, match="at most 92"):
        run_report(day.metadata, SYSTEM, "service_level", {"period": ["2026-01-01", "2026-12-31"]})
    with pytest.raises(ReportInputError, match="before it starts"):
        run_report(day.metadata, SYSTEM, "service_level", {"period": ["2026-12-02", "2026-12-01"]})
    with pytest.raises(ReportInputError, match="period"):
        run_report(day.metadata, SYSTEM, "service_level", {})
    with pytest.raises(ReportInputError, match="two dates"):
        run_report(day.metadata, SYSTEM, "service_level", {"period": ["yesterday", "today"]})


def test_a_long_result_is_paged_with_a_message(day: Platform) -> None:
    first = run_report(day.metadata, SYSTEM, "service_level", DAY, page_size=2)
    assert first.total_rows == 4 and len(first.rows) == 2 and "reports.paged" in first.messages
    second = run_report(day.metadata, SYSTEM, "service_level", DAY, page=2, page_size=2)
    assert len(second.rows) == 2 and not [r for r in second.rows if r in first.rows]


def test_row_scope_a_city_supervisor_sees_their_city(day: Platform) -> None:
    changsha = Actor(username="sup", roles=("supervisor",), regions=("4301",)).bind(day.metadata)
    rows = run_report(day.metadata, changsha, "daily_summary", DAY).rows
    assert (rows[0]["calls"], rows[0]["answered"]) == (5, 4)
    by_interval = rows_by(run_report(day.metadata, changsha, "service_level", DAY), "interval", "tier")
    assert by_interval[("2026-12-01 10:00", "gold")]["offered"] == 3  # the detail facts, their city only
    centre = rows_by(run_report(day.metadata, SYSTEM, "service_level", DAY), "interval", "tier")
    assert centre[("2026-12-01 10:00", "gold")]["offered"] == 4  # the interval × tier × queue facts
    drilled = drill_calls(day.metadata, changsha, "service_level", DAY, {"interval": "2026-12-01 10:00",
                                                                         "tier": "gold"})
    assert {c["city"] for c in drilled} == {"4301"} and len(drilled) == 3


def test_drill_down_to_the_calls_of_an_interval(day: Platform) -> None:
    calls = drill_calls(day.metadata, SYSTEM, "service_level", DAY, {"interval": "2026-12-01 10:00",
                                                                     "tier": "gold"})
    assert [c["wait_s"] for c in calls] == [5.0, 12.0, 35.0, 40.0]
    assert all(c["started_at"] < at(10, 15) for c in calls)


def test_excel_export_has_number_formats_and_no_formulas(day: Platform) -> None:
    call(at(10, 30), queue="=HYPERLINK(\"x\")", tier="gold", routed="answered", wait_s=1.0)
    result = run_report(day.metadata, SYSTEM, "service_level", DAY, page_size=10_000)
    book = load_workbook(io.BytesIO(report_xlsx(result, "Service level")))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    level = header.index("service_level") + 1
    cells = [row[level - 1] for row in sheet.iter_rows(min_row=2) if isinstance(row[level - 1].value, float)]
    assert cells and all(c.number_format == "0.0%" for c in cells)
    assert sheet.cell(row=sheet.max_row, column=1).value == "total"
    texts = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert all(c.data_type == "s" for c in texts)


@pytest.mark.parametrize("window", [900.0, 3600.0])
def test_the_wallboard_and_a_report_of_the_same_interval_agree(platform: Platform, window: float) -> None:
    """The router's sliding windows read at the end of an hour and the report of that hour (or its last
    15 minutes) count the same waits."""
    stats = ServiceLevelStats()
    base = at(9, 0)
    outcomes = [("answered", 4.0), ("answered", 25.0), ("abandoned", 8.0), ("timeout", 300.0), ("answered", 19.0),
                ("abandoned", 2.0), ("answered", 1.0)]
    for n in range(28):
        how, wait = outcomes[n % len(outcomes)]
        started = base + timedelta(minutes=2 * n + 1)
        ended = started + timedelta(seconds=wait)
        stats.record((ended - base).total_seconds(), tier="gold", queue="general", outcome=how,  # type: ignore[arg-type]
                     wait_s=wait, within_s=20.0)
        call(started, queue="general", tier="gold", routed=how, wait_s=wait)
    wallboard = stats.figures("tier", "gold", window, 3600.0)
    dims = "interval" if window == 900 else "hour"
    rows = run_report(platform.metadata, SYSTEM, "service_level", DAY).rows
    mine = [r for r in rows if r["tier"] == "gold" and (r["interval"] >= "2026-12-01 09:45" or dims == "hour")
            and r["interval"] < "2026-12-01 10:00"]
    summed = {k: sum(r[k] for r in mine) for k in ("offered", "answered", "within", "abandoned_queue", "timeout")}
    assert summed == {"offered": wallboard.offered, "answered": wallboard.answered, "within": wallboard.within,
                      "abandoned_queue": wallboard.abandoned, "timeout": wallboard.timeout}
    level = summed["within"] / (summed["answered"] + summed["timeout"])
    assert wallboard.service_level == pytest.approx(level, abs=1e-4)
    if window == 900:
        assert mine[0]["service_level"] == wallboard.service_level


def test_work_order_sla_compliance(platform: Platform) -> None:
    from helpline.data.workflow import DepartmentRegion, WorkflowInstance

    opened = datetime(2026, 12, 1, 9)
    due = opened + timedelta(hours=4)
    rows = [("maint_changsha", opened + timedelta(hours=2)), ("maint_changsha", opened + timedelta(hours=6)),
            ("maint_changsha", None), ("maint_zhuzhou", opened + timedelta(hours=1))]
    with session():
        for n, (department, closed) in enumerate(rows):
            WorkflowInstance.insert(entity="work_order", record_id=n + 1, workflow="fault", state="x",
                                    department=department, opened_at=opened, closed_at=closed,
                                    resolution_due=due).execute()
        DepartmentRegion.insert(department="maint_changsha", region="changsha").execute()
    result = run_report(platform.metadata, SYSTEM, "work_order_sla", {"period": ["2026-12-01", "2026-12-31"]})
    by = rows_by(result, "department")
    cs = by[("maint_changsha",)]
    assert (cs["created"], cs["closed"], cs["on_time"], cs["late"], cs["overdue_open"]) == (3, 2, 1, 1, 1)
    assert cs["compliance_rate"] == 0.5 and by[("maint_zhuzhou",)]["compliance_rate"] == 1.0
    scoped = Actor(username="sup", roles=("supervisor",), regions=("changsha",)).bind(platform.metadata)
    mine = run_report(platform.metadata, scoped, "work_order_sla", {"period": ["2026-12-01", "2026-12-31"]})
    assert [r["department"] for r in mine.rows] == ["maint_changsha"]
