"""Checks of ``report`` objects: measures and dimensions of their source, a period input, the chart's measure,
the logic between the inputs (rule language, as on query screens)."""

from __future__ import annotations

import difflib

from helpline.diagnostics import Problem
from helpline.rules.checker import check_expression
from helpline.rules.uses import query_use

from .kinds.report import DIMENSIONS, MEASURES, Report
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
    return out
