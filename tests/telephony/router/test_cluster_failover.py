"""Cluster-mode failover on PostgreSQL with a real leader process killed (SIGKILL): the standby leads within
5 s, ends the call queued through the dead instance and disconnects the agent whose desktop was there, keeps its
own waiting calls in their place, ticks the timers, and offers each call exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from cluster_helpers import replica, wait_for

from helpline.services.leader import LeaderElection
from telephony.router import CallLeft, CallRequest, Offer

ROOT = Path(__file__).resolve().parents[3]

_CHILD = """
import sys, time
from cluster_helpers import replica
from helpline.data.database import open_database
from helpline.services.leader import LeaderElection
from telephony.router import CallRequest
url = sys.argv[1]
open_database(url)
service, _ = replica(url, "child", agents=["1001", "2001"])
election = LeaderElection(url, renew_s=0.05, instance="child").start()
service.cluster.follow(election)
service.call("sign_in", "2001", ready=False, reason="busy", by="desk on child")
service.call("agent_connected", "2001")
service.enqueue(CallRequest(call_id=900, queue="billing"))
print("leader" if election.is_leader else "standby", flush=True)
time.sleep(60)
"""



@pytest.mark.postgres
def test_leader_killed_standby_leads_keeps_its_calls_and_offers_each_once(pg_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(Path(__file__).parent)])}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, pg_url], stdout=subprocess.PIPE, text=True, env=env,
                             cwd=ROOT)
    b = election = None
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "leader"
        b, events = replica(pg_url, "b")
        election = LeaderElection(pg_url, renew_s=0.05, instance="b").start()
        assert b.cluster is not None and not election.is_leader
        b.cluster.follow(election)
        assert list(b.router.waiting) == [900]  # replayed from the log
        b.call("sign_in", "1001", ready=False, reason="busy", by="desk on b")
        tickets = [b.enqueue(CallRequest(call_id=i, queue="billing")) for i in (1, 2)]
        assert [t.result for t in tickets] == ["queued", "queued"]
        places = {c.call_id: c.enqueued_at for c in b.router.waiting.values()}

        killed = time.perf_counter()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(5)
        took = wait_for(lambda: election.is_leader, 5.0)
        ended = wait_for(lambda: 900 not in b.router.waiting
                         and b.router.agents["2001"].disconnected_at is not None, 5.0)
        print(f"standby led {took:.3f} s after SIGKILL; the dead instance's call ended "
              f"{time.perf_counter() - killed:.3f} s after it")
        assert took < 5.0 and ended < 5.0
        assert [(e.call_id, e.how) for e in events if isinstance(e, CallLeft)] == [(900, "abandoned")]
        assert list(b.router.waiting) == [1, 2]  # the survivor's calls keep their place
        assert {c.call_id: c.enqueued_at for c in b.router.waiting.values()} == {1: places[1], 2: places[2]}

        b.call("set_ready", "1001", by="desk on b")
        for ticket in tickets:  # each offered once; the wrap-up's end (a timer) comes from b's ticks now
            offer = ticket.next(timeout=3.0)
            assert isinstance(offer, Offer) and offer.agent_id == "1001"
            ticket.ringing()
            assert ticket.answered() and ticket.ended()
        wait_for(lambda: b.router.agents["1001"].state == "idle", 3.0)
        offers = Counter(e.call_id for e in events if isinstance(e, Offer))
        assert offers == {1: 1, 2: 1}
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)
        if b is not None:
            b.stop()
        if election is not None:
            election.stop()
