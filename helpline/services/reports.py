"""Run a ``report``: its inputs become conditions on the fact tables, grouped by its dimensions, its measures
computed from the sums; the calls behind a row (drill-down); the result as an Excel workbook.

The table read is the coarsest that serves the report: a report by day, week, month, queue, tier, region,
city or flow reads the daily facts (a year is a few hundred thousand rows at most); one by interval, hour or
agent reads the 15-minute facts. Ratios are computed from the sums of the group (never averaged averages).
Row scope: a user with regions (and without the ``reports.all`` permission) sees the facts of calls in those
cities or counties and the time of agents of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from peewee import SQL, Case, fn

from helpline.data.agents import AgentRecord
from helpline.data.base import centre_midnight, centre_offsets, from_centre, to_centre
from helpline.data.calls import Call
from helpline.data.conditions import All, Cmp, Cond, Not, all_of
from helpline.data.database import is_postgres, session
from helpline.data.rule_filters import Ref, SubCondition, to_condition
from helpline.data.stats import (
    CALL_COUNTS,
    CALL_SUMS,
    StatAgent,
    StatAgentDay,
    StatCall,
    StatCallCategory,
    StatCallDay,
    StatCallQueue,
)
from helpline.metadata.kinds.report import DIMENSIONS, TIME_DIMENSIONS, Report
from helpline.metadata.metaset import MetadataSet
from helpline.rules.checker import check_expression
from helpline.rules.uses import query_use
from helpline.security.actor import Actor

from . import report_workorders as workorders
from . import stats_category
from .report_excel import PERCENT as PERCENT
from .report_excel import SECONDS as SECONDS
from .report_excel import number_format as number_format
from .report_excel import report_xlsx as report_xlsx
from .report_outbound import Callbacks, IvrNodes, Outbound
from .stats import tier_targets

_RAW: dict[str, Any] = {"outbound": Outbound, "callbacks": Callbacks, "ivr": IvrNodes}
"""Sources read straight from their own tables (one row a dial, a task): ``helpline.services.report_outbound``."""
_STATUS = ("ready", "not_ready", "study")
_STATE = ("idle", "reserved", "ringing", "talking", "hold", "wrap_up")
DRILL_LIMIT = 500


class ReportInputError(ValueError):
    """Inputs a report cannot run with: ``{input name: message}``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class ReportResult:
    report: str
    dimensions: list[str]
    measures: list[str]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    total_rows: int
    page: int
    page_size: int
    start: date
    end: date
    messages: list[str] = field(default_factory=list)


def _period(report: Report, values: dict[str, Any]) -> tuple[date, date]:
    inp = next((i for i in report.inputs if i.dimension == "day" and i.op == "between"), None)
    raw = values.get(inp.name, inp.default) if inp else None
    if inp is None or not raw:
        raise ReportInputError({inp.name if inp else "period": "give the period (from and to)"})
    try:
        start, end = (d if isinstance(d, date) else date.fromisoformat(str(d)) for d in raw)
    except (TypeError, ValueError):
        raise ReportInputError({inp.name: f"the period must be two dates YYYY-MM-DD (got {raw!r})"}) from None
    if end < start:
        raise ReportInputError({inp.name: f"the period ends ({end}) before it starts ({start})"})
    days = (end - start).days + 1
    if days > report.max_days:
        raise ReportInputError({inp.name: f"the period covers {days} days; this report covers at most "
                                          f"{report.max_days} (choose a shorter period)"})
    return start, end


def _fine(report: Report, values: dict[str, Any]) -> bool:
    used = set(report.dimensions) | {i.dimension for i in report.inputs if values.get(i.name) not in (None, "", [])}
    return bool(used & {"interval", "hour"}) or (report.source == "calls" and bool(used & _AGENT_DIMS))


_AGENT_DIMS = frozenset({"agent", "team", "department"})
"""Dimensions of calls that follow from the agent: only the 15-minute facts carry them."""


def _local(column: Any, offsets: list[tuple[datetime, int]]) -> Any:
    """A stored (UTC) time column as the centre's local time: shifted by the centre's offset, one shift per
    stretch of the period with its own offset (daylight saving: a CASE over the changes)."""
    pg = is_postgres()

    def shifted(minutes: int) -> Any:
        return column + fn.make_interval(0, 0, 0, 0, 0, minutes) if pg else fn.datetime(column, f"{minutes:+d} minutes")

    if len(offsets) == 1:
        return shifted(offsets[0][1])
    changes = [(column < offsets[k + 1][0], shifted(minutes)) for k, (_, minutes) in enumerate(offsets[:-1])]
    return Case(None, changes, shifted(offsets[-1][1]))


