"""Service figures on the work order and the statistics query screens that read them: the response and
resolution minutes counted by the order's SLA policy (resolution = the technician on site), on time or not
against the target, wall-clock minutes for an order no policy covers; then the on-time rate, mean response
time and mean resolution time query screens group them by department, city and type."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import helpline.services.workflow.engine as engine_module
from helpline.security.actor import Actor
from helpline.services.platform import Platform
from helpline.services.queries import run_query

POLICY = """\
# The fault hotline's promise for the figures test: answered in 10 minutes, on site in 60, round the clock.
kind: sla
name: fault_figures
workflow: fault
order: -1
calendar: round_the_clock
response: 10m
resolution: 60m
resolved_in: [on_site]
"""
T0 = datetime(2026, 3, 3, 1, 0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clocked(platform: Platform, demo_metadata: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Platform, Clock]:
    (demo_metadata / "slas").mkdir(exist_ok=True)
    (demo_metadata / "slas" / "fault_figures.yaml").write_text(POLICY, encoding="utf-8")
    report = platform.store.sync_files(demo_metadata)
    assert not report.problems, [p.format() for p in report.problems]
    clock = Clock()
    monkeypatch.setattr(engine_module, "utcnow", clock)
    return platform, clock


def walk(p: Platform, clock: Clock, kind: str, city: str, steps: list[tuple[int, str, dict[str, Any]]]) -> int:
    """Create an order at T0 and take ``(minute, action, values)`` steps as the system."""
    system = Actor.system()
    clock.now = T0
    oid = int(p.records.create(system, "work_order", {"type": kind, "city": city, "title": "t"}).id)
    for minute, action, values in steps:
        clock.now = T0 + timedelta(minutes=minute)
        p.workflows.take(system, "work_order", oid, action, values, comment="done")
    return oid


def figures(p: Platform, oid: int) -> tuple[Any, Any, Any]:
    v = p.records.get(Actor.system(), "work_order", oid).values
    return v["response_minutes"], v["resolution_minutes"], v["on_time_pct"]


def test_figures_are_stamped_and_the_query_screens_group_them(clocked: tuple[Platform, Clock]) -> None:
    p, clock = clocked
    done = [(45, "reply", {"reply": "fixed"}), (50, "check", {}), (55, "close", {"satisfaction": "satisfied"})]
    quick = walk(p, clock, "fault", "changsha", [(4, "dispatch", {}), (40, "arrive", {}), *done])
    late = walk(p, clock, "fault", "yiyang", [(12, "dispatch", {}), (30, "arrive", {}),
                                              (75, "reply", {"reply": "x"}), (80, "check", {}),
                                              (90, "close", {"satisfaction": "neutral"})])
    open_one = walk(p, clock, "fault", "changsha", [(8, "dispatch", {})])
    advice = walk(p, clock, "consultation", "changsha", [(30, "forward", {"department": "finance"}),
                                                         (40, "reply", {"reply": "y"}),
                                                         (50, "close", {})])
    assert figures(p, quick) == (Decimal("4.0"), Decimal("40.0"), 100)
    assert figures(p, late) == (Decimal("12.0"), Decimal("30.0"), 100)  # on site at 30: within 60
    assert figures(p, open_one) == (Decimal("8.0"), None, None)  # not resolved yet
    assert figures(p, advice) == (Decimal("30.0"), Decimal("50.0"), None)  # no policy: wall clock, no target

    slow = walk(p, clock, "fault", "yiyang", [(9, "dispatch", {}), (70, "arrive", {}),
                                              (80, "reply", {"reply": "z"}), (85, "check", {}),
                                              (95, "close", {"satisfaction": "dissatisfied"})])
    assert figures(p, slow) == (Decimal("9.0"), Decimal("70.0"), 0)  # on site after 70 minutes: late

    boss = Actor("super1", roles=("supervisor",), regions=("changsha", "yiyang")).bind(p.metadata)
    on_time = run_query(p, boss, "work_order_on_time", {}).pivot
    assert on_time is not None
    assert float(on_time.cell("maintenance", "fault")) == pytest.approx(200 / 3)  # 2 of 3 closed faults
    response = run_query(p, boss, "work_order_response_time", {}).pivot
    assert response is not None
    assert float(response.cell("changsha", "fault")) == pytest.approx((4 + 8) / 2)
    assert float(response.cell("yiyang", "fault")) == pytest.approx((12 + 9) / 2)
    assert float(response.cell("changsha", "consultation")) == pytest.approx(30)
    resolution = run_query(p, boss, "work_order_resolution_time", {}).pivot
    assert resolution is not None
    assert float(resolution.cell("maintenance", "yiyang")) == pytest.approx((30 + 70) / 2)
    assert float(resolution.cell("finance", "changsha")) == pytest.approx(50)
