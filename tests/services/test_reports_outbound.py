"""The shipped ``outbound_results`` and ``callback_results`` reports (issue 20 item 3): their totals equal the raw
rows (campaign dials, call-back tasks), per campaign and per queue, within the period and the user's row scope."""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import fn

from helpline.data.base import centre_day_of, utcnow
from helpline.data.callbacks import CallbackTask
from helpline.data.campaigns import CampaignAttempt, CampaignNumber, CampaignRun
from helpline.data.database import session
from helpline.security.actor import Actor
from helpline.services.platform import Platform
from helpline.services.reports import run_report

SYSTEM = Actor.system()
PERIOD = {"period": ["2026-12-01", "2026-12-02"]}


def at(day: int, hh: int) -> datetime:
    return datetime(2026, 12, day, hh)


def test_outbound_results_equal_the_dials(platform: Platform) -> None:
    outcomes = ["answered", "answered", "busy", "no_answer", "machine", "failed", "answered", ""]
    with session():
        runs = {name: int(CampaignRun.insert(campaign=name).execute()) for name in ("renewal", "survey")}
        numbers = [int(CampaignNumber.insert(run=runs["renewal"], phone=f"1380000{i:04d}", region=region).execute())
                   for i, region in enumerate(("4301", "4302"))]
        for i, outcome in enumerate(outcomes):
            run = runs["renewal"] if i % 3 else runs["survey"]
            CampaignAttempt.insert(run=run, number=numbers[i % 2], phone="x", outcome=outcome,
                                   started_at=at(1 + i % 2, 10)).execute()
        CampaignAttempt.insert(run=runs["renewal"], number=numbers[0], phone="x", outcome="answered",
                               started_at=at(3, 10)).execute()  # outside the period
    result = run_report(platform.metadata, SYSTEM, "outbound_results", PERIOD)
    with session():
        in_period = (CampaignAttempt.started_at >= at(1, 0)) & (CampaignAttempt.started_at < at(3, 0))
        raw = dict(CampaignAttempt.select(CampaignAttempt.outcome, fn.COUNT(CampaignAttempt.id))
                   .where(in_period).group_by(CampaignAttempt.outcome).tuples())
    assert result.totals["attempts"] == sum(raw.values()) == 8
    assert result.totals["contacts"] == raw["answered"] == 3
    assert (result.totals["busy"], result.totals["no_answer"], result.totals["machine"],
            result.totals["failed"]) == (raw["busy"], raw["no_answer"], raw["machine"], raw["failed"])
    assert result.totals["contact_rate"] == round(3 / 7, 4)  # the one still dialling is not finished
    per = {(r["day"], r["campaign"]): r["attempts"] for r in result.rows}
    assert sum(per.values()) == 8 and set(c for _, c in per) == {"renewal", "survey"}
    only = run_report(platform.metadata, SYSTEM, "outbound_results", {**PERIOD, "campaign": ["survey"]})
    assert only.totals["attempts"] == sum(1 for i in range(8) if i % 3 == 0)
    city = Actor(username="sup", roles=("supervisor",), regions=("4301",)).bind(platform.metadata)
    assert run_report(platform.metadata, city, "outbound_results", PERIOD).totals["attempts"] == 4


def test_callback_results_equal_the_tasks(platform: Platform) -> None:
    now = utcnow().replace(microsecond=0)
    rows = [  # (status, outcome, queue, closed after created (h), due after created (h), attempts)
        ("closed", "reached", "general", 1, 2, 1), ("closed", "reached", "general", 3, 2, 2),
        ("closed", "wrong_number", "fault", 1, 2, 1), ("closed", "gave_up", "general", 5, 2, 3),
        ("open", None, "fault", None, -1, 1), ("open", None, "general", None, 48, 0)]
    created = now - timedelta(minutes=1)
    day = centre_day_of(created).isoformat()  # the tasks' day, the centre's (in its first minute, yesterday)
    with session():
        for status, outcome, queue, closed, due, attempts in rows:
            CallbackTask.insert(created_at=created, number="13800000000", queue=queue, status=status, outcome=outcome,
                                closed_at=created + timedelta(hours=closed) if closed is not None else None,
                                due_at=created + timedelta(hours=due), attempts=attempts, city="4301").execute()
        CallbackTask.insert(created_at=created - timedelta(days=3), number="1", queue="general",
                            due_at=created).execute()  # outside the period
    period = {"period": [day, day]}
    result = run_report(platform.metadata, SYSTEM, "callback_results", period)
    t = result.totals
    assert t["created"] == len(rows)
    assert (t["reached"], t["reached_on_time"], t["wrong_number"], t["gave_up"]) == (2, 1, 1, 1)
    assert (t["open"], t["overdue"], t["callback_attempts"]) == (2, 1, sum(r[5] for r in rows))
    assert (t["reach_rate"], t["on_time_rate"]) == (round(2 / 6, 4), 0.5)
    assert {r["queue"]: r["created"] for r in result.rows} == {"general": 4, "fault": 2}
    fault = run_report(platform.metadata, SYSTEM, "callback_results", {**period, "queue": ["fault"]})
    assert (fault.totals["created"], fault.totals["overdue"]) == (2, 1)
    elsewhere = Actor(username="sup", roles=("supervisor",), regions=("4302",)).bind(platform.metadata)
    nothing = run_report(platform.metadata, elsewhere, "callback_results", period)
    assert nothing.rows == [] and nothing.messages == ["reports.nothing"]