def _time_expr(dim: str, column: Any, fine: bool, offsets: list[tuple[datetime, int]]) -> Any:
    """A time dimension's SQL: the centre's hour, day, week or month of a stored time (the 15-minute facts, a
    work order's or an attempt's time), the day of the daily facts as it is (the centre's day already)."""
    if dim == "interval" or (dim == "day" and not fine):
        return column
    pg = is_postgres()
    if fine:
        column = _local(column, offsets)
    # peewee expressions, never SQL text naming the table: a subquery (a campaign's name) makes peewee alias it
    if dim == "hour":
        return fn.date_part("hour", column).cast("INTEGER") if pg else fn.strftime("%H", column)
    if dim == "day":
        return column.cast("DATE") if pg else fn.date(column)
    if dim == "week":
        return fn.date_trunc("week", column).cast("DATE") if pg else fn.date(column, "weekday 0", "-6 days")
    return fn.to_char(column, "YYYY-MM") if pg else fn.strftime("%Y-%m", column)


def _label(dim: str, value: Any) -> Any:
    if value is None:
        return ""
    if dim == "interval":  # stored in UTC, shown in the centre's time
        v = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return to_centre(v).strftime("%Y-%m-%d %H:%M")
    if dim == "hour":
        return f"{int(value):02d}:00"
    if dim in ("day", "week"):
        return value.isoformat() if isinstance(value, date) else str(value)[:10]
    return str(value)


DIMENSION_CATEGORIES = {"tier": "value_tier", "team": "department", "department": "department",
                        "category": "work_order_type"}
"""Dimensions whose values are codes of a category tree: shown and exported by the node's label (a call's
``category``: the contact record's trees too)."""


def dimension_texts(metadata: MetadataSet, dimension: str) -> dict[str, Any]:
    """Code → label (a :class:`~helpline.metadata.kinds.Label`) of a dimension's values, for those named by a
    category tree (:data:`DIMENSION_CATEGORIES`); empty for the others."""
    names = [*(stats_category.trees_of(metadata) if dimension == "category" else ()),
             DIMENSION_CATEGORIES.get(dimension, "")]  # a call's category: a contact record tree's code
    trees = [t for t in (metadata.categories.get(n) for n in names) if t is not None]
    return {node.code: node.label for tree in trees for node in tree.nodes}


class _Plan:
    """The model, its period column and the SQL of each dimension of one run."""

    def __init__(self, report: Report, values: dict[str, Any], period: tuple[date, date],
                 scoped: bool = False) -> None:
        self.fine = _fine(report, values)
        self.lo, self.hi = centre_midnight(period[0]), centre_midnight(period[1] + timedelta(days=1))
        used = set(report.dimensions) | {i.dimension for i in report.inputs
                                         if values.get(i.name, i.default) not in (None, "", [])}
        queue_dims = {*TIME_DIMENSIONS, "tier", "queue", "skill"}
        self.model: Any
        if report.source == "calls" and used & {"category", "category_type"}:  # the category facts (per day)
            self.model, self.fine = StatCallCategory, False
        elif report.source == "calls" and self.fine and not scoped and used <= queue_dims:
            self.model = StatCallQueue
        elif report.source == "calls":
            self.model = StatCall if self.fine else StatCallDay
        elif report.source == "workorders":
            self.model, self.fine = workorders.MODEL, True
        elif report.source in _RAW:
            self.model, self.fine = _RAW[report.source].MODEL, _RAW[report.source].FINE
        else:
            self.model = StatAgent if self.fine else StatAgentDay
        self.raw = _RAW.get(report.source)
        self.period = (self.raw.PERIOD if self.raw is not None
                       else self.model.opened_at if report.source == "workorders"
                       else self.model.interval if self.fine else self.model.day)
        self.offsets = centre_offsets(self.lo, self.hi) if self.fine else []

    def dim(self, name: str) -> Any:
        if name in TIME_DIMENSIONS:
            return _time_expr(name, self.period, self.fine, self.offsets)
        if name == "category" and self.model is workorders.MODEL:
            return workorders.category()
        if self.raw is not None:
            return self.raw.dim(name)
        return getattr(self.model, name)

    def sums(self, source: str, measures: list[str] | None = None) -> list[Any]:
        m = self.model
        if source == "calls":
            names = _needed(measures) if measures is not None else (*CALL_COUNTS, *CALL_SUMS)
            return [fn.SUM(getattr(m, n)).alias(n) for n in names]
        if source == "workorders":
            return workorders.sums()
        if self.raw is not None:
            return list(self.raw.sums())
        out = [fn.SUM(getattr(m, f"{v}_s")).alias(f"{v}_s") for v in (*_STATUS, *_STATE)]
        out.append(fn.SUM(m.talking_n).alias("calls_handled"))
        return out


