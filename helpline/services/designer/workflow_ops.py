"""Pure operations of the workflow designer on a process as plain data (the ``workflow`` object as in its
YAML file), and the one question it asks the database: which states records are still in.

The designer edits a process that may be half-finished (a transition to a state not added yet, a state no
transition reaches), so nothing here needs the data to pass the schema: every function reads it as it is.
What the checker reports about the shape (HL-E401 unknown state, HL-E402 unreachable state, HL-E403 an
open state with no way out) is worked out here too, so the graph can colour a process the checker cannot
load yet.

* :func:`states_of`, :func:`transitions_of`, :func:`edges`, :func:`unreachable`, :func:`dead_ends`,
  :func:`unknown_states`;
* :func:`add_state`, :func:`rename_state`, :func:`remove_state`, :func:`add_transition`,
  :func:`rename_transition`, :func:`remove_transition` — structural edits that keep the references right;
* :func:`held_states` — the states the live process's records are in that a draft neither keeps nor maps
  (what publishing would refuse with ``StatesStillHeld``), and :func:`map_states` to say where they go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from peewee import fn

from helpline.data.database import session
from helpline.data.workflow import WorkflowInstance

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
STATE_KINDS = ("open", "waiting", "closed")
ASSIGN_TO = ("department", "role", "creator", "actor", "keep", "rule")
RECIPIENTS = ("assignee", "department", "head", "creator", "actor")


def states_of(flow: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The process's states that are mappings (anything else is left to the schema check)."""
    states = flow.get("states")
    return [s for s in states if isinstance(s, dict)] if isinstance(states, list) else []


def transitions_of(flow: Mapping[str, Any]) -> list[dict[str, Any]]:
    transitions = flow.get("transitions")
    return [t for t in transitions if isinstance(t, dict)] if isinstance(transitions, list) else []


def state_names(flow: Mapping[str, Any]) -> list[str]:
    return [str(s.get("name")) for s in states_of(flow) if s.get("name")]


