"""Pure operations of the IVR designer on a flow as plain data (the ``ivr`` object as in its YAML file).

The designer edits a flow that may be half-finished (a node without its ``next``, a choice naming a node
that does not exist yet), so nothing here needs the flow to pass the schema: every function reads the
data as it is. What the metadata checker reports with ids (HL-E301 unknown node, HL-E307 unreachable
node) is worked out here too, so the graph can colour a flow the checker cannot load yet.

* :func:`references` — every place that names a node (flow entries, node fields, menu choices, ``goto``
  actions of branch rules), with its data path;
* :func:`reachable`, :func:`unreachable`, :func:`dangling` — what HL-E307 and HL-E301 report;
* :func:`add_node`, :func:`remove_node`, :func:`rename_node`, :func:`change_type` — structural edits that
  keep the references right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from helpline.metadata.kinds.ivr import NODE_MODELS

Path = tuple[str | int, ...]

FLOW_ENTRIES = ("start", "skip_to", "on_block", "on_error")
"""Flow properties naming a node where calls enter."""

NODE_REF_KEYS = ("next", "on_error", "on_timeout", "after_retries", "otherwise", "found", "not_found", "empty")
"""Node properties that name a node of the flow (``timeout`` too, but only in a transfer node)."""

PROMPT_KEYS = ("prompt", "invalid_prompt", "timeout_prompt")
"""Node properties that name a prompt of the flow (``prompts`` too, a list, in a play node)."""

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_GOTO = re.compile(r"\bgoto(\s*\(?\s*)([^\W\d]\w*)")


@dataclass(frozen=True)
class Reference:
    """One place that names a node: ``path`` in the flow's data, ``source`` the node it is in (None: a
    flow property), ``label`` a short text for the graph's edge."""

    path: Path
    source: str | None
    target: str
    label: str