_NEEDS: dict[str, tuple[str, ...]] = {
    "service_level": ("within", "answered", "timeout"), "met": ("within", "answered", "timeout"),
    "target": (), "service_level_abandons": ("within", "answered", "abandoned_queue", "timeout"),
    "answer_rate": ("answered", "offered"), "abandon_rate": ("abandoned_queue", "offered"),
    "self_service_rate": ("completed", "calls"), "asa_s": ("wait_answered_s", "answered"),
    "aht_s": ("talk_s", "answered"), "avg_abandon_s": ("wait_abandoned_s", "abandoned_queue"),
    "satisfaction_rate": ("survey_satisfied", "survey_answered"), "resolved_rate": ("survey_resolved", "surveys"),
}


def _needed(measures: list[str]) -> tuple[str, ...]:
    """The fact columns the measures are computed from (only those are summed)."""
    out: dict[str, None] = {}
    for m in measures:
        for n in _NEEDS.get(m, (m,)):
            out[n] = None
    return tuple(out) or ("calls",)


def _atom(plan: _Plan, report: Report, name: str, raw: Any) -> Cond | None:
    inp = report.input(name)
    if inp is None or raw in (None, "", []) or (inp.dimension == "day" and inp.op == "between"):
        return None
    if inp.op == "in":
        return Cmp(inp.dimension, "in", [str(v) for v in (raw if isinstance(raw, (list, tuple, set)) else [raw])])
    if inp.op == "between":
        low, high = raw
        return Cmp(inp.dimension, "between", (str(low), str(high)))
    return Cmp(inp.dimension, inp.op, str(raw))


def _expr(plan: _Plan, cond: Cond) -> Any:
    if isinstance(cond, Cmp):
        col = plan.dim(cond.field)
        ops = {"eq": lambda: col == cond.value, "ne": lambda: col != cond.value, "in": lambda: col.in_(cond.value),
               "ge": lambda: col >= cond.value, "le": lambda: col <= cond.value,
               "between": lambda: col.between(*cond.value)}
        return ops[cond.op]()
    if isinstance(cond, Not):
        return ~_expr(plan, cond.item)
    items = [_expr(plan, c) for c in cond.items]
    if not items:
        return SQL("1 = 1") if isinstance(cond, All) else SQL("1 = 0")
    out = items[0]
    for item in items[1:]:
        out = (out & item) if isinstance(cond, All) else (out | item)
    return out


def _filters(plan: _Plan, report: Report, values: dict[str, Any]) -> Cond:
    atoms = {i.name: _atom(plan, report, i.name, values.get(i.name, i.default)) for i in report.inputs}
    missing = {i.name: "required" for i in report.inputs if i.required and values.get(i.name, i.default) in
               (None, "", [])}
    if missing:
        raise ReportInputError(missing)
    if not report.logic:
        return all_of(*atoms.values())
    checked = check_expression(report.logic, query_use([i.name for i in report.inputs]))
    if checked.expr is None or not checked.ok:
        raise ReportInputError({"logic": "; ".join(p.message for p in checked.problems)})

    def resolve(parts: tuple[str, ...]) -> Ref:
        return SubCondition(atoms.get(parts[-1]))

    return to_condition(checked.expr, resolve)


def _scoped(actor: Actor) -> bool:
    return not (actor.is_system or not actor.regions or actor.has("reports.all"))


def _scope(plan: _Plan, report: Report, actor: Actor) -> Any:
    if not _scoped(actor):
        return None
    regions = list(actor.regions)
    if report.source == "workorders":
        return workorders.scope(regions)
    if report.source in _RAW:
        return _RAW[report.source].scope(regions)
    if report.source == "calls":
        return plan.model.city.in_(regions) | plan.model.region.in_(regions)
    agents = AgentRecord.select(AgentRecord.number).where(AgentRecord.city.in_(regions)
                                                          | AgentRecord.region.in_(regions))
    return plan.model.agent.in_(agents)


