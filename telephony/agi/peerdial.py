"""``EXEC Dial`` in the AGI peer model (peermodel.py): how each scripted dial plays out, as app_dial does.

:class:`DialScript` says what the agent does (answer, no answer, busy, unavailable) and for how long;
:func:`dial_reply` plays it on a :class:`~telephony.agi.peermodel.ChannelModel`: ``DIALSTATUS``, for answered
calls ``DIALEDTIME`` (the caller channel's age) and ``ANSWEREDTIME`` (its up time since ITS answer:
app_dial.c's end_bridge_callback uses ``ast_channel_get_up_time_ms`` of the caller's channel, so the IVR
and the queue count too, not the talk alone), truncated to seconds, with ``_MS`` in milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from telephony.agi.peermodel import ChannelModel

__all__ = ["DialCall", "DialScript", "dial_reply", "split_app_args"]

DialScriptStatus = Literal["ANSWER", "NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"]


@dataclass(frozen=True)
class DialScript:
    """How the next ``EXEC Dial`` goes: what the agent does (``status``), seconds of ringing (NOANSWER
    with 0 rings for the Dial timeout) and of talk, and whether the caller hangs up (while it rings:
    ``CANCEL``; when answered: at the end of ``talk_s``)."""

    status: DialScriptStatus = "ANSWER"
    ring_s: float = 0.0
    talk_s: float = 0.0
    caller_hangs_up: bool = False


@dataclass
class DialCall:
    """One ``EXEC Dial`` as the model ran it; ``channel`` is the called channel (``PJSIP/1001-00000001``)."""

    endpoint: str
    timeout: str
    options: str
    status: str
    channel: str = ""
    subroutine: str = ""
    sub_args: list[str] = field(default_factory=list)
    script: DialScript | None = None


def split_app_args(data: str) -> list[str]:
    """Split application arguments on commas outside parentheses (``a,U(x^y),b``)."""
    parts: list[str] = []
    start = depth = 0
    for i, ch in enumerate(data):
        if ch == "," and depth == 0:
            parts.append(data[start:i])
            start = i + 1
        elif ch == "(" or (ch == ")" and depth):
            depth += 1 if ch == "(" else -1
    return [*parts, data[start:]]



def dial_reply(ch: ChannelModel, data: str) -> list[str]:
    """The reply to ``EXEC Dial <data>``, playing out the channel's next :class:`DialScript`."""
    endpoint, timeout, options = [*split_app_args(data), "", ""][:3]
    if not endpoint:
        ch.variables["DIALSTATUS"] = "INVALIDARGS"
        return ["200 result=-1"]
    if ch.dead:  # "Caller hung up before dial"
        ch.variables["DIALSTATUS"] = "CANCEL"
        return ["200 result=-1"]
    script = ch.dial_outcomes.pop(0) if ch.dial_outcomes else ch.default_dial
    gosub = re.search(r"U\(([^)]*)\)", options)
    sub, *sub_args = gosub.group(1).split("^") if gosub else [""]
    flags = re.sub(r"\([^)]*\)", "", options)
    channel = f"{endpoint.split('&')[0]}-{len(ch.dials) + 1:08x}"
    call = DialCall(endpoint, timeout, options, script.status, channel, sub, sub_args, script)
    ch.dials.append(call)
    if script.status != "ANSWER":
        limit = int(timeout) if timeout.isdigit() and int(timeout) > 0 else 0
        ring = script.ring_s or (limit if script.status == "NOANSWER" else 0.0)
        ch.sleep(ring)
        if script.caller_hangs_up:
            call.status = "CANCEL"
            ch.caller.hung_up = ch.dead = True
        ch.variables["DIALSTATUS"] = call.status
        return ["200 result=-1" if script.caller_hangs_up else "200 result=0"]
    ch.sleep(script.ring_s)
    ch.answer_channel()  # app_dial answers the caller's channel when the agent answers, if it is not up yet
    if ch.on_dial_answer is not None:  # U(): the called channel runs the subroutine before the bridge
        ch.on_dial_answer(call)
    ch.sleep(script.talk_s)
    # app_dial.c end_bridge_callback: DIALEDTIME is the caller channel's age, ANSWEREDTIME its up time (from
    # ITS answer, so the IVR and the queue count too), both truncated to seconds, with _MS in milliseconds
    dialed = ch.now()
    up = dialed - (ch.answered_at or 0.0)
    ch.variables.update({"DIALSTATUS": "ANSWER", "DIALEDTIME": str(int(dialed)), "ANSWEREDTIME": str(int(up)),
                         "DIALEDTIME_MS": str(int(dialed * 1000)), "ANSWEREDTIME_MS": str(int(up * 1000))})
    if script.caller_hangs_up:
        ch.caller.hung_up = ch.dead = True
        return ["200 result=-1"]
    if "g" in flags:  # g: the caller's channel goes on after the agent hangs up
        return ["200 result=0"]
    ch.dead = True  # without g the bridge's end hangs up the caller's channel too
    return ["200 result=-1"]
