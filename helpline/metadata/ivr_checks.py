"""Checks of IVR flows and routings: every node, prompt, queue, flow and hook a flow names must exist.

Run by :func:`helpline.metadata.checks.cross_check` (so ``run.py check``, the metadata store and the
designers all see them). Problems (``HL-E3xx``) are placed at the referring value:

* a node reference (``next``, ``choices``, ``on_error`` ..., a ``goto`` in a branch rule) names a node of
  the flow (HL-E301); a prompt reference names a prompt of the flow (HL-E302);
* a ``transfer`` / ``callback`` queue is defined by a routing (HL-E303), each queue once (HL-E308);
* a ``goto`` node names a flow (HL-E304) and, when it gives ``node``, a node of that flow (HL-E301);
* a ``hook`` node names a function of an extension (HL-E305);
* a ``say`` node's value has a type it can be said as (HL-E309: a date as a number ...);
* a ``survey`` node's answers are codes of its ``category`` tree (HL-E204, HL-E219); a queue's ``survey``
  names a flow (HL-E304);
* an access number selects one flow only (HL-E306);
* every node can be reached from ``start``, ``skip_to``, ``on_block``, ``on_error`` or a ``goto`` of
  another flow (HL-E307, an error: the metadata store refuses any problem, and an unreachable node is
  nearly always a misspelt reference);
* every rule text is checked with the rule language's ``ivr`` place of use, which knows the flow's
  nodes, prompts, the queues and the tier codes (HL-R213 for an unknown one). ``say.value`` and
  ``set.values`` are expressions, ``collect.rule`` a condition, ``branch.rules`` a rule list.

:func:`ivr_use` builds that place of use; the interpreter (``telephony.ivr``) compiles with the same.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path as FsPath
from typing import Any

from helpline.config import ROOT
from helpline.diagnostics import Problem
from helpline.rules.checker import check_expression, check_program
from helpline.rules.uses import IVR, Use

from .kinds import Ivr, Routing
from .kinds.ivr import (
    BranchNode,
    CallbackNode,
    CollectNode,
    GotoNode,
    HookNode,
    NodeBase,
    SayNode,
    SetNode,
    SurveyNode,
    TransferNode,
    node_prompts,
    node_targets,
)
from .metaset import MetadataSet, Source
from .rule_checks import place
from .yamlpos import Path

EXTENSIONS_DIR = ROOT / "extensions"
"""Where extension packages live: ``extensions/<name>/__init__.py`` with an ``IVR_HOOKS`` mapping."""


def ivrs_of(mset: MetadataSet) -> dict[str, Ivr]:
    """The IVR flows of a metadata set, by name."""
    return {n: o for n, o in mset.objects.get("ivr", {}).items() if isinstance(o, Ivr)}


def routings_of(mset: MetadataSet) -> dict[str, Routing]:
    """The routings of a metadata set, by name."""
    return {n: o for n, o in mset.objects.get("routing", {}).items() if isinstance(o, Routing)}


def queue_names(mset: MetadataSet) -> set[str]:
    """Every queue any routing defines."""
    return {q.name for r in routings_of(mset).values() for q in r.queues}


def find_hook(name: str, directory: FsPath | None = None) -> Callable[..., Any] | str:
    """The hook function ``<extension>.<function>``, or a text saying why it cannot be found."""
    extension, _, function = name.partition(".")
    base = (directory or EXTENSIONS_DIR) / extension
    if not (base / "__init__.py").is_file():
        return f"there is no extension '{extension}' (extensions/{extension}/__init__.py)"
    try:
        module = importlib.import_module(f"extensions.{extension}")
    except Exception as exc:  # an extension that does not import is reported, never raised
        return f"extension '{extension}' does not import: {exc!r}"
    hooks = getattr(module, "IVR_HOOKS", None)
    if not isinstance(hooks, dict) or not callable(hooks.get(function)):
        known = ", ".join(sorted(hooks)) if isinstance(hooks, dict) else "none"
        return f"extension '{extension}' has no IVR hook '{function}' (it has: {known})"
    fn: Callable[..., Any] = hooks[function]
    return fn


def declared_hook(name: str, directory: FsPath | None = None) -> str | None:
    """Why hook ``<extension>.<function>`` is not declared, or None — read from the extension's source
    (``IVR_HOOKS = {"name": fn, ...}``) without importing it, so ``run.py check`` stays fast and never runs
    extension code. An ``IVR_HOOKS`` that is not a literal mapping is checked by importing after all."""
    extension, _, function = name.partition(".")
    source = (directory or EXTENSIONS_DIR) / extension / "__init__.py"
    if not source.is_file():
        return f"there is no extension '{extension}' (extensions/{extension}/__init__.py)"
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError) as exc:
        return f"extension '{extension}' cannot be read: {exc}"
    for stmt in tree.body:
        targets: list[ast.expr] = []
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        if any(isinstance(t, ast.Name) and t.id == "IVR_HOOKS" for t in targets):
            value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
            if isinstance(value, ast.Dict) and all(isinstance(k, ast.Constant) for k in value.keys):
                names = {str(k.value) for k in value.keys if isinstance(k, ast.Constant)}
                if function in names:
                    return None
                return f"extension '{extension}' has no IVR hook '{function}' (it has: {', '.join(sorted(names))})"
            break
    found = find_hook(name, directory)
    return found if isinstance(found, str) else None


def ivr_use(flow: Ivr | None, mset: MetadataSet | None) -> Use:
    """The ``ivr`` place of use for one flow: its nodes, prompts, the queues and the category codes."""

    def codes(tree: str) -> set[str] | None:
        cat = mset.categories.get(tree) if mset else None
        return cat.codes() if cat else None

    queues = queue_names(mset) if mset is not None else set()

    def refs(kind: str) -> Iterable[str] | None:
        if kind == "node":
            return list(flow.nodes) if flow is not None else None
        if kind == "prompt":
            return list(flow.prompts) if flow is not None else None
        if kind == "queue":
            return queues if mset is not None else None
        if kind == "tier":
            return codes("value_tier")
        return None

    return IVR.with_codes(codes=codes, refs=refs)


def expression_use(use: Use, *, condition: bool) -> Use:
    """The same names as an expression (``say.value``, ``set.values``) or a condition (``collect.rule``)."""
    return replace(use, mode="expression", expect_bool=condition)


class _IvrReport:
    def __init__(self, mset: MetadataSet) -> None:
        self.mset = mset
        self.flows = ivrs_of(mset)
        self.queues = queue_names(mset)
        self.problems: list[Problem] = []

    def add(self, source: Source, check_id: str, message: str, path: Path, *, key: bool = False) -> None:
        self.problems.append(source.problem(check_id, message, path, key=key))

    def suggest(self, name: str, known: Iterable[str]) -> str:
        import difflib

        close = difflib.get_close_matches(name, list(known), n=1)
        return f" (did you mean '{close[0]}'?)" if close else ""


def _rule_gotos(text: str, use: Use) -> list[str]:
    result = check_program(text, use)
    if result.program is None:
        return []
    out: list[str] = []
    for rule in result.program.rules:
        for action in rule.actions:
            if action.name == "goto" and action.args:
                value = getattr(action.args[0], "value", None)
                if isinstance(value, str):
                    out.append(value)
    return out


SAYABLE: dict[str, frozenset[str]] = {
    "digits": frozenset({"number", "text", "any", "category"}),
    "number": frozenset({"number", "text", "any"}),
    "date": frozenset({"date", "datetime", "text", "any"}),
}
"""The value types a ``say`` node can say as digits, a number or a date (text is checked at run time)."""


def _check_rules(r: _IvrReport, flow: Ivr, src: Source, use: Use) -> None:
    for name, node in flow.nodes.items():
        base: Path = ("nodes", name)
        if isinstance(node, BranchNode):
            result = check_program(node.rules, use)
            r.problems += [place(p, src, (*base, "rules")) for p in result.problems]
        elif isinstance(node, SayNode):
            result = check_expression(node.value, expression_use(use, condition=False))
            r.problems += [place(p, src, (*base, "value")) for p in result.problems]
            kind = result.type.kind if result.type is not None and result.ok else None
            if kind is not None and kind not in SAYABLE[node.say]:
                r.add(src, "HL-E309", f"'{node.value}' is a {result.type}: it cannot be said as a {node.say}",
                      (*base, "value"))
        elif isinstance(node, SetNode):
            for var, text in node.values.items():
                result = check_expression(text, expression_use(use, condition=False))
                r.problems += [place(p, src, (*base, "values", var)) for p in result.problems]
        elif isinstance(node, CollectNode) and node.rule:
            result = check_expression(node.rule, expression_use(use, condition=True))
            r.problems += [place(p, src, (*base, "rule")) for p in result.problems]


def _check_flow(r: _IvrReport, flow: Ivr, entries: set[str]) -> None:
    src = r.mset.source(flow)
    nodes = flow.nodes
    use = ivr_use(flow, r.mset)

    def node_ref(name: str, path: Path) -> None:
        if name not in nodes:
            r.add(src, "HL-E301", f"unknown node '{name}' in flow '{flow.name}'{r.suggest(name, nodes)}", path)

    for key in ("start", "skip_to", "on_block", "on_error"):
        value = getattr(flow, key)
        if value:
            node_ref(value, (key,))
    if flow.business_line:
        tree = r.mset.categories.get("business_line")
        if tree is not None and flow.business_line not in tree.codes():
            r.add(src, "HL-E219", f"'{flow.business_line}' is not a code of tree 'business_line'"
                                  f"{r.suggest(flow.business_line, tree.codes())}", ("business_line",))
    edges: dict[str, set[str]] = {}
    for name, node in nodes.items():
        if not isinstance(node, NodeBase):
            continue
        base: Path = ("nodes", name)
        targets = edges.setdefault(name, set())
        for path, target in node_targets(node):
            node_ref(target, (*base, *path))
            targets.add(target)
        for path, prompt in node_prompts(node):
            if prompt not in flow.prompts:
                r.add(src, "HL-E302", f"unknown prompt '{prompt}' in flow '{flow.name}'"
                                      f"{r.suggest(prompt, flow.prompts)}", (*base, *path))
        if isinstance(node, TransferNode | CallbackNode) and node.queue and node.queue not in r.queues:
            r.add(src, "HL-E303", f"unknown queue '{node.queue}'{r.suggest(node.queue, r.queues)}",
                  (*base, "queue"))
        if isinstance(node, GotoNode):
            other = r.flows.get(node.flow)
            if other is None:
                if ("ivr", node.flow) not in r.mset.broken:
                    r.add(src, "HL-E304", f"unknown IVR flow '{node.flow}'{r.suggest(node.flow, r.flows)}",
                          (*base, "flow"))
            elif node.node and node.node not in other.nodes:
                r.add(src, "HL-E301", f"unknown node '{node.node}' in flow '{other.name}'"
                                      f"{r.suggest(node.node, other.nodes)}", (*base, "node"))
        if isinstance(node, HookNode):
            why = declared_hook(node.hook)
            if why is not None:
                r.add(src, "HL-E305", f"unknown hook '{node.hook}': {why}", (*base, "hook"))
        if isinstance(node, BranchNode):
            targets.update(t for t in _rule_gotos(node.rules, use) if t in nodes)
        if isinstance(node, SurveyNode):
            _check_survey(r, src, node, base)
    seen: set[str] = set()
    todo = [n for n in (flow.start, flow.skip_to, flow.on_block, flow.on_error, *entries) if n and n in nodes]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(t for t in edges.get(current, ()) if t in nodes and t not in seen)
    for name in nodes:
        if name not in seen:
            r.add(src, "HL-E307", f"node '{name}' of flow '{flow.name}' cannot be reached", ("nodes", name),
                  key=True)
    _check_rules(r, flow, src, use)


def _check_survey(r: _IvrReport, src: Source, node: SurveyNode, base: Path) -> None:
    """A survey question's answers are codes of its category tree (HL-E204 / HL-E219)."""
    tree = r.mset.categories.get(node.category)
    if tree is None:
        r.add(src, "HL-E204", f"unknown category tree '{node.category}'"
                              f"{r.suggest(node.category, r.mset.categories)}", (*base, "category"))
        return
    codes = tree.codes()
    for key, code in node.answers.items():
        if code not in codes:
            r.add(src, "HL-E219", f"'{code}' is not a code of tree '{tree.name}'{r.suggest(code, codes)}",
                  (*base, "answers", key))


