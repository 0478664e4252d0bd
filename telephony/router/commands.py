"""The router's named write operations and their JSON form (the command log of cluster mode).

Every change to the router's state goes through ``RouterService.call(name, *args, **kwargs)`` with a name of
:data:`OPERATIONS` (a method of :class:`~telephony.router.core.Router`); reads keep using ``do(read)``. In one
process ``call`` runs the method under the writer lock; in cluster mode (``telephony.router.cluster``) the
command is appended to the log table and every instance applies it to its replica, in the log's order.

Arguments are plain JSON values, :class:`CallRequest`, :class:`AgentProfile` or :class:`AgentState`;
:func:`encode` turns them into JSON text and :func:`decode` back (``BadCommand`` for anything else).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from .model import AgentProfile, AgentState, CallRequest

__all__ = ["OPERATIONS", "BadCommand", "decode", "encode"]

OPERATIONS: frozenset[str] = frozenset({
    # calls
    "queue_call", "abandon", "ringing", "answered", "no_answer", "call_ended",
    # agents
    "add_agent", "sign_in", "sign_out", "set_ready", "set_not_ready", "set_study", "hold", "unhold",
    "end_wrap_up", "agent_connected", "agent_disconnected", "allow_manual_wrap_up",
    # outbound and internal calls
    "outbound_start", "outbound_ended", "outbound_state",
    # call-back tasks
    "defer", "withdraw", "callback_taken", "callback_done",
    # timers (cluster mode: the leader's ``tick``)
    "advance",
})
"""The Router methods that may be called by name (everything that changes the router's state)."""


class BadCommand(ValueError):
    """A router command that cannot be logged or applied (unknown name, argument of no JSON form)."""


def _out(value: Any) -> Any:
    if isinstance(value, CallRequest):
        return {"$call": {**asdict(value)}}
    if isinstance(value, AgentProfile):
        data = asdict(value)
        data["groups"] = sorted(value.groups)
        return {"$agent": data}
    if isinstance(value, AgentState):
        return {"$state": value.value}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_out(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) and not k.startswith("$") for k in value):
        return {k: _out(v) for k, v in value.items()}
    raise BadCommand(f"a router command argument must be JSON, a CallRequest or an AgentProfile, "
                     f"not {type(value).__name__}")


def _in(value: Any) -> Any:
    if isinstance(value, list):
        return [_in(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, inner), = value.items()
        if key == "$call":
            return CallRequest(**inner)
        if key == "$agent":
            return AgentProfile(**{**inner, "groups": frozenset(inner.get("groups") or ())})
        if key == "$state":
            return AgentState(inner)
    return {k: _in(v) for k, v in value.items()}


def encode(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The JSON text of a command's arguments (``BadCommand`` for an unknown name or argument)."""
    if name not in OPERATIONS:
        raise BadCommand(f"'{name}' is no router operation (one of {', '.join(sorted(OPERATIONS))})")
    # a call's ``context`` (what the tier rules read) may hold dates or decimals: they travel as text, and
    # every replica (the caller's too) applies the decoded command, so all decide alike
    return json.dumps({"args": _out(list(args)), "kwargs": _out(kwargs)}, ensure_ascii=False,
                      separators=(",", ":"), default=str)


def decode(name: str, text: str | dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments of a logged command (the inverse of :func:`encode`)."""
    if name not in OPERATIONS:
        raise BadCommand(f"'{name}' is no router operation")
    data = json.loads(text) if isinstance(text, str) else text
    return tuple(_in(data.get("args") or [])), dict(_in(data.get("kwargs") or {}))
