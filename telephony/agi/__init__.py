"""FastAGI protocol layer: ``HelplineAGI`` (pyst2, fixed), ``FastAGIServer`` and an Asterisk test peer.

``telephony.agi`` speaks AGI with Asterisk and nothing more: the IVR interpreter plugs in as a handler,
``server.route('ivr', handler)``, called as ``handler(agi, env)`` for every call to ``ivr/<flow>``.
``AsteriskPeer`` (testpeer.py) plays Asterisk's side for tests and simulations.
"""

from telephony.agi.channel import DEFAULT_HANGUP_GRACE, DEFAULT_READ_TIMEOUT, HelplineAGI
from telephony.agi.environment import AgiEnvironment, parse_environment, read_environment
from telephony.agi.errors import (
    AgiChannelHangup,
    AgiConnectionClosed,
    AgiDeadChannel,
    AgiProtocolError,
    AgiSessionStopped,
    AgiTimeoutError,
)
from telephony.agi.reply import DigitsResult, PlaybackResult, RecordResult, SoundFileMissing
from telephony.agi.server import RESULT_VARIABLE, FastAGIServer, Handler

__all__ = [
    "DEFAULT_HANGUP_GRACE",
    "DEFAULT_READ_TIMEOUT",
    "RESULT_VARIABLE",
    "AgiChannelHangup",
    "AgiConnectionClosed",
    "AgiDeadChannel",
    "AgiEnvironment",
    "AgiProtocolError",
    "AgiSessionStopped",
    "AgiTimeoutError",
    "DigitsResult",
    "FastAGIServer",
    "Handler",
    "HelplineAGI",
    "PlaybackResult",
    "RecordResult",
    "SoundFileMissing",
    "parse_environment",
    "read_environment",
]
