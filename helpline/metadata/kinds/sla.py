"""The ``sla`` kind: a service-level policy — response and resolution targets of the records of one process.

A policy names its ``workflow`` and, among that workflow's new records, which ones it covers (``applies``, a
rule, place of use ``guard``: ``record.type == fault and record.priority == urgent``); when several apply, the
lowest ``order`` wins. Its targets are durations of *counted* time (``10m``, ``1h30m``, ``2d`` — a day is 24
counted hours) on its ``calendar``: the clock runs only in working hours, and only while the record is in a
state whose ``clock`` runs (waiting states pause it). ``warning`` is the share of a target (per cent) after
which a warning fires. The response is the first of the ``responded_by`` transitions or a reaching of a
``responded_in`` state (neither given: leaving the initial state); the resolution is reaching a ``resolved_in``
state (unset: a closed state). ``escalation`` steps run at a warning or a
breach of the response or the resolution, optionally ``after`` a delay (wall-clock), and notify people or
reassign the record to a department.

```yaml
kind: sla
name: fault_urgent
label: {en: Urgent faults, zh_CN: 紧急故障}
workflow: fault
applies: 'record.priority == urgent'
calendar: 24x7
response: 10m
resolution: 60m
warning: 80
escalation:
  - {at: warning, notify: [head]}
  - {at: breach, notify: ['role:supervisor']}
  - {at: breach, after: 30m, reassign: back_office}
```
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, model_validator

from .common import Code, MetaObject, Name, Strict

_PART = re.compile(r"(\d+)([dhms])")
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def duration_seconds(text: str) -> int:
    """``"1h30m"`` → 5400; ValueError naming the mistake."""
    s = str(text).strip()
    if not s or _PART.sub("", s) != "":
        raise ValueError(f"'{text}' is not a duration like '10m', '1h30m', '2d' (d, h, m, s)")
    total = sum(int(n) * _UNIT[u] for n, u in _PART.findall(s))
    if total <= 0:
        raise ValueError(f"'{text}' is not a positive duration")
    return total


def _valid(text: str) -> str:
    duration_seconds(text)
    return text


Duration = Annotated[str, AfterValidator(_valid)]


class SlaStep(Strict):
    """One escalation step: at a warning or breach of the response or the resolution (plus ``after``)."""

    at: Literal["warning", "breach"]
    of: Literal["response", "resolution"] = "resolution"
    after: Duration | None = None
    """Wall-clock delay after the warning or breach (``30m``); unset: at that moment."""
    notify: list[str] = []
    """Who is told: ``assignee``, ``department``, ``head``, ``creator``, ``role:<role>``, ``user:<username>``."""
    reassign: Code | None = None
    """Give the record to this department (a code of the ``department`` tree)."""

    @model_validator(mode="after")
    def _does_something(self) -> SlaStep:
        if not self.notify and not self.reassign:
            raise ValueError("an escalation step needs 'notify' or 'reassign'")
        return self

    @property
    def delay(self) -> int:
        return duration_seconds(self.after) if self.after else 0


class Sla(MetaObject):
    kind: Literal["sla"]
    workflow: Name
    applies: str | None = None
    """Which of the workflow's new records it covers (place of use ``guard``); unset: all."""
    order: int = 0
    calendar: Name
    response: Duration | None = None
    resolution: Duration | None = None
    warning: float = 80
    """Per cent of a target after which the warning fires (more than 0, less than 100: ``HL-E415``)."""
    responded_by: list[Name] = []
    """Transitions that count as the response; with ``responded_in`` unset too: leaving the initial state."""
    responded_in: list[Name] = []
    """States whose reaching counts as the response."""
    resolved_in: list[Name] = []
    """States whose reaching meets the resolution target (a technician ``on_site``); unset: a closed state."""
    escalation: list[SlaStep] = []

    @model_validator(mode="after")
    def _a_target(self) -> Sla:
        if not self.response and not self.resolution:
            raise ValueError("a service-level policy needs 'response' or 'resolution' (or both)")
        return self

    def target(self, which: str) -> int | None:
        """Seconds of the ``response`` or ``resolution`` target (None: not set)."""
        text = self.response if which == "response" else self.resolution
        return duration_seconds(text) if text else None
