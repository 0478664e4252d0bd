"""The trail of a call: one step per node it passed, kept on the call record and shown to the agent.

A step says which node ran (name, type), when (milliseconds since the call started) and for how long,
the prompts played, the digits entered, the rule that matched (line and text) or the choice taken,
where the call went next, and any error (with the rule's position). Secret entries (a service password)
are kept as ``***``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    """One node of the call (see the module docstring); ``as_dict()`` is what the record stores."""

    node: str
    type: str
    flow: str
    at_ms: float
    duration_ms: float = 0.0
    prompts: list[str] = field(default_factory=list)
    digits: list[str] = field(default_factory=list)
    rule: dict[str, Any] | None = None
    choice: str | None = None
    next: str | None = None
    outcome: str = ""
    error: dict[str, Any] | None = None
    missing: list[str] = field(default_factory=list)
    transfers: list[str] = field(default_factory=list)
    """Transfers agents made during a ``transfer`` node (``queue:billing``, ``agent:1002`` ...)."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"node": self.node, "type": self.type, "flow": self.flow,
                               "at_ms": round(self.at_ms, 1), "duration_ms": round(self.duration_ms, 1)}
        for key in ("prompts", "digits", "missing", "transfers"):
            value = getattr(self, key)
            if value:
                out[key] = list(value)
        for key in ("rule", "choice", "next", "error"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.outcome:
            out["outcome"] = self.outcome
        return out


class Trail:
    """The steps of one call, timed from the call's start."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.steps: list[Step] = []
        self._step_started = 0.0

    def elapsed_ms(self) -> float:
        return (time.monotonic() - self.started) * 1000

    def begin(self, node: str, kind: str, flow: str) -> Step:
        """Start a step for ``node`` and return it."""
        self._step_started = time.monotonic()
        step = Step(node, kind, flow, self.elapsed_ms())
        self.steps.append(step)
        return step

    def end(self, step: Step, next_node: str | None = None, outcome: str = "") -> None:
        """Close ``step``: its duration, where the call goes next, how the node ended."""
        step.duration_ms = (time.monotonic() - self._step_started) * 1000
        if next_node is not None:
            step.next = next_node
        if outcome:
            step.outcome = outcome

    @property
    def current(self) -> Step | None:
        return self.steps[-1] if self.steps else None

    def as_list(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.steps]
