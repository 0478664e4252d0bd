"""Missing sound files on a real Asterisk 22, played by the test peer byte for byte: ``GET DATA`` of a
missing file answers ``200 result=-1`` at once, so the IVR must still wait for the caller's key (it used to
read it as a timeout: every retry ran in no time and every caller landed at the agent), and log the file
with its flow and node."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from ivr_helpers import record_of

from helpline.services.platform import Platform
from telephony.agi import FastAGIServer
from telephony.agi.peermodel import Caller
from telephony.agi.testpeer import AsteriskPeer
from telephony.ivr import IvrEngine
from telephony.ivr.agi_handler import make_agi_handler

ORDINARY = "13800000001"


@pytest.fixture(scope="module")
def server(ivr_platform: Platform, engine: IvrEngine) -> Iterator[FastAGIServer]:
    srv = FastAGIServer(port=0, read_timeout=2.0, hangup_grace=0.25)
    srv.route("ivr", make_agi_handler(ivr_platform, engine=engine))
    srv.start()
    yield srv
    srv.stop()


def dial(server: FastAGIServer, keys: str, **options: Any) -> AsteriskPeer:
    return AsteriskPeer(server.address, script="ivr/main", env={"callerid": ORDINARY, "dnid": "96266"},
                        caller=Caller(keys), timeout=5.0, **options).run()


def reply_to(peer: AsteriskPeer, command: str) -> str:
    """The line the peer sent right after it received ``command``."""
    entries = peer.transcript
    at = next(i for i, e in enumerate(entries) if e.direction == "received" and e.text == command)
    return next(e.text for e in entries[at + 1:] if e.direction == "sent")


def test_a_menu_whose_prompt_is_missing_still_takes_the_callers_key(server: FastAGIServer,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="telephony.ivr"):
        peer = dial(server, ",10", missing_files=["helpline/main-menu"])  # the welcome plays through
    assert peer.variables_set["HELPLINE_QUEUE"] == "consult", peer.format_transcript()
    menu = peer.commands.index("GET DATA helpline/main-menu 5000 1")
    assert reply_to(peer, "GET DATA helpline/main-menu 5000 1") == "200 result=-1"  # as Asterisk 22: at once
    assert peer.commands[menu + 1] == "WAIT FOR DIGIT 5000", "the node's timeout, for the caller's key"
    assert peer.replies[peer.replies.index("200 result=-1") + 1] == "200 result=49"  # '1'
    steps = {s["node"]: s for s in record_of(peer)["trail"]}
    assert steps["main_menu"]["missing"] == ["main_menu"] and steps["main_menu"]["choice"] == "1"
    assert steps["main_menu"]["digits"] == ["1"]
    logged = [r.getMessage() for r in caplog.records if "helpline/main-menu" in r.getMessage()]
    assert logged and "flow main, node main_menu" in logged[0], caplog.text
    assert peer.agi_status == "SUCCESS", "GET DATA of a missing file does not fail the AGI"


def test_silence_after_a_missing_menu_prompt_is_a_timeout_after_the_wait(server: FastAGIServer) -> None:
    peer = dial(server, ",,,,", missing_files=["helpline/main-menu"])
    waits = [c for c in peer.commands if c.startswith("WAIT FOR DIGIT")]
    assert waits == ["WAIT FOR DIGIT 5000"] * 3, peer.format_transcript()
    steps = {s["node"]: s for s in record_of(peer)["trail"]}
    assert steps["main_menu"]["digits"] == ["(timeout)"] * 3
    assert steps["main_menu"]["outcome"] == "retries exhausted"


def test_a_collect_whose_prompt_is_missing_collects_every_digit(server: FastAGIServer) -> None:
    peer = dial(server, "2" "123456" "0", missing_files=["helpline/enter-password"])
    assert peer.variables_set["HELPLINE_QUEUE"] == "query", peer.format_transcript()
    at = peer.commands.index("GET DATA helpline/enter-password 8000 6")
    assert peer.commands[at + 1:at + 7] == ["WAIT FOR DIGIT 8000"] * 6
    steps = {s["node"]: s for s in record_of(peer)["trail"]}
    password = next(s for name, s in steps.items() if "enter_password" in s.get("prompts", []))
    assert password["missing"] == ["enter_password"] and password["outcome"].startswith("accepted")
