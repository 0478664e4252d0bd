"""FastAGIServer end to end with AsteriskPeer: routing, hang-ups, bad input, concurrency, stop()."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
from asterisk.agi import AGIHangup

from telephony.agi import (
    AgiChannelHangup,
    AgiConnectionClosed,
    AgiDeadChannel,
    AgiEnvironment,
    DigitsResult,
    FastAGIServer,
    HelplineAGI,
    SoundFileMissing,
)
from telephony.agi.peermodel import Caller
from telephony.agi.testpeer import AsteriskPeer, Override, PeerAction

DEAD_511 = "511 Command Not Permitted on a dead channel or intercept routine"


def menu(agi: HelplineAGI, env: AgiEnvironment) -> None:
    """A tiny IVR: answer, play, ask for one digit, report the choice."""
    agi.answer()
    played = agi.stream_file("welcome", "123")
    choice = agi.get_data("menu", 3000, 1)
    digit = choice.digits if isinstance(choice, DigitsResult) else ""
    missing = isinstance(played, SoundFileMissing)
    agi.set_variable("HELPLINE_RESULT", "queued" if digit or not missing else "x")
    agi.set_variable("HELPLINE_QUEUE", f"{env.flow}-{digit or 'none'}")


@pytest.fixture
def server() -> Iterator[FastAGIServer]:
    srv = FastAGIServer(port=0, read_timeout=0.5, hangup_grace=0.05)
    srv.route("ivr", menu)
    srv.start()
    yield srv
    srv.stop()


def call(server: FastAGIServer, **options: object) -> AsteriskPeer:
    peer = AsteriskPeer(server.address, timeout=5.0, **options)  # type: ignore[arg-type]
    return peer.run()


def wait_idle(server: FastAGIServer, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while server.active_sessions and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.active_sessions == 0


def test_a_call_through_the_router(server: FastAGIServer) -> None:
    assert server.port != 0 and server.running
    peer = call(server, script="ivr/main?lang=en", caller=Caller("2"))
    assert peer.commands == [
        "ANSWER",
        'STREAM FILE welcome "123"',
        "GET DATA menu 3000 1",
        'SET VARIABLE "HELPLINE_RESULT" "queued"',
        'SET VARIABLE "HELPLINE_QUEUE" "main-none"',
    ], peer.format_transcript()
    assert peer.server_closed
    peer = call(server, script="ivr/sales", caller=Caller(",3"))
    assert peer.variables_set == {"HELPLINE_RESULT": "queued", "HELPLINE_QUEUE": "sales-3"}
    wait_idle(server)


def test_route_longest_prefix_and_env_reaches_handler(server: FastAGIServer) -> None:
    seen: list[AgiEnvironment] = []

    def special(agi: HelplineAGI, env: AgiEnvironment) -> None:
        seen.append(env)
        agi.verbose("special")

    server.route("ivr/vip", special)
    peer = call(server, script="ivr/vip/gold?x=1", args=["a", "b c"], env={"callerid": "13800138000"})
    assert peer.commands == ['VERBOSE "special" 1'] and peer.server_closed
    env = seen[0]
    assert (env.script_path, env.query, env.args) == ("ivr/vip/gold", {"x": ["1"]}, ["a", "b c"])
    assert env.caller_number == "13800138000" and env.uniqueid == peer.uniqueid
    assert server.resolve("ivr") is menu and server.resolve("other") is None


def test_unknown_script_sets_error_and_closes(
    server: FastAGIServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="telephony.agi"):
        peer = call(server, script="nosuch/flow")
    assert peer.commands[0].startswith("VERBOSE ")
    assert peer.variables_set == {"HELPLINE_RESULT": "error"}
    assert peer.server_closed
    assert peer.uniqueid in caplog.text and "nosuch/flow" in caplog.text


def test_handler_exception_never_kills_the_server(
    server: FastAGIServer, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(agi: HelplineAGI, env: AgiEnvironment) -> None:
        agi.answer()
        raise RuntimeError("bug in the flow")

    server.route("broken", broken)
    with caplog.at_level(logging.ERROR, logger="telephony.agi"):
        peer = call(server, script="broken")
    assert peer.variables_set == {"HELPLINE_RESULT": "error"} and peer.server_closed
    assert "bug in the flow" in caplog.text and peer.uniqueid in caplog.text
    assert call(server, script="ivr", caller=Caller("1")).variables_set["HELPLINE_RESULT"] == "queued"


@pytest.mark.parametrize(
    ("options", "exception"),
    [
        ({"caller": Caller(hangup_at="STREAM FILE")}, AgiChannelHangup),  # result=-1 then HANGUP
        ({"caller": Caller(hangup_at="GET DATA", hangup_mode="between")}, AgiDeadChannel),  # HANGUP, 511
        ({"caller": Caller(hangup_at=1), "exit_on_hangup": True}, AgiChannelHangup),  # -1, HANGUP, close
        ({"overrides": [Override(1, action=PeerAction.CLOSE)]}, AgiConnectionClosed),  # closed socket
        ({"caller": Caller(hangup_at=1), "sighup": False}, AgiChannelHangup),  # AGISIGHUP=no
    ],
    ids=["during", "between", "exit-on-hangup", "closed-socket", "agisighup-no"],
)
def test_hangup_in_every_form(
    server: FastAGIServer, options: dict[str, object], exception: type[AGIHangup]
) -> None:
    caught: list[BaseException] = []

    def flow(agi: HelplineAGI, env: AgiEnvironment) -> None:
        try:
            menu(agi, env)
        except AGIHangup as exc:
            caught.append(exc)
            if not isinstance(exc, AgiConnectionClosed) and not agi.broken:
                agi.set_variable("HELPLINE_RESULT", "hangup")  # allowed in dead mode
            raise

    server.route("hang", flow)
    peer = call(server, script="hang", **options)
    wait_idle(server)  # the peer may have closed before the server saw it
    assert [type(exc) for exc in caught] == [exception], peer.format_transcript()
    if not peer.peer_closed:
        assert peer.server_closed  # Asterisk waits on the socket in dead mode: the server closes
        assert peer.variables_set == {"HELPLINE_RESULT": "hangup"}
    assert DEAD_511 not in peer.replies or exception is AgiDeadChannel


def test_hangup_line_after_the_last_command_is_harmless(
    server: FastAGIServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="telephony.agi"):
        peer = call(server, script="ivr/main", caller=Caller(",1", hangup_at='SET VARIABLE "HELPLINE_QUEUE"'))
    assert peer.replies[-2:] == ["200 result=1", "HANGUP"]
    assert peer.variables_set["HELPLINE_QUEUE"] == "main-1" and peer.server_closed
    wait_idle(server)
    assert "protocol error" not in caplog.text and "raised" not in caplog.text


@pytest.mark.parametrize(
    ("raw_env", "message"),
    [
        (b"agi_network: yes\nno colon here\n\n", "no ':'"),
        (b"agi_network: yes\nagi_request: " + b"x" * 9000 + b"\n\n", "longer than"),
        (b"agi_network: yes\nagi_callerid: \xff\xfe\n\n", "UTF-8"),
        (b"".join(b"agi_arg_%d: a\n" % n for n in range(1, 131)) + b"\n", "more than 128"),
        (b"".join(b"agi_x%d: a\n" % n for n in range(250)) + b"\n", "longer than 200 lines"),
    ],
    ids=["no-colon", "line-over-8k", "non-utf8", "129-args", "250-lines"],
)
def test_malformed_environment_closes_only_that_session(
    server: FastAGIServer, caplog: pytest.LogCaptureFixture, raw_env: bytes, message: str
) -> None:
    good = AsteriskPeer(server.address, script="ivr", caller=Caller(",", hangup_at=99),
                        overrides=[Override(0, reply="200 result=0", delay=0.3)]).start()
    with caplog.at_level(logging.ERROR, logger="telephony.agi"):
        bad = call(server, raw_env=raw_env)
        assert good.join(3)
    assert bad.server_closed and bad.commands == []
    assert message in caplog.text and "protocol error" in caplog.text
    assert good.variables_set["HELPLINE_RESULT"] == "queued" and good.server_closed


def test_garbage_and_silence_are_logged_with_the_uniqueid(
    server: FastAGIServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="telephony.agi"):
        garbage = call(server, overrides=[Override(1, action=PeerAction.GARBAGE)])
        started = time.monotonic()
        silent = call(server, overrides=[Override(0, action=PeerAction.SILENT)])
    assert garbage.server_closed and len(garbage.commands) == 2
    assert silent.server_closed and 0.4 < time.monotonic() - started < 5
    assert f"[{garbage.uniqueid}] FastAGI protocol error" in caplog.text
    assert f"[{silent.uniqueid}] FastAGI protocol error" in caplog.text and "within 0.5 s" in caplog.text


def test_fifty_concurrent_peers_silent_ones_block_nobody() -> None:
    server = FastAGIServer(port=0, read_timeout=1.0, hangup_grace=0.05)
    server.route("ivr", menu)
    server.start()
    peers = []
    for n in range(50):
        silent = n % 5 == 0
        overrides = [Override(0, action=PeerAction.SILENT)] if silent else []
        peers.append(AsteriskPeer(server.address, caller=Caller(str(n % 10)), overrides=overrides, timeout=5))
    started = time.monotonic()
    silent_peers = peers[::5]
    talking = [p for p in peers if p not in silent_peers]
    for peer in silent_peers + talking:  # the silent ones connect first
        peer.start()
    for peer in talking:
        assert peer.join(3)
    talking_done = time.monotonic() - started
    for peer in silent_peers:
        assert peer.join(3)
    assert talking_done < 0.8, f"a silent peer held up the others ({talking_done:.2f} s)"
    for peer in talking:
        assert peer.variables_set["HELPLINE_RESULT"] == "queued" and peer.server_closed
    for peer in silent_peers:
        assert peer.server_closed and peer.commands == ["ANSWER"]
    wait_idle(server)
    assert server.completed_sessions == 50
    server.stop()


def test_stop_is_prompt_and_closes_in_flight_calls() -> None:
    srv = FastAGIServer(port=0, read_timeout=30.0)
    busy = threading.Event()

    def sleepy(agi: HelplineAGI, env: AgiEnvironment) -> None:
        agi.answer()
        busy.set()
        time.sleep(10)  # not interruptible: stop() must still return and close the socket

    srv.route("ivr", menu)
    srv.route("sleepy", sleepy)
    srv.start()
    silent = [AsteriskPeer(srv.address, overrides=[Override(0, action=PeerAction.SILENT)]).start()
              for _ in range(5)]
    stuck = AsteriskPeer(srv.address, script="sleepy").start()
    deadline = time.monotonic() + 3
    while (srv.active_sessions < 6 or not busy.is_set()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.active_sessions == 6
    started = time.monotonic()
    srv.stop(timeout=0.5)
    assert time.monotonic() - started < 5  # not the stuck session's 10 s
    for peer in [*silent, stuck]:
        assert peer.join(2) and peer.server_closed
    assert not srv.running
    srv.stop()  # idempotent
