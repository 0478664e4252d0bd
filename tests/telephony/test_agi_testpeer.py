"""AsteriskPeer against a raw socket: it must answer line for line as docs/asterisk-agi.md says."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from telephony.agi.peermodel import Caller, parse_agi_args
from telephony.agi.testpeer import DOC_ENVIRONMENT, AsteriskPeer, Override, PeerAction

DEAD_511 = "511 Command Not Permitted on a dead channel or intercept routine"


class RawServer:
    """The FastAGI server side reduced to bytes: send a command, read the peer's reply lines."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(3)
        self.conn: socket.socket | None = None
        self.buffer = b""
        self.env_bytes = b""

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", int(self.listener.getsockname()[1])

    def accept(self) -> list[str]:
        self.conn, _ = self.listener.accept()
        self.conn.settimeout(3)
        lines: list[str] = []
        while True:
            line = self.readline()
            self.env_bytes += line.encode() + b"\n"
            if line == "":
                return lines
            lines.append(line)

    def readline(self) -> str:
        assert self.conn is not None
        while b"\n" not in self.buffer:
            chunk = self.conn.recv(4096)
            if not chunk:
                raise EOFError(self.buffer)
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def ask(self, command: str, lines: int = 1) -> list[str]:
        assert self.conn is not None
        self.conn.sendall(command.encode() + b"\n")
        return [self.readline() for _ in range(lines)]

    def at_eof(self) -> bool:
        assert self.conn is not None
        try:
            self.readline()
        except EOFError:
            return True
        return False

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.listener.close()


@pytest.fixture
def raw() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()


def start(raw: RawServer, **options: object) -> AsteriskPeer:
    peer = AsteriskPeer(raw.address, timeout=3.0, **options).start()  # type: ignore[arg-type]
    raw.accept()
    return peer


def finish(raw: RawServer, peer: AsteriskPeer) -> None:
    raw.close()
    assert peer.join(3)
    assert peer.error is None


def test_environment_block_byte_for_byte(raw: RawServer) -> None:
    peer = AsteriskPeer(raw.address, script="ivr", args=["arg1", "arg two"])
    peer.start()
    lines = raw.accept()
    expected = dict(DOC_ENVIRONMENT)
    expected["agi_request"] = f"agi://127.0.0.1:{raw.address[1]}/ivr"
    expected["agi_uniqueid"] = peer.uniqueid
    body = "".join(f"{k}: {v}\n" for k, v in expected.items()) + "agi_arg_1: arg1\nagi_arg_2: arg two\n\n"
    assert raw.env_bytes == body.encode()
    assert lines[0] == "agi_network: yes" and "agi_accountcode: " in lines
    finish(raw, peer)
    assert peer.server_closed


@pytest.mark.parametrize(
    ("keys", "options", "command", "expected"),
    [
        ("", {}, "ANSWER", ["200 result=0"]),
        ("", {}, 'STREAM FILE beep ""', ["200 result=0 endpos=3520"]),
        ("5", {"sound_lengths": {"beep": 16320}}, 'STREAM FILE beep "5"', ["200 result=53 endpos=8160"]),
        ("5", {}, 'STREAM FILE beep ""', ["200 result=0 endpos=3520"]),  # 5 is not an escape digit
        ("", {"missing_files": ["beep"]}, 'STREAM FILE beep ""', ["200 result=-1 endpos=0"]),
        ("42", {}, "GET DATA prompt 3000 3", ["200 result=42 (timeout)"]),
        ("794", {}, "GET DATA prompt 3000 2", ["200 result=79"]),
        ("79#1", {}, "GET DATA prompt 3000 3", ["200 result=79"]),
        ("", {"missing_files": ["prompt"]}, "GET DATA prompt 3000 3", ["200 result=-1"]),
        ("", {}, "GET DATA prompt 3000 3", ["200 result= (timeout)"]),
        (",12", {}, "GET DATA prompt 3000 3", ["200 result= (timeout)"]),
        ("7", {}, "WAIT FOR DIGIT 1500", ["200 result=55"]),
        ("", {}, "WAIT FOR DIGIT 1500", ["200 result=0"]),
        ("", {}, 'SAY DIGITS 123 ""', ["200 result=0"]),
        ("#", {}, 'SAY DIGITS 123 "#"', ["200 result=35"]),
        ("", {}, "EXEC Playback beep", ["200 result=0"]),
        ("", {"unknown_apps": ["Nope"]}, "EXEC Nope x", ["200 result=-2"]),
        ("", {}, 'SET VARIABLE FOO "a b \\"q\\""', ["200 result=1"]),
        ("", {"variables": {"FOO": 'a b "q"'}}, "GET VARIABLE FOO", ['200 result=1 (a b "q")']),
        ("", {}, "GET VARIABLE FOO", ["200 result=0"]),
        ("", {"variables": {"A": "x"}}, 'GET FULL VARIABLE "${A}-${B}"', ["200 result=1 (x-)"]),
        ("", {}, 'RECORD FILE f wav "#" 1000', ["200 result=0 (timeout) endpos=0"]),
        ("#", {}, 'RECORD FILE f wav "#" 1000', ["200 result=35 (dtmf) endpos=0"]),
        ("", {}, "FLY AWAY", ["510 Invalid or unknown command"]),
        ("", {}, "NOOP", ["200 result=0"]),
        ("", {}, 'VERBOSE "hello" 1', ["200 result=1"]),
        ("", {}, "GOSUB ctx s 1", ["100 result=0 Trying...", "200 result=0 Gosub complete"]),
    ],
)
def test_replies_as_asterisk_sends_them(
    raw: RawServer, keys: str, options: dict[str, object], command: str, expected: list[str]
) -> None:
    peer = start(raw, caller=Caller(keys), **options)
    assert raw.ask(command, len(expected)) == expected
    finish(raw, peer)


