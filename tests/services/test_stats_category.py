"""The ``category`` dimension of calls (issue 20 item 2): a call counted once, under the category its contact record
was filed with last (moved when the record changes), on a transfer leg too, gone when the record is deleted, the
same after ``stats rebuild``; the ``calls_by_category`` report and its drill-down. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.stats import StatCallCategory, StatCallCategoryOf
from helpline.security.actor import Actor
from helpline.services import stats, stats_category
from helpline.services.calls import CallService
from helpline.services.platform import Platform
from helpline.services.reports import drill_calls, run_report
from telephony.desk.screenpop import serial_number

DAY = date(2026, 12, 3)
PERIOD = {"period": [DAY.isoformat(), DAY.isoformat()]}
SYSTEM = Actor.system()


def at(hh: int, mm: int) -> datetime:
    return datetime(2026, 12, 3, hh, mm)


def call(started: datetime, uniqueid: str, direction: str = "inbound", **close: Any) -> int:
    with session():
        call_id = int(Call.insert(uniqueid=uniqueid, started_at=started, switch="simulated",
                                  direction=direction).execute())
    CallService().close(call_id, **{"queue": "complaint", "tier": "gold", "city": "4301", "routed": "answered",
                                    "wait_s": 5.0, "talk_s": 120.0, "agent": "1001", **close})
    return call_id


def file(platform: Platform, call_id: int, started: datetime, **types: list[str]) -> int:
    """The contact record of the call, as the desktop files it (its serial number names the call)."""
    values = {"serial_no": serial_number(call_id, started), "started_at": started, **types}
    return int(platform.records.create(SYSTEM, "contact_record", values).id)


def change(platform: Platform, record_id: int, **types: list[str]) -> None:
    platform.records.update(SYSTEM, "contact_record", record_id, dict(types))


def facts() -> list[tuple[Any, ...]]:
    with session():
        rows: list[Any] = list(StatCallCategory.select().dicts())
    return sorted((r["day"], r["category_type"], r["category"], r["queue"], r["city"], r["calls"], r["answered"],
                   round(r["talk_s"], 3)) for r in rows)


@pytest.fixture(autouse=True)
def fields() -> Iterator[None]:
    stats.SETTINGS.category_fields = stats_category.CATEGORY_FIELDS
    yield


def test_the_serial_number_is_the_desktops(platform: Platform) -> None:
    started = at(23, 59)
    assert stats_category.serial_of(42, started) == serial_number(42, started)
    assert stats_category.call_id_of(serial_number(42, started)) == 42
    assert stats_category.call_id_of("HN-1") is None and stats_category.call_id_of("202612030000004") is None


def test_filed_twice_the_call_counts_once_under_the_last_category(platform: Platform) -> None:
    started = at(9, 10)
    call_id = call(started, "k1")
    record = file(platform, call_id, started, complaint_types=["fault_no_signal"])
    assert facts() == [(DAY, "complaint_types", "fault_no_signal", "complaint", "4301", 1, 1, 120.0)]
    change(platform, record, complaint_types=["fault_picture", "fault_stb"])  # the first code counts
    assert facts() == [(DAY, "complaint_types", "fault_picture", "complaint", "4301", 1, 1, 120.0)]
    change(platform, record, complaint_types=[], acceptance_types=["apply_dtv"], consultation_types=["tariffs"])
    assert facts() == [(DAY, "acceptance_types", "apply_dtv", "complaint", "4301", 1, 1, 120.0)]
    change(platform, record, acceptance_types=["apply_dtv"])  # saved again unchanged: still once
    kept = facts()
    assert sum(row[5] for row in kept) == 1
    stats.rebuild(DAY, DAY)
    assert facts() == kept


def test_a_transferred_call_counts_once_whichever_leg_its_records_name(platform: Platform) -> None:
    first = call(at(10, 0), "k2", talk_s=60.0)
    leg = call(at(10, 3), "k2", queue="billing", talk_s=30.0, agent="1002")
    on_leg = file(platform, leg, at(10, 3), complaint_types=["complaint"])
    assert facts() == [(DAY, "complaint_types", "complaint", "complaint", "4301", 1, 1, 60.0)]  # the call, not the leg
    file(platform, first, at(10, 0), consultation_types=["tariffs"])  # the first agent's record, saved later
    assert facts() == [(DAY, "consultation_types", "tariffs", "complaint", "4301", 1, 1, 60.0)]
    change(platform, on_leg, complaint_types=["suggestion"])  # the leg's record saved last wins
    assert facts() == [(DAY, "complaint_types", "suggestion", "complaint", "4301", 1, 1, 60.0)]
    kept = facts()
    stats.rebuild(DAY, DAY)
    assert facts() == kept


def test_a_deleted_record_an_open_call_and_an_outbound_one_count_nothing(platform: Platform) -> None:
    started = at(11, 0)
    call_id = call(started, "k3")
    record = file(platform, call_id, started, complaint_types=["fault_stb"])
    platform.records.delete(SYSTEM, "contact_record", record)
    assert facts() == []
    with session():
        still_open = int(Call.insert(uniqueid="k4", started_at=started, switch="simulated").execute())
    file(platform, still_open, started, complaint_types=["fault_stb"])
    outbound = call(started, "k5", direction="outbound")
    file(platform, outbound, started, complaint_types=["fault_stb"])
    assert facts() == []
    stats.rebuild(DAY, DAY)
    assert facts() == []
    with session():
        assert StatCallCategoryOf.select().count() == 0


def test_the_calls_by_category_report_and_its_drill_down(platform: Platform) -> None:
    calls = [call(at(12, n), f"r{n}", city="4301" if n < 3 else "4302", routed="answered" if n else "abandoned",
                  talk_s=100.0 if n else 0.0) for n in range(4)]
    for n, call_id in enumerate(calls):
        file(platform, call_id, at(12, n), complaint_types=["fault_picture" if n < 2 else "fault_stb"])
    file(platform, call(at(12, 30), "r9"), at(12, 30), acceptance_types=["apply_dtv"])
    result = run_report(platform.metadata, SYSTEM, "calls_by_category", PERIOD)  # complaint types by default
    assert [(r["day"], r["category"], r["calls"], r["answered"], r["aht_s"]) for r in result.rows] == [
        (DAY.isoformat(), "fault_picture", 2, 1, 100.0), (DAY.isoformat(), "fault_stb", 2, 2, 100.0)]
    everything = run_report(platform.metadata, SYSTEM, "calls_by_category",
                            {**PERIOD, "category_type": ["complaint_types", "acceptance_types"]})
    assert everything.totals["calls"] == 5
    city = Actor("sup_cs", roles=("supervisor",), regions=("4302",)).bind(platform.metadata)
    assert [(r["category"], r["calls"]) for r in run_report(platform.metadata, city, "calls_by_category",
                                                            PERIOD).rows] == [("fault_stb", 1)]
    behind = drill_calls(platform.metadata, SYSTEM, "calls_by_category", PERIOD, {"day": DAY.isoformat(),
                                                                                   "category": "fault_picture"})
    assert [r["id"] for r in behind] == calls[:2]
    nothing = run_report(platform.metadata, SYSTEM, "calls_by_category", {**PERIOD, "category": ["no_such"]})
    assert nothing.rows == [] and "reports.nothing" in nothing.messages
