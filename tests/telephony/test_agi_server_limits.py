"""FastAGIServer limits: health probes, slow environment blocks, the session cap and the graceful shutdown."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from telephony.agi import AgiEnvironment, FastAGIServer, HelplineAGI
from telephony.agi.peermodel import Caller
from telephony.agi.testpeer import AsteriskPeer


def _answer(agi: HelplineAGI, env: AgiEnvironment) -> None:
    agi.answer()
    agi.set_variable("HELPLINE_RESULT", "completed")


def test_a_bare_connect_and_close_is_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    rejected: list[Exception] = []
    server = FastAGIServer(port=0, read_timeout=2.0)
    server.route("ivr", _answer)
    server.on_rejected = lambda peer, exc: rejected.append(exc)
    caplog.set_level(logging.DEBUG, logger="telephony.agi.server")
    with server:
        for _ in range(3):
            socket.create_connection(server.address, timeout=2).close()
        deadline = time.monotonic() + 3
        while server.completed_sessions < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert server.completed_sessions == 3
    mine = [r for r in caplog.records if r.name == "telephony.agi.server" and "probe" in r.getMessage()]
    assert len(mine) == 3 and all(r.levelno == logging.DEBUG for r in mine)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert rejected == []  # a probe is no call: no call record


def test_an_environment_block_trickling_in_is_cut_at_the_bound() -> None:
    rejected: list[Exception] = []
    server = FastAGIServer(port=0, read_timeout=30.0, env_timeout=1.0)
    server.route("ivr", _answer)
    server.on_rejected = lambda peer, exc: rejected.append(exc)
    block = b"agi_network: yes\nagi_network_script: ivr\nagi_uniqueid: 1.1\n\n"
    with server, socket.create_connection(server.address, timeout=5) as sock:
        started = time.monotonic()
        closed_after = None
        for byte in block:  # one byte every 0.1 s: each read is quick, the whole block would take 5 s
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed_after = time.monotonic() - started
                break
            sock.settimeout(0.1)
            try:
                if sock.recv(1) == b"":
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                pass
    assert closed_after is not None and 0.9 <= closed_after < 2.5, closed_after
    deadline = time.monotonic() + 2
    while not rejected and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(rejected) == 1 and "within 1 s" in str(rejected[0])


def test_calls_over_the_cap_are_refused_at_once_with_error() -> None:
    release = threading.Event()

    def slow(agi: HelplineAGI, env: AgiEnvironment) -> None:
        agi.answer()
        release.wait(10)
        agi.set_variable("HELPLINE_RESULT", "completed")

    refused: list[AgiEnvironment] = []
    server = FastAGIServer(port=0, read_timeout=10.0, max_sessions=2)
    server.route("ivr", slow)
    server.on_refused = refused.append
    with server:
        busy = [AsteriskPeer(server.address, caller=Caller(), timeout=10).start() for _ in range(2)]
        deadline = time.monotonic() + 3
        while server.active_sessions < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        over = AsteriskPeer(server.address, caller=Caller(), timeout=5).run()
        took = time.monotonic() - started
        release.set()
        assert all(peer.join(5) for peer in busy)
        after = AsteriskPeer(server.address, caller=Caller(), timeout=5).run()
    assert over.variables_set == {"HELPLINE_RESULT": "error"} and over.server_closed, over.format_transcript()
    assert took < 3.0  # refused at once, not after the peer's 5 s
    assert [env.uniqueid for env in refused] == [over.uniqueid]
    assert all(peer.variables_set["HELPLINE_RESULT"] == "completed" for peer in busy)
    assert after.variables_set["HELPLINE_RESULT"] == "completed"  # below the cap again: served
    assert server.refused_sessions == 1


def test_shutdown_waits_for_calls_up_to_the_grace_then_ends_them() -> None:
    def wait_for_digit(agi: HelplineAGI, env: AgiEnvironment) -> None:
        agi.answer()
        agi.wait_for_digit(int(env.query["ms"][0]))
        agi.set_variable("HELPLINE_RESULT", "completed")

    server = FastAGIServer(port=0, read_timeout=10.0)
    server.route("ivr", wait_for_digit)
    server.start()
    quick = AsteriskPeer(server.address, script="ivr?ms=600", caller=Caller(), time_scale=1.0, timeout=10).start()
    slow = AsteriskPeer(server.address, script="ivr?ms=5000", caller=Caller(), time_scale=1.0, timeout=10).start()
    while server.active_sessions < 2:
        time.sleep(0.01)
    started = time.monotonic()
    left = server.shutdown(2.0)  # the quick call's 0.6 s fits on a loaded machine; the slow one's 5 s not
    took = time.monotonic() - started
    with pytest.raises(OSError):
        socket.create_connection(server.address, timeout=1).close()
    assert quick.join(5) and slow.join(5)
    assert quick.variables_set == {"HELPLINE_RESULT": "completed"}  # finished inside the grace
    assert left == 1 and server.grace_over.is_set() and 2.0 <= took < 4.0
    assert "HELPLINE_RESULT" not in slow.variables_set and slow.server_closed


def test_on_session_is_told_of_every_connection() -> None:
    seen: list[float] = []
    server = FastAGIServer(port=0, read_timeout=2.0)
    server.route("ivr", _answer)
    server.on_session = lambda: seen.append(time.monotonic())
    with server:
        AsteriskPeer(server.address, caller=Caller(), timeout=5).run()
        socket.create_connection(server.address, timeout=2).close()
        deadline = time.monotonic() + 2
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(seen) == 2
