"""``/healthz`` and ``/metrics`` over real HTTP against ``run.py serve`` (web and FastAGI on free ports):
the health of the database, router and FastAGI server; the process and contact-centre metrics, including a
FastAGI session ended by a protocol error; and a 503 naming the database when it is gone (PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_SERVER, _pg_admin

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=15) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class Served:
    def __init__(self, proc: subprocess.Popen[str], port: int, agi_port: int) -> None:
        self.proc, self.base, self.agi_port = proc, f"http://127.0.0.1:{port}", agi_port


def _serve(tmp_path: Path, db: str) -> Iterator[Served]:
    port, agi_port = _free_port(), _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NICEGUI_", "PYTEST_", "HELPLINE_"))}
    env = {**clean, "HELPLINE_ADMIN_PASSWORD": "Monitor-test-1", "HELPLINE_DEMO_PASSWORD": "Monitor-test-2",
           "HELPLINE_DB": db, "HELPLINE_METADATA": str(ROOT / "metadata"), "HELPLINE_BACKUP_CRON": "off"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", "--port", str(port), "--agi-port",
                             str(agi_port), "--demo-customers", "20"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    served = Served(proc, port, agi_port)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                _get(served.base + "/healthz")
                break
            except OSError:
                time.sleep(0.5)
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        yield served
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _metric(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, rest = head.partition("{")
        if metric != name:
            continue
        if all(f'{k}="{v}"' in rest for k, v in labels.items()):
            return float(value)
    return None


def test_healthz_and_metrics_of_a_running_instance(tmp_path: Path) -> None:
    for served in _serve(tmp_path, f"sqlite:///{tmp_path / 'm.db'}"):
        status, body = _get(served.base + "/healthz")
        health = json.loads(body)
        assert status == 200 and health["status"] == "ok" and health["failed"] == []
        assert set(health["checks"]) == {"database", "router", "fastagi", "leader"}
        assert health["checks"]["leader"]["role"] == "leader"  # SQLite: the one process leads
        assert health["checks"]["leader"]["leader"]["pid"] == served.proc.pid

        with socket.create_connection(("127.0.0.1", served.agi_port), timeout=5) as agi:  # a broken session
            agi.sendall(b"agi_network: yes\nno colon here\n\n")
            agi.settimeout(5)
            while agi.recv(4096):
                pass
        deadline = time.monotonic() + 10  # the server closes the socket, then ends the session's count
        while True:
            status, text = _get(served.base + "/metrics")
            if _metric(text, "helpline_agi_sessions_in_progress") == 0.0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert status == 200
        assert (_metric(text, "process_resident_memory_bytes") or 0) > 10_000_000
        assert _metric(text, "helpline_agi_errors_total") == 1.0
        assert _metric(text, "helpline_agi_sessions_in_progress") == 0.0
        assert _metric(text, "helpline_agi_sessions_limit") == 300.0
        agents = _metric(text, "helpline_agents", status="logged_out")
        assert agents is not None and agents >= 1  # the demo agents, none signed in
        assert _metric(text, "helpline_service_level_target", tier="ordinary") is not None
        assert _metric(text, "helpline_leader") == 1.0
        assert _metric(text, "helpline_leader_info", pid=str(served.proc.pid)) == 1.0
        assert _metric(text, "helpline_database_bytes") and "helpline_offers_total" not in text.split("# TYPE")[0]
        assert "# TYPE helpline_calls_waiting gauge" in text and "# TYPE helpline_job_failures_total counter" in text


@pytest.mark.postgres
def test_healthz_says_503_and_what_failed_when_the_database_is_gone(tmp_path: Path) -> None:
    if not PG_SERVER:
        pytest.skip("PostgreSQL tests need HELPLINE_TEST_PG")
    name = f"hl_test_health_{os.getpid()}_{int(time.time())}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        for served in _serve(tmp_path, PG_SERVER.rsplit("/", 1)[0] + "/" + name):
            assert _get(served.base + "/healthz")[0] == 200
            _pg_admin(f'DROP DATABASE "{name}" WITH (FORCE)')
            status, body = _get(served.base + "/healthz")
            health = json.loads(body)
            assert status == 503 and health["status"] == "fail" and health["failed"] == ["database"]
            assert health["checks"]["router"]["ok"] and "error" in health["checks"]["database"]
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