def _check_routings(r: _IvrReport) -> None:
    seen: dict[str, str] = {}
    for routing in routings_of(r.mset).values():
        src = r.mset.source(routing)
        for i, queue in enumerate(routing.queues):
            if queue.name in seen:
                r.add(src, "HL-E308", f"queue '{queue.name}' is already defined in routing '{seen[queue.name]}'",
                      ("queues", i, "name"))
            seen.setdefault(queue.name, routing.name)
        for i, queue in enumerate(routing.queues):
            if queue.survey and queue.survey not in r.flows and ("ivr", queue.survey) not in r.mset.broken:
                r.add(src, "HL-E304", f"unknown IVR flow '{queue.survey}'{r.suggest(queue.survey, r.flows)}",
                      ("queues", i, "survey"))
            if queue.overflow and queue.overflow not in r.queues:
                r.add(src, "HL-E303", f"unknown queue '{queue.overflow}'{r.suggest(queue.overflow, r.queues)}",
                      ("queues", i, "overflow"))
        cb_queue = routing.callbacks.queue
        if cb_queue and cb_queue not in r.queues:
            r.add(src, "HL-E303", f"unknown queue '{cb_queue}'{r.suggest(cb_queue, r.queues)}",
                  ("callbacks", "queue"))
        tiers = r.mset.categories.get("value_tier")
        tier_codes = tiers.codes() if tiers is not None else set()
        for tier in routing.callbacks.due if tiers is not None else ():
            if tier not in tier_codes:
                r.add(src, "HL-E219", f"'{tier}' is not a code of tree 'value_tier'{r.suggest(tier, tier_codes)}",
                      ("callbacks", "due", tier))
        reasons = r.mset.categories.get("not_ready_reason")  # a set without the tree has nothing to check
        codes = reasons.codes() if reasons is not None else set()
        for code, path in [(routing.no_answer_reason, ("no_answer_reason",)),
                           *[(c, ("not_ready_limits", c)) for c in routing.not_ready_limits]]:
            if reasons is not None and code not in codes:
                r.add(src, "HL-E219", f"'{code}' is not a code of tree 'not_ready_reason'{r.suggest(code, codes)}",
                      path, key=path[0] == "not_ready_limits")
        if routing.strategy:
            from helpline.rules.uses import TIER

            result = check_program(routing.strategy, TIER.with_codes(codes=ivr_use(None, r.mset).codes))
            r.problems += [place(p, src, ("strategy",)) for p in result.problems]


def ivr_problems(mset: MetadataSet) -> list[Problem]:
    """Every problem of the set's IVR flows and routings."""
    r = _IvrReport(mset)
    _check_routings(r)
    entries: dict[str, set[str]] = {}
    for flow in r.flows.values():
        for node in flow.nodes.values():
            if isinstance(node, GotoNode) and node.node:
                entries.setdefault(node.flow, set()).add(node.node)
    numbers: dict[str, str] = {}
    for flow in r.flows.values():
        src = r.mset.source(flow)
        for i, number in enumerate(flow.access_numbers):
            if number in numbers and numbers[number] != flow.name:
                r.add(src, "HL-E306", f"access number {number} already selects flow '{numbers[number]}'",
                      ("access_numbers", i))
            numbers.setdefault(number, flow.name)
        _check_flow(r, flow, entries.get(flow.name, set()))
    return r.problems
