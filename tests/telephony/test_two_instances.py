"""Issue 22's done-when: two ``run.py serve`` instances on one PostgreSQL in cluster mode (``HELPLINE_CLUSTER=on``),
agents signed in on both (their desktops connected over NiceGUI's socket, ready), calls through both FastAGI
ports (the Asterisk test peer answers each ``Dial``), the leader killed with SIGKILL mid-traffic: the standby
leads within 5 s, and every call that reached the queue on the surviving instance was offered and answered
exactly once (the peers' dials, the call records, the router's journal), its screen-pop on the agent's desktop.

The servers are ``tests/telephony/cluster_server.py`` (``run.py serve`` plus test agents and a test-only
sign-in); calls placed after the kill go to the survivor, as the dialplan's second ``AGI()`` host does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg2
import pytest

from bench._desktop_client import Desktop
from telephony.agi.peermodel import Caller, DialScript
from telephony.agi.testpeer import AsteriskPeer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "tests" / "telephony" / "cluster_server.py"
AGENTS = {"a": ["5101", "5102"], "b": ["5201", "5202"]}
CALLS = 16
"""Calls placed, one every :data:`GAP_S`, alternately on A and B until the kill, then on B."""
KILL_AFTER = 8
GAP_S = 0.25
TALK_S = 0.6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Instance:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    agi_port: int
    log: IO[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-6000:]


def _start(tmp_path: Path, url: str, name: str) -> Instance:
    port, agi_port = _free_port(), _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NICEGUI_", "PYTEST_", "HELPLINE_"))}
    env = {**clean, "HELPLINE_DB": url, "HELPLINE_CLUSTER": "on", "HELPLINE_INSTANCE_ID": name,
           "HELPLINE_LEADER_RENEW_S": "0.5", "HELPLINE_METADATA": str(ROOT / "metadata"),
           "HELPLINE_ADMIN_PASSWORD": "Cluster-admin-1", "HELPLINE_DEMO_PASSWORD": "Cluster-demo-1",
           "HELPLINE_BACKUP_CRON": "off", "HELPLINE_SPIKE_CRON": "off", "HELPLINE_STORAGE_SECRET": "two instances",
           "HELPLINE_SHUTDOWN_GRACE": "2"}
    log = (tmp_path / f"{name}.log").open("wb")
    proc = subprocess.Popen([sys.executable, str(SERVER), "--agents", ",".join(AGENTS[name]), "serve", "--port",
                             str(port), "--agi-port", str(agi_port), "--demo-customers", "20"],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Instance(name, proc, port, agi_port, log)


def _wait_up(inst: Instance, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert inst.proc.poll() is None, inst.output()
        try:
            with socket.create_connection(("127.0.0.1", inst.agi_port), timeout=0.5):
                pass
            urllib.request.urlopen(inst.base + "/healthz", timeout=5).close()
            return
        except urllib.error.HTTPError:
            return  # 503 is an answer: the web part is up
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"instance {inst.name} did not come up:\n{inst.output()}")


def _wait_output(inst: Instance, text: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in inst.output():
        assert inst.proc.poll() is None and time.monotonic() < deadline, inst.output()
        time.sleep(0.1)


def _stop(inst: Instance) -> None:
    if inst.proc.poll() is None:
        inst.proc.send_signal(signal.SIGTERM)
        try:
            inst.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            inst.proc.kill()
            inst.proc.wait()
    inst.log.close()



def _query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    finally:
        conn.close()


async def _desktop(inst: Instance, number: str) -> Desktop:
    """The agent's desktop on ``inst``: signed in, the page loaded, its socket connected."""
    desk = Desktop(agent=number, base=inst.base, login_path="/_test/login", user=f"test{number}", file_after=None,
                   timeout=30.0)
    await desk.open()
    return desk


async def _ready(desk: Desktop) -> None:
    """The desktop's agent signs in to the telephony and goes ready."""
    assert desk.http is not None
    async with desk.http.get(f"{desk.base}/_test/ready", params={"user": f"test{desk.agent}"}) as r:
        assert (await r.json()) == {"ok": True, "agent": desk.agent}


def _peer(inst: Instance, i: int) -> AsteriskPeer:
    return AsteriskPeer(("127.0.0.1", inst.agi_port), script="ivr/main",
                        env={"callerid": f"1390000{i:04d}", "dnid": "96266"}, caller=Caller("0"), timeout=20.0,
                        dial_outcomes=[DialScript("ANSWER", ring_s=0.1, talk_s=TALK_S)], time_scale=1.0)


def _leader(url: str) -> str | None:
    rows = _query(url, "SELECT id FROM hl_instance WHERE role = 'leader' AND backend_pid IN (SELECT pid FROM "
                       "pg_locks WHERE locktype = 'advisory' AND classid = 18508 AND objid = 1 AND granted)")
    return rows[0][0] if rows else None


def _dial_at(peer: AsteriskPeer) -> float | None:
    """When the peer was told to dial the agent (monotonic), None if never."""
    return next((peer._t0 + e.at for e in peer.transcript if e.text.startswith("EXEC Dial")), None)


