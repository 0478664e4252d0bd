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
