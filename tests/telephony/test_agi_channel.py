"""HelplineAGI: one test (or more) per pyst2 0.5.1 defect, plus reply parsing, limits and timeouts."""

from __future__ import annotations

import io
import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from asterisk.agi import AGI, AGIAppError, AGIHangup, AGIInvalidCommand, AGIUnknownError, AGIUsageError

from telephony.agi import (
    AgiChannelHangup,
    AgiConnectionClosed,
    AgiDeadChannel,
    AgiProtocolError,
    AgiSessionStopped,
    AgiTimeoutError,
    DigitsResult,
    HelplineAGI,
    PlaybackResult,
    RecordResult,
    SoundFileMissing,
)
from telephony.agi.peermodel import parse_agi_args
from telephony.agi.reply import parse_reply

ENV = "agi_network: yes\nagi_network_script: ivr/main\nagi_uniqueid: 1795382822.7\n\n"


def agi_with(*replies: str, env: str = ENV, **options: object) -> tuple[HelplineAGI, io.StringIO]:
    """A session over in-memory text files: Asterisk's side is the list of reply lines."""
    out = io.StringIO()
    rfile = io.StringIO(env + "".join(reply + "\n" for reply in replies))
    settings: dict[str, object] = {"read_timeout": 1.0, "hangup_grace": 0.05, **options}
    return HelplineAGI(rfile, out, **settings), out  # type: ignore[arg-type]


def sent(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    yield ours, theirs
    for sock in (ours, theirs):
        sock.close()


def socket_agi(ours: socket.socket, theirs: socket.socket, **options: object) -> HelplineAGI:
    theirs.sendall(ENV.encode())
    settings: dict[str, object] = {"read_timeout": 0.3, "hangup_grace": 0.05, **options}
    return HelplineAGI.from_socket(ours, **settings)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- defect 1: SIGHUP
def test_defect01_no_sighup_handler_and_works_outside_main_thread() -> None:
    before = signal.getsignal(signal.SIGHUP)
    box: dict[str, object] = {}

    def build() -> None:
        try:
            agi, out = agi_with("200 result=0")
            agi.answer()
            box["sent"] = sent(out)
        except Exception as exc:  # pragma: no cover - reported below
            box["error"] = exc

    worker = threading.Thread(target=build)
    worker.start()
    worker.join(5)
    assert "error" not in box, box.get("error")
    assert box["sent"] == ["ANSWER"]
    assert signal.getsignal(signal.SIGHUP) is before


def test_defect01_pyst2_base_still_fails_outside_main_thread() -> None:
    """Documents why the subclass skips AGI.__init__ (fails if pyst2 ever fixes it)."""
    box: dict[str, BaseException] = {}

    def build() -> None:
        try:
            AGI(stdin=io.StringIO("\n"), stdout=io.StringIO(), stderr=io.StringIO())
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=build)
    worker.start()
    worker.join(5)
    assert isinstance(box.get("error"), ValueError)


