"""Issue 22's done-when on one PostgreSQL database: two ``run.py agi`` processes in cluster mode
(``HELPLINE_CLUSTER=on``), calls through both FastAGI ports with the Asterisk test peer, the agents signed in
through a third replica (this test's, standing for the desktops), the leader process killed with SIGKILL while
callers wait on the survivor; every call is offered and answered exactly once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
import yaml
from cluster_helpers import SETTINGS, wait_for

from telephony.agi.peerdial import DialScript
from telephony.agi.peermodel import Caller
from telephony.agi.testpeer import AsteriskPeer
from telephony.router import AgentProfile, AppQueuePolicy, CallLeft, Offer, RouterEvent
from telephony.router.cluster import Cluster, LogClock
from telephony.router.service import RouterService

ROOT = Path(__file__).resolve().parents[3]
AGENTS = ["4001", "4002", "4003"]



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Instance:
    """One ``run.py agi`` process; ``lines`` is what it printed."""

    def __init__(self, url: str, name: str) -> None:
        self.name, self.port, self.lines = name, _free_port(), []  # type: ignore[var-annotated]
        env = {**os.environ, "HELPLINE_CLUSTER": "on", "HELPLINE_INSTANCE_ID": name, "HELPLINE_LEADER_RENEW_S": "0.2",
               "HELPLINE_SHUTDOWN_GRACE": "0"}
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "agi", "--db", url, "--metadata", str(ROOT / "metadata"),
             "--agi-port", str(self.port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
            cwd=ROOT)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _call(instance: Instance) -> AsteriskPeer:
    return AsteriskPeer(("127.0.0.1", instance.port), script="ivr/main",
                        env={"callerid": "13800000001", "dnid": "96266"}, caller=Caller("0"), timeout=20.0,
                        dial_outcomes=[DialScript("ANSWER", ring_s=0.05, talk_s=0.2)], time_scale=1.0).start()


@pytest.mark.postgres
def test_two_agi_instances_share_the_router_and_survive_the_leader_killed(pg_url: str) -> None:
    routing = yaml.safe_load((ROOT / "metadata" / "routings" / "main.yaml").read_text(encoding="utf-8"))
    routing["wrap_up_s"] = 0.2
    desks = RouterService(SETTINGS, AppQueuePolicy(), clock=LogClock())
    events: list[RouterEvent] = []
    desks.subscribe(events.append)
    desks.cluster = Cluster(desks, pg_url, "desks", poll_s=0.2)
    profiles = [AgentProfile(id=a, endpoint=f"PJSIP/{a}", skills={"general": 1}) for a in AGENTS]
    desks.cluster.start(lambda: [*(("add_agent", (p,), {}) for p in profiles), ("reconfigure", ([routing],), {})])
    first = Instance(pg_url, "i1")
    instances = [first]
    try:
        wait_for(lambda: first.said("Helpline FastAGI on") or first.proc.poll() is not None, 60)
        second = Instance(pg_url, "i2")  # after the first: one migrates the fresh database at a time
        instances.append(second)
        wait_for(lambda: second.said("Helpline FastAGI on") or second.proc.poll() is not None, 60)
        assert first.said("instance i1: leader") and second.said("instance i2: standby"), first.lines + second.lines
        for agent in AGENTS:
            desks.call("sign_in", agent, ready=True, by="desktop")

        peers = [_call(instances[i % 2]) for i in range(6)]  # through both FastAGI ports at once
        for peer in peers:
            assert peer.join(30), peer.format_transcript()
        ids = [int(p.variables_set["HELPLINE_CALL_ID"]) for p in peers]
        assert len(set(ids)) == 6

        for agent in AGENTS:  # callers wait on the survivor while the leader is killed
            desks.call("set_not_ready", agent, "meeting", by="desktop")
        waiting = [_call(second) for _ in range(3)]
        wait_for(lambda: len(desks.router.waiting) == 3, 20)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(5)
        wait_for(lambda: second.said("elected") or _leads(pg_url, "i2"), 5)
        for agent in AGENTS:
            desks.call("set_ready", agent, by="desktop")
        for peer in waiting:
            assert peer.join(30), peer.format_transcript()
        ids += [int(p.variables_set["HELPLINE_CALL_ID"]) for p in waiting]
        wait_for(lambda: all(desks.router.agents[a].state == "idle" for a in AGENTS), 10)  # the new leader ticks
        desks.cluster.catch_up()
        offers = Counter(e.call_id for e in events if isinstance(e, Offer))
        answered = Counter(e.call_id for e in events if isinstance(e, CallLeft) and e.how == "answered")
        assert offers == dict.fromkeys(ids, 1), offers
        assert answered == dict.fromkeys(ids, 1), answered
        assert not desks.router.waiting and not desks.router.active
    finally:
        for instance in instances:
            instance.stop()
        desks.stop()


def _leads(url: str, instance: str) -> bool:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT role FROM hl_instance WHERE id = %s", (instance,))
            row = cur.fetchone()
        return row is not None and row[0] == "leader"
    finally:
        conn.close()
