"""The monthly agent scorecard: indicators from calls, QA evaluations and adherence, weighted by the metadata,
ranked overall and per team, exported to Excel; weights that do not add up to 100 are refused (HL-E430)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from helpline.data.calls import Call
from helpline.data.database import session
from helpline.metadata.loader import load_directory
from helpline.security.actor import Actor, PermissionDenied
from helpline.services.agents import ensure_demo_agents
from helpline.services.platform import Platform
from telephony.workforce import performance


def test_monthly_scorecard_ranks_and_exports(platform: Platform) -> None:
    ensure_demo_agents()
    system = Actor.system()
    boss = Actor("supervisor1", roles=("supervisor",)).bind(platform.metadata)
    t0 = datetime(2026, 11, 3, 9, 0)
    with session():
        for i in range(600):  # agent1: 600 calls of 360 s
            Call.insert(uniqueid="p", agent="1001", routed="answered", talk_s=360.0,
                        started_at=t0 + timedelta(minutes=i)).execute()
        for i in range(1200):  # agent2: 1,200 calls of 240 s
            Call.insert(uniqueid="p", agent="1002", routed="answered", talk_s=240.0,
                        started_at=t0 + timedelta(minutes=i)).execute()
        Call.insert(uniqueid="p", agent="1001", routed="answered", talk_s=10.0,
                    started_at=datetime(2026, 12, 1, 9, 0)).execute()  # next month: not counted
    for user, total in (("agent1", "72"), ("agent1", "90"), ("agent2", "95")):
        platform.records.create(system, "qa_evaluation", {"call_id": 1, "agent": user, "scorecard": "call_quality",
                                                          "total": Decimal(total), "evaluated_at": t0})
    platform.records.create(system, "qa_evaluation", {"call_id": 1, "agent": "agent2", "scorecard": "call_quality",
                                                      "total": Decimal("10"), "evaluated_at": t0,
                                                      "calibration": "cal"})  # calibration: not counted
    for no, user, team in (("E1", "agent1", "maintenance"), ("E2", "agent2", "maintenance")):
        platform.records.create(system, "employee", {"employee_no": no, "name": user, "username": user,
                                                     "team": team})
    with pytest.raises(PermissionDenied):
        performance.monthly(platform, Actor("agent1", roles=("agent",)).bind(platform.metadata), date(2026, 11, 1))
    rows = performance.monthly(platform, boss, date(2026, 11, 15))
    by = {r["username"]: r for r in rows}
    a1, a2 = by["agent1"], by["agent2"]
    assert (a1["handled"], a1["aht_s"], a1["qa"], a1["adherence"]) == (600, 360.0, 81.0, None)
    # weights 30 handled / 20 aht / 30 qa (adherence left out: no shifts) of targets 1200 / 300 s / 90
    assert a1["score"] == pytest.approx(100 * (30 * 0.5 + 20 * 300 / 360 + 30 * 81 / 90) / 80, abs=0.05)
    assert (a2["handled"], a2["qa"], a2["score"]) == (1200, 95.0, 100.0)
    assert [r["username"] for r in rows][:2] == ["agent2", "agent1"]
    assert (a2["rank"], a2["team_rank"], a1["team_rank"], a1["team"]) == (1, 1, 2, "maintenance")
    assert by["supervisor1"]["handled"] == 0 and by["supervisor1"]["team"] == "—"
    book = load_workbook(io.BytesIO(performance.workbook(rows, date(2026, 11, 1))))
    sheet = book.active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == list(performance.COLUMNS)
    assert values[1][3] == "agent2" and values[1][-1] == 100.0


def test_weights_that_do_not_add_up_are_refused(write_metadata, tmp_path: Path) -> None:
    root = write_metadata({"performances/bad.yaml": """
        kind: performance
        name: bad
        weights: {handled: 30, aht: 20, adherence: 20, qa: 20}
        """})
    found = [(p.id, p.location) for p in load_directory(root).problems]
    assert found == [("HL-E430", "performances/bad.yaml:3:10")]
