"""``AGISTATUS=FAILURE`` after a session that completed: Asterisk 22 ends the AGI with FAILURE once a command
returned RESULT_FAILURE (a ``STREAM FILE`` of a missing sound file). Helpline sets ``HELPLINE_RESULT`` first
thing in every session, and the sample dialplan decides on it before ``AGISTATUS``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from ivr_helpers import record_of

from helpline.services.platform import Platform
from telephony.agi import FastAGIServer
from telephony.agi.peermodel import Caller
from telephony.agi.testpeer import AsteriskPeer, Override, PeerAction
from telephony.ivr import IvrEngine
from telephony.ivr.agi_handler import make_agi_handler

DIALPLAN = Path(__file__).resolve().parents[3] / "telephony" / "asterisk" / "extensions.conf"
PRESET = 'SET VARIABLE "HELPLINE_RESULT" "error"'


@pytest.fixture(scope="module")
def server(ivr_platform: Platform, engine: IvrEngine) -> Iterator[FastAGIServer]:
    srv = FastAGIServer(port=0, read_timeout=0.5, hangup_grace=0.25)
    srv.route("ivr", make_agi_handler(ivr_platform, engine=engine))
    srv.start()
    yield srv
    srv.stop()


def after_agi(variables: dict[str, str], context: str = "helpline-inbound") -> str:
    """Where the sample dialplan's ``context`` goes after ``AGI()`` returns with these channel variables:
    its GotoIf/Goto lines are evaluated in order (only ``$["${VAR}" = "value"]`` conditions occur there)."""
    lines = DIALPLAN.read_text().splitlines()
    start = lines.index(f"[{context}]")
    body = [line.strip() for line in lines[start + 1:]]
    body = body[:next((i for i, line in enumerate(body) if line.startswith("exten => ") and i > 2), len(body))]
    agi = next(i for i, line in enumerate(body) if ",AGI(" in line)
    for line in body[agi + 1:]:
        test = re.fullmatch(r'same => n,GotoIf\(\$\["\$\{(\w+)\}" = "(\w*)"\]\?([\w,-]+)\)', line)
        if test:
            if variables.get(test.group(1), "") == test.group(2):
                return test.group(3)
            continue
        goto = re.fullmatch(r"same => n,Goto\(([\w,-]+)\)", line)
        if goto:
            return goto.group(1)
    raise AssertionError(f"no Goto after AGI() in [{context}]")


def test_helpline_result_is_set_first_and_decides_over_agistatus(server: FastAGIServer) -> None:
    peer = AsteriskPeer(server.address, script="ivr/main", env={"callerid": "13800000001", "dnid": "96266"},
                        caller=Caller("0"), timeout=5.0, missing_files=["helpline/welcome"]).run()
    assert peer.commands[0] == PRESET, peer.format_transcript()
    assert peer.channel.variables_set[0] == ("HELPLINE_RESULT", "error")
    assert peer.variables_set["HELPLINE_RESULT"] == "transfer" and record_of(peer)["result"] == "transfer"
    assert peer.agi_status == "FAILURE", "Asterisk 22: a STREAM FILE of a missing file fails the whole AGI"
    variables = {**peer.variables_set, "AGISTATUS": peer.agi_status}
    assert after_agi(variables) == "queue,1", "the caller goes to the queue the IVR chose, not the fallback"


def test_a_session_cut_short_leaves_error_not_empty(server: FastAGIServer) -> None:
    peer = AsteriskPeer(server.address, script="ivr/main", env={"callerid": "13800000001", "dnid": "96266"},
                        caller=Caller("0"), timeout=5.0,
                        overrides=[Override("STREAM FILE", action=PeerAction.SILENT)]).run()
    assert peer.commands[:2] == [PRESET, "ANSWER"], peer.format_transcript()
    assert peer.variables_set == {"HELPLINE_RESULT": "error"}
    assert after_agi({**peer.variables_set, "AGISTATUS": "SUCCESS"}) == "fallback,1"


@pytest.mark.parametrize(("variables", "target"), [
    ({"AGISTATUS": "FAILURE"}, "fallback,1"),  # no FastAGI server answered: HELPLINE_RESULT empty
    ({"AGISTATUS": "FAILURE", "HELPLINE_RESULT": "completed"}, "done,1"),
    ({"AGISTATUS": "FAILURE", "HELPLINE_RESULT": "connected"}, "hangup,1"),
    ({"AGISTATUS": "SUCCESS", "HELPLINE_RESULT": "error"}, "fallback,1"),
    ({"AGISTATUS": "SUCCESS", "HELPLINE_RESULT": "blocked"}, "hangup,1"),
])
def test_the_sample_dialplan_decides_on_helpline_result_first(variables: dict[str, str], target: str) -> None:
    assert after_agi(variables) == target
