"""Asterisk Manager Interface: ``AmiClient`` (pyst2's manager, fixed, reconnecting), ``AmiCallControl``
(call control for agents and supervisors) and ``AmiPeer`` (testpeer.py: Asterisk's side, for tests)."""

from telephony.ami.client import (
    AmiActionError,
    AmiClient,
    AmiError,
    AmiEvent,
    AmiLoginError,
    AmiTimeout,
    AmiUnavailable,
)
from telephony.ami.control import AmiCallControl

__all__ = [
    "AmiActionError", "AmiCallControl", "AmiClient", "AmiError", "AmiEvent", "AmiLoginError", "AmiTimeout",
    "AmiUnavailable",
]
