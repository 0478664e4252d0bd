"""The ``workorders`` source of reports: work orders (workflow instances) by the day they were opened, read
straight from ``hl_wf_instance`` (its rows are the facts: one per order, with its deadlines and when it closed).

Dimension ``category``: the order's type (``work_order.type``, a subquery on the instance's record).
Measures: ``created``, ``closed``, ``on_time`` (closed by the resolution deadline, or without one), ``late``
(closed after it), ``overdue_open`` (still open past it), ``responded_on_time``, ``compliance_rate`` (on time
over closed). Dimensions: the time ones (of ``opened_at``), ``department``, ``workflow``, ``sla_policy``. Row
scope: a user with regions sees the orders of the departments serving those regions (``hl_department_region``).
"""

from __future__ import annotations

from typing import Any

from peewee import Case, Table, fn

from helpline.data.base import utcnow
from helpline.data.workflow import DepartmentRegion, WorkflowInstance

MODEL = WorkflowInstance


def sums() -> list[Any]:
    w = WorkflowInstance
    closed = w.closed_at.is_null(False)
    due = w.resolution_due.is_null(False)

    def count(cond: Any) -> Any:
        return fn.SUM(Case(None, [(cond, 1)], 0))

    return [fn.COUNT(w.id).alias("created"), count(closed).alias("closed"),
            count(closed & (~due | (w.closed_at <= w.resolution_due))).alias("on_time"),
            count(closed & due & (w.closed_at > w.resolution_due)).alias("late"),
            count(w.closed_at.is_null() & due & (w.resolution_due < utcnow())).alias("overdue_open"),
            count(w.responded_at.is_null(False) & w.response_due.is_null(False)
                  & (w.responded_at <= w.response_due)).alias("responded_on_time")]


def measure(name: str, s: dict[str, Any]) -> Any:
    if name == "compliance_rate":
        return round(s["on_time"] / s["closed"], 4) if s.get("closed") else None
    return int(s.get(name) or 0)


def category() -> Any:
    """The order's type (``work_order.type``, a ``work_order_type`` code) of an instance of a work order."""
    order = Table("work_order")
    w = WorkflowInstance
    return fn.COALESCE(order.select(order.c.type).where((order.c.id == w.record_id) & (w.entity == "work_order"))
                       .limit(1), "")


def scope(regions: list[str]) -> Any:
    served = DepartmentRegion.select(DepartmentRegion.department).where(DepartmentRegion.region.in_(regions))
    return WorkflowInstance.department.in_(served)
