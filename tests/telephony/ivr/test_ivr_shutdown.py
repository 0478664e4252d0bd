"""``run.py agi`` and ``run.py serve`` as real processes: SIGTERM lets calls finish within the grace period and
winds up the rest; ``kill -9`` leaves a record open that the next start closes as ``interrupted``."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from telephony.agi.peermodel import Caller
from telephony.agi.testpeer import AsteriskPeer, Override

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """A ``run.py`` subprocess on a SQLite file, with its FastAGI port."""

    def __init__(self, command: str, db: Path, metadata: Path, grace: float) -> None:
        self.port = _free_port()
        args = [sys.executable, "run.py", command, "--db", f"sqlite:///{db}", "--metadata", str(metadata),
                "--agi-port", str(self.port)]
        if command == "serve":
            args += ["--port", str(_free_port()), "--no-demo"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NICEGUI_"))}  # not a test run
        env.update(HELPLINE_SHUTDOWN_GRACE=str(grace), HELPLINE_ADMIN_PASSWORD="Adm1n-pass-long")
        self.log = db.with_suffix(f".{command}.{self.port}.log")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()  # a probe: debug only
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"{command} did not listen: {self.output()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def call(self, prompt_delay: float, keys: str = "0") -> AsteriskPeer:
        """A caller whose first prompt (STREAM FILE, the welcome) ends after ``prompt_delay`` seconds."""
        return AsteriskPeer(("127.0.0.1", self.port), script="ivr", env={"dnid": "96266", "callerid": "13812345678"},
                            caller=Caller(keys), timeout=60.0,
                            overrides=[Override("STREAM FILE", delay=prompt_delay)]).start()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def nodes(tmp_path: Path, demo_metadata: Path) -> Iterator[Any]:
    started: list[Node] = []

    def make(command: str, grace: float = 3.0, db: Path | None = None) -> Node:
        node = Node(command, db or tmp_path / "h.db", demo_metadata, grace)
        started.append(node)
        return node

    yield make
    for node in started:
        node.stop()


def _in_call(peer: AsteriskPeer, timeout: float = 30) -> None:
    """Wait until the call plays its first prompt."""
    deadline = time.monotonic() + timeout
    while not any(c.startswith("STREAM FILE") for c in peer.commands):
        assert time.monotonic() < deadline and not peer.finished.is_set(), peer.format_transcript()
        time.sleep(0.05)


def _records(db: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT uniqueid, result, ended_at, error FROM hl_call").fetchall()
    return {row["uniqueid"]: dict(row) for row in rows}


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return True
    return False


@pytest.mark.parametrize("command", ["agi", "serve"])
def test_sigterm_lets_calls_finish_then_winds_up_the_rest(nodes: Any, tmp_path: Path, command: str) -> None:
    node = nodes(command, grace=3.0)
    quick = node.call(prompt_delay=1.5)
    slow = node.call(prompt_delay=15.0)
    _in_call(quick)
    _in_call(slow)
    signalled = time.monotonic()
    node.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    while not _refused(node.port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _refused(node.port), "new calls must be refused once SIGTERM arrived"
    assert quick.join(20), quick.format_transcript()
    assert node.proc.wait(30) == 0, node.output()
    stopped = time.monotonic() - signalled
    assert 3.0 <= stopped < 15.0, (stopped, node.output())
    # the quick call finished its flow inside the grace period, as if nothing happened
    assert quick.server_closed and quick.variables_set.get("HELPLINE_RESULT") not in (None, "", "error"), \
        quick.format_transcript()
    # the slow one was told HELPLINE_RESULT=error (the dialplan's fallback) after its prompt
    assert slow.join(20)
    after = slow.commands[next(i for i, c in enumerate(slow.commands) if c.startswith("STREAM FILE")) + 1:]
    assert 'SET VARIABLE "HELPLINE_RESULT" "error"' in after, slow.format_transcript()
    records = _records(tmp_path / "h.db")
    assert records[quick.uniqueid]["ended_at"] and records[quick.uniqueid]["result"] not in ("error", "interrupted")
    wound_up = records[slow.uniqueid]
    assert wound_up["ended_at"] and wound_up["result"] == "interrupted" and "IVR-SHUTDOWN" in wound_up["error"]
    assert "call(s) ended at the end of the grace period" in node.output()


def test_kill_9_leaves_a_record_that_the_next_start_closes(nodes: Any, tmp_path: Path) -> None:
    node = nodes("agi")
    caller = node.call(prompt_delay=30.0)
    _in_call(caller)
    node.proc.kill()  # SIGKILL: no chance to close anything
    node.proc.wait(10)
    assert _records(tmp_path / "h.db")[caller.uniqueid]["ended_at"] is None
    caller.close()
    again = nodes("agi")
    record = _records(tmp_path / "h.db")[caller.uniqueid]
    assert record["ended_at"] and record["result"] == "interrupted" and "IVR-INTERRUPTED" in record["error"]
    assert "closed 1 call record(s) left open by an earlier process" in again.output()
