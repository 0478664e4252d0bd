"""Call records an earlier process left open (``kill -9``, a crash, a cut SIGTERM): closed when Helpline starts.

``run.py serve`` and ``run.py agi`` call :func:`close_interrupted` once the call control is up. Every open
``hl_call`` row whose process (its ``node``) has ended is closed as ``interrupted``, with the time and the
reason (``IVR-INTERRUPTED``), unless the call control still sees its channel alive (on Asterisk: ``Getvar
UNIQUEID`` answers for the channel; the call goes on, and Asterisk's ``HelplineHangup`` user event closes it
later). Records of another running process on this host are left alone; a record of another host is closed
only when the call control can tell its channel is gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from helpline.services.calls import CallService, node_alive, process_node
from telephony.control.base import CallControl

__all__ = ["RecoveryReport", "close_interrupted"]

log = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    """What :func:`close_interrupted` did, by call record id."""

    closed: list[int] = field(default_factory=list)
    alive: list[int] = field(default_factory=list)
    """Left open: the switch still carries the call's channel."""
    running: list[int] = field(default_factory=list)
    """Left open: the process serving the call still runs."""
    unknown: list[int] = field(default_factory=list)
    """Left open: another host's call, and the call control cannot tell whether its channel lives."""


def close_interrupted(control: CallControl, calls: CallService | None = None) -> RecoveryReport:
    """Close the records left open by processes that ended (see the module docstring)."""
    calls = calls or CallService()
    report = RecoveryReport()
    me = process_node()
    for record in calls.open_records():
        node = record.get("node")
        if node == me:
            continue
        owner = node_alive(node)
        if owner:
            report.running.append(record["id"])
            continue
        alive = control.channel_alive(record["switch"] or "", record["channel"] or "", record["uniqueid"] or "")
        if alive:
            report.alive.append(record["id"])
            continue
        if alive is None and owner is None and node:
            report.unknown.append(record["id"])
            continue
        who = f"process {node}" if node else "an earlier process"
        if calls.close_open(call_id=record["id"], result="interrupted", error={
                "id": "IVR-INTERRUPTED",
                "message": f"left open by {who}, which ended during the call (started {record['started_at']}); "
                           f"closed when {me} started"}):
            report.closed.append(record["id"])
    if report.closed:
        log.warning("closed %d call record(s) left open by an earlier process as interrupted: %s",
                    len(report.closed), report.closed[:20])
    if report.alive or report.unknown:
        log.info("call records left open: %d with a live channel, %d of another host that cannot be checked",
                 len(report.alive), len(report.unknown))
    return report