def nodes_of(flow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The flow's nodes that are mappings (anything else is left to the schema check)."""
    nodes = flow.get("nodes")
    if not isinstance(nodes, Mapping):
        return {}
    return {str(k): v for k, v in nodes.items() if isinstance(v, dict)}


def is_node_key(node: Mapping[str, Any], key: str) -> bool:
    """Whether ``node[key]`` names a node (a menu's ``timeout`` is a duration, a transfer's a node)."""
    return key in NODE_REF_KEYS or (key == "timeout" and node.get("type") == "transfer")


def rule_gotos(text: str) -> list[str]:
    """The node names of the ``goto`` actions in a branch's rule text (``goto x`` and ``goto(x)``)."""
    return [m.group(2) for m in _GOTO.finditer(text)]


def node_references(name: str, node: Mapping[str, Any]) -> list[Reference]:
    """Every reference to a node from one node."""
    out: list[Reference] = []
    base: Path = ("nodes", name)
    for key, value in node.items():
        if isinstance(key, str) and is_node_key(node, key) and isinstance(value, str) and value:
            out.append(Reference((*base, key), name, value, key))
    choices = node.get("choices")
    if node.get("type") == "menu" and isinstance(choices, Mapping):
        for digit, target in choices.items():
            if isinstance(target, str) and target:
                out.append(Reference((*base, "choices", str(digit)), name, target, str(digit)))
    rules = node.get("rules")
    if node.get("type") == "branch" and isinstance(rules, str):
        out += [Reference((*base, "rules"), name, target, "rule") for target in dict.fromkeys(rule_gotos(rules))]
    return out


def references(flow: Mapping[str, Any]) -> list[Reference]:
    """Every reference to a node in the flow: the flow's entries first, then node by node."""
    out = [Reference((key,), None, str(flow[key]), key) for key in FLOW_ENTRIES
           if isinstance(flow.get(key), str) and flow.get(key)]
    for name, node in nodes_of(flow).items():
        out += node_references(name, node)
    return out


def reachable(flow: Mapping[str, Any], entries: Iterable[str] = ()) -> set[str]:
    """The nodes a call can reach from the flow's entries (and ``entries``: nodes other flows ``goto``)."""
    nodes = nodes_of(flow)
    edges: dict[str, set[str]] = {}
    for ref in references(flow):
        if ref.source is not None:
            edges.setdefault(ref.source, set()).add(ref.target)
    todo = [str(flow[k]) for k in FLOW_ENTRIES if isinstance(flow.get(k), str)] + list(entries)
    seen: set[str] = set()
    while todo:
        current = todo.pop()
        if current in seen or current not in nodes:
            continue
        seen.add(current)
        todo.extend(edges.get(current, ()))
    return seen


def unreachable(flow: Mapping[str, Any], entries: Iterable[str] = ()) -> list[str]:
    """The nodes no call can reach (HL-E307), in the flow's order."""
    seen = reachable(flow, entries)
    return [name for name in nodes_of(flow) if name not in seen]


def dangling(flow: Mapping[str, Any]) -> list[Reference]:
    """References to nodes the flow does not have (HL-E301)."""
    nodes = flow.get("nodes") if isinstance(flow.get("nodes"), Mapping) else {}
    return [ref for ref in references(flow) if ref.target not in (nodes or {})]


def prompt_names(flow: Mapping[str, Any]) -> list[str]:
    prompts = flow.get("prompts")
    return [str(k) for k in prompts] if isinstance(prompts, Mapping) else []


# ------------------------------------------------------------------------------------------- editing
def check_name(flow: Mapping[str, Any], name: str) -> str | None:
    """Why ``name`` cannot be a new node's name ("bad" or "exists"), or None."""
    if not NAME_PATTERN.match(name):
        return "bad"
    if name in (flow.get("nodes") or {}):
        return "exists"
    return None


def node_template(node_type: str, *, node: str, prompt: str | None, queue: str | None, flow: str) -> dict[str, Any]:
    """A new node of ``node_type`` with its required properties filled in (``node``: where it goes next;
    ``prompt``/``queue``: the first prompt and queue there are; ``flow``: the flow for a ``goto``)."""
    if node_type not in NODE_MODELS:
        raise ValueError(f"unknown node type {node_type!r}")
    templates: dict[str, dict[str, Any]] = {
        "answer": {"next": node},
        "play": {"prompts": [prompt] if prompt else [], "next": node},
        "say": {"say": "digits", "value": "caller.number", "next": node},
        "menu": {"prompt": prompt, "choices": {"1": node}, "timeout": "5s", "after_retries": node},
        "collect": {"prompt": prompt, "into": "digits", "next": node, "after_retries": node},
        "branch": {"rules": f"otherwise goto {node}"},
        "set": {"values": {"flag": "true"}, "next": node},
        "lookup": {"found": node, "not_found": node},
        "announce": {"next": node},
        "record": {"next": node},
        "transfer": {"queue": queue},
        "callback": {"queue": queue, "next": node},
        "goto": {"flow": flow},
        "hangup": {},
        "hook": {"hook": "extension.function", "next": node},
        "survey": {"question": "satisfaction", "prompt": prompt,
                   "answers": {"1": "very_satisfied", "2": "satisfied", "3": "dissatisfied"}, "next": node},
    }
    return {"type": node_type, **{k: v for k, v in templates[node_type].items() if v not in (None, [])}}


def add_node(flow: dict[str, Any], name: str, node: dict[str, Any]) -> None:
    """Add ``node`` as ``name`` at the end of the flow's nodes."""
    nodes = flow.setdefault("nodes", {})
    if name in nodes:
        raise ValueError(f"node '{name}' exists")
    nodes[name] = node


def remove_node(flow: dict[str, Any], name: str) -> list[Reference]:
    """Remove node ``name``; returns the references to it that are left (the checker flags them HL-E301
    until they name another node)."""
    nodes = flow.get("nodes") or {}
    if name not in nodes:
        raise KeyError(name)
    del nodes[name]
    return [ref for ref in references(flow) if ref.target == name]


def _rename_in_rules(text: str, old: str, new: str) -> str:
    return _GOTO.sub(lambda m: f"goto{m.group(1)}{new}" if m.group(2) == old else m.group(0), text)


def rename_node(flow: dict[str, Any], old: str, new: str) -> int:
    """Rename node ``old`` to ``new`` where it stands (the order of nodes is kept) and in every reference
    of the flow (entries, node properties, menu choices, ``goto`` in branch rules); returns how many
    references changed. References from other flows (a ``goto`` node's ``node``) are not changed: the
    checker reports them."""
    nodes = flow.get("nodes")
    if not isinstance(nodes, dict) or old not in nodes:
        raise KeyError(old)
    if old == new:
        return 0
    if new in nodes:
        raise ValueError(f"node '{new}' exists")
    flow["nodes"] = {(new if key == old else key): value for key, value in nodes.items()}
    changed = 0
    for key in FLOW_ENTRIES:
        if flow.get(key) == old:
            flow[key] = new
            changed += 1
    for node in nodes_of(flow).values():
        for key, value in list(node.items()):
            if is_node_key(node, key) and value == old:
                node[key] = new
                changed += 1
        choices = node.get("choices")
        if node.get("type") == "menu" and isinstance(choices, dict):
            for digit, target in choices.items():
                if target == old:
                    choices[digit] = new
                    changed += 1
        rules = node.get("rules")
        if node.get("type") == "branch" and isinstance(rules, str):
            renamed = _rename_in_rules(rules, old, new)
            if renamed != rules:
                changed += rule_gotos(rules).count(old)
                node["rules"] = renamed
    return changed


def fields_of(node_type: str) -> list[str]:
    """The properties a node of ``node_type`` takes, in the model's order."""
    model = NODE_MODELS.get(node_type)
    return list(model.model_fields) if model is not None else ["type"]


def change_type(node: dict[str, Any], node_type: str, template: Mapping[str, Any]) -> dict[str, Any]:
    """The node as ``node_type``: the properties both types take are kept, the new type's required ones
    come from ``template`` (a :func:`node_template`), the rest are dropped."""
    allowed = set(fields_of(node_type))
    if (node.get("type") == "transfer") != (node_type == "transfer"):
        allowed.discard("timeout")  # a node name in a transfer, a duration elsewhere
    kept = {k: v for k, v in node.items() if k in allowed and k != "type"}
    return {"type": node_type, **{k: v for k, v in template.items() if k != "type" and k not in kept}, **kept}