# ----------------------------------------------------------------- defect 2: text-mode sockets
def test_defect02_works_over_socket_text_mode_files(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    agi = socket_agi(ours, theirs)
    assert agi.environment.script_path == "ivr/main"
    theirs.sendall("200 result=1\n200 result=1 (Zoë ☎)\n".encode())
    agi.set_variable("NAME", "Zoë ☎")
    assert agi.get_variable("NAME") == "Zoë ☎"
    received = theirs.recv(4096)
    assert received == 'SET VARIABLE "NAME" "Zoë ☎"\nGET VARIABLE "NAME"\n'.encode()
    agi.close()
    assert theirs.recv(10) == b""  # close() really closes the connection


# ------------------------------------------------------------------ defect 3: bare HANGUP line
def test_defect03_bare_hangup_line_consumed_and_stream_stays_in_sync() -> None:
    agi, out = agi_with("HANGUP", "200 result=1", "200 result=1 (after)")
    agi.set_variable("HELPLINE_RESULT", "done")  # dead mode still allows SET VARIABLE
    assert agi.hangup_received and agi.dead
    assert agi.get_variable("X") == "after"  # the next reply is the right one
    assert sent(out) == ['SET VARIABLE "HELPLINE_RESULT" "done"', 'GET VARIABLE "X"']


def test_defect03_hangup_line_before_511() -> None:
    agi, _ = agi_with("HANGUP", "511 Command Not Permitted on a dead channel or intercept routine")
    with pytest.raises(AgiDeadChannel):
        agi.stream_file("beep")
    assert agi.hangup_received


# ------------------------------------------------------------------ defect 4: end of stream
def test_defect04_end_of_stream_raises_hangup() -> None:
    agi, _ = agi_with()
    with pytest.raises(AgiConnectionClosed) as caught:
        agi.answer()
    assert isinstance(caught.value, AGIHangup)
    with pytest.raises(AgiConnectionClosed):  # and keeps doing so
        agi.noop()
    assert agi.dead


def test_defect04_broken_pipe_raises_hangup(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    agi = socket_agi(ours, theirs)
    theirs.close()
    with pytest.raises(AGIHangup):
        for _ in range(50):  # the first writes may still be buffered by the kernel
            agi.verbose("hello")


# ------------------------------------------------------------------------------- defect 5: 511
def test_defect05_511_raises_dead_channel_hangup() -> None:
    agi, _ = agi_with("511 Command Not Permitted on a dead channel or intercept routine")
    with pytest.raises(AgiDeadChannel) as caught:
        agi.answer()
    assert isinstance(caught.value, AGIHangup)
    assert agi.dead


# ------------------------------------------------------------------------------- defect 6: 520
def test_defect06_single_line_520_does_not_block(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    agi = socket_agi(ours, theirs, read_timeout=10.0)
    theirs.sendall(b"520 Invalid command syntax.  Proper usage not available.\n")
    started = time.monotonic()
    with pytest.raises(AGIUsageError, match="Proper usage not available"):
        agi.execute("WAIT FOR DIGIT")
    assert time.monotonic() - started < 5  # not blocked until the 10 s read timeout
    agi.close()


def test_defect06_multi_line_520_read_to_end_of_usage() -> None:
    agi, _ = agi_with(
        "520-Invalid command syntax.  Proper usage follows:",
        " Usage: STREAM FILE <filename> <escape_digits> [sample offset]",
        "520 End of proper usage.",
        "200 result=0",
    )
    with pytest.raises(AGIUsageError) as caught:
        agi.execute("STREAM FILE")
    assert "Usage: STREAM FILE" in str(caught.value)
    agi.answer()  # the stream is still in sync


# -------------------------------------------------------------------------- defect 7: quoting
@pytest.mark.parametrize("value", ['a b "q"', "back\\slash", 'both \\" mixed', "", "plain"])
def test_defect07_quote_escapes_quotes_and_backslashes(value: str) -> None:
    agi, out = agi_with("200 result=1")
    agi.set_variable("FOO", value)
    assert parse_agi_args(sent(out)[0]) == ["SET", "VARIABLE", "FOO", value]


def test_defect07_doc_example_and_line_breaks() -> None:
    agi, out = agi_with("200 result=1", "200 result=1")
    agi.set_variable("FOO", 'a b "q"')
    agi.verbose("two\nlines")
    assert sent(out) == ['SET VARIABLE "FOO" "a b \\"q\\""', 'VERBOSE "two lines" 1']
    with pytest.raises(ValueError):
        agi.execute("NOOP", "x\ny")


# ----------------------------------------------------------------------- defect 8: EXEC args
def test_defect08_exec_command_sends_one_quoted_comma_separated_argument() -> None:
    agi, out = agi_with("200 result=0", "200 result=0")
    assert agi.exec_command("Playback", "a b", "c") == 0
    agi.exec_command("Answer")
    assert sent(out) == ['EXEC Playback "a b,c"', "EXEC Answer"]
    assert parse_agi_args(sent(out)[0])[2] == "a b,c"  # what the application receives


def test_defect08_unknown_application_raises() -> None:
    agi, _ = agi_with("200 result=-2")
    with pytest.raises(AGIAppError, match="Unable to find application"):
        agi.exec_command("NoSuchApp", "x")


# --------------------------------------------------------- defect 9: missing file vs hang-up
def test_defect09_missing_sound_file_is_a_result() -> None:
    agi, _ = agi_with("200 result=-1 endpos=0", "200 result=0")
    assert agi.stream_file("nothere") == SoundFileMissing("nothere")
    assert not agi.dead
    agi.answer()  # still in sync, channel alive


def test_defect09_result_minus1_then_hangup_line_is_a_hangup() -> None:
    agi, _ = agi_with("200 result=-1 endpos=0", "HANGUP", "200 result=1")
    with pytest.raises(AgiChannelHangup) as caught:
        agi.stream_file("beep")
    assert isinstance(caught.value, AGIHangup)
    assert agi.dead and agi.hangup_received
    agi.set_variable("HELPLINE_RESULT", "hangup")  # dead mode: still in sync


def test_defect09_minus1_mid_stream_without_hangup_line_is_a_hangup() -> None:
    agi, _ = agi_with("200 result=-1 endpos=1200", "200 result=0")  # AGISIGHUP=no
    with pytest.raises(AgiChannelHangup):
        agi.stream_file("beep")


def test_defect09_get_data_missing_prompt_vs_hangup() -> None:
    agi, _ = agi_with("200 result=-1", "200 result=-1", "HANGUP")
    assert agi.get_data("noprompt", 3000, 3) == SoundFileMissing("noprompt")
    with pytest.raises(AgiChannelHangup):
        agi.get_data("menu", 3000, 3)


def test_defect09_playback_results() -> None:
    agi, out = agi_with("200 result=0 endpos=3520", "200 result=53 endpos=8160")
    assert agi.stream_file("beep") == PlaybackResult(digit="", endpos=3520)
    assert agi.stream_file("beep", "12345") == PlaybackResult(digit="5", endpos=8160)
    assert sent(out) == ['STREAM FILE beep ""', 'STREAM FILE beep "12345"']


# ------------------------------------------------------------- defect 10: timeout/dtmf flags
@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("200 result=42 (timeout)", DigitsResult("42", timed_out=True)),
        ("200 result=79", DigitsResult("79", timed_out=False)),
        ("200 result= (timeout)", DigitsResult("", timed_out=True)),
    ],
)
def test_defect10_get_data_reports_timeout_flag(reply: str, expected: DigitsResult) -> None:
    agi, out = agi_with(reply)
    assert agi.get_data("prompt", 3000, 3) == expected
    assert sent(out) == ["GET DATA prompt 3000 3"]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("200 result=0 (timeout) endpos=0", RecordResult("", 0, timed_out=True)),
        ("200 result=35 (dtmf) endpos=0", RecordResult("#", 0)),
        ("200 result=-1 (hangup) endpos=4000", RecordResult("", 4000, hung_up=True)),
    ],
)
def test_defect10_record_file_reports_flags(reply: str, expected: RecordResult) -> None:
    agi, out = agi_with(reply)
    assert agi.record_file("f", "wav", "#", 1000) == expected
    assert sent(out) == ['RECORD FILE f wav "#" 1000 0 BEEP']
    assert agi.dead is expected.hung_up


