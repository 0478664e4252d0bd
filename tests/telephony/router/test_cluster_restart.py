"""Cluster mode's command log through a database restart: writes and reads wait for the server and retry the
whole transaction (``telephony.router.logconn``), an append whose commit went through before its connection
died is not appended again (its key), the listeners reconnect, the replicas converge, and the leader does not take
the other instance for dead while its listener reconnects (``telephony.router.liveness``).

The restart test starts a PostgreSQL cluster of its own (``bench/_pg.py``'s throwaway cluster, as in
``tests/data/test_database_restart.py``) because it restarts the server; it is skipped where the PostgreSQL
binaries are missing (an error under ``CI=true``). The lost commit answer uses the shared test server through a
loopback proxy that cuts the writer's connection after forwarding its ``COMMIT``, before the answer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest
from cluster_helpers import converged, replica, wait_for

from telephony.control.channels import CallChannels
from telephony.control.shared_channels import SharedChannels
from telephony.router import CallRequest
from telephony.router.service import RouterService
from telephony.router.snapshot import replica_state
from tests.restartable_pg import RestartablePostgres


def _logged_calls(url: str) -> dict[int, int]:
    """Call id → how many ``queue_call`` entries the log holds for it."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT (args->'args'->0->'$call'->>'call_id')::int, count(*) FROM hl_router_log "
                        "WHERE name = 'queue_call' GROUP BY 1")
            return {int(call_id): int(n) for call_id, n in cur.fetchall()}
    finally:
        conn.close()


class _CommitCutter:
    """A loopback TCP proxy to a PostgreSQL server that, when armed, forwards one connection's ``COMMIT`` and
    then closes that connection instead of passing the server's answer back: the commit is done, the client
    hears of a lost connection."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.armed = threading.Event()
        self.cuts = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            self._socks += [client, upstream]
            state = {"cut": False}
            threading.Thread(target=self._pump, args=(client, upstream, state, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, state, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, state: dict[str, bool], to_server: bool) -> None:
        try:
            while data := src.recv(65536):
                if not to_server and state["cut"]:  # the server's answer to the COMMIT: never delivered
                    self.cuts += 1
                    break
                if to_server and self.armed.is_set() and b"COMMIT" in data:
                    self.armed.clear()
                    state["cut"] = True
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._server.close()
        for sock in self._socks:
            sock.close()


@pytest.mark.postgres
def test_an_append_whose_commit_answer_was_lost_is_not_appended_twice(pg_url: str) -> None:
    parsed = urlparse(pg_url)
    cutter = _CommitCutter(parsed.hostname or "127.0.0.1", parsed.port or 5432)
    proxied = urlunparse(parsed._replace(netloc=f"{parsed.username}@127.0.0.1:{cutter.port}"))
    a, _ = replica(proxied, "a", agents=["1001"])
    b, _ = replica(pg_url, "b")
    try:
        a.call("sign_in", "1001", ready=True, by="t")
        cutter.armed.set()
        ticket = a.enqueue(CallRequest(call_id=7, queue="billing"))  # committed, then the connection died
        assert cutter.cuts == 1
        assert ticket.result == "queued" and ticket.offer is not None and ticket.offer.agent_id == "1001"
        assert _logged_calls(pg_url) == {7: 1}
        assert a.enqueue(CallRequest(call_id=8, queue="billing")).result == "queued"  # the writer goes on
        assert _logged_calls(pg_url) == {7: 1, 8: 1}
        converged(a, b)
    finally:
        a.stop()
        b.stop()
        cutter.close()


@pytest.fixture
def own_server() -> Iterator[RestartablePostgres]:
    found = RestartablePostgres("hl-log-restart-")
    try:
        yield found
    finally:
        found.stop()


@pytest.mark.postgres
def test_the_command_log_rides_out_a_server_restart_under_writes_from_both_replicas(own_server: RestartablePostgres
                                                                                      ) -> None:
    from helpline.data.database import db, open_database
    from helpline.services.leader import LeaderElection

    url = own_server.server.url
    open_database(url)  # the election's instance rows
    a, _ = replica(url, "a", agents=["1001"], poll_s=0.1)  # the leader checks liveness every 0.1 s
    b, _ = replica(url, "b", poll_s=0.1)
    assert a.cluster is not None and b.cluster is not None
    election = LeaderElection(url, renew_s=0.1, instance="a").start()
    a.cluster.follow(election)  # a leads: it ticks and ends the calls of instances it finds gone
    channels = SharedChannels(url, "a")  # the call channels shared in cluster mode ride it out alike
    channels.set(5, caller="PJSIP/trunk-00000005")
    stop = threading.Event()
    queued: list[int] = []
    failures: list[str] = []
    waits: list[float] = []
    lock = threading.Lock()

    def writer(service: RouterService, first: int) -> None:
        call_id = first
        while not stop.is_set():
            call_id += 1
            began = time.perf_counter()
            try:
                result = service.call("queue_call", CallRequest(call_id=call_id, queue="billing"))
                assert result == "queued", result
                with lock:
                    queued.append(call_id)
                    waits.append(time.perf_counter() - began)
            except Exception as exc:  # what a desk action or a queued call would have noticed
                failures.append(f"call {call_id}: {type(exc).__name__}: {exc}")
            time.sleep(0.005)

    try:
        a.call("sign_in", "1001", ready=True, by="t")  # the queue is staffed: every call joins
        threads = [threading.Thread(target=writer, args=(service, 100_000 * n), daemon=True)
                   for n, service in enumerate((a, a, b, b), start=1)]
        for thread in threads:
            thread.start()
        wait_for(lambda: len(queued) >= 20, 10.0)
        before = len(queued)
        took = own_server.restart()
        wait_for(lambda: len(queued) >= before + 40, 30.0)  # writes go on after the restart
        stop.set()
        for thread in threads:
            thread.join(40)
        assert took > 0.2
        assert failures == []
        assert channels.set(5, agent="PJSIP/1001-00000006") == CallChannels(5, "PJSIP/trunk-00000005",
                                                                           "PJSIP/1001-00000006")
        assert a.call("queue_call", CallRequest(call_id=1, queue="billing")) == "queued"
        queued.append(1)
        wait_for(lambda: b.cluster is not None and b.cluster.applied == a.cluster.applied, 3.0)  # b's listener
        assert {"a", "b"} <= a.cluster.alive(), "both listeners reconnected (the leader would not end their calls)"
        logged = _logged_calls(url)
        assert set(logged) == set(queued) and len(queued) == len(set(queued)), "no command lost"
        assert max(logged.values()) == 1, "no command appended twice"
        converged(a, b)
        assert set(replica_state(b)["calls"]) == set(queued)
        conn = psycopg2.connect(url)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(*) FILTER (WHERE name = 'abandon') FROM hl_router_log")
            entries, abandoned = cur.fetchone()
        conn.close()
        assert abandoned == 0, "the leader ended no call of an instance it thought gone"
        assert a.cluster.applied_count == b.cluster.applied_count == entries, "no entry applied twice"
        print(f"restart {took:.2f} s; {len(queued)} calls queued, {before} before it; "
              f"longest write {max(waits):.2f} s; leader {election.is_leader}")
    finally:
        stop.set()
        channels.close()
        election.stop()
        a.stop()
        b.stop()
        if db.obj is not None and hasattr(db.obj, "close_all"):
            db.obj.close_all()