def where_of(report: Report, actor: Actor, values: dict[str, Any]) -> tuple[_Plan, Any, tuple[date, date]]:
    start, end = _period(report, values)
    plan = _Plan(report, values, (start, end), scoped=_scoped(actor))
    fine = (plan.period >= plan.lo) & (plan.period < plan.hi)  # the centre's days, in stored (UTC) times
    where = fine if plan.fine else plan.period.between(start, end)
    cond = _filters(plan, report, values)
    if not (isinstance(cond, All) and not cond.items):
        where = where & _expr(plan, cond)
    scope = _scope(plan, report, actor)
    return plan, (where if scope is None else where & scope), (start, end)


def measures_of(report: Report, sums: dict[str, Any], targets: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """The report's measures from the sums of one group (``tier`` given when grouped by tier)."""
    s = {k: (v or 0) for k, v in sums.items()}
    out: dict[str, Any] = {}
    for name in report.measures:
        if report.source == "workorders":
            out[name] = workorders.measure(name, s)
        elif report.source in _RAW:
            out[name] = _RAW[report.source].measure(name, s)
        else:
            out[name] = (_agent_measure if report.source == "agents" else _call_measure)(name, s, sums, targets)
    return out


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _agent_measure(name: str, s: dict[str, Any], sums: dict[str, Any], targets: Any) -> Any:
    if name == "signed_in_s":
        return round(sum(s.get(f"{v}_s", 0) for v in _STATUS), 1)
    if name == "occupancy":
        busy = sum(s.get(f"{v}_s", 0) for v in ("reserved", "ringing", "talking", "hold", "wrap_up"))
        return _ratio(busy, sum(s.get(f"{v}_s", 0) for v in _STATUS))
    if name == "calls_handled":
        return int(s.get("calls_handled", 0))
    return round(s.get(name, 0), 1)


def _call_measure(name: str, s: dict[str, Any], sums: dict[str, Any],
                  targets: dict[str, tuple[float, float]]) -> Any:
    if name in ("service_level", "met"):
        level = _ratio(s["within"], s["answered"] + s["timeout"])
        if name == "service_level":
            return level
        target = _call_measure("target", s, sums, targets)
        return None if target is None or level is None else level + 1e-9 >= target
    if name == "target":
        tier = sums.get("tier")
        found = targets.get(tier) if isinstance(tier, str) else None
        return found[0] if found is not None else None
    if name == "service_level_abandons":
        return _ratio(s["within"], s["answered"] + s["abandoned_queue"] + s["timeout"])
    if name == "answer_rate":
        return _ratio(s["answered"], s["offered"])
    if name == "abandon_rate":
        return _ratio(s["abandoned_queue"], s["offered"])
    if name == "self_service_rate":
        return _ratio(s["completed"], s["calls"])
    if name == "satisfaction_rate":
        return _ratio(s["survey_satisfied"], s["survey_answered"])
    if name == "resolved_rate":
        return _ratio(s["survey_resolved"], s["surveys"])
    per = {"asa_s": ("wait_answered_s", "answered"), "aht_s": ("talk_s", "answered"),
           "avg_abandon_s": ("wait_abandoned_s", "abandoned_queue")}.get(name)
    if per is not None:
        return round(s[per[0]] / s[per[1]], 1) if s[per[1]] else None
    value = s.get(name, 0)
    return round(value, 1) if isinstance(value, float) else value


def run_report(metadata: MetadataSet, actor: Actor, name: str, values: dict[str, Any], *, page: int = 1,
               page_size: int | None = None) -> ReportResult:
    """One page of a report's rows with the totals of every row. ``ReportInputError`` for bad inputs.
    One grouped query; the totals are summed from its groups, the measures computed for the page only."""
    report = _report(metadata, name)
    plan, where, (start, end) = where_of(report, actor, values)
    size = page_size or report.page_size
    dims = [plan.dim(d).alias(f"d_{d}") for d in report.dimensions]
    targets = tier_targets(metadata) if report.source == "calls" else {}
    sums = plan.sums(report.source, list(report.measures))
    with session():
        query = plan.model.select(*dims, *sums).where(where)
        if dims:
            keys = [plan.dim(d) for d in report.dimensions]
            query = query.group_by(*keys).order_by(*keys)
        found: list[Any] = list(query.tuples())
    width = len(dims)
    names = [str(getattr(s, "_alias", "")) for s in sums]
    found = [r for r in found if any(v is not None for v in r[width:])]
    totals_raw = {n: sum(r[width + i] or 0 for r in found) for i, n in enumerate(names)}
    messages: list[str] = []
    if not found:
        messages.append("reports.nothing")
    pages = max(1, -(-len(found) // size))
    page = min(max(1, page), pages)
    if len(found) > size:
        messages.append("reports.paged")
    rows = []
    for r in found[(page - 1) * size:page * size]:
        labels = {d: _label(d, r[i]) for i, d in enumerate(report.dimensions)}
        group = dict(zip(names, r[width:], strict=True))
        if "tier" in labels:
            group["tier"] = labels["tier"]
        rows.append({**labels, **measures_of(report, group, targets)})
    totals = measures_of(report, totals_raw, {}) if found else {}
    return ReportResult(name, list(report.dimensions), list(report.measures), rows, totals, len(found), page, size,
                        start, end, messages)


def _report(metadata: MetadataSet, name: str) -> Report:
    found = metadata.objects.get("report", {}).get(name)
    if not isinstance(found, Report):
        raise KeyError(f"no report '{name}'")
    return found


def drill_calls(metadata: MetadataSet, actor: Actor, name: str, values: dict[str, Any], row: dict[str, Any], *,
                limit: int = DRILL_LIMIT) -> list[dict[str, Any]]:
    """The call records behind one row of a calls report (its dimension values within the report's inputs),
    oldest first, at most ``limit``."""
    report = _report(metadata, name)
    if report.source != "calls":
        raise ReportInputError({"drill": "only a calls report drills down to calls"})
    start, end = _period(report, values)
    where = (Call.started_at >= centre_midnight(start)) & (Call.started_at < centre_midnight(end + timedelta(days=1)))
    where = where & Call.ended_at.is_null(False)
    filters = dict(row)
    for inp in report.inputs:
        raw = values.get(inp.name, inp.default)
        if inp.dimension not in TIME_DIMENSIONS and raw not in (None, "", []) and inp.dimension not in filters:
            filters[inp.dimension] = raw
    for dim, value in filters.items():
        if dim == "interval":
            at = from_centre(datetime.strptime(str(value), "%Y-%m-%d %H:%M"))  # the label is the centre's time
            where = where & (Call.started_at >= at) & (Call.started_at < at + timedelta(minutes=15))
        elif dim == "day":
            d = date.fromisoformat(str(value)[:10])
            where = where & (Call.started_at >= centre_midnight(d)) & (
                Call.started_at < centre_midnight(d + timedelta(days=1)))
        elif dim in DIMENSIONS["calls"] and dim not in TIME_DIMENSIONS:
            vals = [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
            if dim in ("skill", "team", "department", "category", "category_type"):
                where = where & (stats_category.drill(dim, vals) if dim.startswith("category")
                                 else _drill_attr(dim, vals))
                continue
            col = getattr(Call, dim)
            where = where & (col.in_(vals) if any(vals) else (col.is_null() | (col == "")))
    if not (actor.is_system or not actor.regions or actor.has("reports.all")):
        where = where & (Call.city.in_(list(actor.regions)) | Call.region.in_(list(actor.regions)))
    with session():
        found: list[Any] = list(Call.select(Call.id, Call.started_at, Call.ended_at, Call.caller_number, Call.tier,
                                            Call.queue, Call.agent, Call.routed, Call.result, Call.wait_s,
                                            Call.talk_s, Call.city)
                                .where(where).order_by(Call.started_at, Call.id).limit(limit).dicts())
    return [dict(r) for r in found]


def _drill_attr(dim: str, values: list[str]) -> Any:
    """The calls of a skill (their queues), a team or a department (their agents), as the facts counted them."""
    from .stats import SETTINGS, agent_attrs
    from .stats_teams import agent_teams

    if dim == "skill":
        queues = [q for q, skill in SETTINGS.queue_skills.items() if skill in values]
        return Call.queue.in_(queues) if any(values) else Call.queue.not_in(list(SETTINGS.queue_skills))
    agents = [a for a in agent_teams() if agent_attrs(a)[dim] in values]
    return Call.agent.in_(agents) if any(values) else Call.agent.not_in(list(agent_teams()))