def sources(tr: Mapping[str, Any]) -> list[str]:
    """A transition's from-states (a single name is taken as a list of one)."""
    value = tr.get("from")
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def edges(flow: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """(from, to, transition index) for every arrow of the graph."""
    out = []
    for i, tr in enumerate(transitions_of(flow)):
        target = str(tr.get("to") or "")
        for source in sources(tr):
            if target:
                out.append((source, target, i))
    return out


def reachable(flow: Mapping[str, Any]) -> set[str]:
    start = str(flow.get("initial") or "")
    seen = {start} if start else set()
    todo = [start] if start else []
    pairs = edges(flow)
    while todo:
        here = todo.pop()
        for source, target, _ in pairs:
            if source == here and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def unreachable(flow: Mapping[str, Any]) -> list[str]:
    """States no transition reaches from the initial state (HL-E402), in the order written."""
    seen = reachable(flow)
    return [n for n in state_names(flow) if n not in seen]


def dead_ends(flow: Mapping[str, Any]) -> list[str]:
    """Open or waiting states no transition leaves (HL-E403)."""
    leaving = {source for source, _, _ in edges(flow)}
    return [str(s.get("name")) for s in states_of(flow)
            if s.get("name") and s.get("kind", "open") != "closed" and s.get("name") not in leaving]


def unknown_states(flow: Mapping[str, Any]) -> list[str]:
    """State names the transitions or ``initial`` use that the process does not define (HL-E401)."""
    known = set(state_names(flow))
    named = [str(flow.get("initial") or "")] + [n for s, t, _ in edges(flow) for n in (s, t)]
    return list(dict.fromkeys(n for n in named if n and n not in known))


def check_name(existing: list[str], name: str) -> str | None:
    """Why ``name`` cannot be a new state or transition: ``bad`` or ``exists``; None: it can."""
    if not NAME_PATTERN.match(name):
        return "bad"
    if name in existing:
        return "exists"
    return None


# ---------------------------------------------------------------------------------------- states
def add_state(flow: dict[str, Any], name: str, kind: str = "open", label: dict[str, str] | None = None
              ) -> dict[str, Any]:
    state: dict[str, Any] = {"name": name, "label": label or {"en": name}}
    if kind != "open":
        state["kind"] = kind
    flow.setdefault("states", []).append(state)
    if not flow.get("initial"):
        flow["initial"] = name
    return state


def rename_state(flow: dict[str, Any], old: str, new: str) -> int:
    """Rename a state and every reference to it (initial, transitions' from and to, ``state_map``
    targets); returns how many references followed. Records in the old state are the state_map's
    business (:func:`held_states`)."""
    count = 0
    for state in states_of(flow):
        if state.get("name") == old:
            state["name"] = new
    if flow.get("initial") == old:
        flow["initial"] = new
        count += 1
    for tr in transitions_of(flow):
        if isinstance(tr.get("from"), list):
            for j, source in enumerate(tr["from"]):
                if source == old:
                    tr["from"][j] = new
                    count += 1
        elif tr.get("from") == old:
            tr["from"] = [new]
            count += 1
        if tr.get("to") == old:
            tr["to"] = new
            count += 1
    mapping = flow.get("state_map")
    if isinstance(mapping, dict):
        for key, value in list(mapping.items()):
            if value == old:
                mapping[key] = new
                count += 1
    return count


def remove_state(flow: dict[str, Any], name: str) -> list[str]:
    """Remove a state; returns the transitions that still name it (the checker flags them HL-E401)."""
    flow["states"] = [s for s in flow.get("states") or [] if not (isinstance(s, dict) and s.get("name") == name)]
    return [str(tr.get("name")) for tr in transitions_of(flow) if name in sources(tr) or tr.get("to") == name]


# ---------------------------------------------------------------------------------------- transitions
def add_transition(flow: dict[str, Any], name: str, source: str, target: str, roles: list[str],
                   label: dict[str, str] | None = None) -> dict[str, Any]:
    tr: dict[str, Any] = {"name": name, "label": label or {"en": name}, "from": [source] if source else [],
                          "to": target, "roles": list(roles)}
    flow.setdefault("transitions", []).append(tr)
    return tr


def rename_transition(flow: dict[str, Any], old: str, new: str) -> None:
    for tr in transitions_of(flow):
        if tr.get("name") == old:
            tr["name"] = new


def remove_transition(flow: dict[str, Any], name: str) -> None:
    flow["transitions"] = [t for t in flow.get("transitions") or []
                           if not (isinstance(t, dict) and t.get("name") == name)]


# ---------------------------------------------------------------------------------------- records
def held_counts(name: str) -> dict[str, int]:
    """State → how many records of the live process ``name`` are in it."""
    with session():
        rows = (WorkflowInstance.select(WorkflowInstance.state, fn.COUNT(WorkflowInstance.id))
                .where(WorkflowInstance.workflow == name).group_by(WorkflowInstance.state).tuples())
        return {str(row[0]): int(row[1]) for row in rows}  # type: ignore[index]


def held_states(name: str, flow: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(state, records) for each state records of the process ``name`` are in that ``flow`` (a draft)
    neither keeps nor maps in ``state_map`` — publishing it would be refused (``StatesStillHeld``)."""
    kept = set(state_names(flow))
    mapping = flow.get("state_map") if isinstance(flow.get("state_map"), dict) else {}
    return [(state, count) for state, count in sorted(held_counts(name).items())
            if count and state not in kept and state not in (mapping or {})]


def map_states(flow: dict[str, Any], mapping: Mapping[str, str]) -> None:
    """Add ``old → new`` entries to the process's ``state_map`` (entries with an empty target are left out)."""
    current = flow.get("state_map") if isinstance(flow.get("state_map"), dict) else None
    target: dict[str, Any] = current if current is not None else {}
    for old, new in mapping.items():
        if new:
            target[old] = new
    if target:
        flow["state_map"] = target