def _check_survivors(url: str, survivors: list[AsteriskPeer], led_at: float) -> dict[int, str]:
    """Every call that reached the queue on the survivor: one dial, answered, on its call record; its routing
    decisions journaled at most once each (exactly once when queued after the standby led). Returns call → agent."""
    agents: dict[int, str] = {}
    for peer in survivors:
        call_id = int(peer.variables_set.get("HELPLINE_CALL_ID") or 0)
        assert call_id, peer.format_transcript()
        assert [d.status for d in peer.channel.dials] == ["ANSWER"], peer.format_transcript()  # offered once
        agent = peer.channel.dials[0].endpoint.removeprefix("PJSIP/")
        row = _query(url, "SELECT result, routed, agent FROM hl_call WHERE id = %s", (call_id,))
        assert row == [("connected", "answered", agent)], (row, peer.format_transcript())
        kinds = [k for (k,) in _query(url, "SELECT kind FROM hl_call_route WHERE call_id = %s ORDER BY id",
                                      (call_id,))]
        if peer._t0 > led_at:  # the whole call under the new leader: every decision journaled once
            assert kinds == ["queued", "offered", "answered", "ended"], (call_id, kinds)
        else:  # the killed leader's journal batch not written yet is lost with it, never doubled
            assert all(n == 1 for n in Counter(kinds).values()), (call_id, kinds)
        agents[call_id] = agent
    return agents


async def test_two_instances_share_the_router_and_the_standby_takes_over(tmp_path: Path, pg_url: str) -> None:
    instances: list[Instance] = []
    desktops: list[Desktop] = []
    peers: dict[str, list[AsteriskPeer]] = {"a": [], "b": []}
    times: dict[str, float] = {}
    try:
        a = _start(tmp_path, pg_url, "a")
        instances.append(a)
        # a migrates and fills the database and starts the router (so it leads); then b joins
        await asyncio.to_thread(_wait_output, a, "instance a: leader")
        b = _start(tmp_path, pg_url, "b")
        instances.append(b)
        await asyncio.to_thread(_wait_up, a)
        await asyncio.to_thread(_wait_up, b)
        assert await asyncio.to_thread(_leader, pg_url) == "a"
        desktops = list(await asyncio.gather(*(_desktop(inst, n) for inst in (a, b) for n in AGENTS[inst.name])))
        for desk in desktops:  # a's agents ready first, so idle longest: b's first callers are offered to them
            await _ready(desk)  # (ready in the order the desktops happened to connect, both of b's early calls
                                # could go to b's own agents, and the crossing this test checks did not happen)

        def traffic() -> None:
            for i in range(CALLS):
                inst = a if i < KILL_AFTER and i % 2 == 0 else b
                peer = _peer(inst, i)
                peers[inst.name].append(peer)
                peer.start()
                if i == KILL_AFTER - 1:  # the leader dies with calls in the IVR, waiting and talking on both
                    time.sleep(GAP_S)
                    times["killed"] = time.monotonic()
                    os.kill(a.proc.pid, signal.SIGKILL)
                    while _leader(pg_url) != "b" and time.monotonic() - times["killed"] < 10:
                        time.sleep(0.05)
                    times["led"] = time.monotonic()
                time.sleep(GAP_S)
            for peer in (*peers["a"], *peers["b"]):
                peer.join(30)

        await asyncio.to_thread(traffic)
        led_after = times["led"] - times["killed"]
        assert led_after < 5.0, f"the standby led after {led_after:.2f} s\n{b.output()}"
    finally:
        for desk in desktops:
            with contextlib.suppress(Exception):
                await desk.close()
        for inst in instances:  # b stops gracefully: its journal is written before the checks
            _stop(inst)
    killed = times["killed"]
    before = [p for p in peers["a"] if (_dial_at(p) or killed) < killed - 1.0]
    assert before and all([d.status for d in p.channel.dials] == ["ANSWER"] for p in before)  # a served calls too
    survivors = peers["b"]
    assert any(p._t0 < killed < p._t0 + p.transcript[-1].at for p in survivors), "no call on b across the kill"
    agents = _check_survivors(pg_url, survivors, times["led"])
    # one router for both: b's callers reached agents whose desktops were on a, and the pops went there while
    # a lived; each call's screen-pop reached its agent's desktop on the survivor
    crossed = {int(p.variables_set["HELPLINE_CALL_ID"]) for p in survivors if (_dial_at(p) or killed) < killed - 0.5}
    assert any(agents[c] in AGENTS["a"] for c in crossed), (crossed, agents)
    for desk in desktops:
        mine = {c for c, agent in agents.items() if agent == desk.agent and (desk.base == b.base or c in crossed)}
        assert mine <= {int(s[-8:]) for s in desk.serials}, (desk.agent, mine, desk.serials)
    print(f"standby led after {led_after:.2f} s; answered on b: {Counter(agents.values())}")
