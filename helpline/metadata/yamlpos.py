"""Read YAML keeping where every value came from, so problems point at ``file:line:col``.

:func:`load_with_positions` returns plain Python data and a map from each value's path (a tuple of keys
and list indexes, as in pydantic's ``loc``) to its 1-based (line, column). Duplicate keys are reported
rather than silently dropped. Aliases that would expand the file beyond :data:`MAX_ALIAS_VALUES` values
raise :class:`AliasExpansionError` (a ``yaml.YAMLError``) before any value is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]


@dataclass
class Positioned:
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)

    def locate(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Position of ``path`` or of its nearest ancestor that has one (the key's position if ``key``)."""
        p = tuple(path)
        while True:
            if key and p in self.key_positions:
                return self.key_positions[p]
            if p in self.positions:
                return self.positions[p]
            if not p:
                return (1, 1)
            p = p[:-1]


_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's emitter when available (ten times faster: the designers write an object after every edit)."""


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """SafeLoader (no Python objects; libyaml's C parser when available); ``on``/``off``/``yes``/``no`` stay
    strings as in YAML 1.2."""


# YAML 1.1 reads yes/no/on/off as booleans; people write `no: ...` keys and `on` values. Keep only true/false.
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _Constructor(yaml.SafeLoader):
    """Builds scalars with the same resolvers as :class:`_Loader` (pure Python, used node by node)."""


_Constructor.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


MAX_ALIAS_VALUES = 10_000
"""How many values aliases (``*name``) may add to a file when expanded. A "billion laughs" file (aliases of
aliases of lists) is a few hundred bytes that expand to 10^9 values: refused before anything is built."""


class AliasExpansionError(yaml.MarkedYAMLError):
    """Aliases would expand the text beyond :data:`MAX_ALIAS_VALUES` values, or an alias refers to a value
    that contains it. The mark is the anchored value (``&name``) whose copies went over the limit."""

    def __init__(self, message: str, node: Node):
        super().__init__(problem=message, problem_mark=node.start_mark)


def check_alias_expansion(root: Node, limit: int = MAX_ALIAS_VALUES) -> None:
    """Raise :class:`AliasExpansionError` when expanding the aliases of the node graph would add more than
    ``limit`` values, or never end. Linear in the distinct nodes: expanded sizes are memoised per node."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    repeated: list[tuple[int, Node]] = []

    def children(node: Node) -> list[Node]:
        if isinstance(node, MappingNode):
            return [n for pair in node.value for n in pair]
        if isinstance(node, SequenceNode):
            return list(node.value)
        return []

    def size(node: Node) -> int:
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            repeated.append((known, node))
            return known
        if key in open_nodes:
            raise AliasExpansionError("an alias refers to a value that contains it (it would never end)", node)
        open_nodes.add(key)
        total = 1 + sum(size(child) for child in children(node))
        open_nodes.discard(key)
        sizes[key] = total
        return total

    expanded = size(root)
    if expanded - len(sizes) > limit:
        biggest = max(repeated, key=lambda item: item[0])[1]
        raise AliasExpansionError(
            f"aliases would expand this file to {expanded:,} values (at most {limit:,} may come from aliases)",
            biggest)


def load_with_positions(text: str) -> Positioned:
    """Parse one YAML document. Raises ``yaml.YAMLError`` (with marks) on a syntax error."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    result = Positioned(data=None)
    if root is None:
        return result
    check_alias_expansion(root)
    constructor = _Constructor("")

    def build(node: Node, path: Path) -> Any:
        result.positions[path] = _pos(node)
        if isinstance(node, MappingNode):
            out: dict[Any, Any] = {}
            constructor.flatten_mapping(node)
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    key = str(key)
                kpath = (*path, key)
                if key in out:
                    result.duplicates.append((kpath, *_pos(key_node)))
                result.key_positions[kpath] = _pos(key_node)
                out[key] = build(value_node, kpath)
            return out
        if isinstance(node, SequenceNode):
            return [build(child, (*path, i)) for i, child in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return constructor.construct_object(node, deep=True)

    result.data = build(root, ())
    constructor.dispose()
    return result


def dump(data: Any) -> str:
    """Canonical YAML for metadata written by Helpline (designers, export of web-made revisions)."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False,
                     width=110)
