"""``run.py agi``: its options, and a node that serves a call and stops when told to."""

from __future__ import annotations

import argparse
import socket
import threading
import time
from pathlib import Path

from helpline.cli import agi_cmd
from telephony.agi.peermodel import Caller
from telephony.agi.testpeer import AsteriskPeer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_agi_command_serves_calls_and_stops(tmp_path: Path, demo_metadata: Path) -> None:
    parser = argparse.ArgumentParser()
    agi_cmd.add_parser(parser.add_subparsers())
    port = _free_port()
    args = parser.parse_args(["agi", "--db", f"sqlite:///{tmp_path}/h.db", "--metadata", str(demo_metadata),
                              "--agi-port", str(port), "--read-timeout", "2"])
    assert args.agi_host == "127.0.0.1"
    stop = threading.Event()
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(agi_cmd.run(args, stop)), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    peer = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                pass
        except OSError:
            time.sleep(0.1)
            continue
        peer = AsteriskPeer(("127.0.0.1", port), script="ivr", env={"dnid": "96266", "callerid": "13812345678"},
                            caller=Caller("5")).run()
        break
    stop.set()
    thread.join(10)
    assert peer is not None and peer.variables_set["HELPLINE_QUEUE"] == "business", peer and peer.format_transcript()
    assert codes == [0]
