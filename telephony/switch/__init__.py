"""The switch interface the IVR talks to, and its two implementations.

``base.Switch`` is what an IVR node can ask of a call (answer, play, say, collect digits, record, set a
channel variable, hang up). ``agi_channel.AgiSwitch`` does it over a FastAGI session with Asterisk;
``simulated.SimulatedSwitch`` does it in memory, driven by a queue of key presses, recording every
prompt as text (tests, ``run.py``, the browser's IVR console).
"""

from telephony.switch.base import (
    CommandFailed,
    DigitsInput,
    PlayResult,
    PromptRef,
    RecordingResult,
    SayKind,
    Switch,
    SwitchError,
    SwitchHangup,
)

__all__ = [
    "CommandFailed", "DigitsInput", "PlayResult", "PromptRef", "RecordingResult", "SayKind", "Switch",
    "SwitchError", "SwitchHangup",
]
