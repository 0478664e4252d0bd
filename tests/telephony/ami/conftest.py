"""Fixtures of the AMI tests: an ``AmiPeer`` playing Asterisk, and a client logged in to it.

Back-off and timeouts are tiny, so reconnection tests take milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ami_helpers import FAST_BACKOFF, SECRET, USER

from telephony.ami.client import AmiClient
from telephony.ami.testpeer import AmiPeer


@pytest.fixture
def peer() -> Iterator[AmiPeer]:
    with AmiPeer({USER: SECRET}) as running:
        yield running


@pytest.fixture
def client(peer: AmiPeer) -> Iterator[AmiClient]:
    connected = AmiClient(*peer.address, USER, SECRET, backoff=FAST_BACKOFF, connect_timeout=1.0,
                          action_timeout=1.0).connect()
    yield connected
    connected.close()