def test_defect10_record_file_write_error_raises() -> None:
    agi, _ = agi_with("200 result=-1 (writefile)", "200 result=0")
    with pytest.raises(AGIAppError, match="writefile"):
        agi.record_file("/nope/f", silence=2)


# ------------------------------------------------------------------ replies, limits, timeouts
def test_reply_parser_keeps_data_with_parentheses_and_fields() -> None:
    reply = parse_reply("200 result=1 (a (b) c)")
    assert (reply.result, reply.data) == ("1", "a (b) c")
    reply = parse_reply("200 result=0 (timeout) endpos=0")
    assert reply.as_pyst2() == {"result": ("0", "timeout"), "endpos": ("0", "")}


def test_variable_named_hangup_is_just_a_value() -> None:
    agi, _ = agi_with("200 result=1 (hangup)", "200 result=0")
    assert agi.get_variable("X") == "hangup"
    assert agi.get_variable("UNSET") == ""
    assert not agi.dead


def test_pyst2_helpers_still_work() -> None:
    agi, out = agi_with("200 result=55", "200 result=0", "200 result=35", "200 result=1", "200 result=1 (v)")
    assert agi.wait_for_digit(1500) == "7"
    assert agi.wait_for_digit(1500) == ""
    assert agi.say_digits("123", "#") == "#"
    agi.hangup()
    assert agi.database_get("fam", "key") == "v"
    assert sent(out)[-1] == 'DATABASE GET "fam" "key"'
    assert agi.dead


def test_invalid_command_unknown_code_and_trying() -> None:
    agi, _ = agi_with("510 Invalid or unknown command", "999 what", "100 result=0 Trying...", "200 result=0")
    with pytest.raises(AGIInvalidCommand):
        agi.execute("FLY")
    with pytest.raises(AGIUnknownError):
        agi.noop()
    assert agi.execute("GOSUB", "ctx", "s", "1")["result"] == ("0", "")


def test_garbage_reply_is_a_protocol_error() -> None:
    agi, _ = agi_with("Segmentation fault", "200 result=0")
    with pytest.raises(AgiProtocolError):
        agi.answer()
    with pytest.raises(AgiProtocolError):  # the session is not trusted any more
        agi.answer()
    assert agi.broken


def test_oversized_reply_line_is_a_protocol_error() -> None:
    agi, _ = agi_with("200 result=1 (" + "x" * 9000 + ")")
    with pytest.raises(AgiProtocolError, match="longer than"):
        agi.get_variable("BIG")


def test_non_utf8_reply_is_a_protocol_error(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    agi = socket_agi(ours, theirs)
    theirs.sendall(b"200 result=1 (\xff\xfe)\n")
    with pytest.raises(AgiProtocolError, match="UTF-8"):
        agi.get_variable("X")
    agi.close()


def test_silent_peer_raises_timeout(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    agi = socket_agi(ours, theirs, read_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(AgiTimeoutError):
        agi.answer()
    assert 0.15 < time.monotonic() - started < 5
    theirs.sendall(b"200 result=0\n")  # a late reply cannot be matched any more
    with pytest.raises(AgiTimeoutError):
        agi.answer()
    agi.close()


def test_reply_timeout_context_and_request_stop(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    agi = socket_agi(ours, theirs, read_timeout=0.1)
    with agi.reply_timeout(None):
        assert agi.read_timeout is None
        threading.Timer(0.2, agi.request_stop).start()
        started = time.monotonic()
        with pytest.raises(AgiSessionStopped):
            agi.answer()
        assert time.monotonic() - started < 5  # no read timeout: only the stop ends the wait
    assert agi.read_timeout == 0.1
    agi.close()
