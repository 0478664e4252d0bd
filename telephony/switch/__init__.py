"""The switch interface the IVR and the router talk to, and its two implementations.

``base.Switch`` is what an IVR node can ask of a call (answer, play, say, collect digits, record, set a
channel variable, hang up) and what the router asks of a queued call (hold it on music, dial an agent).
``agi_channel.AgiSwitch`` does it over a FastAGI session with Asterisk; ``simulated.SimulatedSwitch``
does it in memory, driven by a queue of key presses, recording every prompt as text (tests, ``run.py``,
the browser's IVR console), with agents' phones simulated by ``phones.SimulatedPhones``.
``answers.ANSWERS`` connects the FastAGI ``answered`` route (Asterisk's Dial ``U()`` subroutine) to
the ``on_answer`` callback of a Dial in progress.
"""

from telephony.switch.base import (
    CommandFailed,
    DialResult,
    DialStatus,
    DigitsInput,
    HungUpBy,
    PlayResult,
    PromptRef,
    RecordingResult,
    SayKind,
    Switch,
    SwitchError,
    SwitchHangup,
)

__all__ = [
    "CommandFailed", "DialResult", "DialStatus", "DigitsInput", "HungUpBy", "PlayResult", "PromptRef",
    "RecordingResult", "SayKind", "Switch", "SwitchError", "SwitchHangup",
]