def test_usage_errors_both_forms(raw: RawServer) -> None:
    peer = start(raw)
    lines = raw.ask("STREAM FILE", 3)
    assert lines[0] == "520-Invalid command syntax.  Proper usage follows:"
    assert lines[2] == "520 End of proper usage."
    finish(raw, peer)
    raw2 = RawServer()
    peer = start(raw2, usage_available=False)
    assert raw2.ask("WAIT FOR DIGIT") == ["520 Invalid command syntax.  Proper usage not available."]
    finish(raw2, peer)


def test_set_variable_is_recorded(raw: RawServer) -> None:
    peer = start(raw)
    raw.ask('SET VARIABLE FOO "a b \\"q\\""')
    assert raw.ask("GET VARIABLE FOO") == ['200 result=1 (a b "q")']
    raw.ask('EXEC Playback "a b,c"')
    finish(raw, peer)
    assert peer.variables_set == {"FOO": 'a b "q"'}
    assert peer.exec_calls == [("Playback", "a b,c")]


def test_hangup_command_then_hangup_line_and_dead_mode(raw: RawServer) -> None:
    peer = start(raw)
    assert raw.ask("HANGUP", 2) == ["200 result=1", "HANGUP"]
    assert raw.ask('STREAM FILE beep ""') == [DEAD_511]
    assert raw.ask("ANSWER") == [DEAD_511]
    assert raw.ask("SET VARIABLE HELPLINE_RESULT done") == ["200 result=1"]
    assert raw.ask("GET VARIABLE HELPLINE_RESULT") == ["200 result=1 (done)"]
    assert raw.ask("GET FULL VARIABLE ${HELPLINE_RESULT}") == ["200 result=1 (done)"]
    assert raw.ask('VERBOSE "bye" 1') == ["200 result=1"]
    assert raw.ask("NOOP") == ["200 result=0"]
    assert raw.ask("DATABASE PUT fam key v") == ["200 result=1"]
    assert raw.ask("DATABASE GET fam key") == ["200 result=1 (v)"]
    assert raw.ask("EXEC NoOp x") == ["200 result=0"]
    finish(raw, peer)
    assert peer.dead and peer.server_closed


def test_caller_hangs_up_during_command(raw: RawServer) -> None:
    peer = start(raw, caller=Caller(hangup_at=1))
    assert raw.ask("ANSWER") == ["200 result=0"]
    assert raw.ask('STREAM FILE beep ""', 2) == ["200 result=-1 endpos=1173", "HANGUP"]
    assert raw.ask("GET DATA menu 3000 1") == [DEAD_511]
    finish(raw, peer)


def test_caller_hangs_up_during_record_and_instant_commands(raw: RawServer) -> None:
    peer = start(raw, caller=Caller(hangup_at="RECORD FILE"))
    assert raw.ask("SET VARIABLE A 1") == ["200 result=1"]
    assert raw.ask('RECORD FILE f wav "#" 1000', 2) == ["200 result=-1 (hangup) endpos=1600", "HANGUP"]
    finish(raw, peer)
    raw2 = RawServer()
    peer = start(raw2, caller=Caller(hangup_at=0))
    assert raw2.ask("SET VARIABLE A 1", 2) == ["200 result=1", "HANGUP"]  # instant: completes
    finish(raw2, peer)


def test_caller_hangs_up_between_commands(raw: RawServer) -> None:
    peer = start(raw, caller=Caller(hangup_at="STREAM FILE", hangup_mode="between"))
    assert raw.ask('STREAM FILE beep ""', 2) == ["HANGUP", DEAD_511]
    assert raw.ask("SET VARIABLE X y") == ["200 result=1"]
    finish(raw, peer)


def test_exit_on_hangup_closes_the_connection(raw: RawServer) -> None:
    peer = start(raw, caller=Caller(hangup_at=0), exit_on_hangup=True)
    assert raw.ask("WAIT FOR DIGIT 1000", 2) == ["200 result=-1", "HANGUP"]
    assert raw.at_eof()
    assert peer.join(3) and peer.peer_closed and not peer.server_closed


