"""Cluster mode (telephony.router.cluster) on PostgreSQL: replicas fed by one command log converge, whoever
writes; a lost or duplicated notification still converges; a call queued through one instance is offered to
an agent signed in on another and both see the same state; cluster mode refuses SQLite."""

from __future__ import annotations

import threading
import time

import psycopg2
import pytest
from cluster_helpers import SETTINGS, converged, replica, wait_for

from telephony.router import AppQueuePolicy, CallRequest, Offer
from telephony.router.cluster import Cluster, ClusterError, LogClock, cluster_on
from telephony.router.service import RouterService
from telephony.router.snapshot import replica_state


@pytest.mark.postgres
def test_two_replicas_converge_after_interleaved_writes_from_both(pg_url: str) -> None:
    a, _ = replica(pg_url, "a", agents=["1001", "1002", "1003"])
    b, _ = replica(pg_url, "b")
    try:
        assert set(b.router.agents) == {"1001", "1002", "1003"}  # b replayed a's bootstrap
        errors: list[BaseException] = []

        def agents() -> None:
            try:
                a.call("sign_in", "1002", ready=True, by="t")
                a.call("sign_in", "1003", ready=False, reason="lunch", by="t")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def calls() -> None:
            try:
                for i in range(1, 7):
                    b.enqueue(CallRequest(call_id=i, queue="billing"))
            except BaseException as exc:  # pragma: no cover
                errors.append(exc)

        a.call("sign_in", "1001", ready=True, by="t")  # the queue is staffed: every call joins
        threads = [threading.Thread(target=agents), threading.Thread(target=calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        offered = [c for c in b.router.waiting.values() if c.agent_id]
        assert len(offered) == 2  # 1001 and 1002 each got one, 1003 is not ready
        first = offered[0]
        assert b.call("answered", first.call_id) is True
        assert a.call("answered", first.call_id) is False  # already answered: every replica says so
        a.call("call_ended", first.call_id)
        converged(a, b)
        state = replica_state(a)
        assert len(state["waiting"]) == 5 and state["agents"]["1003"]["reason"] == "lunch"
    finally:
        a.stop()
        b.stop()


@pytest.mark.postgres
def test_a_lost_or_duplicated_notification_still_converges(pg_url: str) -> None:
    a, _ = replica(pg_url, "a", agents=["1001"], poll_s=0.1)
    b, _ = replica(pg_url, "b", poll_s=0.1)
    try:
        conn = psycopg2.connect(pg_url)
        conn.autocommit = True
        with conn.cursor() as cur:  # an entry whose NOTIFY never came
            cur.execute("INSERT INTO hl_router_log (at, instance, name, args) VALUES (clock_timestamp(), 'x', "
                        "'sign_in', '{\"args\": [\"1001\"], \"kwargs\": {\"ready\": true}}')")
        # only the poll can find it (waited for generously: a loaded machine)
        wait_for(lambda: a.router.agents["1001"].signed_in and b.router.agents["1001"].signed_in, 10.0)
        applied = a.cluster.applied if a.cluster else 0
        with conn.cursor() as cur:  # the same notification twice, and one naming an old entry
            for seq in (applied, applied, 1):
                cur.execute("SELECT pg_notify('hl_router', %s)", (str(seq),))
        a.enqueue(CallRequest(call_id=5, queue="billing"))
        time.sleep(0.15)
        converged(a, b)
        assert a.cluster is not None and a.cluster.applied_count == b.cluster.applied_count  # type: ignore[union-attr]
        assert a.router.agents["1001"].call_id == 5
        conn.close()
    finally:
        a.stop()
        b.stop()


@pytest.mark.postgres
def test_a_call_queued_on_b_is_offered_to_an_agent_signed_in_on_a(pg_url: str) -> None:
    a, a_events = replica(pg_url, "a", agents=["1001"])
    b, b_events = replica(pg_url, "b")
    try:
        a.call("sign_in", "1001", ready=True, by="desk on a")
        ticket = b.enqueue(CallRequest(call_id=42, queue="billing", tier="gold"))
        assert ticket.result == "queued"
        offer = ticket.next(timeout=10.0)  # b's FastAGI thread holding the caller gets the offer ...
        assert isinstance(offer, Offer) and offer.agent_id == "1001"
        # ... and a's desktop (its subscriber) sees the same offer, at the same router time
        wait_for(lambda: any(isinstance(e, Offer) for e in a_events), 10.0)
        mine = [e for e in a_events if isinstance(e, Offer)]
        assert [(e.call_id, e.agent_id, e.at) for e in mine] == [(42, "1001", offer.at)]
        assert [e for e in b_events if isinstance(e, Offer)] == mine
        ticket.ringing()
        a.call("answered", 42)  # the agent answers on its desktop
        assert ticket.answered() is False  # the switch's report after it: no second answer
        converged(a, b)
        assert replica_state(b)["agents"]["1001"]["state"] == "talking"
    finally:
        a.stop()
        b.stop()


def test_cluster_mode_refuses_sqlite_and_bad_values() -> None:
    service = RouterService(SETTINGS, AppQueuePolicy(), clock=LogClock())
    with pytest.raises(ClusterError, match="needs PostgreSQL"):
        Cluster(service, "sqlite:///var/helpline.db", "x")
    assert cluster_on("on") and not cluster_on("") and not cluster_on("off")
    with pytest.raises(ClusterError, match="must be on or off"):
        cluster_on("maybe")


@pytest.mark.postgres
def test_a_replica_joining_after_snapshots_and_compaction_matches_and_keeps_working(pg_url: str) -> None:
    a, _ = replica(pg_url, "a", agents=["1001", "1002"])
    lagging, _ = replica(pg_url, "lagging")
    c = None
    try:
        assert lagging.cluster is not None and a.cluster is not None
        lagging.cluster.stop()  # it hears nothing more until asked to catch up
        for n in ("1001", "1002"):
            a.call("sign_in", n, ready=True, by="t")
        for i in range(1, 5):
            a.enqueue(CallRequest(call_id=i, queue="billing", tier="gold" if i % 2 else "ordinary"))
        a.call("answered", 1)
        first = a.cluster.write_snapshot()
        a.call("call_ended", 1)  # wrap-up: a timer in the snapshot
        a.call("set_not_ready", "1002", "lunch", by="t")
        second = a.cluster.write_snapshot()
        a.call("no_answer", 2)  # after the last snapshot: replayed from the log
        assert first < second and a.cluster.compact() > 0
        conn = psycopg2.connect(pg_url)
        with conn.cursor() as cur:
            cur.execute("SELECT min(seq), (SELECT count(*) FROM hl_router_snapshot) FROM hl_router_log")
            assert cur.fetchone() == (first + 1, 2)
        conn.close()

        c, _ = replica(pg_url, "c")  # joins: the newest snapshot, then the entries after it
        assert c.cluster is not None and c.cluster.snapshot_seq == second
        converged(a, c)
        lagging.cluster.catch_up()  # its next entries were deleted: it loads the snapshot instead
        assert replica_state(lagging) == replica_state(a)
        c.call("set_ready", "1002", by="t")  # the loaded replica keeps working alike
        c.enqueue(CallRequest(call_id=9, queue="billing"))
        a.call("answered", 3)
        converged(a, c)
    finally:
        for s in (a, lagging, c):
            if s is not None:
                s.stop()


@pytest.mark.postgres
def test_two_replicas_started_at_once_load_the_agents_once_and_a_restart_ends_its_old_calls(pg_url: str) -> None:
    gate = threading.Barrier(2)
    started: dict[str, RouterService] = {}

    def start(name: str) -> None:
        gate.wait()
        started[name] = replica(pg_url, name, agents=["1001", "1002"])[0]

    threads = [threading.Thread(target=start, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a, b = started["a"], started["b"]
    again = None
    try:
        conn = psycopg2.connect(pg_url)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM hl_router_log WHERE name = 'add_agent'")
            assert cur.fetchone() == (2,)
        conn.close()
        a.call("sign_in", "1001", ready=False, reason="busy", by="t")
        assert a.enqueue(CallRequest(call_id=11, queue="billing")).result == "queued"
        assert b.enqueue(CallRequest(call_id=12, queue="billing")).result == "queued"
        a.stop()
        again, _ = replica(pg_url, "a")  # the same instance name restarted: its old call has no caller any more
        assert list(again.router.waiting) == [12]
        converged(again, b)
    finally:
        for s in (a, b, again):
            if s is not None:
                s.stop()


@pytest.mark.postgres
def test_a_routing_change_carries_the_routing_so_every_replica_applies_theconverged(pg_url: str) -> None:
    import yaml

    from helpline.config import ROOT

    a, _ = replica(pg_url, "a", agents=["1001"])
    b, _ = replica(pg_url, "b")
    try:
        assert a.cluster is not None and b.router.settings.offer_timeout_s == 15
        routing = yaml.safe_load((ROOT / "metadata" / "routings" / "main.yaml").read_text(encoding="utf-8"))
        routing["offer_timeout_s"] = 25
        a.cluster.call("reconfigure", ([routing],), {})  # what a.reconfigure(metadata) appends after a publish
        converged(a, b)
        for s in (a, b):
            assert s.router.settings.offer_timeout_s == 25 and "general" in s.router.settings.queues
            assert s.router.policy.name == "helpline"
    finally:
        a.stop()
        b.stop()


@pytest.mark.postgres
def test_an_answered_session_reaching_another_instance_reports_the_answer_to_the_shared_router(pg_url: str) -> None:
    from telephony.agi import parse_environment
    from telephony.agi.testpeer import environment_lines
    from telephony.control.channels import ChannelRegistry
    from telephony.switch.answers import AnswerRegistry, make_answered_handler

    a, _ = replica(pg_url, "a", agents=["1001"])
    b, _ = replica(pg_url, "b")
    try:
        a.call("sign_in", "1001", ready=True, by="t")
        ticket = b.enqueue(CallRequest(call_id=42, queue="billing"))  # b's session dials the agent ...
        assert ticket.offer is not None
        # ... and the agent's answered sub-session lands on a, where no dial waits for call 42
        handler = make_answered_handler(AnswerRegistry(ChannelRegistry()), lambda c: a.call("answered", c))
        handler(None, parse_environment(environment_lines("answered?call=42", env={"channel": "PJSIP/1001-1"})))  # type: ignore[arg-type]
        wait_for(lambda: ticket.answered_wait_s is not None, 2.0)  # b's ticket heard of the answer
        assert ticket.answered() is False  # the Dial's own report after it changes nothing
        converged(a, b)
        assert replica_state(b)["agents"]["1001"]["state"] == "talking" and 42 in b.router.active
    finally:
        a.stop()
        b.stop()


@pytest.mark.postgres
def test_connections_cut_as_by_a_database_restart_reconnect_and_converge(pg_url: str) -> None:
    a, _ = replica(pg_url, "a", agents=["1001"], poll_s=0.1)
    b, _ = replica(pg_url, "b", poll_s=0.1)
    try:
        a.call("sign_in", "1001", ready=True, by="t")
        conn = psycopg2.connect(pg_url)
        conn.autocommit = True
        with conn.cursor() as cur:  # every connection of both replicas ends, as when the server restarts
            cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND application_name LIKE 'hl-router%%'")
            assert cur.fetchone()[0] >= 6
        conn.close()
        ticket = b.enqueue(CallRequest(call_id=5, queue="billing"))  # a new writer connection, no error
        assert ticket.result == "queued" and ticket.offer is not None
        assert a.call("answered", 5) is True
        assert a.cluster is not None and b.cluster is not None
        wait_for(lambda: b.cluster.applied == a.cluster.applied, 3.0)  # b's listener reconnected and caught up
        converged(a, b)
    finally:
        a.stop()
        b.stop()


@pytest.mark.postgres
def test_a_subscriber_writing_while_an_entry_is_delivered_applies_every_entry_once(pg_url: str) -> None:
    a, _ = replica(pg_url, "a", agents=["1001", "1002"])
    b, _ = replica(pg_url, "b")
    try:
        assert a.cluster is not None and b.cluster is not None
        a.call("sign_in", "1001", ready=True, by="t")
        a.call("sign_in", "1002", ready=True, by="t")
        # a's phone rings at once: its subscriber writes from inside the delivery of the offer
        a.subscribe(lambda e: a.call("ringing", e.call_id) if isinstance(e, Offer) else None)
        b.cluster._append([("queue_call", (CallRequest(call_id=1, queue="billing"),), {}),
                           ("queue_call", (CallRequest(call_id=2, queue="billing"),), {})])
        a.cluster.catch_up()  # reads both entries; the first one's subscriber applies the second with its ringing
        b.cluster.catch_up()
        converged(a, b)
        assert a.cluster.applied_count == b.cluster.applied_count  # nothing applied twice
        assert {a.router.agents[n].state for n in ("1001", "1002")} == {"ringing"}
    finally:
        a.stop()
        b.stop()


@pytest.mark.postgres
def test_reads_between_entries_use_the_last_entrys_time_so_they_prune_nothing_ahead(pg_url: str) -> None:
    from dataclasses import replace as with_

    a, _ = replica(pg_url, "a", agents=["1001"])
    b, _ = replica(pg_url, "b")
    try:
        for s in (a, b):  # a 0.2 s service-level window: a read at the wall clock would empty it
            s.do(lambda r: r.reconfigure(with_(r.settings, service_window_s=0.2, windows=(0.2,)), r.policy))
        a.call("sign_in", "1001", ready=True, by="t")
        a.enqueue(CallRequest(call_id=1, queue="billing"))
        a.call("answered", 1)
        assert a.cluster is not None
        time.sleep(0.3)
        assert a.clock.now() == a.cluster.clock.last  # not the wall clock
        a.snapshot()  # the wallboard's read on a only
        converged(a, b)
        assert replica_state(a)["stats"]["tier:ordinary"][0.2] == 1  # the answer is still in the window
    finally:
        a.stop()
        b.stop()
