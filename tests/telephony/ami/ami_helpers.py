"""Helpers of the AMI tests: credentials, fast back-off, the actions a peer received."""

from __future__ import annotations

from telephony.ami.testpeer import AmiPeer

USER, SECRET = "helpline", "s3cret"
FAST_BACKOFF = (0.01, 0.02, 0.04)


def sent(peer: AmiPeer, *, since: int = 0) -> list[dict[str, str]]:
    """The actions the peer received other than Login/Logoff (from index ``since``), without their ActionID."""
    actions = [a for a in peer.actions if a.get("Action") not in ("Login", "Logoff")][since:]
    return [{k: v for k, v in a.items() if k != "ActionID"} for a in actions]