def test_agisighup_no_sends_no_hangup_line(raw: RawServer) -> None:
    peer = start(raw, caller=Caller(hangup_at=0), sighup=False)
    assert raw.ask("WAIT FOR DIGIT 1000") == ["200 result=-1"]
    assert raw.ask("ANSWER") == [DEAD_511]
    finish(raw, peer)


def test_silent_peer_still_sees_the_server_close(raw: RawServer) -> None:
    peer = start(raw, overrides=[Override(1, action=PeerAction.SILENT)])
    assert raw.ask("ANSWER") == ["200 result=0"]
    assert raw.conn is not None
    raw.conn.sendall(b"NOOP\nNOOP\n")
    raw.conn.settimeout(0.2)
    with pytest.raises(TimeoutError):
        raw.readline()
    finish(raw, peer)
    assert peer.silent and peer.server_closed
    assert peer.commands == ["ANSWER", "NOOP", "NOOP"]


def test_overrides_reply_garbage_close_and_times(raw: RawServer) -> None:
    peer = start(
        raw,
        overrides=[
            Override("noop", reply=["HANGUP", "200 result=0"], times=None),
            Override("ANSWER", action=PeerAction.GARBAGE, delay=0.05),
            Override(5, action=PeerAction.CLOSE),
        ],
    )
    assert raw.ask("NOOP", 2) == ["HANGUP", "200 result=0"]
    assert raw.ask("NOOP", 2) == ["HANGUP", "200 result=0"]
    assert raw.ask("ANSWER") == ["this is not an AGI reply"]
    assert raw.ask("ANSWER") == ["200 result=0"]  # the override applied once
    assert raw.ask("VERBOSE x 1") == ["200 result=1"]
    assert raw.conn is not None
    raw.conn.sendall(b"ANSWER\n")
    assert raw.at_eof()
    assert peer.join(3) and peer.peer_closed


def test_raw_environment_and_transcript(raw: RawServer) -> None:
    peer = AsteriskPeer(raw.address, raw_env=b"agi_network: yes\nno colon here\n\n").start()
    assert raw.accept() == ["agi_network: yes", "no colon here"]
    assert raw.ask("ANSWER") == ["200 result=0"]
    finish(raw, peer)
    times = [entry.at for entry in peer.transcript]
    assert times == sorted(times)
    assert [(e.direction, e.text) for e in peer.transcript if e.direction != "event"][-2:] == [
        ("received", "ANSWER"),
        ("sent", "200 result=0"),
    ]
    assert peer.replies == ["200 result=0"]
    assert "<- ANSWER" in peer.format_transcript()


def test_peer_gives_up_on_a_silent_server(raw: RawServer) -> None:
    peer = AsteriskPeer(raw.address, timeout=0.2).start()
    raw.accept()
    assert peer.join(3)
    assert peer.timed_out and not peer.server_closed


def test_caller_model() -> None:
    caller = Caller("12,#")
    assert caller.take_escape("3") is None
    assert caller.collect(5) == ("12", True)
    assert caller.collect(5) == ("", False)
    assert caller.pending == ""
    caller.press("9")
    assert caller.take_wait() == "9"
    with pytest.raises(ValueError):
        Caller("x")
    assert Caller(hangup_at="get data").hangs_up_at(3, "GET DATA menu 3000 1")


def test_parse_agi_args_like_asterisk() -> None:
    assert parse_agi_args('STREAM FILE beep ""') == ["STREAM", "FILE", "beep", ""]
    assert parse_agi_args('SET VARIABLE FOO "a b \\"q\\" \\\\"') == ["SET", "VARIABLE", "FOO", 'a b "q" \\']
    assert parse_agi_args("EXEC  Playback\ta,b") == ["EXEC", "Playback", "a,b"]


def test_missing_files_as_asterisk_22_answers_them() -> None:
    """GET DATA of a missing file: ``200 result=-1`` at once, no key taken, the AGI still succeeds; STREAM FILE
    and GET OPTION of one: ``result=-1 endpos=<offset>`` and RESULT_FAILURE, so AGISTATUS ends FAILURE."""
    model = AsteriskPeer(("127.0.0.1", 9), caller=Caller("5"), missing_files=["gone"]).channel
    assert model.answer("GET DATA gone 5000 1")[1] == ["200 result=-1"]
    assert model.caller.pending == "5" and model.now() == 0.0 and model.agi_status == "SUCCESS"
    assert model.answer('STREAM FILE gone "" 800')[1] == ["200 result=-1 endpos=800"]
    assert model.agi_status == "FAILURE" and model.caller.pending == "5"
    option = AsteriskPeer(("127.0.0.1", 9), missing_files=["gone"]).channel
    assert option.answer('GET OPTION gone "12"')[1] == ["200 result=-1 endpos=0"] and option.agi_status == "FAILURE"
