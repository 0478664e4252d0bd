"""The workflow designer's drawn graph: a process as Mermaid flowchart text, with flagged states coloured.

One box per state (its label in the page's language and its name; open states square, waiting states as
hexagons with "clock paused" when their clock stops, closed states rounded), a small start mark pointing at
the initial state, one arrow per transition and from-state labelled with the action and its roles.
Flags, as in the IVR graph: ``unreachable`` (HL-E402, orange dashed), ``dead_end`` (HL-E403, red),
``error`` (any other problem the checker placed inside the state); a state the transitions name but the
process lacks (HL-E401) is a red dashed box and the arrows to it are red.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from helpline.services.designer.workflow_ops import (
    dead_ends,
    edges,
    state_names,
    states_of,
    transitions_of,
    unknown_states,
    unreachable,
)

from ...i18n import current_language, t

UNREACHABLE = "unreachable"
DEAD_END = "dead_end"
ERROR = "error"
STYLES = {
    UNREACHABLE: "fill:#fff3e0,stroke:#ef6c00,stroke-width:3px,stroke-dasharray:6 3",
    DEAD_END: "fill:#ffebee,stroke:#c62828,stroke-width:3px",
    ERROR: "fill:#ffebee,stroke:#c62828,stroke-width:2px",
    "waiting": "fill:#fffde7,stroke:#f9a825",
    "closed": "fill:#e8f5e9,stroke:#2e7d32",
    "missing": "fill:#ffffff,stroke:#c62828,stroke-width:2px,stroke-dasharray:5 5,color:#c62828",
    "entry": "fill:#1565c0,stroke:#1565c0",
}
RED = "stroke:#c62828,stroke-width:2px,color:#c62828"


def flags(flow: Mapping[str, Any], problem_ids: Mapping[str, Iterable[str]] | None = None) -> dict[str, set[str]]:
    """State name → its flags; ``problem_ids``: the checker's ids by state name (placed at its index)."""
    out: dict[str, set[str]] = {name: set() for name in state_names(flow)}
    for name in unreachable(flow):
        out[name].add(UNREACHABLE)
    for name in dead_ends(flow):  # as the checker: a state nothing reaches is reported as that only
        if name in out and UNREACHABLE not in out[name]:
            out[name].add(DEAD_END)
    for name, ids in (problem_ids or {}).items():
        for pid in ids:
            if name in out:
                out[name].add({"HL-E402": UNREACHABLE, "HL-E403": DEAD_END}.get(pid, ERROR))
    return out


def shown(value: Any, fallback: str) -> str:
    """A label as plain data (``{en: .., zh_CN: ..}`` or a string) in the page's language, else English,
    else ``fallback``."""
    if isinstance(value, str):
        return value or fallback
    if isinstance(value, dict):
        return str(value.get(current_language()) or value.get("en") or fallback)
    return fallback


def _text(value: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return value.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _worst(marks: set[str]) -> str:
    return next(m for m in (DEAD_END, UNREACHABLE, ERROR) if m in marks)


def mermaid(flow: Mapping[str, Any], state_flags: Mapping[str, set[str]] | None = None, *,
            direction: str = "TD") -> str:
    """The process as Mermaid flowchart text (see the module docstring)."""
    state_flags = state_flags if state_flags is not None else flags(flow)
    ids = {str(s.get("name")): f"s{i}" for i, s in enumerate(states_of(flow)) if s.get("name")}
    lines = [f"flowchart {direction}"]
    lines += [f"  classDef {name} {style}" for name, style in STYLES.items()]
    for state in states_of(flow):
        name = str(state.get("name") or "")
        if name not in ids:
            continue
        kind = str(state.get("kind") or "open")
        clock = state.get("clock")
        paused = clock is False or (clock is None and kind != "open")
        text = f"{_text(shown(state.get('label'), name))}<br/><i>{_text(name)}</i>"
        if paused and kind != "closed":
            text += f"<br/><small>{_text(t('designer.workflow.clock_paused'))}</small>"
        box = {"waiting": f'{{{{"{text}"}}}}', "closed": f'(["{text}"])'}.get(kind, f'["{text}"]')
        marks = state_flags.get(name, set())
        css = _worst(marks) if marks else (kind if kind in ("waiting", "closed") else "")
        lines.append(f"  {ids[name]}{box}" + (f":::{css}" if css else ""))
    missing = {name: f"m{i}" for i, name in enumerate(unknown_states(flow))}
    for name, node in missing.items():
        lines.append(f'  {node}["? {_text(name)}"]:::missing')
    arrows: list[str] = []
    red: list[int] = []
    initial = str(flow.get("initial") or "")
    if initial:
        lines.append('  start(( )):::entry')
        if initial in missing:
            red.append(len(arrows))
        arrows.append(f"  start --> {ids.get(initial) or missing[initial]}")
    transitions = transitions_of(flow)
    for source, target, i in edges(flow):
        tr = transitions[i]
        roles = ", ".join(str(r) for r in tr.get("roles") or [] if r)
        text = _text(shown(tr.get("label"), str(tr.get("name") or "")))
        if roles:
            text += f"<br/><small>{_text(roles)}</small>"
        if source in missing or target in missing:
            red.append(len(arrows))
        arrow = "-.->" if tr.get("guard") else "-->"
        arrows.append(f'  {ids.get(source) or missing[source]} {arrow}|"{text}"| {ids.get(target) or missing[target]}')
    lines += arrows
    lines += [f"  linkStyle {i} {RED}" for i in red]
    return "\n".join(lines) + "\n"
