"""Claiming numbers to dial: call windows refused, retry intervals per outcome, do-not-call at dial time, a restart
mid-campaign (no number twice in one window), call-backs, pause and resume."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from campaign_helpers import MONDAY_10, Clock, actor, csv_list, service, start_platform

from helpline.data.campaigns import CampaignAttempt, CampaignNumber
from helpline.data.database import session
from helpline.services.campaigns import CampaignError, CampaignService
from helpline.services.platform import Platform

ROWS = [("13900000001", "A", "south"), ("13900000002", "B", "south"), ("13900000003", "C", "north"),
        ("13900000004", "D", "south"), ("13900000005", "E", "")]


def _started(db_url: str, metadata: Path, tmp_path: Path, clock: Clock) -> tuple[Platform, CampaignService, int]:
    platform = start_platform(db_url, metadata)
    svc = service(platform, clock)
    run_id, _ = svc.start(actor(platform, "sup1", "supervisor"), "test_calls", csv_list(tmp_path / "l.csv", ROWS))
    return platform, svc, run_id


def _number(phone: str) -> CampaignNumber:
    with session():
        return CampaignNumber.get(CampaignNumber.phone == phone)


def test_outside_the_windows_nothing_is_dialled(db_url: str, demo_metadata: Path, tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 7, 11, 0))  # Monday 19:00 in Shanghai: after 18:00
    _, svc, run_id = _started(db_url, demo_metadata, tmp_path, clock)
    assert svc.claim(run_id, 10) == []
    # south waits for Tuesday 09:00, north (its own Saturday window) for Saturday 10:00 (UTC below)
    assert _number("13900000001").next_at == datetime(2026, 12, 8, 1, 0)
    assert _number("13900000003").next_at == datetime(2026, 12, 12, 2, 0)
    clock.at = datetime(2026, 12, 8, 1, 0)
    assert sorted(c.phone for c in svc.claim(run_id, 10)) == ["13900000001", "13900000002", "13900000004",
                                                               "13900000005"]
    # a claim that waited (a preview) past the window's end is refused and given back, not counted
    clock.at = datetime(2026, 12, 12, 2, 30)
    (north,) = svc.claim(run_id, 10)
    assert north.phone == "13900000003" and north.window == "2026-12-12/1"
    clock.at = datetime(2026, 12, 12, 4, 0)  # Saturday 12:00: the north window closed
    with pytest.raises(CampaignError, match="outside the campaign's call windows"):
        svc.check_dial(north)
    after = _number("13900000003")
    assert (after.status, after.attempts, after.next_at) == ("ready", 0, datetime(2026, 12, 19, 2, 0))
    with session():
        assert not CampaignAttempt.select().where(CampaignAttempt.id == north.attempt_id).exists()


def test_retry_interval_per_outcome_and_maximum_attempts(db_url: str, demo_metadata: Path, tmp_path: Path) -> None:
    clock = Clock()
    _, svc, run_id = _started(db_url, demo_metadata, tmp_path, clock)
    claims = {c.phone: c for c in svc.claim(run_id, 5, agent="1001")}
    assert "13900000003" not in claims  # north: Saturdays only
    outcomes = {"13900000001": ("busy", 10), "13900000002": ("no_answer", 60), "13900000004": ("failed", 30)}
    for phone, (outcome, _) in outcomes.items():
        assert svc.record_outcome(claims[phone].attempt_id, outcome, agent="1001") == "ready"
    assert svc.record_outcome(claims["13900000005"].attempt_id, "machine") == "ready"
    for phone, (_, minutes) in outcomes.items():
        assert _number(phone).next_at == MONDAY_10 + timedelta(minutes=minutes), phone
    assert _number("13900000005").next_at == MONDAY_10 + timedelta(hours=4)
    assert svc.claim(run_id, 4) == []  # nothing due yet
    clock.at = MONDAY_10 + timedelta(minutes=10)
    (again,) = svc.claim(run_id, 4)
    assert again.phone == "13900000001"
    assert svc.record_outcome(again.attempt_id, "busy") == "gave_up"  # max_attempts 2
    clock.at = MONDAY_10 + timedelta(hours=1)
    (second,) = [c for c in svc.claim(run_id, 4) if c.phone == "13900000002"]
    assert svc.record_outcome(second.attempt_id, "answered") == "done"
    assert svc.record_outcome(second.attempt_id, "busy") == "done"  # an ended attempt keeps its outcome
    with pytest.raises(CampaignError, match="unknown outcome 'hung'"):
        svc.record_outcome(second.attempt_id, "hung")
    figures = svc.monitor(run_id)
    assert figures["statuses"] == {"gave_up": 1, "done": 1, "ready": 2, "dialling": 1}  # 4 retried at +30 min
    assert figures["outcomes"]["busy"] == 2 and figures["contact_rate"] == pytest.approx(1 / 6)
    assert figures["agents"] == ["1001"] and figures["progress"] == 0.4


def test_do_not_call_checked_at_dial_time(db_url: str, demo_metadata: Path, tmp_path: Path) -> None:
    clock = Clock()
    platform, svc, run_id = _started(db_url, demo_metadata, tmp_path, clock)
    sup = actor(platform, "sup1", "supervisor")
    (first,) = svc.claim(run_id, 1)
    svc.add_dnc(sup, [first.phone, "+86 13900000002"])  # one already claimed, one still waiting
    with pytest.raises(CampaignError, match="is on the do-not-call list"):
        svc.check_dial(first)
    assert sorted(c.phone for c in svc.claim(run_id, 10)) == ["13900000004", "13900000005"]
    assert _number(first.phone).status == "dnc" and _number("13900000002").status == "dnc"
    path = tmp_path / "dnc.csv"
    path.write_text("备注,手机号码\nx,139 0000 0005\ny,abc\n", encoding="utf-8")
    assert svc.import_dnc(sup, path) == {"added": 1, "listed": 0, "invalid": 1}


def test_restart_mid_campaign_dials_no_number_twice_in_a_window(db_url: str, demo_metadata: Path,
                                                                 tmp_path: Path) -> None:
    clock = Clock()
    platform, svc, run_id = _started(db_url, demo_metadata, tmp_path, clock)
    in_flight = svc.claim(run_id, 2, agent="1001")
    # the process ends here; a new one starts and recovers
    restarted = CampaignService(platform, now=clock)
    clock.at = MONDAY_10 + timedelta(minutes=5)
    assert restarted.recover() == 2
    again = restarted.claim(run_id, 10)
    assert {c.phone for c in again}.isdisjoint({c.phone for c in in_flight}) and len(again) == 2
    for c in in_flight:
        n = _number(c.phone)
        assert (n.status, n.attempts, n.next_at) == ("ready", 0, datetime(2026, 12, 8, 1, 0))
    with session():
        outcomes = sorted(a.outcome for a in CampaignAttempt.select().where(CampaignAttempt.run == run_id))
    assert outcomes == ["", "", "interrupted", "interrupted"]
    # even a number put back to 'ready' at once is not dialled again in that window
    with session():
        CampaignNumber.update(next_at=None).where(CampaignNumber.phone == in_flight[0].phone).execute()
    assert restarted.claim(run_id, 10) == []
    clock.at = datetime(2026, 12, 8, 1, 0)
    assert sorted(c.phone for c in restarted.claim(run_id, 10)) == sorted(c.phone for c in in_flight)


def test_callbacks_personal_and_limits(db_url: str, demo_metadata: Path, tmp_path: Path) -> None:
    clock = Clock()
    platform, svc, run_id = _started(db_url, demo_metadata, tmp_path, clock)
    agent1, agent2 = actor(platform, "agent1", "agent"), actor(platform, "agent2", "agent")
    (c,) = svc.claim(run_id, 1, agent="agent1")
    svc.record_outcome(c.attempt_id, "answered")
    at = MONDAY_10 + timedelta(hours=2)
    with pytest.raises(CampaignError, match="allows no shared call-backs"):
        svc.book_callback(agent1, c.number_id, at, personal=False)
    with pytest.raises(CampaignError, match="within 3 days"):
        svc.book_callback(agent1, c.number_id, MONDAY_10 + timedelta(days=4), personal=True)
    svc.book_callback(agent1, c.number_id, at, personal=True)
    clock.at = at
    assert c.phone not in {x.phone for x in svc.claim(run_id, 10, agent=agent2.username)}
    (back,) = svc.claim(run_id, 10, agent="agent1")
    assert back.phone == c.phone and back.callback_user == "agent1"


def test_pause_and_resume(db_url: str, demo_metadata: Path, tmp_path: Path) -> None:
    clock = Clock()
    platform, svc, run_id = _started(db_url, demo_metadata, tmp_path, clock)
    sup = actor(platform, "sup1", "supervisor")
    assert svc.pause(sup, run_id)
    assert svc.claim(run_id, 5) == []
    assert not svc.resume(None, run_id, reason="link")  # the system does not lift a supervisor's pause
    assert svc.resume(sup, run_id) and len(svc.claim(run_id, 5)) == 4
