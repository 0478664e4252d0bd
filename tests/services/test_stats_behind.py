"""Write-behind of the interval facts (issue 20: < 1 ms a fact event): with the router journal running, a closed
call is only marked pending and the journal's batch counts it with the agent events, one aggregated upsert per
fact table; the facts stay exact (once, legs apart, duplicates skipped), survive a crash between the close and the
batch, and equal what ``stats rebuild`` counts. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from helpline.data.agents import AgentEvent
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.data.stats import StatAgent, StatAgentDay, StatCall, StatCallDay, StatCallQueue, StatPending
from helpline.services import stats, stats_behind
from helpline.services.agents import RouterJournal
from helpline.services.calls import CallService
from helpline.services.platform import Platform

DAY = date(2026, 12, 2)
TABLES = (StatCall, StatCallQueue, StatCallDay, StatAgent, StatAgentDay)


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 12, 2, hh, mm, ss)


def call(started: datetime, uniqueid: str = "", **close: Any) -> int:
    with session():
        call_id = int(Call.insert(uniqueid=uniqueid, started_at=started, switch="simulated").execute())
    CallService().close(call_id, **close)
    return call_id


def facts(model: Any) -> list[dict[str, Any]]:
    with session():
        found = [{k: round(v, 3) if isinstance(v, float) else v for k, v in row.items() if k != "id"}
                 for row in model.select().dicts()]
    return sorted(found, key=repr)


def all_facts(*leave_out: str) -> list[list[dict[str, Any]]]:
    return [[{k: v for k, v in row.items() if k not in leave_out} for row in facts(m)] for m in TABLES]


def pending() -> int:
    with session():
        return int(StatPending.select().count())


def traffic(journal: RouterJournal) -> None:
    """A morning's mix: a transferred call with two legs, abandons, self-service, agents' spells, a duplicate."""
    call(at(9, 5), "t1", queue="billing", tier="gold", routed="answered", wait_s=5.0, talk_s=60.0, agent="1001",
         result="transfer")
    call(at(9, 7), "t1", queue="tech", tier="gold", routed="answered", wait_s=40.0, talk_s=30.0, agent="1002")
    call(at(9, 20), "t1", queue="tech", tier="gold", routed="answered", wait_s=1.0, talk_s=10.0, agent="1003")
    call(at(9, 21), "a1", queue="billing", tier="ordinary", routed="abandoned", wait_s=3.0, result="hangup")
    call(at(9, 22), "a2", result="hangup")
    call(at(9, 44, 59), "s1", result="completed")
    spell = {"agent": "1001", "at": at(9, 40), "what": "state", "old": "talking", "new": "wrap_up",
             "duration_s": 1000.0}
    journal.agent_event(**spell)
    journal.agent_event(**spell)  # twice in one batch
    journal.agent_event(agent="1002", at=at(9, 50), what="status", old="ready", new="not_ready", duration_s=300.0)
    journal.agent_event(agent="1002", at=at(9, 51), what="alert", old="", new="")  # no time


@pytest.fixture(autouse=True)
def thresholds() -> Iterator[None]:
    stats.configure({"gold": 20.0, "ordinary": 30.0}, short_abandon_s=5.0)
    yield
    stats.configure({}, short_abandon_s=5.0)


def test_the_journal_counts_closed_calls_in_its_batches_exactly_once(platform: Platform) -> None:
    journal = RouterJournal(linger_s=0.05).start()
    try:
        traffic(journal)
        journal.flush()
        kept = all_facts()
        assert pending() == 0
        # the same once more after the batch: a duplicate agent event and a second close add nothing
        journal.agent_event(agent="1001", at=at(9, 40), what="state", old="talking", new="wrap_up", duration_s=1000.0)
        with session():
            first = int(Call.select(Call.id).where(Call.uniqueid == "a1").scalar())
        assert CallService().close_open(call_id=first, result="interrupted") == 0
        journal.flush()
        assert all_facts() == kept
    finally:
        journal.stop()
    calls = facts(StatCallQueue)
    assert sum(r["calls"] for r in calls) == 4 and sum(r["offered"] for r in calls) == 2
    assert (sum(r["transfers"] for r in calls), sum(r["legs"] for r in calls)) == (1, 2)
    assert sum(r["talk_s"] for r in calls) == 100.0
    assert [(r["agent"], r["talking_s"], r["talking_n"]) for r in facts(StatAgentDay) if r["talking_s"]] == [
        ("1001", 1000.0, 1)]
    stats.rebuild(DAY, DAY)
    assert all_facts() == kept  # what the write-behind kept is what a rebuild counts


def test_the_write_behind_and_the_close_transaction_count_the_same(platform: Platform) -> None:
    inline = RouterJournal()  # not started: each call counted in its closing transaction
    traffic(inline)
    inline.flush()
    counted_inline = all_facts("ivr_s")  # (ended "now": the two runs' IVR seconds differ)
    with session():
        for model in (*TABLES, Call, AgentEvent):
            model.delete().execute()
    behind = RouterJournal(linger_s=0.05).start()
    try:
        traffic(behind)
        behind.flush()
    finally:
        behind.stop()
    assert all_facts("ivr_s") == counted_inline


def test_one_batch_is_one_upsert_per_fact_table_whatever_its_size(platform: Platform) -> None:
    stats_behind.register(_no_journal)  # closes only mark their calls pending
    try:
        for n in range(30):
            call(at(10, n), f"b{n}", queue="billing", tier="gold", routed="answered", wait_s=float(n), agent="1001")
    finally:
        stats_behind.unregister(_no_journal)
    events = [{"agent": str(1001 + n % 5), "at": at(10, n), "what": "state", "old": "talking", "new": "wrap_up",
               "duration_s": 120.0} for n in range(40)]
    with session():
        statements, taken = stats_behind.batch_statements(events, calls=True)
        stats_behind.run_batch(statements)
    assert taken == 30
    assert len(statements) == 5  # hl_stat_call, _queue, _day, hl_stat_agent_time, _day: 70 events
    assert sum(r["answered"] for r in facts(StatCallDay)) == 30
    assert sum(r["talking_n"] for r in facts(StatAgentDay)) == 40


def _no_journal() -> None:
    """A journal that never runs its batch: the process crashes before it does."""


def test_calls_left_pending_by_a_crash_are_counted_by_the_next_journal_once(platform: Platform) -> None:
    stats_behind.register(_no_journal)
    try:
        call(at(11, 0), "c1", queue="billing", tier="gold", routed="answered", wait_s=2.0, agent="1001")
        call(at(11, 1), "c2", queue="billing", tier="gold", routed="abandoned", wait_s=9.0)
    finally:
        stats_behind.unregister(_no_journal)
    assert pending() == 2 and facts(StatCallQueue) == []  # closed, not counted yet: the process dies here
    for _ in range(2):  # the next process's journal counts them at its start; a third adds nothing
        journal = RouterJournal(linger_s=0.05).start()
        journal.flush()
        journal.stop()
    assert pending() == 0
    rows = facts(StatCallQueue)
    assert (sum(r["answered"] for r in rows), sum(r["abandoned_queue"] for r in rows)) == (1, 1)


def test_a_rebuild_takes_the_pending_calls_it_counts(platform: Platform) -> None:
    stats_behind.register(_no_journal)
    try:
        call(at(12, 0), "r1", queue="billing", tier="gold", routed="answered", wait_s=2.0, agent="1001")
    finally:
        stats_behind.unregister(_no_journal)
    stats.rebuild(DAY, DAY)
    assert pending() == 0
    journal = RouterJournal(linger_s=0.05).start()
    journal.flush()
    journal.stop()
    assert sum(r["answered"] for r in facts(StatCallDay)) == 1  # counted by the rebuild, not again


def test_a_running_journal_gathers_what_arrives_within_its_window_into_one_batch(platform: Platform) -> None:
    journal = RouterJournal(linger_s=1.0).start()  # its start's own batch (what a crash left) waits for more
    try:
        stats_behind.TIMES.reset()
        for n in range(3):
            journal.agent_event(agent="1001", at=at(13, n), what="state", old="idle", new="ringing", duration_s=30.0)
        call(at(13, 0), "w1", queue="billing", tier="gold", routed="answered", wait_s=2.0, agent="1001")
        journal.flush()  # ends the window at once
    finally:
        journal.stop()
    assert (stats_behind.TIMES.batches, stats_behind.TIMES.events, stats_behind.TIMES.calls) == (1, 3, 1)
    assert sum(r["idle_n"] for r in facts(StatAgentDay)) == 3 and pending() == 0
