"""Helpers shared by the IVR tests over FastAGI."""

from __future__ import annotations

import time
from typing import Any

from helpline.data.calls import Call
from helpline.data.database import session
from telephony.agi.testpeer import AsteriskPeer


def record_of(peer: AsteriskPeer, timeout: float = 2.0) -> dict[str, Any]:
    """The call record of the peer's call once it is closed (the server closes it after the session)."""
    deadline = time.monotonic() + timeout
    while True:
        with session():
            row = Call.select().where(Call.uniqueid == peer.uniqueid).dicts().first()
        if (row is not None and row["ended_at"] is not None) or time.monotonic() > deadline:
            assert row is not None, peer.format_transcript()
            return dict(row)
        time.sleep(0.02)
