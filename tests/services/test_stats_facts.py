"""Interval facts kept as calls close and agents change state, and rebuilt from the raw records: the edges of
issue 20 (a call over two intervals, transfer/consult/conference once, IVR vs queue abandons, late and
duplicate agent events, a restart mid-interval, empty and too large ranges)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from helpline.cli import main as cli_main
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.stats import StatAgent, StatAgentDay, StatCall, StatCallDay, StatCallQueue
from helpline.services import stats
from helpline.services.agents import RouterJournal
from helpline.services.calls import CallService
from helpline.services.platform import Platform

DAY = date(2026, 12, 1)


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 12, 1, hh, mm, ss)


def call(started: datetime, uniqueid: str = "", **close: Any) -> int:
    """A call record opened at ``started`` and closed through the service (as the IVR does)."""
    with session():
        call_id = int(Call.insert(uniqueid=uniqueid, started_at=started, switch="simulated").execute())
    CallService().close(call_id, **close)
    return call_id


def facts(model: Any = StatCall) -> list[dict[str, Any]]:
    with session():
        found = [{k: round(v, 3) if isinstance(v, float) else v for k, v in row.items() if k != "id"}
                 for row in model.select().dicts()]
    return sorted(found, key=repr)


def total(name: str, model: Any = StatCall) -> float:
    return sum(row[name] for row in facts(model))


@pytest.fixture(autouse=True)
def thresholds() -> Any:
    stats.configure({"gold": 20.0, "ordinary": 30.0}, short_abandon_s=5.0)
    yield
    stats.configure({}, short_abandon_s=5.0)


def rebuilt_equals_kept() -> None:
    tables = (StatCall, StatCallQueue, StatCallDay, StatAgent, StatAgentDay)
    kept = [facts(m) for m in tables]
    stats.rebuild(DAY, DAY)
    assert [facts(m) for m in tables] == kept


def test_a_call_spanning_two_intervals_counts_once_where_it_started(platform: Platform) -> None:
    call(at(9, 14, 50), "u1", queue="billing", tier="gold", routed="answered", wait_s=15.0, talk_s=100.0,
         agent="1001", result="connected")
    rows = facts()
    assert len(rows) == 1 and rows[0]["interval"] == at(9, 0)
    assert (rows[0]["offered"], rows[0]["answered"], rows[0]["within"], rows[0]["talk_s"]) == (1, 1, 1, 100.0)
    assert facts(StatCallDay)[0]["answered"] == 1
    rebuilt_equals_kept()


def test_tier_thresholds_decide_within(platform: Platform) -> None:
    call(at(10, 1), tier="gold", queue="q", routed="answered", wait_s=25.0)
    call(at(10, 2), tier="ordinary", queue="q", routed="answered", wait_s=25.0)
    call(at(10, 3), tier="unknown", queue="q", routed="answered", wait_s=20.0)  # the default 20 s
    by_tier = {r["tier"]: r["within"] for r in facts()}
    assert by_tier == {"gold": 0, "ordinary": 1, "unknown": 1}


def test_a_transferred_call_is_offered_once_and_its_legs_shown_apart(platform: Platform) -> None:
    call(at(9, 5), "u7", queue="billing", tier="gold", routed="answered", wait_s=5.0, talk_s=60.0, agent="1001",
         result="transfer")
    call(at(9, 7), "u7", queue="tech", tier="gold", routed="answered", wait_s=40.0, talk_s=30.0, agent="1002",
         result="connected")
    call(at(9, 20), "u7", queue="tech", tier="gold", routed="answered", wait_s=1.0, talk_s=10.0, agent="1003",
         result="connected")
    assert (total("offered"), total("answered"), total("within")) == (1, 1, 1)
    assert (total("transfers"), total("legs"), total("talk_s")) == (1, 2, 100.0)
    rebuilt_equals_kept()


def test_consult_and_conference_are_agent_time_not_calls(platform: Platform) -> None:
    call(at(11, 0), "u9", queue="billing", tier="gold", routed="answered", wait_s=3.0, talk_s=200.0, agent="1001")
    journal = RouterJournal()
    journal.agent_event(agent="1002", at=at(11, 2), what="state", old="idle", new="talking", duration_s=600.0)
    journal.agent_event(agent="1002", at=at(11, 3), what="state", old="talking", new="idle", duration_s=60.0)
    journal.agent_event(agent="1001", at=at(11, 3), what="state", old="hold", new="talking", duration_s=60.0)
    journal.flush()
    assert (total("offered"), total("answered"), total("transfers")) == (1, 1, 0)
    talking = [r for r in facts(StatAgent) if r["talking_s"]]
    assert [(r["agent"], r["talking_s"], r["talking_n"]) for r in talking] == [("1002", 60.0, 1)]
    assert [(r["agent"], r["hold_s"], r["idle_s"]) for r in facts(StatAgent) if r["agent"] == "1001"] == [
        ("1001", 60.0, 0.0)]
    rebuilt_equals_kept()


def test_ivr_and_queue_abandons_apart_and_short_ones_counted(platform: Platform) -> None:
    call(at(12, 0), result="hangup", hangup_node="menu")
    call(at(12, 1), queue="q", tier="gold", routed="abandoned", wait_s=3.0, result="hangup")
    call(at(12, 2), queue="q", tier="gold", routed="abandoned", wait_s=50.0, result="hangup")
    call(at(12, 3), result="completed")
    assert (total("calls"), total("offered"), total("abandoned_ivr")) == (4, 2, 1)
    assert (total("abandoned_queue"), total("abandoned_short"), total("completed")) == (2, 1, 1)
    assert total("wait_abandoned_s") == 53.0
    rebuilt_equals_kept()


def test_a_record_closed_twice_counts_once(platform: Platform) -> None:
    call_id = call(at(13, 0), queue="q", routed="answered", wait_s=1.0)
    CallService().close(call_id, routed="answered", wait_s=1.0)
    assert CallService().close_open(call_id=call_id, result="interrupted") == 0
    assert total("answered") == 1


def test_records_closed_open_after_a_crash_are_counted(platform: Platform) -> None:
    with session():
        Call.insert(uniqueid="lost", started_at=at(14, 0)).execute()
    assert CallService().close_open(uniqueid="lost", result="interrupted") == 1
    assert total("abandoned_ivr") == 1


def test_agent_events_late_or_twice(platform: Platform) -> None:
    event = {"agent": "1001", "at": at(9, 40), "what": "status", "old": "ready", "new": "not_ready",
             "duration_s": 600.0}
    journal = RouterJournal()
    journal.agent_event(**event)
    journal.flush()
    journal.agent_event(**event)  # the same event again (a retried write)
    journal.agent_event(**{**event, "at": at(8, 10), "duration_s": 1200.0})  # late: an earlier spell
    journal.flush()
    rows = {r["interval"]: (r["ready_s"], r["ready_n"]) for r in facts(StatAgent)}
    assert rows == {at(9, 30): (600.0, 1), at(8, 0): (600.0, 1), at(7, 45): (600.0, 0)}
    assert facts(StatAgentDay)[0]["ready_s"] == 1800.0
    rebuilt_equals_kept()


def test_a_spell_over_a_boundary_is_split(platform: Platform) -> None:
    assert stats.spell_parts(at(10, 5), 600.0) == [(at(10, 0), 300.0), (at(9, 45), 300.0)]
    assert stats.spell_parts(at(10, 0), 900.0) == [(at(9, 45), 900.0)]
    assert stats.spell_parts(at(10, 0), 0.0) == []


def test_a_restart_mid_interval_keeps_adding_to_the_interval(platform: Platform) -> None:
    first = RouterJournal().start()
    first.agent_event(agent="1001", at=at(10, 5), what="state", old="talking", new="wrap_up", duration_s=120.0)
    first.stop()
    call(at(10, 2), queue="q", routed="answered", wait_s=2.0, agent="1001")
    from helpline.data.database import db
    db.close()  # the process ends; a new one opens the database again
    second = RouterJournal().start()
    second.agent_event(agent="1001", at=at(10, 9), what="state", old="talking", new="wrap_up", duration_s=60.0)
    second.stop()
    call(at(10, 12), queue="q", routed="answered", wait_s=2.0, agent="1001")
    talk = [r for r in facts(StatAgent) if r["talking_s"]]
    assert [(r["interval"], r["talking_s"], r["talking_n"]) for r in talk] == [(at(10, 0), 180.0, 2)]
    assert total("answered") == 2
    rebuilt_equals_kept()


def test_a_range_selecting_nothing_and_one_too_large(platform: Platform) -> None:
    assert stats.rebuild(date(2020, 1, 1), date(2020, 1, 2)) == {"calls": 0, "agent_events": 0}
    assert facts() == []
    with pytest.raises(ValueError, match="at most 400 days"):
        stats.rebuild(date(2020, 1, 1), date(2022, 1, 1))
    with pytest.raises(ValueError, match="before it starts"):
        stats.check_range(date(2020, 1, 2), date(2020, 1, 1))


def test_rebuild_recounts_what_was_lost(platform: Platform) -> None:
    call(at(9, 0), queue="q", tier="gold", routed="answered", wait_s=2.0, agent="1001")
    with session():
        StatCall.delete().execute()
        StatCallDay.delete().execute()
    stats.rebuild(DAY, DAY)
    assert total("answered") == 1 and total("answered", StatCallDay) == 1


def test_cli_rebuild_and_its_refusals(platform: Platform, db_url: str, demo_metadata: Any,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    call(at(9, 0), queue="q", routed="answered", wait_s=2.0)
    with session():
        StatCall.delete().execute()
    assert cli_main(["stats", "rebuild", "--from", "2026-12-01", "--to", "2026-12-01", "--db", db_url,
                     "--metadata", str(demo_metadata)]) == 0
    assert "1 call record(s)" in capsys.readouterr().out
    assert total("answered") == 1
    assert cli_main(["stats", "rebuild", "--from", "2020-01-01", "--to", "2022-01-01", "--db", db_url]) == 2
    assert "at most 400 days" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["stats", "rebuild", "--from", "yesterday"])
