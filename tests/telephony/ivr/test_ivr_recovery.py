"""Call records left open by an ended process are closed as ``interrupted`` at start, unless their channel lives;
Asterisk's ``HelplineHangup`` user event closes a record its session left open."""

from __future__ import annotations

import os
import socket
import subprocess
import time

from helpline.data.base import utcnow
from helpline.data.calls import Call
from helpline.data.database import session
from helpline.services.calls import CallService, process_node
from helpline.services.platform import Platform
from telephony.ami.client import AmiClient
from telephony.ami.control import AmiCallControl
from telephony.ami.testpeer import AmiPeer
from telephony.control.simulated import SimulatedCallControl
from telephony.ivr.recovery import close_interrupted

HOST = socket.gethostname()[:64]


def _last_pid() -> int:
    """The pid of a process that has ended."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _open(node: str | None, *, switch: str = "agi", channel: str = "", uniqueid: str = "") -> int:
    with session():
        return int(Call.insert(started_at=utcnow(), node=node, switch=switch, channel=channel,
                               uniqueid=uniqueid).execute())


def _record(call_id: int) -> Call:
    with session():
        return Call.get_by_id(call_id)


def test_records_of_ended_processes_are_closed_as_interrupted(platform: Platform) -> None:
    dead = f"{HOST}:{_last_pid()}:0badc0de"
    earlier_me = f"{HOST}:{os.getpid()}:0ldt0ken"  # same pid, an earlier process (a restarted container)
    crashed = _open(dead, channel="PJSIP/trunk-00000001", uniqueid="1795382822.1")
    restarted = _open(earlier_me, switch="simulated")
    legacy = _open(None)
    running = _open(f"{HOST}:{os.getppid()}:11112222")  # another process on this host that still runs
    other_host = _open("elsewhere.example:4242:33334444")
    mine = _open(process_node())
    finished = CallService().open(channel="PJSIP/x")
    CallService().close(finished, result="completed")

    report = close_interrupted(SimulatedCallControl())

    assert sorted(report.closed) == sorted([crashed, restarted, legacy])
    assert report.running == [running] and report.unknown == [other_host]
    for call_id in (crashed, restarted, legacy):
        record = _record(call_id)
        assert record.result == "interrupted" and record.ended_at is not None
        assert record.error["id"] == "IVR-INTERRUPTED" and "closed when" in record.error["message"]
    for call_id in (running, other_host, mine):
        assert _record(call_id).ended_at is None
    assert _record(finished).result == "completed"
    assert close_interrupted(SimulatedCallControl()).closed == []  # nothing left to close


def test_a_live_channel_keeps_its_record_open_and_the_user_event_closes_it(platform: Platform) -> None:
    with AmiPeer({"helpline": "s3cret"}) as peer:
        live = peer.add_channel("PJSIP/trunk-00000007")
        client = AmiClient(*peer.address, "helpline", "s3cret", connect_timeout=2.0, action_timeout=2.0).connect()
        control = AmiCallControl(client)
        try:
            dead = f"{HOST}:{_last_pid()}:0badc0de"
            talking = _open(dead, channel=live.name, uniqueid=live.uniqueid)
            gone = _open(dead, channel="PJSIP/trunk-00000003", uniqueid="1795382822.3")
            reused = _open(dead, channel=live.name, uniqueid="1795382822.99")  # same name, another call
            other_host = _open("elsewhere.example:1:1", channel="PJSIP/trunk-00000004", uniqueid="1.4")

            report = close_interrupted(control)

            assert report.alive == [talking]
            assert sorted(report.closed) == sorted([gone, reused, other_host])
            assert _record(talking).ended_at is None

            peer.emit("UserEvent", UserEvent="HelplineHangup", Uniqueid=live.uniqueid, Result="", Cause="16")
            deadline = time.monotonic() + 3
            while _record(talking).ended_at is None and time.monotonic() < deadline:
                time.sleep(0.02)
            record = _record(talking)
            assert record.result == "interrupted" and record.error["id"] == "IVR-LOST", record.error
            assert "cause 16" in record.error["message"]
        finally:
            control.close()
