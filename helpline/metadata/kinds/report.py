"""The ``report`` kind: a statistics report over the interval facts — measures by dimensions, with inputs.

``source`` is ``calls`` (the call facts: offered, answered, service level, ASA, abandons ...), ``agents``
(agent time per status and state, calls handled, occupancy), ``workorders`` (work orders by the day they
were opened: created, closed, on time, late, overdue, compliance), ``outbound`` (campaign dials: attempts,
contacts, contact rate), ``callbacks`` (call-back tasks: created, reached, overdue) or ``ivr`` (IVR node visits
and exits per flow and node). ``dimensions`` group the
rows (the first is the chart's x axis, a second its series); ``measures`` are the columns. Each input filters one
dimension; the ``period`` input (a ``between`` on ``day``) is required and its range is limited by ``max_days``.
``logic`` relates the other inputs in the rule language (``tier or queue``), as on query screens. The measures and
dimensions of each source are listed in docs/reports.md.

```yaml
kind: report
name: service_level
title: {en: Service level per tier, zh_CN: 各层次服务水平}
source: calls
dimensions: [interval, tier]
measures: [offered, answered, within, service_level, target]
inputs:
  - {name: period, dimension: day, op: between, required: true}
  - {name: tier, dimension: tier, op: in}
chart: {type: line, measure: service_level}
```
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field as PField

from .common import Label, MetaObject, Name, Strict

Source = Literal["calls", "agents", "workorders", "outbound", "callbacks", "ivr"]

TIME_DIMENSIONS = ("interval", "hour", "day", "week", "month")
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "calls": (*TIME_DIMENSIONS, "queue", "tier", "region", "city", "flow", "agent", "skill", "team", "department",
              "category", "category_type"),
    "agents": (*TIME_DIMENSIONS, "agent", "team", "department"),
    "workorders": (*TIME_DIMENSIONS, "department", "workflow", "sla_policy", "category"),
    "outbound": (*TIME_DIMENSIONS, "campaign", "agent", "outcome"),
    "callbacks": (*TIME_DIMENSIONS, "queue", "tier", "city", "region", "agent", "origin"),
    "ivr": ("day", "week", "month", "flow", "node", "type"),
}
"""The dimensions of each source (the service computes each; docs/reports.md describes them)."""
CATEGORY_DIMENSIONS = ("day", "week", "month", "category", "category_type", "queue", "tier", "region", "city", "flow")
"""A calls report grouped or filtered by the contact record's ``category`` (or ``category_type``) reads the category
facts (per day): only these dimensions and :data:`CATEGORY_MEASURES` (HL-E444)."""
CATEGORY_MEASURES = ("calls", "answered", "talk_s", "aht_s")
MEASURES: dict[str, tuple[str, ...]] = {
    "calls": ("calls", "offered", "answered", "within", "abandoned_ivr", "abandoned_queue", "abandoned_short",
              "timeout", "empty", "completed", "callbacks", "transfers", "legs", "errors", "talk_s", "wait_s",
              "service_level", "service_level_abandons", "target", "met", "answer_rate", "abandon_rate", "asa_s",
              "aht_s", "avg_abandon_s", "self_service_rate", "surveys", "survey_answered", "survey_satisfied",
              "survey_dissatisfied", "survey_resolved", "satisfaction_rate", "resolved_rate"),
    "agents": ("signed_in_s", "ready_s", "not_ready_s", "study_s", "idle_s", "ringing_s", "talking_s", "hold_s",
               "wrap_up_s", "calls_handled", "occupancy"),
    "workorders": ("created", "closed", "on_time", "late", "overdue_open", "responded_on_time", "compliance_rate"),
    "outbound": ("attempts", "contacts", "contact_rate", "busy", "no_answer", "machine", "failed", "in_flight"),
    "callbacks": ("created", "reached", "reached_on_time", "wrong_number", "gave_up", "cancelled", "open", "overdue",
                  "callback_attempts", "reach_rate", "on_time_rate"),
    "ivr": ("visits", "calls", "exits", "hangups", "completions", "transfers_out", "errors", "time_s", "exit_rate",
            "avg_time_s"),
}
"""The measures of each source."""


class ReportInput(Strict):
    name: Name
    dimension: Name
    op: Literal["eq", "ne", "in", "between", "ge", "le"] = "eq"
    label: Label | None = None
    required: bool = False
    default: Any = None


class ReportChart(Strict):
    type: Literal["bar", "line", "pie", "stacked_bar", "none"] = "bar"
    measure: Name | None = None
    """The measure drawn (default: the first)."""


class Report(MetaObject):
    kind: Literal["report"]
    title: Label
    source: Source = "calls"
    dimensions: list[Name] = PField(default_factory=list, max_length=4)
    measures: list[Name] = PField(min_length=1)
    inputs: list[ReportInput] = []
    logic: str | None = None
    chart: ReportChart | None = None
    max_days: int = PField(default=400, ge=1, le=3660)
    """The longest period the report may cover (a longer one is refused with a message)."""
    page_size: int = PField(default=500, ge=1, le=10000)
    """Rows per page of the table (a longer result is paged, with a message)."""
    group: Name | None = None
    """A heading of the reports page (``daily``, ``agents`` ...)."""

    def input(self, name: str) -> ReportInput | None:
        return next((i for i in self.inputs if i.name == name), None)
