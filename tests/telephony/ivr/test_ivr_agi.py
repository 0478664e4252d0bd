"""The demo flows over FastAGI: ``FastAGIServer`` + ``make_agi_handler`` driven by the Asterisk test peer.

Covers the AGI side of every outcome: branches, timeouts, retries, the password check, VIP skip,
blacklist, outage, hang-up at every command (both hang-up forms), garbage lines, a silent peer, 511,
a closed connection, missing sound files, and the channel variables the dialplan reads.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from ivr_helpers import record_of

from helpline.services.platform import Platform
from telephony.agi import FastAGIServer
from telephony.agi.peermodel import Caller
from telephony.agi.testpeer import AsteriskPeer, Override, PeerAction
from telephony.ivr import IvrEngine
from telephony.ivr.agi_handler import make_agi_handler

ORDINARY, GOLD, PLATINUM, BLACKLISTED, YUEYANG = (f"1380000000{i}" for i in range(1, 6))
ALL_KEYS = '"0123456789*#"'


@pytest.fixture(scope="module")
def server(ivr_platform: Platform, engine: IvrEngine) -> Iterator[FastAGIServer]:
    srv = FastAGIServer(port=0, read_timeout=0.5, hangup_grace=0.25)  # the default grace: robust under load
    srv.route("ivr", make_agi_handler(ivr_platform, engine=engine))
    srv.start()
    yield srv
    srv.stop()


def dial(server: FastAGIServer, keys: str = "", number: str = ORDINARY, *, script: str = "ivr/main",
         dnid: str = "96266", **options: Any) -> AsteriskPeer:
    caller = options.pop("caller", None) or Caller(keys)
    peer = AsteriskPeer(server.address, script=script, env={"callerid": number, "dnid": dnid}, caller=caller,
                        timeout=5.0, **options)
    return peer.run()



def test_a_call_to_an_agent(server: FastAGIServer) -> None:
    peer = dial(server, "0")
    assert peer.commands[:4] == ['SET VARIABLE "HELPLINE_RESULT" "error"', "ANSWER",  # error until the end
                                 f"STREAM FILE helpline/welcome {ALL_KEYS}", 'STREAM FILE helpline/connecting ""'], \
        peer.format_transcript()
    assert peer.variables_set == {"HELPLINE_RESULT": "transfer", "HELPLINE_CALL_ID": peer.variables_set[
        "HELPLINE_CALL_ID"], "HELPLINE_QUEUE": "general", "HELPLINE_TIER": "ordinary"}
    assert peer.server_closed and not peer.dead, "a transfer leaves the channel up for the dialplan's Queue()"
    record = record_of(peer)
    assert record["switch"] == "agi" and record["result"] == "transfer"
    assert str(record["id"]) == peer.variables_set["HELPLINE_CALL_ID"]
    assert record["channel"].startswith("Local/")


@pytest.mark.parametrize(("keys", "queue"), [
    ("10", "consult"), ("2123456" "0", "query"), ("31", "complaint"), ("32", "fault"), ("5", "business"),
    ("421", "fault"),
])
def test_branches(server: FastAGIServer, keys: str, queue: str) -> None:
    peer = dial(server, keys)
    assert peer.variables_set["HELPLINE_QUEUE"] == queue, peer.format_transcript()


def test_flow_by_dialled_number(server: FastAGIServer) -> None:
    peer = dial(server, "1", script="ivr", dnid="96267")
    assert "STREAM FILE helpline/broadband-welcome" in peer.commands[2]
    assert peer.variables_set["HELPLINE_QUEUE"] == "fault"


def test_no_flow_sets_error_for_the_dialplan_fallback(server: FastAGIServer) -> None:
    peer = dial(server, "1", script="ivr", dnid="55555")
    assert peer.variables_set["HELPLINE_RESULT"] == "error" and peer.server_closed
    assert record_of(peer)["error"]["id"] == "IVR-NO-FLOW"


def test_timeouts_and_retries(server: FastAGIServer) -> None:
    peer = dial(server, ",")
    gets = [c for c in peer.commands if c.startswith("GET DATA helpline/main-menu")]
    assert gets == ["GET DATA helpline/main-menu 5000 1"] * 3
    assert peer.replies.count("200 result= (timeout)") == 3
    assert peer.played.count("helpline/no-input") == 2
    assert peer.variables_set["HELPLINE_QUEUE"] == "general"


def test_wrong_password_twice(server: FastAGIServer) -> None:
    peer = dial(server, "2" "111111" "222222")
    assert "GET DATA helpline/enter-password 8000 6" in peer.commands
    assert peer.played[-1] == "helpline/service-ended"
    assert [c.split()[0] for c in peer.commands[-4:]] == ["HANGUP", "SET", "SET", "SET"]
    assert peer.dead and peer.variables_set["HELPLINE_RESULT"] == "completed"
    assert "111111" not in str(record_of(peer))


def test_vip_skip_blacklist_and_outage(server: FastAGIServer) -> None:
    vip = dial(server, "", PLATINUM)
    assert vip.variables_set["HELPLINE_QUEUE"] == "vip" and vip.variables_set["HELPLINE_TIER"] == "platinum"
    assert not any(c.startswith("GET DATA") for c in vip.commands)
    blocked = dial(server, "0", BLACKLISTED)
    assert blocked.variables_set["HELPLINE_RESULT"] == "blocked"
    assert "HELPLINE_QUEUE" not in blocked.variables_set and blocked.played[-1] == "helpline/blocked"
    outage = dial(server, "0", YUEYANG)
    assert outage.played[:3] == ["helpline/outage-intro", "helpline/outage-yueyang", "helpline/welcome"]
    assert outage.variables_set["HELPLINE_QUEUE"] == "fault"


def test_hang_up_at_every_command(server: FastAGIServer) -> None:
    keys = "2" "123456" "1" "0"
    reference = dial(server, keys)
    media = [i for i, c in enumerate(reference.commands) if not c.startswith("SET VARIABLE")]
    assert len(media) >= 8, reference.format_transcript()
    ref_nodes = [s["node"] for s in record_of(reference)["trail"]]
    where: set[str] = set()
    for mode in ("during", "between"):
        for index in media:
            peer = dial(server, caller=Caller(keys, hangup_at=index, hangup_mode=mode))  # type: ignore[arg-type]
            assert peer.server_closed, (mode, index, peer.format_transcript())
            after = peer.commands[index + 1:]
            assert all(c.startswith("SET VARIABLE") for c in after), (mode, index, after)
            assert peer.variables_set.get("HELPLINE_RESULT") == "hangup", (mode, index)
            record = record_of(peer)
            assert record["result"] == "hangup" and record["hangup_node"] in ref_nodes, (mode, index)
            where.add(record["hangup_node"])
    silent = {"outage", "screen", "main_menu", "query_identify", "balance", "to_agent"}  # no AGI command
    assert where == {n for n in ref_nodes if n not in silent}


def test_garbage_line_ends_the_call_with_an_error(server: FastAGIServer) -> None:
    peer = dial(server, "1", overrides=[Override("GET DATA", action=PeerAction.GARBAGE)])
    assert peer.server_closed
    record = record_of(peer)
    assert record["result"] == "error" and record["error"]["id"] == "IVR-SWITCH"
    assert "not AGI" in record["error"]["message"] or "unexpected line" in record["error"]["message"]


def test_a_peer_that_stops_answering(server: FastAGIServer) -> None:
    started = time.monotonic()
    peer = dial(server, "1", overrides=[Override("GET DATA", action=PeerAction.SILENT)])
    assert peer.server_closed and time.monotonic() - started < 3
    record = record_of(peer)
    assert record["result"] == "error" and "within" in record["error"]["message"]


def test_dead_channel_and_closed_connection_are_hangups(server: FastAGIServer) -> None:
    dead = dial(server, "1", overrides=[
        Override("STREAM FILE helpline/welcome", reply="511 Command Not Permitted on a dead channel or intercept "
                                                       "routine")])
    assert record_of(dead)["result"] == "hangup" and record_of(dead)["hangup_node"] == "greeting"
    closed = dial(server, "1", overrides=[Override("GET DATA", action=PeerAction.CLOSE)])
    record = record_of(closed)
    assert record["result"] == "hangup" and record["hangup_node"] == "consult_menu"


def test_usage_error_is_an_error(server: FastAGIServer) -> None:
    peer = dial(server, "1", overrides=[
        Override("GET DATA", reply="520 Invalid command syntax.  Proper usage not available.")])
    assert record_of(peer)["result"] == "error" and peer.variables_set["HELPLINE_RESULT"] == "error"


def test_missing_sound_files_do_not_stop_the_call(server: FastAGIServer) -> None:
    peer = dial(server, "", missing_files=["helpline/welcome", "helpline/main-menu"])
    assert peer.variables_set["HELPLINE_QUEUE"] == "general"
    record = record_of(peer)
    steps = {s["node"]: s for s in record["trail"]}
    assert steps["greeting"]["missing"] == ["welcome"] and "main_menu" in steps["main_menu"]["missing"]


def test_say_and_record_over_agi(server: FastAGIServer) -> None:
    said = dial(server, "2" "123456" "1" "0")
    assert f'SAY DIGITS "{ORDINARY}" ""' in said.commands
    recorded = dial(server, "33#")
    record_cmd = next(c for c in recorded.commands if c.startswith("RECORD FILE"))
    assert record_cmd.startswith("RECORD FILE helpline/messages/") and " wav " in record_cmd
    assert record_of(recorded)["recording"].endswith("-suggestion.wav")
