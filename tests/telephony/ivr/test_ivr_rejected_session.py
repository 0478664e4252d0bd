"""A malformed environment block closes that session and still leaves a closed call record."""

from __future__ import annotations

import socket
import time

from helpline.data.calls import Call
from helpline.data.database import session
from helpline.services.platform import Platform
from telephony.ivr.agi_handler import start_agi_server


def test_malformed_environment_leaves_a_closed_call_record(platform: Platform) -> None:
    server = start_agi_server(platform, "127.0.0.1", 0, read_timeout=2.0)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
            sock.sendall(b"agi_network: yes\nthis line has no colon\n\n")
            sock.settimeout(2)
            assert sock.recv(1024) == b""  # the server closed the session
        for _ in range(50):
            with session():
                calls = list(Call.select().where(Call.result == "error"))
            if calls:
                break
            time.sleep(0.05)
    finally:
        server.stop()
    assert len(calls) == 1
    assert calls[0].ended_at is not None and calls[0].error["id"] == "IVR-PROTOCOL"


def test_a_call_over_the_cap_is_refused_with_a_closed_record(platform: Platform) -> None:
    from telephony.agi.peermodel import Caller
    from telephony.agi.testpeer import AsteriskPeer, Override

    server = start_agi_server(platform, "127.0.0.1", 0, read_timeout=10.0, max_sessions=1)
    try:
        busy = AsteriskPeer(server.address, script="ivr", env={"dnid": "96266"}, caller=Caller("0"),
                            overrides=[Override("STREAM FILE", delay=3.0)], timeout=10).start()
        while not busy.commands:
            time.sleep(0.02)
        over = AsteriskPeer(server.address, script="ivr", env={"dnid": "96266", "callerid": "13900000001"},
                            caller=Caller("0"), timeout=5).run()
        assert over.variables_set == {"HELPLINE_RESULT": "error"} and over.server_closed, over.format_transcript()
        for _ in range(100):
            with session():
                refused = list(Call.select().where(Call.uniqueid == over.uniqueid))
            if refused and refused[0].ended_at is not None:
                break
            time.sleep(0.05)
        assert busy.join(15)
    finally:
        server.stop()
    assert refused[0].result == "error" and refused[0].error["id"] == "IVR-OVERLOAD"
    assert refused[0].caller_number == "13900000001"
    assert busy.variables_set["HELPLINE_RESULT"] != "error"  # the call under the cap was served
