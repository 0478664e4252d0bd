"""The AGI environment block: the exact block Asterisk 22 sends, and malformed or oversized input."""

from __future__ import annotations

import io
import socket
import time

import pytest

from telephony.agi import AgiEnvironment, AgiProtocolError, AgiTimeoutError, HelplineAGI, parse_environment
from telephony.agi.environment import read_environment

# docs/asterisk-agi.md, "Environment block", as observed from Asterisk 22.10.1 (comments removed)
DOC_BLOCK = """\
agi_network: yes
agi_network_script: ivr
agi_request: agi://127.0.0.1:4573/ivr
agi_channel: Local/ivr@ivr-test-00000000;2
agi_language: en
agi_type: Local
agi_uniqueid: 1795382822.1
agi_version: 22.10.1
agi_callerid: unknown
agi_calleridname: unknown
agi_callingpres: 67
agi_callingani2: 0
agi_callington: 0
agi_callingtns: 0
agi_dnid: unknown
agi_rdnis: unknown
agi_context: ivr-test
agi_extension: s
agi_priority: 2
agi_enhanced: 0.0
agi_accountcode:\x20
agi_threadid: 139775321507520
agi_arg_1: arg1
agi_arg_2: arg two

"""


def read(text: str) -> AgiEnvironment:
    return read_environment(io.StringIO(text).readline)


def test_exact_block_from_the_doc() -> None:
    env = read(DOC_BLOCK)
    assert env.network is True
    assert (env.network_script, env.script_path, env.query) == ("ivr", "ivr", {})
    assert env.request == "agi://127.0.0.1:4573/ivr"
    assert env.channel == "Local/ivr@ivr-test-00000000;2"
    assert (env.language, env.type, env.uniqueid, env.version) == ("en", "Local", "1795382822.1", "22.10.1")
    assert (env.callerid, env.calleridname, env.dnid, env.rdnis) == ("unknown",) * 4
    assert env.caller_number is None and env.dialled_number is None
    assert (env.context, env.extension, env.priority) == ("ivr-test", "s", "2")
    assert env.accountcode == "" and env.threadid == "139775321507520"
    assert env.args == ["arg1", "arg two"]
    assert len(env.raw) == 24 and env.raw["agi_callingpres"] == "67"


def test_the_same_block_read_by_helplineagi() -> None:
    agi = HelplineAGI(io.StringIO(DOC_BLOCK), io.StringIO(), read_timeout=1.0)
    assert agi.environment == read(DOC_BLOCK)
    assert agi.env["agi_uniqueid"] == "1795382822.1"  # pyst2's dict is filled too
    assert agi.uniqueid == "1795382822.1"


def test_script_query_and_numbered_args() -> None:
    lines = [
        "agi_network_script: /ivr/main?lang=zh_CN&x=1&x=2&empty=",
        "agi_callerid: 13800138000",
        "agi_dnid: 95000",
        *[f"agi_arg_{n}: a{n}" for n in (10, 2, 1, 11, 3, 4, 5, 6, 7, 8, 9, 12)],
    ]
    env = parse_environment(lines)
    assert env.script_path == "ivr/main" and env.flow == "main"
    assert env.query == {"lang": ["zh_CN"], "x": ["1", "2"], "empty": [""]}
    assert env.args == [f"a{n}" for n in range(1, 13)]
    assert env.caller_number == "13800138000" and env.dialled_number == "95000"


def test_values_keep_colons_and_inner_spaces() -> None:
    env = parse_environment(["agi_request: agi://h:4573/ivr", "agi_calleridname: Mr  X: boss "])
    assert env.request == "agi://h:4573/ivr"
    assert env.calleridname == "Mr  X: boss "


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["agi_network: yes", "no colon here"], "line 2 has no ':'"),
        (["bad key!: x"], "invalid key"),
        (["agi_request: " + "x" * 9000], "longer than 8192"),
        ([f"agi_arg_{n}: a" for n in range(1, 130)], "more than 128"),
        (["agi_arg_0: a"], "more than 128"),
        ([f"agi_x{n}: a" for n in range(201)], "longer than 200 lines"),
    ],
    ids=["no-colon", "bad-key", "line-over-8k", "129-args", "arg-0", "201-lines"],
)
def test_malformed_or_oversized_block(lines: list[str], message: str) -> None:
    with pytest.raises(AgiProtocolError, match=message):
        parse_environment(lines)
    with pytest.raises(AgiProtocolError, match=message):
        read("\n".join(lines) + "\n\n")


def test_end_of_stream_inside_the_block() -> None:
    with pytest.raises(AgiProtocolError, match="inside the environment block"):
        read("agi_network: yes\nagi_network_script: ivr\n")


def test_endless_block_is_cut_before_the_blank_line() -> None:
    endless = "".join(f"agi_x{n}: a\n" for n in range(10_000))
    with pytest.raises(AgiProtocolError, match="longer than 200 lines"):
        read(endless)


def test_silent_peer_during_the_block_times_out() -> None:
    ours, theirs = socket.socketpair()
    try:
        theirs.sendall(b"agi_network: yes\n")
        started = time.monotonic()
        with pytest.raises(AgiTimeoutError):
            HelplineAGI.from_socket(ours, read_timeout=0.2)
        assert time.monotonic() - started < 5
        assert theirs.recv(10) == b""  # the connection was closed
    finally:
        theirs.close()
        ours.close()
