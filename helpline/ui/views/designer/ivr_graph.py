"""The IVR designer's drawn graph: a flow as Mermaid flowchart text, with flagged nodes coloured.

:func:`flags` works out, for every node, what is wrong with it: ``unreachable`` (HL-E307), ``dangling``
(one of its references names a node the flow does not have: HL-E301) and ``error`` (any other problem the
checker placed inside the node). :func:`mermaid` draws the flow: one box per node (its name and type;
menus, branches, collects and look-ups as decisions, call endings as rounded boxes), one arrow per
reference labelled with the menu key or the property (``on_error`` dashed), the flow's entries as small
start marks, and each missing node as a red dashed box the dangling arrows (red too) point at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from helpline.services.designer.ivr_ops import dangling, nodes_of, references, unreachable

UNREACHABLE = "unreachable"
DANGLING = "dangling"
ERROR = "error"

STYLES = {
    UNREACHABLE: "fill:#fff3e0,stroke:#ef6c00,stroke-width:3px,stroke-dasharray:6 3",
    DANGLING: "fill:#ffebee,stroke:#c62828,stroke-width:3px",
    ERROR: "fill:#ffebee,stroke:#c62828,stroke-width:2px",
    "missing": "fill:#ffffff,stroke:#c62828,stroke-width:2px,stroke-dasharray:5 5,color:#c62828",
    "entry": "fill:#e3f2fd,stroke:#1565c0",
}
DECISIONS = {"menu", "branch", "collect", "lookup"}
ENDINGS = {"hangup", "transfer", "goto"}
RED = "stroke:#c62828,stroke-width:2px,color:#c62828"


def flags(flow: Mapping[str, Any], problem_ids: Mapping[str, Iterable[str]] | None = None) -> dict[str, set[str]]:
    """Node name → its flags (see the module docstring); ``problem_ids``: the checker's problem ids by
    node (those placed at ``("nodes", name, ...)``), so a problem the data alone does not show counts."""
    out: dict[str, set[str]] = {name: set() for name in nodes_of(flow)}
    for name in unreachable(flow):
        out[name].add(UNREACHABLE)
    for ref in dangling(flow):
        if ref.source is not None and ref.source in out:
            out[ref.source].add(DANGLING)
    for name, ids in (problem_ids or {}).items():
        if name not in out:
            continue
        for pid in ids:
            out[name].add({"HL-E307": UNREACHABLE, "HL-E301": DANGLING}.get(pid, ERROR))
    return out


def _text(value: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return value.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _box(node_id: str, text: str, node_type: str) -> str:
    if node_type in DECISIONS:
        return f'{node_id}{{"{text}"}}'
    if node_type in ENDINGS:
        return f'{node_id}(["{text}"])'
    return f'{node_id}["{text}"]'


def mermaid(flow: Mapping[str, Any], node_flags: Mapping[str, set[str]] | None = None, *,
            direction: str = "TD") -> str:
    """The flow as Mermaid flowchart text (see the module docstring)."""
    node_flags = node_flags if node_flags is not None else flags(flow)
    nodes = nodes_of(flow)
    ids = {name: f"n{i}" for i, name in enumerate(nodes)}
    lines = [f"flowchart {direction}"]
    lines += [f"  classDef {name} {style}" for name, style in STYLES.items()]
    for name, node in nodes.items():
        node_type = str(node.get("type") or "?")
        label = f"{_text(name)}<br/><i>{_text(node_type)}</i>"
        marks = sorted(node_flags.get(name, set()))
        css = f":::{marks[0] if len(marks) == 1 else _worst(marks)}" if marks else ""
        lines.append(f"  {_box(ids[name], label, node_type)}{css}")
    missing: dict[str, str] = {}
    edges: list[str] = []
    red: list[int] = []
    for ref in references(flow):
        if ref.target in ids:
            target = ids[ref.target]
        else:
            if ref.target not in missing:
                missing[ref.target] = f"m{len(missing)}"
                lines.append(f'  {missing[ref.target]}["? {_text(ref.target)}"]:::missing')
            target = missing[ref.target]
            red.append(len(edges))
        if ref.source is None:
            entry = f"e_{ref.label}"
            lines.append(f'  {entry}(("{_text(ref.label)}")):::entry')
            edges.append(f"  {entry} -.-> {target}")
            continue
        arrow = "-.->" if ref.label == "on_error" else "-->"
        text = "" if ref.label == "next" else f'|"{_text(ref.label)}"|'
        edges.append(f"  {ids[ref.source]} {arrow}{text} {target}")
    lines += edges
    lines += [f"  linkStyle {i} {RED}" for i in red]
    return "\n".join(lines) + "\n"


def _worst(marks: list[str]) -> str:
    for mark in (DANGLING, UNREACHABLE, ERROR):
        if mark in marks:
            return mark
    return marks[0]
