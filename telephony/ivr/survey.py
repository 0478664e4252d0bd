"""The post-call survey's end: the answers kept on the call go to the call's contact record.

The ``survey`` node (``telephony.ivr.nodes``) keeps each answer on the call as soon as it is given; the
engine stores them on the call record (``variables.survey``) and calls :func:`land_survey`, which writes
them to the contact record of the call (``helpline.services.surveys``). The queue's ``survey`` setting
sends the caller here when the agent releases (``telephony.ivr.queueing``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from helpline.services.calls import CallService
from helpline.services.platform import Platform
from helpline.services.surveys import land

log = logging.getLogger(__name__)


def land_survey(platform: Platform, call_id: int, answers: Mapping[str, str | None]) -> int | None:
    """Write the answers to the call's contact record; its id, or None when the desktop has not created it
    yet (then it picks them up from the call record when it does). Never raises."""
    from telephony.desk.screenpop import serial_number

    try:
        record = CallService().get(call_id)
        if record is None:
            return None
        return land(platform, serial_number(call_id, record.get("started_at")), answers)
    except Exception:
        log.exception("call %s: the survey answers could not be written to the contact record", call_id)
        return None
