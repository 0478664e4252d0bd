"""Checks of ``report`` objects: measures and dimensions of their source, a period input, the chart's measure,
the logic between the inputs (rule language, as on query screens)."""

from __future__ import annotations

import difflib

from helpline.diagnostics import Problem
from helpline.rules.checker import check_expression
from helpline.rules.uses import query_use

from .kinds.report import CATEGORY_DIMENSIONS, CATEGORY_MEASURES, DIMENSIONS, MEASURES, Report
from .metaset import MetadataSet
from .rule_checks import place


def _hint(name: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (one of: {', '.join(known)})"


def report_problems(mset: MetadataSet) -> list[Problem]:
    problems: list[Problem] = []
    for report in mset.objects.get("report", {}).values():
        if isinstance(report, Report):
            problems.extend(_report(mset, report))
    return problems


def _report(mset: MetadataSet, r: Report) -> list[Problem]:
    src = mset.source(r)
    out: list[Problem] = []
    measures, dimensions = MEASURES[r.source], DIMENSIONS[r.source]
    for i, m in enumerate(r.measures):
        if m not in measures:
            out.append(src.problem("HL-E440", f"report '{r.name}': '{m}' is not a measure of {r.source}"
                                   + _hint(m, measures), ("measures", i)))
    for i, d in enumerate(r.dimensions):
        if d not in dimensions:
            out.append(src.problem("HL-E441", f"report '{r.name}': '{d}' is not a dimension of {r.source}"
                                   + _hint(d, dimensions), ("dimensions", i)))
    for i, inp in enumerate(r.inputs):
        if inp.dimension not in dimensions:
            out.append(src.problem("HL-E441", f"report '{r.name}': input '{inp.name}' filters '{inp.dimension}', "
                                   f"not a dimension of {r.source}" + _hint(inp.dimension, dimensions),
                                   ("inputs", i, "dimension")))
    if not any(i.dimension == "day" and i.op == "between" for i in r.inputs):
        out.append(src.problem("HL-E442", f"report '{r.name}' has no period input (an input with 'dimension: day' "
                               "and 'op: between')", ("inputs",) if r.inputs else ("measures",)))
    if r.chart and r.chart.measure and r.chart.measure not in r.measures:
        out.append(src.problem("HL-E443", f"report '{r.name}': the chart draws '{r.chart.measure}', which is not "
                               "among its measures" + _hint(r.chart.measure, tuple(r.measures)),
                               ("chart", "measure")))
    if r.logic:
        result = check_expression(r.logic, query_use([i.name for i in r.inputs]))
        out += [place(p, src, ("logic",)) for p in result.problems]
    return out + _by_category(mset, r)


def _by_category(mset: MetadataSet, r: Report) -> list[Problem]:
    """A calls report that groups or filters by the contact record's category reads the category facts: only
    their measures and dimensions (HL-E444)."""
    used = [*r.dimensions, *(i.dimension for i in r.inputs)]
    if r.source != "calls" or not {"category", "category_type"} & set(used):
        return []
    src = mset.source(r)
    out = [src.problem("HL-E444", f"report '{r.name}' is by category, whose facts have no measure '{m}' (they keep "
                       f"{', '.join(CATEGORY_MEASURES)})", ("measures", i))
           for i, m in enumerate(r.measures) if m in MEASURES["calls"] and m not in CATEGORY_MEASURES]
    places = [*(("dimensions", i) for i in range(len(r.dimensions))),
              *(("inputs", i, "dimension") for i in range(len(r.inputs)))]
    out += [src.problem("HL-E444", f"report '{r.name}' is by category, whose facts (per day) have no dimension "
                        f"'{d}'", where)
            for d, where in zip(used, places, strict=True) if d in DIMENSIONS["calls"] and d not in CATEGORY_DIMENSIONS]
    return out
